"""Hypothesis properties over drawn networks with shape-tensor inputs and fixed shapes (issue 12):
on every simulated release × backend of the contract matrix, a drawn network built with
``build_engine`` and run through ``trt_exec`` gives ``reference``'s outputs."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import trt_exec
from trt_exec.testing import (
    InputSpec,
    NetworkSpec,
    OpSpec,
    build_engine,
    reference,
    simulated_tensorrt,
)
from trt_exec.testing.matrix import SIM_MATRIX, pair_id
from trt_exec.testing.strategies import input_arrays, networks, shapes_in_profile

# 7 pairs × 2 properties; about 0.5 s per pair and property.
SETTINGS = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
PAIRS = pytest.mark.parametrize("pair", SIM_MATRIX, ids=pair_id)


def _assert_same(got, want):
    assert set(got) == set(want)
    for name in want:
        assert got[name].dtype == want[name].dtype, name
        assert got[name].shape == want[name].shape, name
        np.testing.assert_array_equal(got[name], want[name], err_msg=name)


def _count_shape_calls(ex, monkeypatch) -> list[str]:
    calls: list[str] = []
    ctx_cls = type(ex.engine.create_execution_context())
    for meth in ("set_input_shape", "set_binding_shape"):
        original = getattr(ctx_cls, meth, None)
        if original is not None:

            def counting(self, *args, _orig=original, _meth=meth):
                calls.append(_meth)
                return _orig(self, *args)

            monkeypatch.setattr(ctx_cls, meth, counting)
    return calls


@PAIRS
@SETTINGS
@given(
    data=st.data(),
    spec=st.booleans().flatmap(
        lambda fixed: networks(max_inputs=3, max_outputs=3, shape_tensors=True, fixed_shapes=fixed)
    ),
)
def test_shape_tensor_networks_match_the_reference(pair, data, spec):
    release, backend = pair
    trt = simulated_tensorrt(release)
    assert spec.shape_tensors
    with trt_exec.load(build_engine(trt, spec), tensorrt=trt, backend=backend) as ex:
        # trt_exec reads the drawn value bounds back from the engine.
        for name in spec.shape_tensors:
            got = ex.inputs[name]
            assert got.is_shape_tensor and got.location == "host"
            want = [tuple(tuple(v) for v in p[name]) for p in spec.profiles]
            assert [tuple(tuple(v) for v in b) for b in got.profile_values] == want
        for _ in range(3):
            k = data.draw(st.integers(0, len(spec.profiles) - 1))
            shapes = data.draw(shapes_in_profile(spec, k))
            arrays = data.draw(input_arrays(spec, shapes, profile=k))
            _assert_same(ex.infer(arrays, profile=k), reference(spec, arrays))
            # Without a profile, trt_exec picks one that holds both the shapes and the values.
            _assert_same(ex.infer(arrays), reference(spec, arrays))


@PAIRS
@SETTINGS
@given(data=st.data(), spec=networks(max_inputs=3, max_outputs=3, fixed_shapes=True))
def test_fixed_shape_networks_run_without_a_shape_call(pair, data, spec):
    release, backend = pair
    trt = simulated_tensorrt(release)
    assert spec.profiles == () and all(-1 not in i.shape for i in spec.inputs)
    with trt_exec.load(build_engine(trt, spec), tensorrt=trt, backend=backend) as ex:
        with pytest.MonkeyPatch.context() as m:
            calls = _count_shape_calls(ex, m)
            for _ in range(2):
                arrays = data.draw(input_arrays(spec, data.draw(shapes_in_profile(spec, 0))))
                _assert_same(ex.infer(arrays), reference(spec, arrays))
        assert calls == []


@settings(max_examples=50, deadline=None)
@given(spec=networks())
def test_defaults_draw_no_shape_tensor_and_keep_profiles(spec):
    """Existing users' draws do not change: no shape tensor, and always at least one profile."""
    assert not spec.shape_tensors and spec.profiles
    assert {op.kind for op in spec.ops} <= {"identity", "elementwise", "unary"}


@pytest.mark.parametrize(
    "s",
    [InputSpec("s", "int64", (2,)), InputSpec("s", "int32", (-1,)), InputSpec("s", "int32", ())],
)
def test_a_shape_tensor_must_be_a_static_int32_vector(s):
    x = InputSpec("x", "float32", (2, 3))
    profile = ((x.shape,) * 3, ((1, 1), (6, 1), (6, 6)))
    with pytest.raises(ValueError, match="shape tensor 's' must be"):
        NetworkSpec((x, s), (OpSpec("reshape", ("x", "s"), "y"),), ("y",), (profile,))
