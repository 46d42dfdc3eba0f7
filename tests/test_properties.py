"""Hypothesis properties of the two backends over random networks (issue: the core)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import trt_exec
from trt_exec.errors import ShapeError
from trt_exec.testing import build_engine, reference, simulated_tensorrt
from trt_exec.testing.matrix import SIM_RELEASES, backends_of, releases_with
from trt_exec.testing.strategies import (
    input_arrays,
    networks,
    shapes_in_profile,
    shapes_outside_profiles,
)

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
V3_RELEASES = releases_with("v3")


def _assert_same(got, want):
    """Equal names, dtypes, shapes and values."""
    assert set(got) == set(want)
    for name in want:
        assert got[name].dtype == want[name].dtype, name
        assert got[name].shape == want[name].shape, name
        np.testing.assert_array_equal(got[name], want[name], err_msg=name)


@SETTINGS
@given(data=st.data(), spec=networks())
def test_v2_and_v3_agree_on_86(data, spec):
    """On 8.6 (both APIs) the backends report identical specs and compute identical outputs."""
    trt = simulated_tensorrt("8.6.1")
    plan = build_engine(trt, spec)
    with (
        trt_exec.load(plan, tensorrt=trt, backend="v2") as v2,
        trt_exec.load(plan, tensorrt=trt, backend="v3") as v3,
    ):
        assert v2.inputs == v3.inputs and v2.outputs == v3.outputs
        assert list(v2.inputs) == list(v3.inputs)
        # The IO-count invariant of each API, on the same engine.
        io = len(spec.inputs) + len(spec.outputs)
        assert v2.engine.num_bindings == io * len(spec.profiles)
        assert v3.engine.num_io_tensors == io
        assert v2.io_count == v3.io_count == io
        k = data.draw(st.integers(0, len(spec.profiles) - 1))
        arrays = data.draw(input_arrays(spec, data.draw(shapes_in_profile(spec, k))))
        out2 = v2.infer(arrays, profile=k)
        out3 = v3.infer(arrays, profile=k)
        _assert_same(out2, out3)
        _assert_same(out3, reference(spec, arrays))


@SETTINGS
@given(
    data=st.data(),
    spec=networks(max_inputs=4, max_outputs=4),
    release=st.sampled_from(SIM_RELEASES),
)
def test_every_shape_inside_a_profile_runs(data, spec, release):
    trt = simulated_tensorrt(release)
    backend = "v3" if "v3" in backends_of(release) else "v2"
    with trt_exec.load(build_engine(trt, spec), tensorrt=trt, backend=backend) as ex:
        for _ in range(3):
            k = data.draw(st.integers(0, len(spec.profiles) - 1))
            arrays = data.draw(input_arrays(spec, data.draw(shapes_in_profile(spec, k))))
            _assert_same(ex.infer(arrays), reference(spec, arrays))


@SETTINGS
@given(
    data=st.data(),
    spec=networks(max_inputs=4, max_outputs=4),
    backend=st.sampled_from(["v2", "v3"]),
)
def test_every_shape_outside_all_profiles_is_a_shape_error(data, spec, backend):
    trt = simulated_tensorrt("8.6.1")
    name, bad = data.draw(shapes_outside_profiles(spec))
    shapes = data.draw(shapes_in_profile(spec, 0))
    shapes[name] = bad
    arrays = data.draw(input_arrays(spec, shapes))
    with trt_exec.load(build_engine(trt, spec), tensorrt=trt, backend=backend) as ex:
        with pytest.raises(ShapeError) as info:
            ex.infer(arrays)
        assert repr(name) in str(info.value)
        # The executor is still usable with a good shape afterwards.
        good = data.draw(input_arrays(spec, data.draw(shapes_in_profile(spec, 0))))
        _assert_same(ex.infer(good), reference(spec, good))


@SETTINGS
@given(
    data=st.data(),
    spec=networks(max_inputs=3, max_outputs=4, allow_data_dependent=True),
    release=st.sampled_from([r for r in V3_RELEASES if r != "rtx-1.7.1"]),  # RTX builds no NonZero
)
def test_data_dependent_outputs_through_the_output_allocator(data, spec, release):
    trt = simulated_tensorrt(release)
    with trt_exec.load(build_engine(trt, spec), tensorrt=trt) as ex:
        assert ex.backend == "v3"
        for _ in range(3):
            k = data.draw(st.integers(0, len(spec.profiles) - 1))
            arrays = data.draw(input_arrays(spec, data.draw(shapes_in_profile(spec, k))))
            _assert_same(ex.infer(arrays), reference(spec, arrays))
