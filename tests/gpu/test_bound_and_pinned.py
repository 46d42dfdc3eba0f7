"""Issue 13 on a real GPU (the simulator's GPU mode): bound calls with torch and numpy, with and
without CUDA graphs; the torch fast path noticing a tensor changed in place; large outputs in
lent pinned blocks (never reused while an array views them) and parallel staged uploads."""

from __future__ import annotations

import gc

import numpy as np
import pytest

import trt_exec
from trt_exec.errors import StaleBindingError
from trt_exec.testing import DEMO_NETWORK, InputSpec, NetworkSpec, OpSpec, build_engine, reference

from ..helpers import demo_inputs, load_demo

pytestmark = pytest.mark.gpu

ROW = 1024
BIG = NetworkSpec(
    inputs=(InputSpec("x", "float32", (-1, ROW)),),
    ops=(OpSpec("identity", ("x",), "y"),),
    outputs=("y",),
    profiles=((((1, ROW), (64, ROW), (4096, ROW)),),),  # up to 16 MiB
)


@pytest.fixture
def ex(gpu_trt):
    trt, backend = gpu_trt
    with load_demo(trt, backend) as e:
        yield e


def _ref(inputs):
    return reference(DEMO_NETWORK, {k: np.asarray(v) for k, v in inputs.items()})


def _check(outs, fresh, host):
    """Each output (a device array, read with ``host``) is the reference of inputs ``fresh``."""
    for name, want in _ref(fresh).items():
        np.testing.assert_allclose(host(outs[name]), want, rtol=1e-6)


def _torch_demo(torch, batch):
    """Demo-network inputs and outputs as CUDA tensors."""
    tin = {k: torch.from_numpy(v).cuda() for k, v in demo_inputs(batch).items()}
    outs = {n: torch.empty((batch, 4), device="cuda") for n in ("sum", "act")}
    return tin, outs


def _refill(torch, tin, seed):
    """New values into the same input tensors; the numpy values written."""
    fresh = demo_inputs(tin["x"].shape[0], seed=seed)
    for k in tin:
        tin[k].copy_(torch.from_numpy(fresh[k]))
    return fresh


@pytest.mark.parametrize("graphs", [False, True])
def test_bound_call_torch_in_out(gpu_trt, graphs):
    torch = pytest.importorskip("torch")
    trt, backend = gpu_trt
    plan = build_engine(trt, DEMO_NETWORK)
    stream = torch.cuda.Stream()
    with trt_exec.load(plan, tensorrt=trt, backend=backend, cuda_graphs=graphs) as e:
        host = demo_inputs(3)
        tin = {k: torch.from_numpy(v).cuda() for k, v in host.items()}
        outs = {n: torch.empty((3, 4), device="cuda") for n in ("sum", "act")}
        torch.cuda.synchronize()
        call = e.bind(tin, outputs=outs, stream=stream)
        for seed in (1, 2, 3):
            fresh = demo_inputs(3, seed=seed)
            for k in tin:
                tin[k].copy_(torch.from_numpy(fresh[k]))
            torch.cuda.synchronize()
            res = call()
            assert res["sum"] is outs["sum"]
            _check(outs, fresh, lambda t: t.cpu().numpy())
        event = call.launch()
        assert event is not None
        stream.synchronize()
        if graphs:
            stats = e.cuda_graphs
            assert stats is not None and stats["hits"] >= 2, stats


def test_bound_call_numpy_through_staging(ex):
    inputs = demo_inputs(4, seed=7)
    call = ex.bind(inputs)
    for seed in (8, 9):
        fresh = demo_inputs(4, seed=seed)
        for k in inputs:
            inputs[k][...] = fresh[k]
        _check(call(), fresh, np.asarray)


def test_bound_call_refuses_after_profile_switch_on_gpu(ex):
    call = ex.bind(demo_inputs(2), profile=0)
    ex.infer(demo_inputs(8))
    with pytest.raises(StaleBindingError):
        call()


def test_torch_tensor_changed_in_place_is_noticed(ex):
    torch = pytest.importorskip("torch")
    host = demo_inputs(2, seed=3)
    tin = {k: torch.from_numpy(v).cuda() for k, v in host.items()}
    out = ex.infer(tin)  # remembered after this call
    for name, want in _ref(host).items():
        np.testing.assert_allclose(out[name], want, rtol=1e-6)
    other = demo_inputs(2, seed=4)
    tin["x"].set_(torch.from_numpy(other["x"]).cuda())  # same object, new storage
    out = ex.infer(tin)
    want = _ref({"x": other["x"], "y": host["y"]})
    np.testing.assert_allclose(out["sum"], want["sum"], rtol=1e-6)
    tin["y"].resize_(4, 4).copy_(torch.ones(4, 4))  # same object, new shape
    with pytest.raises(trt_exec.ShapeError):
        ex.infer(tin)


def _ptr(arr: np.ndarray) -> int:
    return int(arr.__array_interface__["data"][0])


def test_large_outputs_come_in_lent_pinned_blocks(gpu_trt):
    trt, backend = gpu_trt
    with trt_exec.load(build_engine(trt, BIG), tensorrt=trt, backend=backend) as e:
        x = np.random.default_rng(0).standard_normal((4096, ROW), dtype=np.float32)  # 16 MiB
        a1 = e.infer({"x": x})["y"]
        np.testing.assert_array_equal(a1, x)
        p1 = _ptr(a1)
        a2 = e.infer({"x": x * 2})["y"]
        assert _ptr(a2) != p1  # a1 still views its block: never handed out again
        np.testing.assert_array_equal(a1, x)
        np.testing.assert_array_equal(a2, x * 2)
        del a1
        gc.collect()
        a3 = e.infer({"x": x * 3})["y"]
        assert _ptr(a3) == p1  # a1's block came back to the pool
        np.testing.assert_array_equal(a3, x * 3)
        into = np.empty_like(x)
        assert e.infer({"x": x}, outputs={"y": into})["y"] is into
        np.testing.assert_array_equal(into, x)
    np.testing.assert_array_equal(a2, x * 2)  # readable after close; freed when it goes
    del a2, a3
    gc.collect()


@pytest.mark.parametrize("graphs", [False, True])
def test_infer_lane_with_torch_in_and_out(gpu_trt, graphs):
    torch = pytest.importorskip("torch")
    trt, backend = gpu_trt
    with load_demo(trt, backend, cuda_graphs=graphs) as e:
        tin, outs = _torch_demo(torch, 3)
        for seed in range(4):  # the same tensors: the lane from the second call on
            fresh = _refill(torch, tin, seed)
            res = e.infer(tin, outputs=outs)
            assert res["sum"] is outs["sum"] and list(res) == ["sum", "act"]
            _check(outs, fresh, lambda t: t.cpu().numpy())
        other = torch.empty((3, 4), device="cuda")  # another output tensor: the full path
        res = e.infer(tin, outputs={"sum": other, "act": outs["act"]})
        np.testing.assert_allclose(other.cpu().numpy(), _ref(fresh)["sum"], rtol=1e-6)
        with pytest.raises(trt_exec.ArrayError, match="input"):
            e.infer(tin, outputs={"sum": tin["x"]})  # aliasing an input: refused as ever
        outs["sum"].resize_(2, 4)  # the lane's output changed shape in place: noticed
        with pytest.raises(trt_exec.ShapeError):
            e.infer(tin, outputs=outs)
        if graphs:
            stats = e.cuda_graphs
            assert stats is not None and stats["hits"] >= 3, stats


def test_infer_lane_notices_requires_grad(ex):
    torch = pytest.importorskip("torch")
    tin = {k: torch.from_numpy(v).cuda() for k, v in demo_inputs(2).items()}
    ex.infer(tin)
    ex.infer(tin)
    fresh = torch.zeros((2, 4), device="cuda", requires_grad=True)
    with pytest.raises(Exception) as first:  # what a new tensor that requires grad gets
        ex.infer({"x": fresh, "y": tin["y"]})
    tin["x"].requires_grad_(True)  # the lane's own tensor, changed in place
    with pytest.raises(type(first.value)):
        ex.infer(tin)


def test_infer_lane_notices_a_layout_changed_in_place(ex):
    """The lane reads is_contiguous() for the strides (validation found them C-contiguous): a
    tensor restrided in place is refused as a new one would be; a stride change over a
    dimension of size 1 keeps the layout, and the call runs."""
    torch = pytest.importorskip("torch")
    tin = {k: torch.from_numpy(v).cuda() for k, v in demo_inputs(2).items()}
    ex.infer(tin)
    ex.infer(tin)
    x = tin["x"]
    fresh = torch.empty_strided((2, 4), (1, 2), device="cuda")
    with pytest.raises(trt_exec.ArrayError, match="'x'"):  # what a new such tensor gets
        ex.infer({"x": fresh, "y": tin["y"]})
    x.as_strided_((2, 4), (1, 2))  # the lane's own tensor, restrided in place
    with pytest.raises(trt_exec.ArrayError, match="'x'"):
        ex.infer(tin)
    row = {k: v[:1].clone() for k, v in tin.items()}
    ex.infer(row)
    ex.infer(row)  # the lane for shape (1, 4)
    row["x"].as_strided_((1, 4), (99, 1))  # the size-1 dimension's stride: the same layout
    res = ex.infer(row)
    _check(res, {k: v.cpu().numpy() for k, v in row.items()}, np.asarray)


def test_repeated_bound_launches_run_the_launch_program(gpu_trt):
    # From the second launch on the bound stream, launch() is the data path's device program
    # (lock, checks, enqueue, cuEventRecord); its event marks the end of each run's work.
    torch = pytest.importorskip("torch")
    from trt_exec.bound import _unready
    from trt_exec.cuda.driver import check, driver

    trt, backend = gpu_trt
    with load_demo(trt, backend) as e:
        tin, outs = _torch_demo(torch, 3)
        side = torch.cuda.Stream()
        call = e.bind(tin, outputs=outs, stream=side)
        for seed in range(4):
            fresh = _refill(torch, tin, seed)
            torch.cuda.synchronize()
            event = call.launch()
            check("cuEventSynchronize", driver().cuEventSynchronize(event))
            _check(outs, fresh, lambda t: t.cpu().numpy())
        assert call._plan.steady_launch is not _unready


@pytest.mark.parametrize("graphs", [False, True])
def test_bound_launch_goes_into_a_caller_capture(gpu_trt, graphs):
    torch = pytest.importorskip("torch")
    trt, backend = gpu_trt
    with load_demo(trt, backend, cuda_graphs=graphs) as e:
        tin, outs = _torch_demo(torch, 2)
        side = torch.cuda.Stream()
        call = e.bind(tin, outputs=outs, stream=side)
        call()  # the warm-up run TensorRT needs after shapes are set
        torch.cuda.synchronize()
        g = torch.cuda.CUDAGraph()
        with torch.cuda.graph(g, capture_error_mode="thread_local"):
            call.launch(torch.cuda.current_stream())  # enqueued into the caller's graph
        for seed in (5, 6):
            fresh = _refill(torch, tin, seed)
            g.replay()
            torch.cuda.synchronize()
            _check(outs, fresh, lambda t: t.cpu().numpy())


@pytest.mark.parametrize("graphs", [False, True])
def test_infer_async_lane_with_torch_in_and_out(gpu_trt, graphs):
    torch = pytest.importorskip("torch")
    trt, backend = gpu_trt
    with load_demo(trt, backend, cuda_graphs=graphs) as e:
        tin, outs = _torch_demo(torch, 3)
        for seed in range(4):  # the same tensors: the lane from the second call on
            fresh = _refill(torch, tin, seed)
            torch.cuda.synchronize()
            result = e.infer_async(tin, outputs=outs)
            assert result.event is not None and result["sum"] is outs["sum"]
            result.synchronize()
            assert result.done()
            _check(outs, fresh, lambda t: t.cpu().numpy())
        # Each lane result owns an event of the executor's pool until it is collected.
        r1 = e.infer_async(tin, outputs=outs)
        r2 = e.infer_async(tin, outputs=outs)
        first = int(r1.event)
        assert first != int(r2.event)  # both alive: two events
        r2.synchronize()
        assert r1.done() and r2.done()
        del r1
        gc.collect()
        r3 = e.infer_async(tin, outputs=outs).synchronize()
        assert int(r3.event) == first  # r1's event came back to the pool
        # Not every output given: per-call device memory, the full path each time.
        partial = e.infer_async(tin, outputs={"sum": outs["sum"]}).synchronize()
        np.testing.assert_allclose(partial["act"].numpy(), _ref(fresh)["act"], rtol=1e-6)
        e.set_profile(1)  # batch 3 is outside profile 1: the lane must not run on
        with pytest.raises(trt_exec.ShapeError):
            e.infer_async(tin, outputs=outs)


def _registered(ptr: int) -> bool:
    """Whether CUDA has ``ptr`` as page-locked host memory (cuMemHostGetFlags succeeds)."""
    from trt_exec.cuda.driver import driver

    return not driver().cuMemHostGetFlags(ptr)[0]


def test_a_reused_large_input_is_uploaded_from_its_own_page_locked_memory(gpu_trt):
    trt, backend = gpu_trt
    with trt_exec.load(build_engine(trt, BIG), tensorrt=trt, backend=backend) as e:
        x = np.random.default_rng(1).standard_normal((4096, ROW), dtype=np.float32)  # 16 MiB
        p = _ptr(x)
        np.testing.assert_array_equal(e.infer({"x": x})["y"], x)
        assert not _registered(p)  # once: staged, nothing registered
        np.testing.assert_array_equal(e.infer({"x": x})["y"], x)
        assert _registered(p)  # twice: page-locked in place
        x *= -1  # the upload reads the array itself: new contents are seen
        np.testing.assert_array_equal(e.infer({"x": x})["y"], x)
        view = x[:2048]  # inside x's registered memory: CUDA refuses it again, so it is staged
        np.testing.assert_array_equal(e.infer({"x": view})["y"], view)
        np.testing.assert_array_equal(e.infer({"x": view})["y"], view)
        async_x = x.copy()
        pa = _ptr(async_x)
        for _ in range(3):  # asynchronous calls stage: the caller may drop the array at once
            e.infer_async({"x": async_x}).synchronize()
        assert not _registered(pa)
        del x, view
        gc.collect()
        assert not _registered(p)  # unregistered before numpy freed it
        y = np.ones((4096, ROW), np.float32)
        py = _ptr(y)
        e.infer({"x": y})
        e.infer({"x": y})
        assert _registered(py)
    assert not _registered(py)  # close() unregisters what is still alive
    np.testing.assert_array_equal(y, 1.0)


def test_graph_replays_stay_right_across_rebinds_and_evictions(gpu_trt):
    torch = pytest.importorskip("torch")
    trt, backend = gpu_trt
    plan = build_engine(trt, DEMO_NETWORK)
    # One graph at most: the two bound calls evict each other's graph on every switch, and the
    # infers in between rebind the context to other buffers.
    with trt_exec.load(plan, tensorrt=trt, backend=backend, cuda_graphs=1) as e:
        calls = []
        for batch in (2, 3):
            tin, outs = _torch_demo(torch, batch)
            calls.append((e.bind(tin, outputs=outs), tin, outs))
        for seed in range(3):
            for call, tin, outs in calls:
                fresh = _refill(torch, tin, seed)
                call()
                call()  # the second run replays
                _check(outs, fresh, lambda t: t.cpu().numpy())
                other = demo_inputs(1, seed=seed + 10)
                for name, want in _ref(other).items():
                    np.testing.assert_allclose(e.infer(other)[name], want, rtol=1e-6)
        stats = e.cuda_graphs
        assert stats is not None and stats["hits"] >= 6 and stats["evictions"] >= 4, stats


def test_fixed_staging_is_dropped_when_a_buffer_grows(gpu_trt):
    trt, backend = gpu_trt
    with trt_exec.load(build_engine(trt, BIG), tensorrt=trt, backend=backend) as e:
        rng = np.random.default_rng(5)
        small = {"x": rng.standard_normal((1, ROW), dtype=np.float32)}
        call = e.bind(small)
        for _ in range(3):  # the second run on goes through the fixed staging
            small["x"][...] = rng.standard_normal((1, ROW), dtype=np.float32)
            np.testing.assert_array_equal(call()["y"], small["x"])
            np.testing.assert_array_equal(e.infer(small)["y"], small["x"])
            np.testing.assert_array_equal(e.infer(small)["y"], small["x"])
        for batch in (2, 8, 64):  # each grows the input and output staging: new buffers
            bigger = {"x": rng.standard_normal((batch, ROW), dtype=np.float32)}
            np.testing.assert_array_equal(e.infer(bigger)["y"], bigger["x"])
            small["x"][...] = rng.standard_normal((1, ROW), dtype=np.float32)
            np.testing.assert_array_equal(call()["y"], small["x"])
            np.testing.assert_array_equal(call()["y"], small["x"])
            np.testing.assert_array_equal(e.infer(small)["y"], small["x"])
            np.testing.assert_array_equal(e.infer(small)["y"], small["x"])


@pytest.mark.parametrize("non_blocking", [False, True])
def test_cupy_arrays_on_the_default_stream_take_the_lane(gpu_trt, non_blocking, monkeypatch):
    """cupy's arrays report the stream they were made on (CAI v3): on its default stream (the
    legacy one, which the executor's blocking stream follows by itself) the lane takes them
    with no event per call; made on a non-blocking stream, every call waits on it (full path),
    and the results are right either way."""
    cp = pytest.importorskip("cupy")
    from trt_exec._arguments import Arguments

    trt, backend = gpu_trt
    plan = build_engine(trt, DEMO_NETWORK)
    producer = cp.cuda.Stream(non_blocking=True) if non_blocking else cp.cuda.Stream.null
    validated = []
    real = Arguments.inputs

    def counting(self, inputs):
        validated.append(1)
        return real(self, inputs)

    with trt_exec.load(plan, tensorrt=trt, backend=backend) as e, producer:
        data = demo_inputs(3)
        cin = {k: cp.asarray(v) for k, v in data.items()}
        outs = {n: cp.empty((3, 4), dtype=cp.float32) for n in ("sum", "act")}
        stream = cin["x"].__cuda_array_interface__["stream"]
        assert (stream == 1) is (not non_blocking)  # cupy's default: the legacy stream
        monkeypatch.setattr(Arguments, "inputs", counting)
        for seed in range(5):
            fresh = demo_inputs(3, seed=seed)
            for k in cin:
                cin[k].set(fresh[k])  # on the producer stream
            e.infer(cin, outputs=outs)
            _check(outs, fresh, cp.asnumpy)
        assert len(validated) == (5 if non_blocking else 2)
