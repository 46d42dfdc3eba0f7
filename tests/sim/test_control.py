"""The ``_sim`` control object: failure injection, access recording, devices."""

from __future__ import annotations

import sys
import threading
import timeit
from typing import Any

import numpy as np
import pytest

from trt_exec.sim import DeviceError
from trt_exec.testing import NullDevice, simulated_tensorrt

from .helpers import Harness


def _ready(h: Harness, batch: int = 2) -> tuple[Any, list[np.ndarray]]:
    ctx = h.engine.create_execution_context()
    keep = []
    for n in ("x", "y", "sum", "act"):
        a = np.ones((batch, 4), np.float32)
        keep.append(a)
        if n in ("x", "y"):
            assert ctx.set_input_shape(n, a.shape)
        assert ctx.set_tensor_address(n, a.ctypes.data)
    return ctx, keep


@pytest.mark.parametrize(
    "method",
    ["execute_async_v3", "set_input_shape", "set_tensor_address", "set_optimization_profile_async"],
)
def test_injected_failures_count_down(method: str) -> None:
    h = Harness("10.16.1")
    ctx, keep = _ready(h)
    calls = {
        "execute_async_v3": lambda: ctx.execute_async_v3(0),
        "set_input_shape": lambda: ctx.set_input_shape("x", (2, 4)),
        "set_tensor_address": lambda: ctx.set_tensor_address("x", keep[0].ctypes.data),
        "set_optimization_profile_async": lambda: ctx.set_optimization_profile_async(0, 0),
    }
    h.trt._sim.inject_failure(method, times=2, message=f"injected {method}")
    assert calls[method]() is False
    assert calls[method]() is False
    assert h.errors == [f"injected {method}"] * 2
    assert calls[method]() is True


def test_injected_failures_v2_and_build() -> None:
    h = Harness("8.4.3")
    ctx = h.engine.create_execution_context()
    h.trt._sim.inject_failure("set_binding_shape")
    assert ctx.set_binding_shape(0, (2, 4)) is False and h.errors
    assert ctx.set_binding_shape(0, (2, 4)) is True
    h.trt._sim.inject_failure("execute_async_v2")
    assert ctx.execute_async_v2([0] * 8, 0) is False
    h.trt._sim.inject_failure("create_execution_context")
    assert h.engine.create_execution_context() is None
    with pytest.raises(ValueError, match="execute_async_v3"):
        h.trt._sim.inject_failure("serialize")
    h.trt._sim.inject_failure("execute_v2", times=3)
    h.trt._sim.clear_failures()
    assert not h.trt._sim._failures


def test_failures_are_per_module() -> None:
    a, b = Harness("10.0.1"), Harness("10.0.1")
    a.trt._sim.inject_failure("execute_async_v3")
    ctx, keep = _ready(b)
    assert ctx.execute_async_v3(0)


def test_access_recording() -> None:
    h = Harness("10.0.1", record_access=True)
    trt = h.trt
    acc = trt._sim.accesses
    acc.clear()
    ctx = h.engine.create_execution_context()
    ctx.set_input_shape("x", (2, 4))
    _ = trt.DataType.HALF
    _ = trt.TensorIOMode
    me = __name__
    assert (me, "ICudaEngine", "create_execution_context") in acc
    assert (me, "IExecutionContext", "set_input_shape") in acc
    assert (me, "DataType", "HALF") in acc
    assert (me, "tensorrt", "DataType") in acc and (me, "tensorrt", "TensorIOMode") in acc
    assert not any(attr.startswith("_") for _, _, attr in acc)
    assert all(isinstance(m, str) for m, _, _ in acc)


def test_no_recording_means_no_hooks() -> None:
    trt = simulated_tensorrt("10.0.1")
    assert "__getattribute__" not in vars(trt.IExecutionContext)
    assert type(trt).__getattribute__ is type(sys).__getattribute__
    assert type(trt.ICudaEngine).__getattribute__ is type.__getattribute__
    h = Harness("10.0.1")
    h.engine.create_execution_context()
    assert h.trt._sim.accesses == set()


def test_null_device_validates_but_computes_nothing() -> None:
    h = Harness("10.0.1")
    h.trt._sim.device = NullDevice()
    ctx, keep = _ready(h)
    keep[2][:] = 7
    assert ctx.execute_async_v3(0)
    assert (keep[2] == 7).all()
    assert not ctx.set_input_shape("x", (99, 4))


def test_custom_device_gets_the_contract() -> None:
    h = Harness("10.0.1")
    seen: dict[str, Any] = {}

    class Recorder:
        def run(self, plan: Any, io: Any, stream: int, allocate: Any) -> None:
            seen.update(io=dict(io), stream=stream, outputs=[t.name for t in plan.outputs])

    h.trt._sim.device = Recorder()
    ctx, keep = _ready(h, batch=3)
    assert ctx.execute_async_v3(1234)
    assert seen["stream"] == 1234 and seen["outputs"] == ["sum", "act"]
    ptr, shape, dtype = seen["io"]["x"]
    assert (ptr, shape, dtype) == (keep[0].ctypes.data, (3, 4), np.dtype(np.float32))

    class Failing:
        def run(self, *args: Any) -> None:
            raise DeviceError("no GPU today")

    h.trt._sim.device = Failing()
    assert not ctx.execute_async_v3(0) and "no GPU today" in h.errors[-1]


def test_contexts_created_concurrently() -> None:
    h = Harness("10.16.1")
    results: list[bool] = []

    def worker() -> None:
        ctx, keep = _ready(h)
        ok = all(ctx.execute_async_v3(0) for _ in range(200))
        results.append(ok and (keep[2] == 2).all())

    threads = [threading.Thread(target=worker) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [True] * 16 and h.errors == []


def test_per_call_overhead_is_small() -> None:
    h = Harness("10.16.1")
    h.trt._sim.device = NullDevice()
    ctx, keep = _ready(h)
    per_call = min(timeit.repeat(lambda: ctx.execute_async_v3(0), number=2000, repeat=3)) / 2000
    shape = (
        min(timeit.repeat(lambda: ctx.set_input_shape("x", (2, 4)), number=2000, repeat=3)) / 2000
    )
    assert per_call < 50e-6 and shape < 20e-6, (per_call, shape)


def test_simulator_internal_accesses_are_not_recorded() -> None:
    h = Harness("8.6.1", record_access=True)
    h.trt._sim.accesses.clear()
    _ = h.engine[0]  # __getitem__ probes hasattr(self, "num_bindings") internally
    assert h.trt._sim.accesses == set()
