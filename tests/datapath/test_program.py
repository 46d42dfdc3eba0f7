"""``DataPath.program``: a repeated synchronous call fixed into one function, on the CUDA data
path over a host-memory driver (:mod:`.hostcuda`; no GPU). Checked: the bytes every run
produces, which driver calls a repeated run makes, and every way a program goes stale (buffers
replaced, graphs on or off, close, a fork, another stream, a failed enqueue or synchronize).
The same paths run on CUDA itself in ``tests/gpu``."""

from __future__ import annotations

import copy
import sys
import threading
import types

import numpy as np
import pytest

import trt_exec
from trt_exec._arguments import Arguments
from trt_exec._gate import Gate
from trt_exec.bound import Plan, _unready
from trt_exec.cuda import datapath as _cuda
from trt_exec.cuda import driver as _driver
from trt_exec.errors import ClosedError, ExecutionError
from trt_exec.sim.gpu import enable_gpu
from trt_exec.testing import InputSpec, NetworkSpec, OpSpec, build_engine, simulated_tensorrt

from .hostcuda import CUresult, HostCuda

ROW = 8
IDENTITY = NetworkSpec(
    inputs=(InputSpec("x", "float32", (-1, ROW)),),
    ops=(OpSpec("identity", ("x",), "y"),),
    outputs=("y",),
    profiles=((((1, ROW), (2, ROW), (64, ROW)),),),
)


@pytest.fixture
def drv(monkeypatch):
    fake = HostCuda()
    monkeypatch.setattr(_driver, "_drv", fake)
    monkeypatch.setattr(_driver, "_contexts", {})
    monkeypatch.setattr(_cuda._current, "ctx", None)
    return fake


@pytest.fixture
def load(drv):
    trt = enable_gpu(simulated_tensorrt("10.16.1"))
    plan = build_engine(trt, IDENTITY)
    opened = []

    def load(**kw):
        ex = trt_exec.load(plan, tensorrt=trt, **kw)
        opened.append(ex)
        return ex

    yield load
    for ex in opened:
        ex.close()


def _run_calls(drv: HostCuda, fn):
    """The driver calls ``fn()`` makes, and its result."""
    drv.calls.clear()
    out = fn()
    return list(drv.calls), out


def _fill(arr, seed: int) -> np.ndarray:
    arr.host[...] = np.arange(arr.host.size, dtype=np.float32).reshape(arr.host.shape) + seed
    return arr.host.copy()


def _bound_twice(drv: HostCuda, ex):
    """A bound call on new device arrays x -> y, run twice (its program made)."""
    x, y = drv.array((2, ROW)), drv.array((2, ROW))
    call = ex.bind({"x": x}, outputs={"y": y})
    call()
    call()
    assert call._plan.fixed() is not None
    return x, y, call


# The simulator's enqueue of the identity network: GpuDevice.run makes its context current, then
# one device-to-device copy (what a one-layer engine enqueues).
ENQUEUE = ["cuCtxSetCurrent", "cuMemcpyDtoDAsync"]


@pytest.mark.parametrize("graphs", [False, True])
def test_a_repeated_bound_call_is_one_program(drv, load, graphs):
    ex = load(cuda_graphs=graphs)
    x, y = drv.array((2, ROW)), drv.array((2, ROW))
    call = ex.bind({"x": x}, outputs={"y": y})
    results = []
    for seed in range(4):
        want = _fill(x, seed)
        calls, out = _run_calls(drv, call)
        assert out["y"] is y
        np.testing.assert_array_equal(y.host, want)
        results.append(out)
    assert call._plan.fixed() is not None
    assert call.func is call._plan.fixed()  # a run is the program, called straight from C
    # One read-only mapping of the caller's outputs, from the first run on.
    assert all(r is results[0] for r in results) and dict(results[0]) == {"y": y}
    with pytest.raises(TypeError):
        results[0]["y"] = x
    if graphs:  # the captured enqueue, replayed: TensorRT is not called
        assert calls == ["cuGraphLaunch", "cuStreamSynchronize"]
        assert ex.cuda_graphs["hits"] >= 2
    else:
        assert calls == [*ENQUEUE, "cuStreamSynchronize"]


@pytest.mark.parametrize("graphs", [False, True])
def test_numpy_repeats_upload_enqueue_download_in_one_program(drv, load, graphs):
    ex = load(cuda_graphs=graphs)
    for seed in range(5):
        x = np.full((2, ROW), seed, np.float32)
        calls, out = _run_calls(drv, lambda x=x: ex.infer({"x": x}))
        np.testing.assert_array_equal(out["y"], x)
    assert ex._lane is not None and ex._lane.plan.fixed() is not None
    enqueue = ["cuGraphLaunch"] if graphs else ENQUEUE
    assert calls == ["cuMemcpyHtoDAsync", *enqueue, "cuMemcpyDtoHAsync", "cuStreamSynchronize"]


def test_a_replaced_buffer_makes_the_program_stale(drv, load):
    ex = load()
    small = np.ones((2, ROW), np.float32)
    call = ex.bind({"x": small.copy()})
    call()
    call()
    program = call._plan.fixed()
    assert program is not None
    ex.infer({"x": np.full((64, ROW), 3, np.float32)})  # grows the owned buffers
    assert program([small]) is None  # stale: nothing done
    np.testing.assert_array_equal(call()["y"], small)  # the general path, then a new program
    assert call._plan.fixed() is not None and call._plan.fixed() is not program
    np.testing.assert_array_equal(call()["y"], small)


def test_graphs_turned_on_or_off_reach_a_program_made_before(drv, load):
    ex = load()
    x, y, call = _bound_twice(drv, ex)
    ex.enable_cuda_graphs()
    calls, _ = _run_calls(drv, call)
    assert "cuStreamBeginCapture" in calls  # not the program made without graphs
    want = _fill(x, 7)
    calls, _ = _run_calls(drv, call)
    calls, _ = _run_calls(drv, call)
    assert calls == ["cuGraphLaunch", "cuStreamSynchronize"]
    np.testing.assert_array_equal(y.host, want)
    ex.disable_cuda_graphs()
    call()
    want = _fill(x, 9)
    calls, _ = _run_calls(drv, call)
    assert calls == [*ENQUEUE, "cuStreamSynchronize"]
    np.testing.assert_array_equal(y.host, want)


@pytest.mark.parametrize("graphs", [False, True])
def test_without_the_gil_a_bound_call_keeps_its_function_and_asks_the_program(
    drv, load, graphs, monkeypatch
):
    # A free-threaded CPython: the partial's function is never replaced (another thread could
    # be calling it); the call's own function runs the device program first.
    import trt_exec.bound as bound

    monkeypatch.setattr(bound, "_SWAPS", False)
    ex = load(cuda_graphs=graphs)
    x, y = drv.array((2, ROW)), drv.array((2, ROW))
    call = ex.bind({"x": x}, outputs={"y": y})
    general = call.func
    results = []
    for seed in range(4):
        want = _fill(x, seed)
        calls, out = _run_calls(drv, call)
        np.testing.assert_array_equal(y.host, want)
        results.append(out)
    assert call.func is general and call._plan.fixed() is not None
    assert all(r is results[0] for r in results) and dict(results[0]) == {"y": y}
    if graphs:  # the program's replay, from the call's own function
        assert calls == ["cuGraphLaunch", "cuStreamSynchronize"]
    ex.infer({"x": drv.array((2, ROW))}, outputs={"y": drv.array((2, ROW))})  # program stale
    want = _fill(x, 9)
    assert call()["y"] is y
    np.testing.assert_array_equal(y.host, want)


def test_an_evicted_graph_is_captured_again(drv, load):
    ex = load(cuda_graphs=1)
    a, b = drv.array((2, ROW)), drv.array((2, ROW))
    call = ex.bind({"x": a}, outputs={"y": drv.array((2, ROW))})
    call()
    call()
    program = call._plan.fixed()
    assert call.func is program  # the call runs its device program itself
    out = drv.array((2, ROW))
    ex.infer({"x": b}, outputs={"y": out})  # its graph evicts the call's
    ex.infer({"x": b}, outputs={"y": out})
    calls, _ = _run_calls(drv, call)  # stale (its graph destroyed): the general path
    assert "cuStreamBeginCapture" in calls and "cuGraphLaunch" not in calls
    assert call.func is call._plan.fixed() is not program  # the program made again
    assert _run_calls(drv, call)[0] == ["cuGraphLaunch", "cuStreamSynchronize"]


def test_replays_by_programs_keep_the_lru_order_exact(drv, load):
    # A program replays without touching the cache's order: its graph is the most recent
    # already, since another key's lookup needs another binding (a new epoch: programs stale).
    ex = load(cuda_graphs=2)
    a, b = (ex.bind({"x": drv.array((2, ROW))}, outputs={"y": drv.array((2, ROW))}) for _ in "ab")
    b(), a(), b()  # captured, captured, looked up again: b the most recent
    calls, _ = _run_calls(drv, b)
    assert calls == ["cuGraphLaunch", "cuStreamSynchronize"]  # b's program
    hits = ex.cuda_graphs["hits"]
    _run_calls(drv, b)
    assert ex.cuda_graphs["hits"] == hits + 1  # a program's replay counts as a hit
    calls, _ = _run_calls(drv, a)
    assert "cuStreamBeginCapture" not in calls  # a's graph: looked up (its program was stale)
    ex.bind({"x": drv.array((2, ROW))}, outputs={"y": drv.array((2, ROW))})()  # evicts one
    replayed, _ = _run_calls(drv, a)
    assert "cuStreamBeginCapture" not in replayed  # a kept: it was used last
    captured, _ = _run_calls(drv, b)
    assert "cuStreamBeginCapture" in captured  # b, the least recently used, was evicted


class _Owner:
    """What DataPath.device_program needs of an executor (trt_exec.datapath.Owner)."""

    def __init__(self) -> None:
        self._lock = Gate()
        self._state = types.SimpleNamespace(epoch=0)


@pytest.mark.parametrize("asynchronous", [False, True])
def test_a_device_program_checks_its_owner_and_any_capture_since(drv, load, asynchronous):
    ex = load(cuda_graphs=not asynchronous)
    dp = ex._res.data_path
    stream = dp.stream
    runs = []

    def enqueue(s: int) -> bool:
        runs.append(s)
        return True

    if not asynchronous:
        dp.capture("k", enqueue, stream)
    owner = _Owner()
    key = None if asynchronous else "k"
    program = dp.device_program(owner, 0, stream, enqueue, None, key, None, asynchronous)
    calls, made = _run_calls(drv, lambda: program({"y": 1}))
    if asynchronous:
        assert made.outputs == {"y": 1} and runs == [stream]
        assert calls == ["cuEventCreate", "cuEventRecord"]  # the pool was empty
        made.synchronize()
        del made  # its event goes back to the pool: the next run records it again
        calls, made = _run_calls(drv, lambda: program({"y": 1}))
        assert calls == ["cuEventRecord"] and runs == [stream, stream]
    else:
        assert made == {"y": 1} and runs == [stream, stream]  # the capture's warm-up and capture
        assert calls == ["cuGraphLaunch", "cuStreamSynchronize"]  # the run: a replay
    assert not owner._lock.locked()
    owner._state.epoch = 1  # the owner's context changed since
    assert program({"y": 1}) is None and not owner._lock.locked()
    owner._state.epoch = 0
    if not asynchronous:  # another capture (which may have evicted this graph)
        dp.capture("other", enqueue, stream)
        assert program({"y": 1}) is None
        assert dp.device_program(owner, 0, stream, enqueue, None, key, None)({"y": 1}) == {"y": 1}
    owner._lock.acquire()  # a run holds the owner's lock: here it waits, so try another thread
    done = []
    t = threading.Thread(target=lambda: done.append(program({"y": 1})))
    t.start()
    t.join(0.2)
    assert t.is_alive() and not done
    owner._lock.release()
    t.join(5)
    assert len(done) == 1


def test_a_bound_calls_device_program_returns_its_mapping_and_falls_back_once_stale(drv, load):
    # fallback (a bound call's): the run returns the mapping it is given itself, not a copy,
    # and a stale run hands the call to fallback after releasing the lock (which it retakes).
    ex = load()
    dp = ex._res.data_path
    owner = _Owner()
    seen = []

    def fallback(objects):
        seen.append((objects, owner._lock.locked()))
        return "general"

    program = dp.device_program(
        owner, 0, dp.stream, lambda s: True, None, None, None, False, fallback
    )
    mapping = types.MappingProxyType({"y": 1})
    calls, made = _run_calls(drv, lambda: program(mapping))
    assert made is mapping and not seen and not owner._lock.locked()
    assert calls == ["cuStreamSynchronize"]
    owner._state.epoch = 1
    calls, made = _run_calls(drv, lambda: program(mapping))
    assert made == "general" and seen == [(mapping, False)] and calls == []


@pytest.mark.parametrize("graphs", [False, True])
def test_after_close_a_bound_call_raises_without_touching_cuda(drv, load, graphs):
    ex = load(cuda_graphs=graphs)
    x, y, call = _bound_twice(drv, ex)
    ex.close()
    drv.calls.clear()
    with pytest.raises(ClosedError, match="bound call's"):
        call()
    assert drv.calls == []


def test_in_a_forked_child_a_bound_call_raises_without_touching_cuda(drv, load):
    ex = load()
    x, y, call = _bound_twice(drv, ex)
    ex._after_fork_in_child(12345)  # what the fork hook runs in a child (tests/reliability)
    drv.calls.clear()
    with pytest.raises(ClosedError):
        call()
    assert drv.calls == []


def test_a_repeated_launch_is_one_program_that_records_the_end_event(drv, load, monkeypatch):
    general = []
    real = Plan.launch
    monkeypatch.setattr(Plan, "launch", lambda self, *a: (general.append(1), real(self, *a))[1])
    ex = load()
    dp = ex._res.data_path
    x, y = drv.array((2, ROW)), drv.array((2, ROW))
    call = ex.bind({"x": x}, outputs={"y": y})
    assert call._plan.steady_launch is _unready
    call.launch()  # the general way, which makes the program for the bound stream
    launch = call._plan.steady_launch
    assert launch is not _unready and general == [1]
    for seed in range(3):
        want = _fill(x, seed)
        calls, event = _run_calls(drv, call.launch)
        assert calls == [*ENQUEUE, "cuEventRecord"]  # no other driver call
        assert event == dp._ev_end and dp._last_event == dp._ev_end
        np.testing.assert_array_equal(y.host, want)
    assert call._plan.steady_launch is launch and general == [1]  # never the general way
    assert not ex._lock.locked()
    call()  # a synchronous run in between leaves the launch program valid
    calls, _ = _run_calls(drv, call.launch)
    assert calls == [*ENQUEUE, "cuEventRecord"] and general == [1]
    # The next call on another stream is ordered after the launched work.
    other = drv.cuStreamCreate(0)[1]
    calls, _ = _run_calls(drv, lambda: ex.infer_async({"x": x}, outputs={"y": y}, stream=other))
    assert "cuStreamWaitEvent" in calls


def test_a_launch_program_goes_stale_as_a_run_does(drv, load):
    ex = load()
    x, y, call = _bound_twice(drv, ex)
    call.launch()
    call.launch()
    # Another call's addresses since: the launch binds the call's own again (the general way).
    a, b = drv.array((2, ROW)), drv.array((2, ROW))
    ex.infer({"x": a}, outputs={"y": b})
    want = _fill(x, 7)
    call.launch()
    np.testing.assert_array_equal(y.host, want)
    # A failed enqueue (TensorRT's error, with its log) or record raises, leaves the lock free,
    # and the next launch works.
    failures = (
        ("cuMemcpyDtoDAsync", "failed to enqueue"),
        ("cuEventRecord", "cuEventRecord failed"),
    )
    for failing, match in failures:
        drv.fail[failing] = CUresult.CUDA_ERROR_LAUNCH_FAILED
        with pytest.raises(ExecutionError, match=match):
            call.launch()
        assert not ex._lock.locked()
        want = _fill(x, 8)
        call.launch()
        np.testing.assert_array_equal(y.host, want)
    # Another stream takes the general path and makes no program for it.
    other = drv.cuStreamCreate(0)[1]
    made = call._plan.steady_launch
    want = _fill(x, 9)
    call.launch(stream=other)
    np.testing.assert_array_equal(y.host, want)
    assert call._plan.steady_launch is made
    ex.close()
    drv.calls.clear()
    with pytest.raises(ClosedError, match="bound call's"):
        call.launch()
    assert drv.calls == []


def test_with_graphs_a_launch_takes_the_general_path(drv, load):
    ex = load(cuda_graphs=True)
    x, y, call = _bound_twice(drv, ex)
    for seed in range(3):
        want = _fill(x, seed)
        call.launch()
        np.testing.assert_array_equal(y.host, want)
    assert call._plan.steady_launch is _unready  # each launch asks whether it is captured


def test_a_run_after_work_on_another_stream_waits_for_it(drv, load):
    ex = load()
    x, y, call = _bound_twice(drv, ex)
    other = drv.cuStreamCreate(0)[1]
    ex.infer_async({"x": x}, outputs={"y": y}, stream=other)  # the same addresses: no rebind
    calls, _ = _run_calls(drv, call)
    assert calls[0] == "cuStreamWaitEvent"  # ordered after the other stream's work
    assert calls[1:] == [*ENQUEUE, "cuStreamSynchronize"]
    calls, _ = _run_calls(drv, call)  # that work is done now: no wait again
    assert calls == [*ENQUEUE, "cuStreamSynchronize"]


def test_a_repeated_infer_async_is_one_program_and_its_events_come_back(drv, load):
    ex = load()
    x, y = drv.array((2, ROW)), drv.array((2, ROW))
    stream = drv.cuStreamCreate(0)[1]
    for seed in range(4):
        want = _fill(x, seed)
        calls, result = _run_calls(drv, lambda: ex.infer_async({"x": x}, outputs={"y": y}))
        assert result.outputs == {"y": y}
        result.synchronize()
        np.testing.assert_array_equal(y.host, want)
    assert ex._alane.plan.fixed(asynchronous=True) is not None
    assert calls == [*ENQUEUE, "cuEventRecord"]  # no context switch, wait or lookup
    pool = ex._res.data_path._pool
    del result
    free = len(pool.free)
    result = ex.infer_async({"x": x}, outputs={"y": y})
    assert len(pool.free) == free - 1  # the result holds one event...
    del result
    assert len(pool.free) == free  # ...and gives it back when collected
    # Another stream in between: the next run is ordered after its work, then runs as before.
    ptr = {n: a.__cuda_array_interface__["data"][0] for n, a in (("x", x), ("y", y))}
    ex.execute(ptr, stream)  # the same addresses: the lane and its program stay
    calls, result = _run_calls(drv, lambda: ex.infer_async({"x": x}, outputs={"y": y}))
    assert calls == ["cuEventRecord", "cuStreamWaitEvent", *ENQUEUE, "cuEventRecord"]
    ex.enable_cuda_graphs()  # graphs on: each call asks whether the stream is captured
    for _ in range(4):
        calls, result = _run_calls(drv, lambda: ex.infer_async({"x": x}, outputs={"y": y}))
    assert "cuStreamIsCapturing" in calls and ex._alane.plan.fixed(asynchronous=True) is None
    ex.close()
    with pytest.raises(ClosedError):
        ex.infer_async({"x": x}, outputs={"y": y})


def test_a_failed_record_or_event_wait_in_infer_async_raises_and_loses_no_event(drv, load):
    ex = load()
    x, y = drv.array((2, ROW)), drv.array((2, ROW))
    for _ in range(3):  # the lane kept from the second call, its program made by the third
        ex.infer_async({"x": x}, outputs={"y": y}).synchronize()
    assert ex._alane.plan.fixed(asynchronous=True) is not None
    pool = ex._res.data_path._pool
    free = len(pool.free)
    drv.fail["cuEventRecord"] = CUresult.CUDA_ERROR_LAUNCH_FAILED
    with pytest.raises(ExecutionError, match="cuEventRecord failed with CUDA_ERROR_LAUNCH_FAILED"):
        ex.infer_async({"x": x}, outputs={"y": y})
    assert len(pool.free) == free  # the event went back to the pool
    result = ex.infer_async({"x": x}, outputs={"y": y})
    drv.fail["cuEventSynchronize"] = CUresult.CUDA_ERROR_LAUNCH_FAILED
    with pytest.raises(ExecutionError, match="cuEventSynchronize failed"):
        result.synchronize()
    _fill(x, 3)
    np.testing.assert_array_equal(
        ex.infer_async({"x": x}, outputs={"y": y}).synchronize().outputs["y"].host, x.host
    )


def test_a_failed_enqueue_raises_with_the_log_and_the_next_run_works(drv, load):
    ex = load()
    x = np.ones((2, ROW), np.float32)
    for _ in range(3):  # the lane is kept from the second, its program made by the third
        ex.infer({"x": x})
    assert ex._lane.plan.fixed() is not None
    drv.fail["cuMemcpyDtoDAsync"] = CUresult.CUDA_ERROR_LAUNCH_FAILED
    with pytest.raises(ExecutionError, match="failed to enqueue") as info:
        ex.infer({"x": x})
    assert any("cuMemcpyDtoDAsync" in line for line in info.value.tensorrt_log)
    np.testing.assert_array_equal(ex.infer({"x": x + 1})["y"], x + 1)


def test_a_failed_synchronize_raises_and_the_next_run_waits_for_the_stream(drv, load):
    ex = load()
    x = np.ones((2, ROW), np.float32)
    for _ in range(3):
        ex.infer({"x": x})
    assert ex._lane.plan.fixed() is not None
    drv.fail["cuStreamSynchronize"] = CUresult.CUDA_ERROR_LAUNCH_FAILED
    with pytest.raises(ExecutionError, match="cuStreamSynchronize"):
        ex.infer({"x": x})
    calls, out = _run_calls(drv, lambda: ex.infer({"x": x + 2}))
    # The staging the failed call uploaded from may still be read: synchronized before reuse.
    assert calls[0] == "cuStreamSynchronize"
    np.testing.assert_array_equal(out["y"], x + 2)


# --- infer's lane with device arrays (the torch side on CUDA: tests/gpu) -------------------------
class _Tensor:
    """What the lane reads of a torch tensor (``torch_token``: data_ptr, shape, stride, dtype,
    requires_grad) and its ``__cuda_array_interface__``, over a :class:`HostCuda` array."""

    def __init__(self, arr) -> None:
        self.arr = arr
        self.host = arr.host
        self.shape = tuple(arr.host.shape)
        self._stride = (ROW, 1)
        self.dtype = "float32"  # compared by identity, as torch.float32 is
        self.requires_grad = False
        self.ptr = arr.__cuda_array_interface__["data"][0]

    def data_ptr(self) -> int:
        return self.ptr

    def stride(self) -> tuple[int, ...]:
        return self._stride

    def is_contiguous(self) -> bool:  # torch's: C strides, size-1 dimensions aside
        return all(
            n == 1 or s == want
            for n, s, want in zip(self.shape, self._stride, (self.shape[1], 1), strict=True)
        )

    @property
    def __cuda_array_interface__(self) -> dict:
        if self.requires_grad:
            raise RuntimeError("Can't get __cuda_array_interface__ on Variable that requires grad")
        cai = dict(self.arr.__cuda_array_interface__)
        cai["shape"] = self.shape
        cai["data"] = (self.ptr, False)
        cai["strides"] = None if self._stride == (ROW, 1) else tuple(4 * s for s in self._stride)
        return cai


@pytest.fixture(params=["cai", "torch"])
def device(request, drv, monkeypatch):
    """Make a device array of shape (2, ROW): CAI objects, or torch-like tensors."""
    if request.param == "cai":
        return lambda: drv.array((2, ROW))
    import types

    torch = types.ModuleType("torch")
    torch.Tensor = _Tensor
    monkeypatch.setitem(__import__("sys").modules, "torch", torch)
    return lambda: _Tensor(drv.array((2, ROW)))


def _validations(ex, monkeypatch) -> list:
    """Each full validation of inputs from now on (the lane skips it)."""
    seen: list = []
    real = Arguments.inputs

    def counting(self, inputs):
        seen.append(1)
        return real(self, inputs)

    monkeypatch.setattr(Arguments, "inputs", counting)
    return seen


def test_the_device_lane_repeats_and_reads_new_contents(drv, load, device, monkeypatch):
    ex = load(cuda_graphs=True)
    full = _validations(ex, monkeypatch)
    x, y = device(), device()
    for seed in range(5):
        want = _fill(x, seed)
        assert ex.infer({"x": x}, outputs={"y": y})["y"] is y
        np.testing.assert_array_equal(y.host, want)
    assert len(full) == 2  # the lane from the third call on: no validation
    calls, _ = _run_calls(drv, lambda: ex.infer({"x": x}, outputs={"y": y}))
    assert calls == ["cuGraphLaunch", "cuStreamSynchronize"]


CHANGES = (
    "another input object",
    "another output object",
    "input given as the output",
    "no outputs",
    "another object over the same memory",
)


def _changes(x, y, other):
    """Ways the next call differs from the lane's: each must take the full path."""
    return {
        "another input object": ({"x": other}, {"y": y}),
        "another output object": ({"x": x}, {"y": other}),
        "input given as the output": ({"x": y}, {"y": x}),
        "no outputs": ({"x": x}, None),
        # The same token (memory, layout) from another object: not the lane's object.
        "another object over the same memory": ({"x": copy.copy(x)}, {"y": y}),
    }


@pytest.mark.parametrize("change", CHANGES)
def test_another_device_array_takes_the_full_path(drv, load, device, monkeypatch, change):
    ex = load()
    x, y, other = device(), device(), device()
    for _ in range(3):
        ex.infer({"x": x}, outputs={"y": y})
    full = _validations(ex, monkeypatch)
    inputs, outputs = _changes(x, y, other)[change]
    want = _fill(inputs["x"], 3)
    out = ex.infer(inputs, outputs=outputs)
    assert len(full) == 1
    np.testing.assert_array_equal(out["y"] if outputs is None else outputs["y"].host, want)


def test_a_changed_tensor_takes_the_full_path(drv, load, monkeypatch):
    """A tensor whose layout or grad flag changed in place is validated again (and refused as
    a new one would be), not run with the lane's old token."""
    import types

    torch = types.ModuleType("torch")
    torch.Tensor = _Tensor
    monkeypatch.setitem(__import__("sys").modules, "torch", torch)
    ex = load()
    x, y = _Tensor(drv.array((2, ROW))), _Tensor(drv.array((2, ROW)))
    for _ in range(3):
        ex.infer({"x": x}, outputs={"y": y})
    full = _validations(ex, monkeypatch)
    x._stride = (1, 2)  # transposed in place: not C-contiguous any more
    with pytest.raises(trt_exec.errors.ArrayError, match="contiguous"):
        ex.infer({"x": x}, outputs={"y": y})
    x._stride = (ROW, 1)
    y.requires_grad = True
    with pytest.raises(Exception, match="requires grad"):
        ex.infer({"x": x}, outputs={"y": y})
    assert len(full) == 2


def test_a_changed_interface_takes_the_full_path(drv, load, monkeypatch):
    """The same for an array without torch's attributes: its whole interface dict is the token."""
    ex = load()
    x, y = drv.array((2, ROW)), drv.array((2, ROW))
    for _ in range(3):
        ex.infer({"x": x}, outputs={"y": y})
    full = _validations(ex, monkeypatch)
    x.__cuda_array_interface__ = {**x.__cuda_array_interface__, "strides": (4, 4 * 2)}
    with pytest.raises(trt_exec.errors.ArrayError, match="contiguous"):
        ex.infer({"x": x}, outputs={"y": y})
    assert len(full) == 1


def test_results_keep_engine_order_whatever_the_callers_order(drv):
    trt = enable_gpu(simulated_tensorrt("10.16.1"))
    two = NetworkSpec(
        inputs=(InputSpec("x", "float32", (-1, ROW)),),
        ops=(OpSpec("identity", ("x",), "y"), OpSpec("identity", ("x",), "z")),
        outputs=("y", "z"),
        profiles=((((1, ROW), (2, ROW), (64, ROW)),),),
    )
    with trt_exec.load(build_engine(trt, two), tensorrt=trt) as ex:
        x, y, z = (drv.array((2, ROW)) for _ in range(3))
        for _ in range(4):  # full path, then the lane and its program
            out = ex.infer({"x": x}, outputs={"z": z, "y": y})
            assert list(out) == ["y", "z"] and out["y"] is y and out["z"] is z
        assert ex._lane.plan.fixed() is not None
        call = ex.bind({"x": x}, outputs={"z": z, "y": y})
        for _ in range(3):
            assert list(call()) == ["y", "z"]


def test_after_close_infer_async_raises_without_touching_cuda(drv, load):
    ex = load()
    x, y = drv.array((2, ROW)), drv.array((2, ROW))
    for _ in range(4):
        ex.infer_async({"x": x}, outputs={"y": y}).synchronize()
    assert ex._alane.plan.fixed(asynchronous=True) is not None
    program = ex._alane.plan.fixed(asynchronous=True)
    ex.close()
    drv.calls.clear()
    assert program({"y": y}) is None  # stale: nothing done
    with pytest.raises(ClosedError):
        ex.infer_async({"x": x}, outputs={"y": y})
    assert drv.calls == []


# --- producer streams (CAI v3 ``stream``) ------------------------------------------------------
WAIT = ["cuEventRecord", "cuStreamWaitEvent"]  # the producer's stream, waited on by an event


@pytest.mark.parametrize(
    ("producer", "borrowed_flags", "waits"),
    [
        (1, None, False),  # cupy's default: the legacy stream, followed by the own stream
        (1, 0, False),  # ... and by a borrowed blocking stream
        (1, 1, True),  # a borrowed non-blocking stream does not follow it: an event each call
        (77, None, True),  # another stream: an event each call
    ],
    ids=["legacy-own", "legacy-borrowed-blocking", "legacy-borrowed-nonblocking", "other"],
)
def test_a_producer_stream_is_waited_on_unless_the_stream_follows_it(
    drv, load, monkeypatch, producer, borrowed_flags, waits
):
    """CUDA Driver API, "Stream synchronization behavior": work on a blocking stream waits for
    the legacy default stream's earlier work, so data left there needs no event; anything else
    gets one per call, and such calls never take the lane."""
    stream = None if borrowed_flags is None else drv.cuStreamCreate(borrowed_flags)[1]
    ex = load(stream=stream)
    x, y = drv.array((2, ROW), stream=producer), drv.array((2, ROW))
    full = _validations(ex, monkeypatch)
    for seed in range(5):
        want = _fill(x, seed)
        calls, _ = _run_calls(drv, lambda: ex.infer({"x": x}, outputs={"y": y}))
        np.testing.assert_array_equal(y.host, want)
        waited = any(calls[i : i + 2] == WAIT for i in range(len(calls)))
        assert waited is waits
    if waits:
        assert len(full) == 5 and getattr(ex._lane, "plan", None) is None  # full path always
    else:
        assert len(full) == 2 and ex._lane.plan.fixed() is not None
        assert calls == [*ENQUEUE, "cuStreamSynchronize"]


# --- cupy arrays: a C-level token, with the current stream ------------------------------------
class _CupyArray:
    """What trt_exec reads of a cupy array: ``data.ptr``, ``shape``, ``strides``, ``dtype`` and
    the interface dict, whose ``stream`` is cupy's current stream (1 for its default)."""

    def __init__(self, arr, cupy) -> None:
        self.arr, self.host, self._cupy = arr, arr.host, cupy
        self.data = types.SimpleNamespace(ptr=arr.__cuda_array_interface__["data"][0])
        self.shape = tuple(arr.host.shape)
        self.strides = (4 * ROW, 4)
        self.dtype = np.dtype(np.float32)

    @property
    def __cuda_array_interface__(self) -> dict:
        stream = self._cupy.cuda.get_current_stream().ptr
        return {
            **self.arr.__cuda_array_interface__,
            "strides": None if self.strides == (4 * ROW, 4) else self.strides,
            "stream": stream or 1,
        }


@pytest.fixture
def cupy(monkeypatch):
    current = types.SimpleNamespace(ptr=0)  # cupy's default stream
    module = types.ModuleType("cupy")
    module.ndarray = _CupyArray
    module.cuda = types.SimpleNamespace(get_current_stream=lambda: current, current=current)
    monkeypatch.setitem(sys.modules, "cupy", module)
    return module


def test_cupy_arrays_are_recognised_by_their_attributes_and_stream(drv, load, cupy, monkeypatch):
    from trt_exec._tokens import cai_token

    ex = load()
    x, y = (_CupyArray(drv.array((2, ROW)), cupy) for _ in range(2))
    full = _validations(ex, monkeypatch)
    for seed in range(5):
        want = _fill(x, seed)
        calls, _ = _run_calls(drv, lambda: ex.infer({"x": x}, outputs={"y": y}))
        np.testing.assert_array_equal(y.host, want)
    assert len(full) == 2 and calls == [*ENQUEUE, "cuStreamSynchronize"]
    assert all(entry[2] is not cai_token for entry in ex._lane.device)  # cupy's token
    # cupy's current stream changed to a non-blocking one: the dict would say so; the call is
    # validated again and waits on it.
    cupy.cuda.current.ptr = drv.cuStreamCreate(1)[1]
    calls, _ = _run_calls(drv, lambda: ex.infer({"x": x}, outputs={"y": y}))
    assert len(full) == 3 and "cuStreamWaitEvent" in calls


def test_a_cupy_array_changed_in_place_takes_the_full_path(drv, load, cupy):
    ex = load()
    x, y = (_CupyArray(drv.array((2, ROW)), cupy) for _ in range(2))
    for _ in range(3):
        ex.infer({"x": x}, outputs={"y": y})
    assert ex._lane.plan.fixed() is not None
    x.strides = (4, 4 * 2)  # transposed in place: the lane's token no longer matches
    with pytest.raises(trt_exec.errors.ArrayError, match="contiguous"):
        ex.infer({"x": x}, outputs={"y": y})
