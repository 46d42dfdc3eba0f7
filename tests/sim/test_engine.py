"""Engine metadata: named tensors, bindings × profiles, profile shapes, memory sizes."""

from __future__ import annotations

import pytest

from trt_exec.testing import DEMO_NETWORK

from .helpers import BINDING_VERSIONS, Harness


def test_named_tensor_metadata(named_version: str) -> None:
    h = Harness(named_version)
    trt, eng = h.trt, h.engine
    assert eng.num_io_tensors == 4  # not multiplied by the 2 profiles
    names = [eng.get_tensor_name(i) for i in range(eng.num_io_tensors)]
    assert names == ["x", "y", "sum", "act"]
    modes = [eng.get_tensor_mode(n) for n in names]
    assert modes == [trt.TensorIOMode.INPUT] * 2 + [trt.TensorIOMode.OUTPUT] * 2
    assert eng.get_tensor_mode("nope") == trt.TensorIOMode.NONE
    assert eng.get_tensor_shape("x") == (-1, 4) and eng.get_tensor_shape("sum") == (-1, 4)
    assert eng.get_tensor_dtype("act") == trt.DataType.FLOAT
    assert eng.get_tensor_location("x") == trt.TensorLocation.DEVICE
    assert eng.num_optimization_profiles == 2
    assert eng.get_tensor_profile_shape("x", 1) == [(4, 4), (8, 4), (16, 4)]
    assert not eng.is_shape_inference_io("x")
    assert eng.get_tensor_name(4) is None and h.errors
    assert eng.num_layers == 3
    assert eng[0] == "x"


def test_bindings_layout(version: str) -> None:
    if version not in BINDING_VERSIONS:
        assert not hasattr(Harness(version).engine, "num_bindings")
        return
    h = Harness(version)
    eng = h.engine
    assert eng.num_bindings == 8 == len(eng)
    names = [eng.get_binding_name(i) for i in range(8)]
    assert names == [
        "x",
        "y",
        "sum",
        "act",
        "x [profile 1]",
        "y [profile 1]",
        "sum [profile 1]",
        "act [profile 1]",
    ]
    assert [eng.binding_is_input(i) for i in range(8)] == [True, True, False, False] * 2
    assert eng.get_binding_index("y [profile 1]") == 5 and eng.get_binding_index("zz") == -1
    assert eng["act"] == 3 and eng[6] == "sum [profile 1]"
    assert eng.get_profile_shape(1, 4) == [(4, 4), (8, 4), (16, 4)]
    assert eng.get_profile_shape(0, "y") == [(1, 4), (2, 4), (4, 4)]
    assert eng.get_binding_shape(6) == (-1, 4)
    assert eng.max_batch_size == 1 and not eng.has_implicit_batch_dimension


def test_device_memory_sizes() -> None:
    h = Harness("10.16.1")
    eng = h.engine
    assert eng.device_memory_size_v2 >= eng.get_device_memory_size_for_profile_v2(0) > 0
    assert eng.device_memory_size == eng.device_memory_size_v2
    assert eng.get_device_memory_size_for_profile(1) >= eng.get_device_memory_size_for_profile(0)


def test_static_network_gets_one_profile() -> None:
    from trt_exec.testing.network import InputSpec, NetworkSpec, OpSpec

    spec = NetworkSpec(
        (InputSpec("a", "int32", (2, 3)),), (OpSpec("unary", ("a",), "b", "NEG"),), ("b",), ()
    )
    h = Harness("8.6.1", spec)
    assert h.engine.num_optimization_profiles == 1 and h.engine.num_bindings == 2
    assert h.engine.get_tensor_profile_shape("a", 0) == [(2, 3)] * 3
    assert DEMO_NETWORK.profile(1)["y"][2] == (16, 4)


@pytest.mark.parametrize("version", BINDING_VERSIONS)
def test_binding_predicates_take_binding_by_keyword(version: str) -> None:
    """8.x: is_shape_binding / is_execution_binding name their parameter ``binding``."""
    h = Harness(version)
    assert h.engine.is_execution_binding(binding=0)
    assert not h.engine.is_shape_binding(binding=0)
    with pytest.raises(TypeError):
        h.engine.is_execution_binding(index=0)
