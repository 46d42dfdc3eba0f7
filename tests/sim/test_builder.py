"""Builder behaviour: valid networks build; invalid ones return None with a logged ERROR."""

from __future__ import annotations

from typing import Any

import pytest

from trt_exec.testing import DEMO_NETWORK, build_engine, simulated_tensorrt
from trt_exec.testing.network import EngineBuildError, InputSpec, NetworkSpec, OpSpec

from .helpers import make_logger


def _setup(version: str) -> tuple[Any, Any, Any, Any, Any]:
    trt = simulated_tensorrt(version)
    logger = make_logger(trt)
    builder = trt.Builder(logger)
    flags = (
        1 << int(trt.NetworkDefinitionCreationFlag.EXPLICIT_BATCH)
        if version.startswith("8.")
        else 0
    )
    network = builder.create_network(flags)
    config = builder.create_builder_config()
    return trt, logger, builder, network, config


def test_network_without_outputs_fails(version: str) -> None:
    trt, logger, builder, network, config = _setup(version)
    network.add_input("x", trt.float32, (2, 3))
    assert builder.build_serialized_network(network, config) is None
    assert any("at least one output" in e for e in logger.errors)


def test_dynamic_input_without_profile_fails(version: str) -> None:
    trt, logger, builder, network, config = _setup(version)
    x = network.add_input("x", trt.float32, (-1, 3))
    network.mark_output(network.add_identity(x).get_output(0))
    assert builder.build_serialized_network(network, config) is None
    assert any("no optimization profile" in e for e in logger.errors)
    profile = builder.create_optimization_profile()
    profile.set_shape("x", (1, 3), (2, 3), (4, 3))
    assert config.add_optimization_profile(profile) == 0
    assert builder.build_serialized_network(network, config) is not None


def test_profile_missing_a_dynamic_input_fails() -> None:
    trt, logger, builder, network, config = _setup("10.0.1")
    x = network.add_input("x", trt.float32, (-1,))
    y = network.add_input("y", trt.float32, (-1,))
    network.mark_output(network.add_elementwise(x, y, trt.ElementWiseOperation.SUM).get_output(0))
    profile = builder.create_optimization_profile()
    profile.set_shape("x", (1,), (2,), (3,))
    config.add_optimization_profile(profile)
    assert builder.build_serialized_network(network, config) is None
    assert any("y: dynamic input is missing dimensions in profile 0" in e for e in logger.errors)


def test_elementwise_type_mismatch_fails() -> None:
    trt, logger, builder, network, config = _setup("10.16.1")
    x = network.add_input("x", trt.float32, (2,))
    y = network.add_input("y", trt.int32, (2,))
    network.mark_output(network.add_elementwise(x, y, trt.ElementWiseOperation.SUM).get_output(0))
    assert builder.build_serialized_network(network, config) is None
    assert any("ElementWise" in e for e in logger.errors)


def test_elementwise_rank_mismatch_returns_none() -> None:
    trt, logger, builder, network, config = _setup("10.0.1")
    x = network.add_input("x", trt.float32, (2,))
    y = network.add_input("y", trt.float32, (2, 2))
    assert network.add_elementwise(x, y, trt.ElementWiseOperation.SUM) is None
    assert logger.errors


def test_static_broadcast_mismatch_fails() -> None:
    trt, logger, builder, network, config = _setup("11.4.0")
    x = network.add_input("x", trt.float32, (2, 3))
    y = network.add_input("y", trt.float32, (2, 4))
    network.mark_output(network.add_elementwise(x, y, trt.ElementWiseOperation.PROD).get_output(0))
    assert builder.build_serialized_network(network, config) is None
    assert any("broadcast" in e for e in logger.errors)


def test_bool_ops_only_on_bool() -> None:
    trt, logger, builder, network, config = _setup("10.0.1")
    x = network.add_input("x", trt.float32, (2,))
    network.mark_output(network.add_unary(x, trt.UnaryOperation.NOT).get_output(0))
    assert builder.build_serialized_network(network, config) is None
    assert any("NOT" in e for e in logger.errors)


def test_implicit_batch_network_fails_on_8x() -> None:
    trt = simulated_tensorrt("8.6.1")
    logger = make_logger(trt)
    builder = trt.Builder(logger)
    network = builder.create_network()
    assert network.has_implicit_batch_dimension
    x = network.add_input("x", trt.float32, (3,))
    network.mark_output(network.add_identity(x).get_output(0))
    assert builder.build_serialized_network(network, builder.create_builder_config()) is None
    assert logger.errors


@pytest.mark.parametrize("version", ["8.6.1", "10.0.1", "11.4.0", "rtx-1.7.1"])
def test_set_shape_refuses_negative_dims(version: str) -> None:
    trt, logger, builder, network, config = _setup(version)
    with pytest.raises(RuntimeError, match="Shape provided for min is inconsistent"):
        builder.create_optimization_profile().set_shape("x", (-1, 3), (2, 3), (8, 3))
    assert "setDimensions" in logger.errors[-1]
    with pytest.raises(RuntimeError, match="Shape provided for max is inconsistent"):
        builder.create_optimization_profile().set_shape("x", (1, 3), (2, 3), (8, -3))
    good = builder.create_optimization_profile()
    assert good.set_shape("x", [1, 3], trt.Dims([2, 3]), (8, 3)) is None
    assert good.get_shape("x") == [(1, 3), (2, 3), (8, 3)]
    assert bool(good) and config.add_optimization_profile(good) == 0


@pytest.mark.parametrize("version", ["8.6.1", "10.0.1", "11.4.0", "rtx-1.7.1"])
def test_profile_order_is_checked_by_is_valid_not_set_shape(version: str) -> None:
    """min > opt > max: set_shape returns None without logging; bool(profile) and
    add_optimization_profile (isValid) log Error Code 4, and add returns -1."""
    trt, logger, builder, network, config = _setup(version)
    profile = builder.create_optimization_profile()
    assert profile.set_shape("x", (4, 3), (2, 3), (1, 3)) is None
    assert not logger.errors
    assert profile.get_shape("x") == [(4, 3), (2, 3), (1, 3)]
    assert not bool(profile) and "MIN<=OPT<=MAX" in logger.errors[-1]
    assert config.add_optimization_profile(profile) == -1
    assert "MIN<=OPT<=MAX" in logger.errors[-2] and "isValid" in logger.errors[-1]
    if version == "rtx-1.7.1":
        assert logger.errors[-2].startswith("IOptimizationProfile::isValid: Error Code 4")


@pytest.mark.parametrize("version", ["10.0.1", "rtx-1.7.1"])
def test_profile_rank_mismatch(version: str) -> None:
    """TensorRT: setDimensions refuses a rank that differs from one already set (docs);
    RTX 1.7.1 accepts it there and refuses the profile at isValid (observed)."""
    trt, logger, builder, network, config = _setup(version)
    profile = builder.create_optimization_profile()
    if version.startswith("rtx-"):
        assert profile.set_shape("x", (4,), (2, 4), (1, 4, 4)) is None
        assert config.add_optimization_profile(profile) == -1
    else:
        with pytest.raises(RuntimeError, match="Shape provided for opt is inconsistent"):
            profile.set_shape("x", (4,), (2, 4), (1, 4, 4))


def test_non_zero_index_type_per_release() -> None:
    # INT32 by default everywhere: the 8.x/10.x INonZeroLayer docs; RTX 1.7.1 observed on the real
    # tensorrt_rtx (tests/fidelity/test_real_rtx.py).
    for version in ("8.6.1", "10.0.1", "10.16.1", "11.4.0", "rtx-1.7.1"):
        expected = "INT32"
        trt, logger, builder, network, config = _setup(version)
        x = network.add_input("x", trt.float32, (3,))
        layer = network.add_non_zero(x)
        assert layer.get_output(0).dtype == getattr(trt.DataType, expected)
    trt, *_ = _setup("8.4.3")
    assert not hasattr(trt.INetworkDefinition, "add_non_zero")


@pytest.mark.parametrize("version", ["8.6.1", "10.0.1"])
def test_non_zero_without_indices_type_before_10_16(version: str) -> None:
    """8.6.1 and 10.0.1 manifests: add_non_zero(input) only."""
    trt, logger, builder, network, config = _setup(version)
    x = network.add_input("x", trt.float32, (3,))
    with pytest.raises(TypeError):
        network.add_non_zero(x, trt.int32)
    with pytest.raises(TypeError):
        network.add_non_zero(input=x, indices_type=trt.int32)


@pytest.mark.parametrize("version", ["10.16.1", "11.4.0", "rtx-1.7.1"])
def test_non_zero_indices_type_overload(version: str) -> None:
    """10.16+ and RTX: overloads (input) | (input, indices_type: DataType)."""
    trt, logger, builder, network, config = _setup(version)
    x = network.add_input("x", trt.float32, (3,))
    for dtype in (trt.int32, trt.int64):
        assert network.add_non_zero(x, dtype).get_output(0).dtype == dtype
        assert network.add_non_zero(input=x, indices_type=dtype).get_output(0).dtype == dtype
    for bad in (None, 7, "int64"):
        with pytest.raises(TypeError, match="incompatible function arguments"):
            network.add_non_zero(x, bad)


def test_rtx_compute_capabilities() -> None:
    trt = simulated_tensorrt("rtx-1.7.1")
    config = trt.Builder(make_logger(trt)).create_builder_config()
    assert config.num_compute_capabilities == 0
    config.num_compute_capabilities = 1
    assert config.set_compute_capability(trt.ComputeCapability.SM89, 0)
    assert config.get_compute_capability(0) == trt.ComputeCapability.SM89
    assert not config.set_compute_capability(trt.ComputeCapability.SM80, 1)


def test_build_engine_raises_with_logged_errors() -> None:
    trt = simulated_tensorrt("10.0.1")
    bad = NetworkSpec(
        inputs=(InputSpec("x", "float32", (-1,)),),
        ops=(OpSpec("identity", ("x",), "y"),),
        outputs=("y",),
        profiles=(),
    )
    with pytest.raises(EngineBuildError, match="no optimization profile"):
        build_engine(trt, bad)
    assert len(build_engine(trt, DEMO_NETWORK)) > 0


def test_host_memory_is_a_buffer_not_a_str_like_bytes() -> None:
    trt, logger, builder, network, config = _setup("10.0.1")
    x = network.add_input("x", trt.float32, (2,))
    network.mark_output(network.add_identity(x).get_output(0))
    plan = builder.build_serialized_network(network, config)
    assert isinstance(plan, trt.IHostMemory) and plan.nbytes == len(bytes(plan)) > 0
    assert memoryview(plan).nbytes == plan.nbytes
    assert not hasattr(plan, "decode")
    with pytest.raises(TypeError):
        len(plan)


@pytest.mark.parametrize("version", ["8.4.3", "8.6.1", "10.0.1", "10.16.1", "11.4.0", "rtx-1.7.1"])
def test_tensor_dtype_is_read_only_on_11_and_rtx(version: str) -> None:
    """ITensor.dtype: settable through 10.x, read-only on 11.4.0 and RTX 1.7.1 (manifests)."""
    trt, logger, builder, network, config = _setup(version)
    x = network.add_input("x", trt.float32, (3,))
    if version.startswith(("11.", "rtx-")):
        with pytest.raises(AttributeError):
            x.dtype = trt.float16
        assert x.dtype == trt.float32
    else:
        x.dtype = trt.float16
        assert x.dtype == trt.float16


def test_rtx_builder_refuses_non_zero() -> None:
    """TensorRT-RTX 1.7.1 (real, on a CPU with a compute capability) refuses NonZero that feeds
    an output, logging "... has no runners that implement it"; a dead NonZero builds."""
    trt, logger, builder, network, config = _setup("rtx-1.7.1")
    x = network.add_input("x", trt.float32, (3, 4))
    nz = network.add_non_zero(x)
    nz.name = "my_nz"
    network.mark_output(network.add_identity(nz.get_output(0)).get_output(0))
    assert builder.build_serialized_network(network, config) is None
    assert logger.errors[-1] == (
        "[tacticSupply.cpp::getSupportedFormats::48] Error Code 2: Internal Error (Assertion "
        "!layerImpls.empty() failed. my_nz has no runners that implement it In "
        "getSupportedFormats at /_src/optimizer/builder/tacticSupply.cpp:48)"
    )
    trt, logger, builder, network, config = _setup("rtx-1.7.1")
    x = network.add_input("x", trt.float32, (3, 4))
    network.add_non_zero(x)
    network.mark_output(network.add_identity(x).get_output(0))
    assert builder.build_serialized_network(network, config) is not None
    trt, logger, builder, network, config = _setup("11.4.0")
    x = network.add_input("x", trt.float32, (3, 4))
    network.mark_output(network.add_non_zero(x).get_output(0))
    assert builder.build_serialized_network(network, config) is not None
