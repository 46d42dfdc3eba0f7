"""The pure parts of the GPU data path, on any machine (no GPU needed): the graph cache, the
graph signature the executor uses, argument validation, caller outputs and infer_async in host
mode, the no-GPU errors, and the layer kernels' source."""

from __future__ import annotations

import sys

import numpy as np
import pytest

import trt_exec
from trt_exec.cuda import datapath as _cuda
from trt_exec.cuda import driver as _driver
from trt_exec.cuda import graphs as _graphs
from trt_exec.datapath import HostDataPath
from trt_exec.errors import (
    ArrayError,
    BindingError,
    ConfigurationError,
    CudaUnavailableError,
    DTypeError,
    ExecutionError,
    ShapeError,
)
from trt_exec.testing import DEMO_NETWORK, build_engine, reference, simulated_tensorrt
from trt_exec.testing.matrix import releases_with, subset

from ..helpers import demo_inputs, gpu_unavailable_reason, load_demo


@pytest.fixture(params=subset(("10.16.1", "v3"), ("8.6.1", "v2"), ("11.4.0", "v3")))
def host_ex(request):
    version, backend = request.param
    trt = simulated_tensorrt(version)
    with load_demo(trt, backend) as ex:
        yield ex


# --- graph cache -----------------------------------------------------------------------------
def test_graph_cache_is_a_bounded_lru_destroying_each_graph_once():
    destroyed: list[str] = []
    cache = _graphs.GraphCache(2, destroyed.append)
    assert cache.get("a") is None and cache.misses == 1
    cache.put("a", "ga")
    cache.put("b", "gb")
    assert cache.get("a") == "ga"  # a is now the most recent
    cache.put("c", "gc")  # evicts b, the least recently used
    assert destroyed == ["gb"] and cache.keys() == ["a", "c"] and cache.evictions == 1
    cache.put("a", "ga2")  # a re-capture replaces (and destroys) the old graph
    assert destroyed == ["gb", "ga"] and len(cache) == 2
    cache.clear()
    assert sorted(destroyed) == ["ga", "ga2", "gb", "gc"] and len(cache) == 0
    assert cache.stats() == {"graphs": 0, "max_graphs": 2, "hits": 1, "misses": 1, "evictions": 1}


@pytest.mark.parametrize("bad", [0, -1, True, 1.5, "8", None])
def test_graph_cache_size_is_validated(bad):
    with pytest.raises(ConfigurationError, match="max_graphs="):
        _graphs.GraphCache(bad, lambda g: None)


class _GraphRecordingPath(HostDataPath):
    """Host memory that pretends to capture graphs: records the signature of each enqueue."""

    device = 0

    def __init__(self) -> None:
        super().__init__()
        self.keys: list = []
        self.graphs = None
        self.replays = 0

    def enable_graphs(self, max_graphs: int) -> None:
        self.graphs = _graphs.GraphCache(max_graphs, lambda g: None)

    def disable_graphs(self) -> None:
        self.graphs = None

    def graph_stats(self):
        return None if self.graphs is None else self.graphs.stats()

    def can_capture(self, stream: int, synchronous: bool = False) -> bool:
        return True

    def replay(self, key, stream) -> bool:
        self.keys.append(key)
        if self.graphs.get(key) is None:
            return False
        self.replays += 1
        self._enqueue(stream)  # host memory: always really run
        return True

    def replayer(self, key):
        return None  # every replay through replay(): its keys are recorded

    def capture(self, key, enqueue, stream) -> None:
        self.graphs.put(key, object())
        self._enqueue = enqueue  # the executor's enqueue, run again on each replay
        enqueue(stream)


def test_graph_signature_changes_with_shape_profile_and_address(monkeypatch):
    import trt_exec.loading as load_mod

    path = _GraphRecordingPath()
    monkeypatch.setattr(load_mod, "make_data_path", lambda trt, device, stream=None: path)
    trt = simulated_tensorrt("10.16.1")
    with trt_exec.load(build_engine(trt, DEMO_NETWORK), tensorrt=trt, cuda_graphs=4) as ex:
        a = demo_inputs(3)
        ex.infer(a)
        for name, value in demo_inputs(3, seed=1).items():
            a[name][...] = value  # new data at the same addresses: same key
        ex.infer(a)
        assert path.keys[0] == path.keys[1]
        ex.infer(demo_inputs(12))  # new shape (and profile): new key
        assert path.keys[2] != path.keys[1]
        assert path.keys[2][0][0] == 1 and path.keys[1][0][0] == 0
        out = {"sum": np.empty((3, 4), np.float32)}
        ex.infer(a, outputs=out)  # same shape, another output address: new key
        assert path.keys[3] not in path.keys[:3]
        assert ex.cuda_graphs["hits"] == 1 and ex.cuda_graphs["misses"] == 3
        for key in path.keys:  # the key holds the profile, the shapes and every address
            shape_key, bound = key
            assert shape_key[0] in (0, 1) and {n for n, _ in bound} == {"x", "y", "sum", "act"}


# --- arguments -------------------------------------------------------------------------------
class _TorchLike:
    cuda_stream = 0x1234


class _CupyLike:
    ptr = 0x5678


class _CoreLike:
    def __cuda_stream__(self):
        return (0, 0x9ABC)


@pytest.mark.parametrize(
    "obj, handle",
    [
        (0, 0),
        (7, 7),
        (np.int64(9), 9),
        (_TorchLike(), 0x1234),
        (_CupyLike(), 0x5678),
        (_CoreLike(), 0x9ABC),
    ],
)
def test_stream_handle_accepts_ints_and_stream_objects(obj, handle):
    assert _driver.stream_handle(obj) == handle


@pytest.mark.parametrize("bad", [-1, True, "s", 1.0, object()])
def test_stream_handle_refuses_non_streams(bad):
    with pytest.raises(ConfigurationError, match="stream="):
        _driver.stream_handle(bad)


@pytest.mark.parametrize("bad", [-1, True, "0", 1.0])
def test_device_ordinal_is_validated(bad):
    with pytest.raises(ConfigurationError, match="device="):
        _driver.check_device(bad)


@pytest.mark.parametrize("bad", [0, -2, "yes", 2.0])
def test_load_validates_cuda_graphs(bad):
    trt = simulated_tensorrt("10.16.1")
    with pytest.raises(ConfigurationError, match="cuda_graphs="):
        trt_exec.load(build_engine(trt, DEMO_NETWORK), tensorrt=trt, cuda_graphs=bad)


def test_cuda_graphs_need_the_cuda_data_path(host_ex):
    with pytest.raises(ConfigurationError, match="max_graphs=0"):
        host_ex.enable_cuda_graphs(0)
    with pytest.raises(CudaUnavailableError, match="host mode"):
        host_ex.enable_cuda_graphs(4)
    assert host_ex.cuda_graphs is None


# --- caller outputs and infer_async in host mode ---------------------------------------------
def test_caller_outputs_are_written_in_place(host_ex):
    inputs = demo_inputs(3)
    ref = reference(DEMO_NETWORK, inputs)
    out = {"sum": np.full((3, 4), np.nan, np.float32)}
    res = host_ex.infer(inputs, outputs=out)
    assert res["sum"] is out["sum"]
    np.testing.assert_allclose(out["sum"], ref["sum"])
    np.testing.assert_allclose(res["act"], ref["act"])


def test_caller_outputs_refusals(host_ex):
    inputs = demo_inputs(2)
    with pytest.raises(DTypeError, match="'sum'.*float64"):
        host_ex.infer(inputs, outputs={"sum": np.zeros((2, 4))})
    with pytest.raises(ShapeError, match=r"output 'sum'.*\(3, 4\).*\(2, 4\)"):
        host_ex.infer(inputs, outputs={"sum": np.zeros((3, 4), np.float32)})
    with pytest.raises(ArrayError, match="'sum'.*not C-contiguous"):
        host_ex.infer(inputs, outputs={"sum": np.zeros((4, 2), np.float32).T})
    ro = np.zeros((2, 4), np.float32)
    ro.flags.writeable = False
    with pytest.raises(ArrayError, match="'sum'.*read-only"):
        host_ex.infer(inputs, outputs={"sum": ro})
    with pytest.raises(ArrayError, match="'sum'.*not an array"):
        host_ex.infer(inputs, outputs={"sum": [[0.0] * 4] * 2})
    with pytest.raises(BindingError, match=r"\['x'\] are inputs"):
        host_ex.infer(inputs, outputs={"x": np.zeros((2, 4), np.float32)})
    with pytest.raises(BindingError, match="mapping"):
        host_ex.infer(inputs, outputs=[np.zeros((2, 4), np.float32)])
    np.testing.assert_allclose(host_ex.infer(inputs)["sum"], inputs["x"] + inputs["y"])


def test_infer_async_in_host_mode_is_done_on_return(host_ex):
    inputs = demo_inputs(4)
    r = host_ex.infer_async(inputs)
    assert r.done() and r.event is None and list(r.outputs) == ["sum", "act"]
    ref = reference(DEMO_NETWORK, inputs)
    for name, value in r.numpy().items():
        np.testing.assert_allclose(value, ref[name])
    first = r["sum"].copy()
    host_ex.infer_async(demo_inputs(4, seed=5))
    np.testing.assert_array_equal(r["sum"], first)  # per-call outputs: not overwritten
    r.release()
    r.release()


def test_device_memory_size_is_version_agnostic():
    for version in releases_with("v3"):
        trt = simulated_tensorrt(version)
        plan = build_engine(trt, DEMO_NETWORK)
        with trt_exec.load(plan, tensorrt=trt) as ex:
            engine = ex.engine
            want = (
                engine.device_memory_size_v2
                if hasattr(engine, "device_memory_size_v2")
                else engine.device_memory_size
            )
            assert ex.device_memory_size == want and ex.device_memory_size > 0, version
            assert ex.device is None


# --- no GPU ----------------------------------------------------------------------------------
def test_no_gpu_is_a_typed_error_at_first_use():
    if gpu_unavailable_reason() is None:
        pytest.skip("a GPU is present; this checks the no-GPU error")
    trt = simulated_tensorrt("10.16.1")
    plan = build_engine(trt, DEMO_NETWORK)
    trt._sim.gpu = True  # what enable_gpu sets; the data path is created at load
    with pytest.raises(CudaUnavailableError, match="driver|GPU|cuda-python") as info:
        trt_exec.load(plan, tensorrt=trt)
    assert isinstance(info.value, RuntimeError)
    from trt_exec.sim.gpu import enable_gpu

    with pytest.raises(CudaUnavailableError):
        enable_gpu(simulated_tensorrt("10.16.1"))


def test_missing_cuda_python_names_the_install(monkeypatch):
    monkeypatch.setattr(_driver, "_drv", None)
    monkeypatch.setitem(sys.modules, "cuda.bindings", None)
    monkeypatch.setitem(sys.modules, "cuda.bindings.driver", None)
    with pytest.raises(CudaUnavailableError, match="pip install cuda-python"):
        _cuda.CudaDataPath(0)


def test_status_checker_names_the_call_and_status():
    driver = pytest.importorskip("cuda.bindings.driver")
    R = driver.CUresult
    assert _driver.check("cuFoo", (R.CUDA_SUCCESS,)) is None
    assert _driver.check("cuFoo", (R.CUDA_SUCCESS, 5)) == 5
    assert _driver.check("cuFoo", (R.CUDA_SUCCESS, 5, 6)) == (5, 6)
    with pytest.raises(ExecutionError, match="cuMemAlloc failed with CUDA_ERROR_OUT_OF_MEMORY"):
        _driver.check("cuMemAlloc", (R.CUDA_ERROR_OUT_OF_MEMORY, 0))
    with pytest.raises(CudaUnavailableError, match="cuInit returned CUDA_ERROR_NO_DEVICE"):
        _driver.check("cuInit", (R.CUDA_ERROR_NO_DEVICE,))
    with pytest.raises(ExecutionError, match="cuLaunchKernel failed with CUDA_ERROR_INVALID_VALUE"):
        _driver.check("cuLaunchKernel", (R.CUDA_ERROR_INVALID_VALUE,))


def test_import_needs_no_gpu():
    import subprocess

    code = "import trt_exec, trt_exec.sim.gpu, trt_exec.cuda.datapath; print('ok')"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "ok"


# --- the simulator's kernels (source only) ---------------------------------------------------
def test_kernel_source_broadcasts_and_converts():
    from trt_exec.sim.gpu import _strides, kernel_source

    src = kernel_source(
        "elementwise", "SUM", (np.dtype("float16"), np.dtype("float16")), np.dtype("float16"), 2
    )
    assert 'extern "C" __global__ void k(' in src and "h2f(a[ia])" in src and "f2h(" in src
    assert "long long d0" in src and "long long bs1" in src
    assert _strides((1, 4), (3, 4)) == [0, 1]
    assert _strides((3, 1), (3, 4)) == [1, 0]
    assert _strides((2, 3), (2, 3)) == [3, 1]
    cmp = kernel_source("elementwise", "LESS", (np.dtype("int32"),) * 2, np.dtype("bool"), 1)
    assert "(unsigned char)((x < y) != 0)" in cmp
    from trt_exec.sim.devices import DeviceError

    with pytest.raises(DeviceError, match="no kernel for unary EXP on int32"):
        kernel_source("unary", "EXP", (np.dtype("int32"),), np.dtype("int32"), 1)


class _LaunchRecorder:
    """A driver with only cuGraphLaunch, recording what it launched."""

    def __init__(self, err: int = 0) -> None:
        self.launched: list = []
        self.err = err

    def cuGraphLaunch(self, exec_, stream):
        self.launched.append((exec_, stream))
        return (self.err,)


def test_replayer_launches_until_a_graph_is_destroyed():
    destroyed: list = []
    cache = _graphs.GraphCache(2, destroyed.append)
    drv = _LaunchRecorder()
    assert _graphs.replayer(drv, cache, "a") is None  # nothing captured for it
    cache.put("a", ("graph-a", "exec-a"))
    cache.put("b", ("graph-b", "exec-b"))
    replay = _graphs.replayer(drv, cache, "a")
    assert replay is not None
    assert replay(7) and replay(8)
    assert drv.launched == [("exec-a", 7), ("exec-a", 8)]
    assert cache.stats()["hits"] == 2
    assert cache.keys() == ["b", "a"]  # a replay keeps the LRU order like get()
    cache.put("c", ("graph-c", "exec-c"))  # evicts b: any replayer may now be stale
    assert destroyed == [("graph-b", "exec-b")]
    assert not replay(9)
    assert drv.launched == [("exec-a", 7), ("exec-a", 8)]  # nothing launched once stale
    fresh = _graphs.replayer(drv, cache, "a")
    assert fresh is not None and fresh(9)
    cache.clear()
    assert not fresh(10)


def test_replayer_raises_a_failed_launch():
    cache = _graphs.GraphCache(1, lambda g: None)
    cache.put("a", ("graph", "exec"))
    replay = _graphs.replayer(_LaunchRecorder(err=1), cache, "a")
    assert replay is not None
    with pytest.raises(trt_exec.ExecutionError, match="cuGraphLaunch failed"):
        replay(3)
