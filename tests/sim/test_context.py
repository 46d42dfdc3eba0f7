"""Execution context: shapes, addresses, setters that fail like TensorRT, and execution."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from trt_exec.testing import DEMO_NETWORK, reference
from trt_exec.testing.network import InputSpec, NetworkSpec, OpSpec

from .helpers import BINDING_VERSIONS, Harness, run_v3

F32 = np.dtype(np.float32)


def _xy(batch: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(batch)
    return {n: rng.integers(-5, 5, (batch, 4)).astype(np.float32) for n in ("x", "y")}


def test_shapes_are_minus_one_until_set(named_version: str) -> None:
    h = Harness(named_version)
    ctx = h.engine.create_execution_context()
    assert ctx.get_tensor_shape("x") == (-1, 4) and ctx.get_tensor_shape("sum") == (-1, 4)
    assert not ctx.all_binding_shapes_specified
    assert ctx.infer_shapes() == ["x", "y"]
    assert ctx.set_input_shape("x", (3, 4))
    assert ctx.get_tensor_shape("x") == (3, 4) and ctx.get_tensor_shape("sum") == (-1, 4)
    assert ctx.set_input_shape("y", [3, 4])
    assert ctx.get_tensor_shape("sum") == (3, 4) and ctx.all_binding_shapes_specified
    assert ctx.infer_shapes() == []
    assert h.errors == []


@pytest.mark.parametrize(
    ("name", "shape", "fragment"),
    [
        ("nope", (2, 4), "not found"),
        ("x", (2, 4, 1), "rank"),
        ("x", (5, 4), "profile"),  # profile 0 allows batch 1..4
        ("x", (2, 5), "Static dimension mismatch"),
        ("x", (-2, 4), "non-negative"),
        ("sum", (2, 4), "output"),
    ],
)
def test_set_input_shape_failures(
    named_version: str, name: str, shape: tuple[int, ...], fragment: str
) -> None:
    h = Harness(named_version)
    ctx = h.engine.create_execution_context()
    assert ctx.set_input_shape(name, shape) is False
    assert len(h.errors) == 1 and fragment in h.errors[0]
    assert ctx.get_tensor_shape("x") == (-1, 4)


def test_profile_switch(named_version: str) -> None:
    h = Harness(named_version)
    ctx = h.engine.create_execution_context()
    assert ctx.active_optimization_profile == 0
    assert ctx.set_input_shape("x", (2, 4))
    assert not ctx.set_optimization_profile_async(2, 0) and h.errors
    assert ctx.set_optimization_profile_async(1, 0)
    assert ctx.active_optimization_profile == 1
    assert ctx.get_tensor_shape("x") == (-1, 4)  # shapes reset by the switch
    assert not ctx.set_input_shape("x", (2, 4))  # profile 1 needs batch 4..16
    assert ctx.set_input_shape("x", (16, 4))
    if named_version.startswith("8."):
        ctx.active_optimization_profile = 0
        assert ctx.active_optimization_profile == 0
    else:
        with pytest.raises(AttributeError):
            ctx.active_optimization_profile = 0


def test_execute_v3_matches_reference_in_both_profiles(named_version: str) -> None:
    h = Harness(named_version)
    for profile, batch in ((0, 3), (1, 9)):
        ctx = h.engine.create_execution_context()
        assert ctx.set_optimization_profile_async(profile, 0)
        arrays = _xy(batch)
        out = run_v3(h.trt, h.engine, ctx, arrays, {"sum": F32, "act": F32})
        ref = reference(DEMO_NETWORK, arrays)
        for k in ref:
            np.testing.assert_array_equal(out[k], ref[k])
    assert h.errors == []


def test_execute_v3_failures(named_version: str) -> None:
    h = Harness(named_version)
    ctx = h.engine.create_execution_context()
    arrays = _xy(2)
    assert not ctx.execute_async_v3(0)
    assert "Input shape of x is not specified" in h.errors[-1]
    for n, a in arrays.items():
        assert ctx.set_input_shape(n, a.shape)
    assert not ctx.execute_async_v3(0) and "address of input" in h.errors[-1]
    for n, a in arrays.items():
        assert ctx.set_tensor_address(n, a.ctypes.data)
    assert not ctx.execute_async_v3(0) and "address of output" in h.errors[-1]
    assert not ctx.set_tensor_address("zz", 64) and "not found" in h.errors[-1]
    assert not ctx.set_tensor_address("x", arrays["x"].ctypes.data + 1)  # misaligned float
    outs = {n: np.zeros((2, 4), np.float32) for n in ("sum", "act")}
    for n, a in outs.items():
        assert ctx.set_tensor_address(n, a.ctypes.data)
    assert ctx.get_tensor_address("sum") == outs["sum"].ctypes.data
    n_errors = len(h.errors)
    assert ctx.execute_async_v3(0) and len(h.errors) == n_errors
    np.testing.assert_array_equal(outs["sum"], arrays["x"] + arrays["y"])


def _bindings(
    h: Harness, ctx: Any, profile: int, arrays: dict[str, np.ndarray], outs: dict[str, np.ndarray]
) -> list[int]:
    ptrs = [0] * h.engine.num_bindings
    for i, name in enumerate(("x", "y", "sum", "act")):
        a = arrays[name] if name in arrays else outs[name]
        ptrs[profile * 4 + i] = a.ctypes.data
    return ptrs


@pytest.mark.parametrize("version", BINDING_VERSIONS)
def test_execute_v2_bindings_per_profile(version: str) -> None:
    h = Harness(version)
    ctx = h.engine.create_execution_context()
    assert ctx.set_optimization_profile_async(1, 0)
    arrays = _xy(5)
    outs = {n: np.zeros((5, 4), np.float32) for n in ("sum", "act")}
    assert not ctx.set_binding_shape(0, (5, 4))  # slot of profile 0, profile 1 active
    assert "active profile" in h.errors[-1]
    assert ctx.set_binding_shape(4, (5, 4)) and ctx.set_binding_shape(5, (5, 4))
    assert ctx.get_binding_shape(6) == (5, 4)
    good = _bindings(h, ctx, 1, arrays, outs)
    assert not ctx.execute_async_v2(good[:4], 0) and "got 4" in h.errors[-1]
    wrong_offset = _bindings(h, ctx, 0, arrays, outs)  # NVIDIA/TensorRT#1591
    assert not ctx.execute_async_v2(wrong_offset, 0) and "nullptr" in h.errors[-1]
    assert ctx.execute_async_v2(good, 0)
    ref = reference(DEMO_NETWORK, arrays)
    np.testing.assert_array_equal(outs["act"], ref["act"])
    outs["sum"][:] = 0
    assert ctx.execute_v2(good)
    np.testing.assert_array_equal(outs["sum"], ref["sum"])


def test_execute_v2_one_pointer_per_io_tensor_in_10x() -> None:
    h = Harness("10.0.1")
    ctx = h.engine.create_execution_context()
    arrays = _xy(2)
    outs = {n: np.zeros((2, 4), np.float32) for n in ("sum", "act")}
    for n, a in arrays.items():
        assert ctx.set_input_shape(n, a.shape)
    ptrs = [
        arrays["x"].ctypes.data,
        arrays["y"].ctypes.data,
        outs["sum"].ctypes.data,
        outs["act"].ctypes.data,
    ]
    assert not ctx.execute_v2(ptrs + [0] * 4) and h.errors
    assert ctx.execute_v2(ptrs)
    np.testing.assert_array_equal(outs["act"], np.abs(arrays["x"]) * arrays["y"])


NZ = NetworkSpec(
    inputs=(InputSpec("m", "float32", (-1, 3)),),
    ops=(OpSpec("non_zero", ("m",), "idx"), OpSpec("unary", ("m",), "neg", "NEG")),
    outputs=("idx", "neg"),
    profiles=((((1, 3), (2, 3), (4, 3)),),),
)


# Not RTX: TensorRT-RTX 1.7.1 builds no NonZero (test_builder.py).
@pytest.mark.parametrize("version", ["8.6.1", "10.0.1", "11.4.0"])
def test_data_dependent_output_through_allocator(version: str) -> None:
    h = Harness(version, NZ)
    trt = h.trt
    ctx = h.engine.create_execution_context()
    m = np.array([[0, 1, 0], [2, 0, 3]], np.float32)
    assert ctx.set_input_shape("m", m.shape)
    assert ctx.get_tensor_shape("idx") == (2, -1)
    idx_dtype = np.dtype(np.int32)  # the default NonZero indices type in every release
    assert h.engine.get_tensor_dtype("idx") == trt.DataType.INT32
    calls: list[str] = []
    store: dict[str, np.ndarray] = {}

    class Alloc(trt.IOutputAllocator):  # type: ignore[misc,name-defined]
        def __init__(self) -> None:
            trt.IOutputAllocator.__init__(self)

        def reallocate_output(self, name: str, memory: int, size: int, alignment: int) -> int:
            calls.append("sync")
            store[name] = np.zeros(max(size, 1), np.uint8)
            return int(store[name].ctypes.data)

        def reallocate_output_async(
            self, name: str, memory: int, size: int, alignment: int, stream: int
        ) -> int:
            calls.append("async")
            return self.reallocate_output(name, memory, size, alignment)

        def notify_shape(self, name: str, shape: Any) -> None:
            calls.append(f"shape {tuple(shape)}")

    neg = np.zeros((2, 3), np.float32)
    assert ctx.set_tensor_address("m", m.ctypes.data)
    assert ctx.set_tensor_address("neg", neg.ctypes.data)
    assert not ctx.execute_async_v3(0) and "idx" in h.errors[-1]
    alloc = Alloc()
    assert ctx.set_output_allocator("idx", alloc) and ctx.get_output_allocator("idx") is alloc
    assert ctx.execute_async_v3(0)
    first = "sync" if version.startswith("8.") else "async"
    assert calls[0] == first and calls[-1] == "shape (2, 3)"
    got = store["idx"][: 6 * idx_dtype.itemsize].view(idx_dtype).reshape(2, 3)
    np.testing.assert_array_equal(got, np.stack(np.nonzero(m)))
    np.testing.assert_array_equal(neg, -m)
    assert ctx.get_tensor_shape("idx") == (2, 3)


def test_allocator_returning_null_fails() -> None:
    h = Harness("10.0.1", NZ)
    trt = h.trt

    class Null(trt.IOutputAllocator):  # type: ignore[misc,name-defined]
        def __init__(self) -> None:
            trt.IOutputAllocator.__init__(self)

        def reallocate_output(self, name: str, memory: int, size: int, alignment: int) -> int:
            return 0

    ctx = h.engine.create_execution_context()
    m = np.ones((1, 3), np.float32)
    neg = np.zeros((1, 3), np.float32)
    ctx.set_input_shape("m", m.shape)
    ctx.set_tensor_address("m", m.ctypes.data)
    ctx.set_tensor_address("neg", neg.ctypes.data)
    ctx.set_output_allocator("idx", Null())
    assert not ctx.execute_async_v3(0) and "nullptr" in h.errors[-1]


def test_context_without_device_memory() -> None:
    h = Harness("10.16.1")
    trt = h.trt
    for ctx in (
        h.engine.create_execution_context_without_device_memory(),
        h.engine.create_execution_context(trt.ExecutionContextAllocationStrategy.USER_MANAGED),
    ):
        arrays = _xy(2)
        outs = {n: np.zeros((2, 4), np.float32) for n in ("sum", "act")}
        for n, a in {**arrays, **outs}.items():
            if n in arrays:
                ctx.set_input_shape(n, a.shape)
            ctx.set_tensor_address(n, a.ctypes.data)
        assert not ctx.execute_async_v3(0) and "device memory" in h.errors[-1]
        scratch = np.zeros(h.engine.device_memory_size_v2, np.uint8)
        ctx.set_device_memory(scratch.ctypes.data, scratch.nbytes)
        assert ctx.execute_async_v3(0)
    with pytest.raises(AttributeError):
        ctx.device_memory  # noqa: B018  write-only, as in the bindings


def test_8x_create_execution_context_takes_no_arguments() -> None:
    h = Harness("8.6.1")
    with pytest.raises(TypeError):
        h.engine.create_execution_context(0)
    assert h.engine.create_execution_context() is not None


def test_10_0_create_execution_context_takes_a_strategy_only() -> None:
    """10.0.1 manifest: one signature, (strategy=STATIC); IRuntimeConfig is 10.11+."""
    h = Harness("10.0.1")
    strategy = h.trt.ExecutionContextAllocationStrategy
    assert h.engine.create_execution_context(strategy=strategy.ON_PROFILE_CHANGE) is not None
    with pytest.raises(TypeError):
        h.engine.create_execution_context(runtime_config=None)
    with pytest.raises(TypeError, match="incompatible function arguments"):
        h.engine.create_execution_context(2)  # pybind11 converts no int to the enum


@pytest.mark.parametrize("version", ["10.16.1", "11.4.0", "rtx-1.7.1"])
def test_create_execution_context_overloads(version: str) -> None:
    """10.11+ and RTX: separate overloads (strategy) and (runtime_config), never both."""
    h = Harness(version)
    trt = h.trt
    strategy = trt.ExecutionContextAllocationStrategy
    config = h.engine.create_runtime_config()
    config.set_execution_context_allocation_strategy(strategy.USER_MANAGED)
    for ctx, needs_memory in (
        (h.engine.create_execution_context(), False),
        (h.engine.create_execution_context(strategy.USER_MANAGED), True),
        (h.engine.create_execution_context(strategy=strategy.STATIC), False),
        (h.engine.create_execution_context(config), True),
        (h.engine.create_execution_context(runtime_config=config), True),
        (h.engine.create_execution_context(runtime_config=None), False),
    ):
        assert ctx is not None and ctx._needs_memory == needs_memory
    for args, kwargs in (
        ((strategy.STATIC, config), {}),
        ((), {"strategy": strategy.STATIC, "runtime_config": config}),
        ((strategy.STATIC,), {"runtime_config": config}),
        ((0,), {}),
        ((), {"runtime_config": strategy.STATIC}),
    ):
        with pytest.raises(TypeError, match="incompatible function arguments"):
            h.engine.create_execution_context(*args, **kwargs)


@pytest.mark.parametrize("version", ["8.6.1", "10.0.1"])
def test_allocator_without_reallocate_or_raising_fails(
    version: str, capsys: pytest.CaptureFixture[str]
) -> None:
    h = Harness(version, NZ)
    trt = h.trt

    class Lazy(trt.IOutputAllocator):  # type: ignore[misc,name-defined]
        def __init__(self) -> None:
            trt.IOutputAllocator.__init__(self)

    class Raising(Lazy):
        def reallocate_output(self, name: str, memory: int, size: int, alignment: int) -> int:
            raise ValueError("out of memory")

    assert hasattr(trt.IOutputAllocator, "reallocate_output") == version.startswith("8.")
    m = np.ones((1, 3), np.float32)
    neg = np.zeros((1, 3), np.float32)
    for alloc in (Lazy(), Raising()):
        ctx = h.engine.create_execution_context()
        ctx.set_input_shape("m", m.shape)
        ctx.set_tensor_address("m", m.ctypes.data)
        ctx.set_tensor_address("neg", neg.ctypes.data)
        ctx.set_output_allocator("idx", alloc)
        assert not ctx.execute_async_v3(0) and "nullptr" in h.errors[-1]
    assert "out of memory" in capsys.readouterr().err


def test_data_dependent_output_into_preset_address() -> None:
    """Without an allocator, a data-dependent output may use an address of get_max_output_size
    bytes; its shape is known from get_tensor_shape after the run."""
    h = Harness("10.16.1", NZ)
    ctx = h.engine.create_execution_context()
    m = np.array([[0, 1, 0], [2, 0, 3]], np.float32)
    ctx.set_input_shape("m", m.shape)
    cap = ctx.get_max_output_size("idx")
    assert cap == 4 * 3 * 2 * 4  # profile max (4, 3): rank 2 x 12 elements x int32
    buf = np.zeros(cap // 4, np.int32)
    neg = np.zeros((2, 3), np.float32)
    for n, a in (("m", m), ("idx", buf), ("neg", neg)):
        assert ctx.set_tensor_address(n, a.ctypes.data)
    assert ctx.execute_async_v3(0)
    assert ctx.get_tensor_shape("idx") == (2, 3)
    np.testing.assert_array_equal(buf[:6].reshape(2, 3), np.stack(np.nonzero(m)))
    assert ctx.set_input_shape("m", (1, 3))
    assert ctx.get_tensor_shape("idx") == (2, -1)  # unknown again until the next run


NZ2 = NetworkSpec(
    inputs=NZ.inputs, ops=NZ.ops, outputs=NZ.outputs, profiles=(NZ.profiles[0], NZ.profiles[0])
)


@pytest.mark.parametrize("version", ["8.6.1", "10.16.1"])
def test_data_dependent_shape_is_forgotten_when_inputs_or_profile_change(version: str) -> None:
    """After a run get_tensor_shape reports the data-dependent shape; it is -1 again once an
    input shape is set (even to the same shape) or the profile is selected, until the next
    enqueue reports it (the data-dependent dims are only known from an execution)."""
    h = Harness(version, NZ2)
    ctx = h.engine.create_execution_context()
    m = np.array([[0, 1, 0], [2, 0, 3]], np.float32)
    dtypes = {"idx": np.dtype(np.int32), "neg": F32}  # NonZero's default indices type

    def run() -> None:
        run_v3(h.trt, h.engine, ctx, {"m": m}, dtypes)
        assert ctx.get_tensor_shape("idx") == (2, 3)

    run()
    assert not ctx.set_input_shape("m", (9, 3))  # refused: nothing changed
    assert ctx.get_tensor_shape("idx") == (2, 3)
    assert ctx.set_input_shape("m", (2, 3))
    assert ctx.get_tensor_shape("idx") == (2, -1)
    for profile in (1, 1, 0):
        run()
        assert ctx.set_optimization_profile_async(profile, 0)
        assert ctx.get_tensor_shape("idx") == (2, -1)


@pytest.mark.parametrize("version", ["8.6.1", "10.0.1", "10.16.1", "11.4.0", "rtx-1.7.1"])
def test_debug_listener_and_aliasing(version: str) -> None:
    """10.0+: IDebugListener, set_all_tensors_debug_state, set/get_debug_listener; 10.16+ and
    RTX: get_aliased_input_tensor (None: no simulated output aliases an input). The simulator
    has no debug tensors, so a listener is set but never called."""
    h = Harness(version)
    trt = h.trt
    ctx = h.engine.create_execution_context()
    assert hasattr(h.engine, "get_aliased_input_tensor") == (version not in ("8.6.1", "10.0.1"))
    if hasattr(h.engine, "get_aliased_input_tensor"):
        assert h.engine.get_aliased_input_tensor("sum") is None
    if version.startswith("8."):
        assert not hasattr(trt, "IDebugListener")
        assert not hasattr(ctx, "set_debug_listener")
        return
    calls: list[str] = []

    class Skipped(trt.IDebugListener):  # type: ignore[misc,name-defined]
        def __init__(self) -> None:
            pass

    with pytest.raises(TypeError, match="__init__"):
        Skipped()

    class Listener(trt.IDebugListener):  # type: ignore[misc,name-defined]
        def __init__(self) -> None:
            trt.IDebugListener.__init__(self)

        def process_debug_tensor(self, *args: Any) -> None:
            calls.append(args[4])

    listener = Listener()
    assert ctx.get_debug_listener() is None
    assert ctx.set_all_tensors_debug_state(True)
    assert ctx.set_debug_listener(listener) and ctx.get_debug_listener() is listener
    with pytest.raises(TypeError):
        ctx.set_debug_listener(object())
    arrays = _xy(2)
    run_v3(trt, h.engine, ctx, arrays, {"sum": F32, "act": F32})
    assert calls == []
    assert ctx.set_debug_listener(None) and ctx.get_debug_listener() is None
