"""The simulator's shape-tensor layers and shape-tensor IO, through each release's own API."""

from __future__ import annotations

import numpy as np
import pytest

from trt_exec.testing import simulated_tensorrt

from ..io_engines import shape_tensor_engine
from .helpers import BINDING_VERSIONS, make_logger


def _engine(version: str):
    trt = simulated_tensorrt(version)
    logger = make_logger(trt)
    runtime = trt.Runtime(logger)
    engine = runtime.deserialize_cuda_engine(shape_tensor_engine(trt))
    assert engine is not None
    return trt, logger, runtime, engine


def test_engine_reports_shape_io(version):
    trt, _logger, _rt, engine = _engine(version)
    host, device = trt.TensorLocation.HOST, trt.TensorLocation.DEVICE
    named = hasattr(engine, "num_io_tensors")
    if named:
        assert engine.is_shape_inference_io("s") and not engine.is_shape_inference_io("x")
        assert engine.get_tensor_location("s") == host and engine.get_tensor_location("y") == device
        assert engine.get_tensor_location("xs") == host
    if hasattr(engine, "get_tensor_profile_values"):  # 10.0+: (profile, name) by position
        assert engine.get_tensor_profile_values(1, "s") == [[1, 1], [6, 6], [48, 48]]
        assert not hasattr(engine, "get_profile_shape_input")
    if hasattr(engine, "num_bindings"):  # 8.x
        s = engine.get_binding_index("s")
        assert engine.is_shape_binding(s) and not engine.is_shape_binding(0)
        assert engine.get_location(s) == host
        assert engine.get_profile_shape_input(0, s) == [[1, 1], [2, 6], [24, 24]]
        assert engine.get_profile_shape_input(1, "s") == [[1, 1], [6, 6], [48, 48]]


def test_shape_layer_output_type_per_release(version):
    trt, _logger, _rt, engine = _engine(version)
    want = trt.DataType.INT32 if version.startswith("8.") else trt.DataType.INT64
    dtype = engine.get_tensor_dtype("xs") if hasattr(engine, "num_io_tensors") else None
    if dtype is None:
        dtype = engine.get_binding_dtype(engine.get_binding_index("xs"))
    assert dtype == want


@pytest.mark.parametrize("release", ["10.0.1", "11.4.0", "rtx-1.7.1"])
def test_int64_shape_tensor_input_from_10_0(release):
    trt = simulated_tensorrt(release)
    logger = make_logger(trt)
    builder = trt.Builder(logger)
    net = builder.create_network(0)
    x = net.add_input("x", trt.float32, (-1, 6))
    s = net.add_input("s", trt.int64, (2,))
    sh = net.add_shuffle(x)
    sh.set_input(1, s)
    net.mark_output(sh.get_output(0))
    cfg = builder.create_builder_config()
    p = builder.create_optimization_profile()
    p.set_shape("x", (1, 6), (2, 6), (4, 6))
    p.set_shape_input("s", (1, 1), (2, 6), (24, 24))
    cfg.add_optimization_profile(p)
    if hasattr(cfg, "num_compute_capabilities"):
        cfg.num_compute_capabilities = 1
        cfg.set_compute_capability(trt.ComputeCapability.SM89, 0)
    assert builder.build_serialized_network(net, cfg) is not None, logger.errors


def test_float_shape_operand_refused_by_the_builder():
    trt = simulated_tensorrt("10.16.1")
    logger = make_logger(trt)
    builder = trt.Builder(logger)
    net = builder.create_network(0)
    x = net.add_input("x", trt.float32, (2, 6))
    s = net.add_input("s", trt.float32, (2,))
    sh = net.add_shuffle(x)
    sh.set_input(1, s)
    net.mark_output(sh.get_output(0))
    assert builder.build_serialized_network(net, builder.create_builder_config()) is None
    assert any("must have type INT32 or INT64" in e for e in logger.errors)


def test_v3_values_read_from_host_at_each_query(named_version):
    trt, logger, _rt, engine = _engine(named_version)
    ctx = engine.create_execution_context()
    assert ctx.set_input_shape("x", (2, 6))
    vals = np.array([3, 4], np.int32)
    assert tuple(ctx.get_tensor_shape("y")) == (-1, -1)  # no address for "s" yet
    assert ctx.set_tensor_address("s", vals.ctypes.data)
    assert tuple(ctx.get_tensor_shape("y")) == (3, 4)
    vals[:] = (6, 2)  # TensorRT reads host memory, not a copy made at set_tensor_address
    assert tuple(ctx.get_tensor_shape("y")) == (6, 2)


def test_v3_enqueue_without_values_or_outside_profile_fails(named_version):
    trt, logger, _rt, engine = _engine(named_version)
    ctx = engine.create_execution_context()
    x = np.zeros((2, 6), np.float32)
    out = {n: np.zeros(64, np.float64) for n in ("y", "z", "xs")}
    ctx.set_input_shape("x", x.shape)
    for name, buf in {"x": x, **out}.items():
        ctx.set_tensor_address(name, buf.ctypes.data)
    n = np.array([1, 1], np.int32)
    ctx.set_tensor_address("n", n.ctypes.data)
    assert not ctx.execute_async_v3(0)
    assert "Values of shape tensor s are not specified" in logger.errors[-1]
    s = np.array([0, 12], np.int32)  # below the profile's min (1, 1)
    ctx.set_tensor_address("s", s.ctypes.data)
    assert not ctx.execute_async_v3(0)
    assert "outside profile 0" in logger.errors[-1]


@pytest.mark.parametrize("release", BINDING_VERSIONS)
def test_v2_set_shape_input(release):
    trt, logger, _rt, engine = _engine(release)
    ctx = engine.create_execution_context()
    s = engine.get_binding_index("s")
    assert not ctx.set_shape_input(s, [99, 1])
    assert "outside profile 0" in logger.errors[-1]
    assert not ctx.set_shape_input(0, [1, 1])  # "x" is not a shape binding
    assert ctx.set_shape_input(s, [4, 3])
    ctx.set_binding_shape(0, (2, 6))
    assert tuple(ctx.get_binding_shape(engine.get_binding_index("y"))) == (4, 3)


def test_slice_out_of_bounds_is_a_shape_error():
    trt, logger, _rt, engine = _engine("10.16.1")
    ctx = engine.create_execution_context()
    ctx.set_input_shape("x", (2, 6))
    s, n = np.array([3, 4], np.int32), np.array([2, 6], np.int32)
    ctx.set_tensor_address("s", s.ctypes.data)
    ctx.set_tensor_address("n", n.ctypes.data)
    assert tuple(ctx.get_tensor_shape("z")) == (2, 6)
    n[:] = (4, 6)  # 4 rows of an input with 2
    assert tuple(ctx.get_tensor_shape("z")) == (-1, -1)
    assert "slice out of bounds on axis 0" in logger.errors[-1]
