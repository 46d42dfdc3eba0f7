"""asyncio (ainfer on executors and pools, awaitable AsyncResult), the Pool across devices, and
the Dispatcher behind it; on the simulated TensorRT's host mode, with a monkeypatched device
count where several GPUs are needed."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import numpy as np
import pytest

import trt_exec
import trt_exec.pool as pool_module
from trt_exec.aio import Dispatcher
from trt_exec.errors import BindingError, ClosedError, ConfigurationError, CudaUnavailableError
from trt_exec.testing import DEMO_NETWORK, build_engine, reference, simulated_tensorrt

from ..helpers import demo_inputs

RELEASE = "10.16.1"


@pytest.fixture(scope="module")
def trt() -> Any:
    return simulated_tensorrt(RELEASE)


@pytest.fixture(scope="module")
def plan(trt: Any) -> bytes:
    return bytes(build_engine(trt, DEMO_NETWORK))


def _check(got: dict[str, np.ndarray], inputs: dict[str, np.ndarray]) -> None:
    want = reference(DEMO_NETWORK, inputs)
    assert set(got) == set(want)
    for name in want:
        np.testing.assert_allclose(got[name], want[name], rtol=1e-6)


# --- executor.ainfer ------------------------------------------------------------------------
def test_many_concurrent_ainfer_on_one_executor_are_correct(trt: Any, plan: bytes) -> None:
    inputs = [demo_inputs(1 + i % 16, seed=i) for i in range(50)]

    async def main(ex: Any) -> list[dict[str, np.ndarray]]:
        return await asyncio.gather(*(ex.ainfer(x) for x in inputs))

    with trt_exec.load(plan, tensorrt=trt) as ex:
        results = asyncio.run(main(ex))
    for got, x in zip(results, inputs):
        _check(got, x)


def test_ainfer_returns_what_infer_returns_including_outputs(trt: Any, plan: bytes) -> None:
    x = demo_inputs(3)
    with trt_exec.load(plan, tensorrt=trt) as ex:
        given = np.zeros((3, 4), np.float32)
        got = asyncio.run(ex.ainfer(x, outputs={"sum": given}))
        assert got["sum"] is given
        _check(got, x)
        with pytest.raises(BindingError, match="'y'"):
            asyncio.run(ex.ainfer({"x": x["x"]}))
        _check(asyncio.run(ex.ainfer(x, profile=0)), x)  # still usable after the error
    with pytest.raises(ClosedError):
        asyncio.run(ex.ainfer(x))


def test_async_result_is_awaitable_in_host_mode(trt: Any, plan: bytes) -> None:
    x = demo_inputs(2)
    with trt_exec.load(plan, tensorrt=trt) as ex:

        async def main() -> Any:
            return await ex.infer_async(x)

        result = asyncio.run(main())
        assert isinstance(result, trt_exec.AsyncResult) and result.done()
        _check(result.numpy(), x)


def test_cancelled_ainfer_on_a_pool_leaves_it_usable(trt: Any, plan: bytes) -> None:
    """A task cancelled while it waits for a worker leaves the queue; the worker it would
    have had goes to the next caller, and every later call is served."""

    async def main(pool: trt_exec.Pool) -> None:
        i, held = await pool._dispatch.aacquire()  # the only worker is taken
        waiter = asyncio.ensure_future(pool.ainfer(demo_inputs(2)))
        await asyncio.sleep(0.01)
        assert not waiter.done()
        waiter.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiter
        pool._dispatch.release(i)
        x = demo_inputs(4, seed=5)
        _check(await asyncio.wait_for(pool.ainfer(x), 10), x)

    with trt_exec.Pool(plan, size=1, tensorrt=trt) as pool:
        asyncio.run(main(pool))
        assert pool._dispatch.busy == {None: 0}


# --- Pool -------------------------------------------------------------------------------------
def test_pool_metadata_repr_and_outputs(trt: Any, plan: bytes) -> None:
    with trt_exec.Pool(plan, size=2, tensorrt=trt) as pool:
        assert list(pool.inputs) == ["x", "y"] and list(pool.outputs) == ["sum", "act"]
        assert pool.devices == (None, None)  # host mode, no devices asked for
        assert repr(pool) == (
            "<Pool open size=2 devices=[None, None] inputs=['x', 'y'] outputs=['sum', 'act']>"
        )
        x = demo_inputs(5)
        out = np.empty((5, 4), np.float32)
        got = pool.infer(x, outputs={"act": out})
        assert got["act"] is out
        _check(got, x)
    assert repr(pool).startswith("<Pool closed size=2")


def test_pool_ainfer_many_tasks(trt: Any, plan: bytes) -> None:
    inputs = [demo_inputs(1 + i % 16, seed=i) for i in range(40)]

    async def main(pool: trt_exec.Pool) -> list[Any]:
        return await asyncio.gather(*(pool.ainfer(x) for x in inputs))

    with trt_exec.Pool(plan, size=3, tensorrt=trt) as pool:
        for got, x in zip(asyncio.run(main(pool)), inputs):
            _check(got, x)


def test_pool_across_devices_places_workers_and_names_the_device(
    trt: Any, plan: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pool_module, "visible_device_count", lambda: 3)
    with trt_exec.Pool(plan, size=5, tensorrt=trt, devices="all") as pool:
        assert pool.devices == (0, 1, 2, 0, 1)
        engines = [ex.engine for ex in pool.executors]
        # One deserialized engine per device, shared by the workers on it.
        assert engines[0] is engines[3] and engines[1] is engines[4]
        assert len({id(e) for e in engines}) == 3
        x = demo_inputs(4)
        _check(pool.infer(x), x)
        with pytest.raises(BindingError, match=r"^'?device \d: missing input"):
            pool.infer({"x": x["x"]})
    with pytest.raises(CudaUnavailableError, match="device 3 is out of range: 3 CUDA"):
        trt_exec.Pool(plan, size=4, tensorrt=trt, devices=[0, 3])


def test_pool_dispatches_to_the_least_busy_device(
    trt: Any, plan: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pool_module, "visible_device_count", lambda: 2)
    with trt_exec.Pool(plan, size=4, tensorrt=trt, devices=[0, 1]) as pool:
        d = pool._dispatch
        a, _ = d.acquire()
        b, _ = d.acquire()
        assert {pool.devices[a], pool.devices[b]} == {0, 1}  # the second goes to the idle device
        assert d.busy == {0: 1, 1: 1}
        d.release(a)
        d.release(b)


@pytest.mark.parametrize(
    ("devices", "size", "message"),
    [
        ("gpus", 2, "devices='gpus' is not valid"),
        ([0, 0], 2, "each once"),
        ([], 2, "at least one device"),
        ([0, -1], 2, "device=-1 is not a CUDA device ordinal"),
        ([0, 1, 2], 2, "size=2 leaves devices without a worker"),
        (3, 2, "devices=3 is not valid"),
    ],
)
def test_pool_devices_are_validated(trt: Any, plan: bytes, devices: Any, size: int, message: str):
    with pytest.raises(ConfigurationError, match=message.replace("(", r"\(")):
        trt_exec.Pool(plan, size=size, tensorrt=trt, devices=devices)


def test_pool_devices_and_device_together_are_refused(trt: Any, plan: bytes) -> None:
    with pytest.raises(ConfigurationError, match="not both"):
        trt_exec.Pool(plan, size=2, tensorrt=trt, devices=[0], device=0)


# --- Dispatcher -------------------------------------------------------------------------------
def test_dispatcher_serves_threads_and_tasks_first_come_first_served() -> None:
    d: Dispatcher[str] = Dispatcher(["w"], [None])
    order: list[str] = []
    i, _ = d.acquire()

    async def task_waiter() -> None:
        j, _ = await d.aacquire()
        order.append("task")
        d.release(j)

    def thread_waiter() -> None:
        j, _ = d.acquire()
        order.append("thread")
        d.release(j)

    async def main() -> None:
        t = asyncio.ensure_future(task_waiter())
        await asyncio.sleep(0.01)  # the task queues first
        th = threading.Thread(target=thread_waiter)
        th.start()
        while len(d._waiters) < 2:
            await asyncio.sleep(0.001)
        d.release(i)
        await t
        await asyncio.get_running_loop().run_in_executor(None, th.join)

    asyncio.run(main())
    assert order == ["task", "thread"]
    assert d.busy == {None: 0}


def test_dispatcher_picks_the_least_busy_device_then_the_least_used_worker() -> None:
    d: Dispatcher[str] = Dispatcher(["a0", "a1", "b0"], ["a", "a", "b"])
    first, _ = d.acquire()
    second, worker = d.acquire()
    assert (first, second, worker) == (0, 2, "b0")  # device b was idle, a had one busy
    d.release(first)
    d.release(second)
    third, _ = d.acquire()
    assert third == 1  # both devices idle: the worker used least


def test_import_trt_exec_never_imports_ray_or_the_serve_module() -> None:
    import subprocess
    import sys

    code = (
        "import sys, trt_exec, trt_exec.pool, trt_exec.aio, trt_exec.serving; "
        "print(sorted(m for m in sys.modules if m in ('ray', 'trt_exec.serve', 'starlette') "
        "or m.startswith(('ray.', 'starlette.'))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
