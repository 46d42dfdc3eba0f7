"""The GPU data path on a real GPU, with the simulated TensorRT in GPU mode (NVRTC kernels on the
given stream). Skipped with the reason when there is no usable GPU."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import trt_exec
from trt_exec.errors import ArrayError, DTypeError, ShapeError
from trt_exec.testing import DEMO_NETWORK, InputSpec, NetworkSpec, OpSpec, build_engine, reference

from ..helpers import demo_inputs, load_demo

pytestmark = pytest.mark.gpu


def _check(out: dict, inputs: dict) -> None:
    ref = reference(DEMO_NETWORK, inputs)
    for name, want in ref.items():
        got = out[name]
        got = got if isinstance(got, np.ndarray) else _to_numpy(got)
        np.testing.assert_allclose(got, want, rtol=1e-6, err_msg=name)


def _to_numpy(t):
    if hasattr(t, "numpy") and type(t).__module__.startswith("trt_exec"):
        return t.numpy()
    if type(t).__module__.startswith("torch"):
        return t.detach().cpu().numpy()
    if type(t).__module__.startswith("cupy"):
        return t.get()
    return np.asarray(t)


@pytest.fixture
def ex(gpu_trt):
    trt, backend = gpu_trt
    with load_demo(trt, backend) as e:
        yield e


def test_numpy_in_numpy_out_both_profiles(ex):
    assert ex.device == 0 and ex.device_memory_size is not None
    for batch in (2, 12, 3, 4, 16, 1):
        inputs = demo_inputs(batch, seed=batch)
        out = ex.infer(inputs)
        assert all(isinstance(v, np.ndarray) for v in out.values())
        _check(out, inputs)


def test_profile_switch_explicit(ex):
    inputs = demo_inputs(4)
    _check(ex.infer(inputs, profile=0), inputs)
    _check(ex.infer(inputs, profile=1), inputs)
    ex.set_profile(1)
    _check(ex.infer(demo_inputs(8)), demo_inputs(8))
    ex.set_profile(None)
    _check(ex.infer(demo_inputs(2)), demo_inputs(2))


def test_torch_in_out_and_caller_outputs(ex):
    torch = pytest.importorskip("torch")
    inputs = demo_inputs(3)
    tin = {k: torch.from_numpy(v).cuda() for k, v in inputs.items()}
    _check(ex.infer(tin), inputs)
    outs = {"sum": torch.empty((3, 4), device="cuda"), "act": torch.empty((3, 4), device="cuda")}
    res = ex.infer(tin, outputs=outs)
    assert res["sum"] is outs["sum"] and res["act"] is outs["act"]
    _check(res, inputs)
    r = ex.infer_async(tin, stream=torch.cuda.current_stream())
    t = torch.as_tensor(r["sum"], device="cuda")
    torch.testing.assert_close(t, tin["x"] + tin["y"])


def test_cupy_in_out(ex):
    cp = pytest.importorskip("cupy")
    inputs = demo_inputs(5)
    cin = {k: cp.asarray(v) for k, v in inputs.items()}
    outs = {"sum": cp.empty((5, 4), cp.float32)}
    res = ex.infer(cin, outputs=outs)
    assert res["sum"] is outs["sum"]
    _check(res, inputs)
    r = ex.infer_async(cin, stream=cp.cuda.get_current_stream())
    np.testing.assert_allclose(cp.asarray(r["act"]).get(), reference(DEMO_NETWORK, inputs)["act"])


def test_numpy_caller_outputs_written_in_place(ex):
    inputs = demo_inputs(2)
    outs = {"act": np.full((2, 4), np.nan, np.float32)}
    res = ex.infer(inputs, outputs=outs)
    assert res["act"] is outs["act"]
    _check(res, inputs)


def test_dlpack_only_input(ex):
    torch = pytest.importorskip("torch")

    class OnlyDLPack:
        def __init__(self, t):
            self.t = t

        def __dlpack__(self, **kw):
            return self.t.__dlpack__(**kw)

        def __dlpack_device__(self):
            return self.t.__dlpack_device__()

    inputs = demo_inputs(2)
    _check(ex.infer({k: OnlyDLPack(torch.from_numpy(v).cuda()) for k, v in inputs.items()}), inputs)


def test_two_streams_interleaved(ex):
    torch = pytest.importorskip("torch")
    streams = [torch.cuda.Stream(), torch.cuda.Stream()]
    results = []
    for i in range(12):
        s = streams[i % 2]
        with torch.cuda.stream(s):
            torch.cuda._sleep(2_000_000)  # the inputs are written late on s
            x = torch.full((4, 4), float(i), device="cuda")
            y = torch.full((4, 4), 2.0, device="cuda")
            r = ex.infer_async({"x": x, "y": y}, stream=s)
            doubled = torch.as_tensor(r["sum"], device="cuda") * 2  # consumed on s, no sync
        results.append((i, doubled, r))
    torch.cuda.synchronize()
    for i, doubled, _ in results:
        assert torch.all(doubled == 2 * (i + 2.0)), i


def test_async_numpy_inputs_then_wait(ex):
    inputs = [demo_inputs(4, seed=s) for s in range(5)]
    results = [ex.infer_async(i) for i in inputs]
    for inp, r in zip(inputs, results):
        _check(r.numpy(), inp)
        assert r.done()


def test_cuda_graphs_capture_replay_and_shape_change(gpu_trt):
    trt, backend = gpu_trt
    dev = trt._sim.device
    with trt_exec.load(
        build_engine(trt, DEMO_NETWORK), tensorrt=trt, backend=backend, cuda_graphs=2
    ) as ex:
        a, b = demo_inputs(3, 1), demo_inputs(3, 2)
        _check(ex.infer(a), a)  # miss: runs, then captures
        assert ex.cuda_graphs["graphs"] == 1 and ex.cuda_graphs["misses"] == 1
        launches = dev.launches
        _check(ex.infer(b), b)  # replay with new data in the same buffers
        assert ex.cuda_graphs["hits"] == 1
        assert dev.launches == launches  # the simulator was not called: the graph ran
        c = demo_inputs(12, 3)  # a new shape and profile: a new capture, right result
        _check(ex.infer(c), c)
        assert ex.cuda_graphs["graphs"] == 2 and ex.cuda_graphs["misses"] == 2
        _check(ex.infer(a), a)
        d = demo_inputs(2, 4)
        _check(ex.infer(d), d)
        assert ex.cuda_graphs["evictions"] == 1 and ex.cuda_graphs["graphs"] == 2
        ex.disable_cuda_graphs()
        assert ex.cuda_graphs is None
        _check(ex.infer(a), a)


def test_graphs_with_caller_stream_and_outputs(ex):
    torch = pytest.importorskip("torch")
    ex.enable_cuda_graphs(4)
    s = torch.cuda.Stream()
    outs = {"sum": torch.empty((2, 4), device="cuda"), "act": torch.empty((2, 4), device="cuda")}
    x = torch.empty((2, 4), device="cuda")
    y = torch.ones((2, 4), device="cuda")
    for i in range(5):
        with torch.cuda.stream(s):
            x.fill_(float(i))
            ex.infer_async({"x": x, "y": y}, stream=s, outputs=outs)
            got = outs["sum"].clone()
        s.synchronize()
        assert torch.all(got == i + 1.0)
    assert ex.cuda_graphs["hits"] == 4


def test_refusals(ex):
    torch = pytest.importorskip("torch")
    x = torch.zeros((2, 4), device="cuda")
    with pytest.raises(DTypeError, match="'x'.*float64"):
        ex.infer({"x": x.double(), "y": x})
    with pytest.raises(ArrayError, match="'x'.*not C-contiguous"):
        ex.infer({"x": torch.zeros((4, 2), device="cuda").t(), "y": x})
    with pytest.raises(ShapeError, match="'sum'"):
        ex.infer({"x": x, "y": x}, outputs={"sum": torch.zeros((3, 4), device="cuda")})
    with pytest.raises(ArrayError, match="infer_async writes device memory"):
        ex.infer_async({"x": x, "y": x}, outputs={"sum": np.zeros((2, 4), np.float32)})

    host = np.zeros((2, 4), np.float32)

    class HostCAI:  # host memory dressed as a CUDA array
        __cuda_array_interface__ = {
            "shape": (2, 4),
            "typestr": "<f4",
            "data": (host.ctypes.data, False),
            "version": 3,
        }

    with pytest.raises(ArrayError, match="not CUDA device memory"):
        ex.infer({"x": HostCAI(), "y": x})
    from trt_exec.arrays import DeviceArray
    from trt_exec.cuda.datapath import CudaDataPath

    # One GPU here: an array on device 1 is described, and the data path's check called directly.
    other = DeviceArray(x.data_ptr(), (2, 4), np.dtype(np.float32), None, 1, x)
    dp = CudaDataPath(ex.device)
    try:
        with pytest.raises(ArrayError, match="on CUDA device 1.*device 0"):
            dp.check_device_array("input", "x", other)
    finally:
        dp.close()
    _check(ex.infer(demo_inputs(2)), demo_inputs(2))  # still usable


def test_data_dependent_output_on_gpu(gpu):
    from trt_exec.sim.gpu import enable_gpu
    from trt_exec.testing import simulated_tensorrt

    trt = enable_gpu(simulated_tensorrt("10.16.1"))
    spec = NetworkSpec(
        inputs=(InputSpec("x", "float32", (-1, 3)),),
        ops=(OpSpec("non_zero", ("x",), "nz"), OpSpec("unary", ("x",), "n", "NEG")),
        outputs=("nz", "n"),
        profiles=((((1, 3), (2, 3), (8, 3)),),),
    )
    with trt_exec.load(build_engine(trt, spec), tensorrt=trt, backend="v3") as ex:
        x = np.array([[0, 1, 0], [2, 0, 3]], np.float32)
        out = ex.infer({"x": x})
        ref = reference(spec, {"x": x})
        np.testing.assert_array_equal(out["nz"], ref["nz"])
        np.testing.assert_array_equal(out["n"], -x)
        r = ex.infer_async({"x": x})
        np.testing.assert_array_equal(r.numpy()["nz"], ref["nz"])


def test_memory_returns_after_1000_cycles(gpu):
    from cuda.bindings import runtime as cudart

    from trt_exec.sim.gpu import enable_gpu
    from trt_exec.testing import simulated_tensorrt

    trt = enable_gpu(simulated_tensorrt("10.16.1"))
    plan = build_engine(trt, DEMO_NETWORK)
    inputs = demo_inputs(4)

    def cycle() -> None:
        ex = trt_exec.load(plan, tensorrt=trt)
        ex.infer(inputs)
        ex.close()

    def free() -> int:
        cudart.cudaDeviceSynchronize()
        err, free_b, _ = cudart.cudaMemGetInfo()
        assert int(err) == 0
        return free_b

    cycle()  # kernels compiled and modules loaded once per process
    start = free()
    lowest = start
    for i in range(1000):
        cycle()
        if i % 100 == 0:
            lowest = min(lowest, free())
    end = free()
    print(
        f"\nMEMORY free at start {start} B, lowest during {lowest} B, at end {end} B, "
        f"delta {start - end} B"
    )
    assert end == start


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_hypothesis_random_networks_equal_numpy(gpu, data):
    from trt_exec.sim.gpu import enable_gpu
    from trt_exec.testing import simulated_tensorrt
    from trt_exec.testing.strategies import input_arrays, networks, shapes_in_profile

    spec = data.draw(networks(max_inputs=3, max_outputs=3, max_profiles=2), label="network")
    trt = enable_gpu(simulated_tensorrt("10.16.1"))
    with trt_exec.load(build_engine(trt, spec), tensorrt=trt, cuda_graphs=True) as ex:
        for _ in range(2):
            k = data.draw(st.integers(0, len(spec.profiles) - 1), label="profile")
            shapes = data.draw(shapes_in_profile(spec, k), label="shapes")
            inputs = data.draw(input_arrays(spec, shapes), label="inputs")
            out = ex.infer(inputs, profile=k)
            ref = reference(spec, inputs)
            for name, want in ref.items():
                got = out[name]
                assert got.dtype == want.dtype and got.shape == want.shape, name
                if want.dtype.kind == "f":
                    np.testing.assert_allclose(
                        got,
                        want,
                        rtol=2e-3 if want.dtype == np.float16 else 1e-5,
                        atol=1e-6,
                        equal_nan=True,
                        err_msg=name,
                    )
                else:
                    np.testing.assert_array_equal(got, want, err_msg=name)
