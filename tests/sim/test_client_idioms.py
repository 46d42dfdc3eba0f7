"""Client idioms written from the documented Python API (not copied from any project), each on
every simulated release that has the API. Host mode: "device" pointers are host pointers."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from trt_exec.testing import simulated_tensorrt

from .helpers import BINDING_VERSIONS, NAMED_VERSIONS, make_logger

X = np.array([[1, -2, 3], [-4, 5, -6]], np.float32)
V10_VERSIONS = tuple(v for v in NAMED_VERSIONS if v not in BINDING_VERSIONS)


def _fixed_engine(trt: Any, non_zero: bool = False) -> tuple[Any, Any]:
    """y = |x| (or idx = nonzero(x)) on a fixed (2, 3) input, built with the builder API."""
    logger = make_logger(trt)
    builder = trt.Builder(logger)
    flags = 0
    if hasattr(trt.ICudaEngine, "num_bindings"):  # 8.x: explicit batch is a flag
        flags = 1 << int(trt.NetworkDefinitionCreationFlag.EXPLICIT_BATCH)  # 8.x
    network = builder.create_network(flags)
    x = network.add_input("x", trt.float32, (2, 3))
    layer = network.add_non_zero(x) if non_zero else network.add_unary(x, trt.UnaryOperation.ABS)
    layer.get_output(0).name = "y"
    network.mark_output(layer.get_output(0))
    config = builder.create_builder_config()
    if hasattr(config, "set_compute_capability"):
        config.num_compute_capabilities = 1
        config.set_compute_capability(trt.ComputeCapability.SM89, 0)
    plan = builder.build_serialized_network(network, config)
    assert plan  # IHostMemory is truthy
    runtime = trt.Runtime(logger)
    engine = runtime.deserialize_cuda_engine(plan)
    assert engine is not None
    return engine, logger


@pytest.mark.parametrize("version", BINDING_VERSIONS)
@pytest.mark.parametrize("call", ["execute_v2", "execute_async_v2"])
def test_bindings_loop_8x(version: str, call: str) -> None:
    """``for binding in engine`` + binding_is_input / get_binding_shape / volume / nptype, then
    execute without setting any shape (fixed-shape engine)."""
    trt = simulated_tensorrt(version)
    engine, logger = _fixed_engine(trt)
    assert len(engine) == engine.num_bindings == 2
    host: dict[str, np.ndarray] = {}
    bindings = []
    for binding in engine:  # ends: engine[2] raises IndexError
        shape = engine.get_binding_shape(binding)
        dtype = trt.nptype(engine.get_binding_dtype(binding))
        buf = np.zeros(trt.volume(shape), dtype)
        if engine.binding_is_input(binding):
            buf[:] = X.ravel()
        host[binding] = buf
        bindings.append(int(buf.ctypes.data))
    assert list(host) == ["x", "y"] and engine["y"] == 1 and engine[-1] == "y"
    ctx = engine.create_execution_context()
    assert ctx.all_binding_shapes_specified
    ok = ctx.execute_v2(bindings) if call == "execute_v2" else ctx.execute_async_v2(bindings, 0)
    assert ok, logger.errors
    np.testing.assert_array_equal(host["y"].reshape(2, 3), np.abs(X))


@pytest.mark.parametrize("version", NAMED_VERSIONS)
@pytest.mark.parametrize("call", ["execute_async_v3", "execute_v2"])
def test_named_tensor_loop_without_shapes(version: str, call: str) -> None:
    """The loop over num_io_tensors with get_tensor_*; a fixed-shape engine runs with no
    set_input_shape (allInputDimensionsSpecified is trivially true, NvInferRuntime.h)."""
    trt = simulated_tensorrt(version)
    engine, logger = _fixed_engine(trt)
    ctx = engine.create_execution_context()
    assert ctx.infer_shapes() == []
    bufs = {}
    for i in range(engine.num_io_tensors):
        name = engine.get_tensor_name(i)
        shape = tuple(ctx.get_tensor_shape(name))
        assert shape == (2, 3)
        buf = np.zeros(shape, trt.nptype(engine.get_tensor_dtype(name)))
        if engine.get_tensor_mode(name) == trt.TensorIOMode.INPUT:
            buf[:] = X
        bufs[name] = buf
        assert ctx.set_tensor_address(name, buf.ctypes.data)
    if call == "execute_v2":
        ok = ctx.execute_v2([bufs[engine.get_tensor_name(i)].ctypes.data for i in range(2)])
    else:
        ok = ctx.execute_async_v3(0)
    assert ok, logger.errors
    np.testing.assert_array_equal(bufs["y"], np.abs(X))


@pytest.mark.parametrize("version", V10_VERSIONS)
def test_engine_indexing_10x(version: str) -> None:
    """10.x+: only an int key; no len(); ``for name in engine`` walks the IO tensors."""
    trt = simulated_tensorrt(version)
    engine, _ = _fixed_engine(trt)
    assert list(engine) == ["x", "y"] and engine[-2] == "x"
    with pytest.raises(IndexError):
        engine[2]
    with pytest.raises(TypeError):
        len(engine)
    with pytest.raises(TypeError):
        engine["x"]


@pytest.mark.parametrize("version", [v for v in V10_VERSIONS if not v.startswith("rtx")])
def test_execute_v2_calls_output_allocators_10x(version: str) -> None:
    """NVIDIA's dds_faster_rcnn sample idiom (10.9+): set_output_allocator, then execute_v2."""
    trt = simulated_tensorrt(version)
    engine, logger = _fixed_engine(trt, non_zero=True)
    keep: dict[str, np.ndarray] = {}
    shapes: dict[str, tuple[int, ...]] = {}

    class Alloc(trt.IOutputAllocator):  # type: ignore[misc,name-defined]
        def __init__(self) -> None:
            trt.IOutputAllocator.__init__(self)

        def reallocate_output_async(
            self, name: str, mem: int, size: int, align: int, s: int
        ) -> int:
            keep[name] = np.zeros(size, np.uint8)
            return int(keep[name].ctypes.data)

        def notify_shape(self, name: str, shape: Any) -> None:
            shapes[name] = tuple(shape)

    ctx = engine.create_execution_context()
    alloc = Alloc()
    assert ctx.set_output_allocator("y", alloc)
    x = np.array([[0, 2, 0], [3, 0, 4]], np.float32)
    placeholder = np.zeros(128, np.int64)
    assert ctx.execute_v2([x.ctypes.data, placeholder.ctypes.data]), logger.errors
    want = np.array(np.nonzero(x))
    assert shapes["y"] == want.shape
    dtype = np.dtype(trt.nptype(engine.get_tensor_dtype("y")))
    got = keep["y"][: want.size * dtype.itemsize].view(dtype).reshape(want.shape)
    np.testing.assert_array_equal(got, want)


def test_execute_v2_ignores_output_allocators_8x() -> None:
    """8.5/8.6: IOutputAllocator is a "Callback from ExecutionContext::enqueueV3()"."""
    trt = simulated_tensorrt("8.6.1")
    engine, logger = _fixed_engine(trt, non_zero=True)
    ctx = engine.create_execution_context()
    assert ctx.set_output_allocator("y", trt.IOutputAllocator())
    x = np.ones((2, 3), np.float32)
    out = np.zeros(64, np.int32)
    assert not ctx.execute_v2([x.ctypes.data, out.ctypes.data])
    assert any("enqueueV3" in e for e in logger.errors)


def test_module_functions(version: str) -> None:
    trt = simulated_tensorrt(version)
    assert trt.nptype(trt.float32) is np.float32 and trt.nptype(trt.int8) is np.int8
    with pytest.raises(TypeError):
        trt.nptype(0)  # DataType is a strict enum: 0 is not FLOAT
    assert trt.volume([2, 3, 4]) == 24 and trt.volume(()) == 1
    engine, _ = _fixed_engine(trt)
    unknown = (
        engine.get_tensor_shape("nope")
        if hasattr(engine, "get_tensor_shape")
        else engine.get_binding_shape(99)
    )
    assert trt.volume(unknown) == 1  # nbDims == -1: the loop yields nothing
    assert trt.init_libnvinfer_plugins(None, "") is True
    assert trt.get_plugin_registry() is trt.get_plugin_registry()


@pytest.mark.parametrize("version", V10_VERSIONS)
def test_gpu_async_allocator_subclass(version: str) -> None:
    trt = simulated_tensorrt(version)

    class Good(trt.IGpuAsyncAllocator):  # type: ignore[misc,name-defined]
        def __init__(self) -> None:
            trt.IGpuAsyncAllocator.__init__(self)

    class Bad(trt.IGpuAsyncAllocator):  # type: ignore[misc,name-defined]
        def __init__(self) -> None:
            pass

    assert isinstance(Good(), trt.IGpuAllocator)
    with pytest.raises(TypeError, match="__init__"):
        Bad()
