"""``infer``'s repeat lane (``trt_exec._lane``) on the simulated TensorRT in host mode: a call
that repeats the previous one runs its plan instead of validating and binding again, and every
way a call can differ still reaches the full path (its result, or its error). The device-array
side (torch tensors, tokens, in-place changes) is tested on the GPU in
``tests/gpu/test_bound_and_pinned.py``."""

from __future__ import annotations

import collections
import gc
import weakref

import numpy as np
import pytest

from trt_exec._arguments import Arguments
from trt_exec.errors import ArrayError, BindingError, ClosedError, DTypeError, ShapeError
from trt_exec.testing import DEMO_NETWORK, reference, simulated_tensorrt
from trt_exec.testing.matrix import subset

from .helpers import demo_inputs, load_demo


@pytest.fixture(params=subset(("10.16.1", "v3"), ("8.6.1", "v2"), ("rtx-1.7.1", "v3")))
def ex(request):
    version, backend = request.param
    trt = simulated_tensorrt(version)
    with load_demo(trt, backend) as e:
        yield e


@pytest.fixture
def validations(monkeypatch):
    """How many calls went through full input validation (the lane skips it)."""
    count = collections.Counter()
    real = Arguments.inputs

    def counting(self, inputs):
        count["inputs"] += 1
        return real(self, inputs)

    monkeypatch.setattr(Arguments, "inputs", counting)
    return count


def _check(out, inputs):
    assert list(out) == ["sum", "act"]
    for name, want in reference(DEMO_NETWORK, inputs).items():
        np.testing.assert_allclose(out[name], want, rtol=1e-6, err_msg=name)


def test_a_repeated_call_takes_the_lane_and_reads_new_arrays(ex, validations):
    for seed in range(4):  # new arrays of the same shapes each call
        inputs = demo_inputs(3, seed=seed)
        _check(ex.infer(inputs), inputs)
    # The first call is remembered (Seen), the second repeats it and keeps the lane: only
    # those two were validated in full.
    assert validations["inputs"] == 2
    same = demo_inputs(3, seed=9)
    first = ex.infer(same)
    same["x"][...] = 7.0  # the same arrays, new contents
    second = ex.infer(same)
    _check(second, same)
    assert not np.shares_memory(first["sum"], second["sum"])  # new result arrays each call
    assert validations["inputs"] == 2


def test_another_shape_profile_or_names_take_the_full_path(ex, validations):
    _check(ex.infer(demo_inputs(3)), demo_inputs(3))
    _check(ex.infer(demo_inputs(3)), demo_inputs(3))
    other = demo_inputs(2, seed=4)
    _check(ex.infer(other), other)  # a new shape: validated, remembered
    assert validations["inputs"] == 3
    big = demo_inputs(8, seed=5)
    _check(ex.infer(big), big)
    assert ex.active_profile == 1
    _check(ex.infer(other), other)  # back in profile 0
    assert ex.active_profile == 0
    _check(ex.infer(other, profile=0), other)
    assert validations["inputs"] == 6  # profile=0 given: a new request, the full path
    with pytest.raises(ShapeError):
        ex.infer(other, profile=1)  # batch 2 is outside profile 1: refused, not the lane
    with pytest.raises(BindingError, match="missing input"):
        ex.infer({"x": other["x"]})
    with pytest.raises(BindingError, match="unknown input"):
        ex.infer({**other, "z": other["x"]})
    _check(ex.infer(other), other)
    with pytest.raises(BindingError, match="unknown input"):
        ex.infer({"x": other["x"], "z": other["y"]})  # as many names, one of them wrong
    mapping = collections.OrderedDict(other)  # another Mapping type: the full path
    _check(ex.infer(mapping), other)


def test_another_request_or_an_extra_name_leaves_an_established_lane(ex, validations):
    inputs = demo_inputs(4, seed=1)  # batch 4 fits both profiles
    for _ in range(3):
        _check(ex.infer(inputs), inputs)
    assert validations["inputs"] == 2 and ex.active_profile == 0
    _check(ex.infer(inputs, profile=1), inputs)  # a request where the lane's was None
    assert ex.active_profile == 1 and validations["inputs"] == 3
    for _ in range(3):
        _check(ex.infer(inputs, profile=1), inputs)  # a lane for request 1
    n = validations["inputs"]
    _check(ex.infer(inputs, profile=0), inputs)  # another int than the lane's
    assert ex.active_profile == 0 and validations["inputs"] == n + 1
    for _ in range(3):
        _check(ex.infer(inputs), inputs)
    with pytest.raises(BindingError, match="unknown input"):
        ex.infer({**inputs, "z": inputs["x"]})  # the lane's names and one more
    _check(ex.infer(inputs), inputs)


@pytest.mark.parametrize(
    "bad, error",
    [
        (lambda a: a.astype(np.float64), DTypeError),
        (lambda a: np.asfortranarray(np.repeat(a, 2, axis=1))[:, ::2], ArrayError),
        (lambda a: np.ascontiguousarray(a[:, :2]), ShapeError),
    ],
    ids=["dtype", "strided", "shape"],
)
def test_a_bad_array_after_the_lane_is_refused_as_before(ex, bad, error):
    inputs = demo_inputs(3)
    ex.infer(inputs)
    ex.infer(inputs)
    with pytest.raises(error):
        ex.infer({"x": bad(inputs["x"]), "y": inputs["y"]})
    _check(ex.infer(inputs), inputs)  # and the executor still works


def test_profile_switch_and_bound_calls_in_between(ex, validations):
    inputs = demo_inputs(4, seed=1)  # batch 4 fits both profiles
    _check(ex.infer(inputs), inputs)
    ex.set_profile(1)  # a switch forgets shapes and addresses: the lane's plan is stale
    _check(ex.infer(inputs), inputs)
    assert ex.active_profile == 1
    ex.set_profile(None)
    other = demo_inputs(4, seed=2)
    call = ex.bind(other, profile=0)
    assert ex.active_profile == 0
    _check(ex.infer(inputs), inputs)
    _check(call(), other)
    _check(ex.infer(inputs), inputs)  # the bound call rebound: the lane binds back
    _check(call(), other)


def test_outputs_given_and_aliasing_still_checked(ex):
    inputs = demo_inputs(2)
    out = {"sum": np.empty((2, 4), np.float32)}
    res = ex.infer(inputs, outputs=out)
    assert res["sum"] is out["sum"]
    res = ex.infer(inputs, outputs=out)
    assert res["sum"] is out["sum"]
    _check(res, inputs)
    ex.infer(inputs)
    ex.infer(inputs)  # a lane without outputs
    with pytest.raises(ArrayError, match="input 'x'"):
        ex.infer(inputs, outputs={"sum": inputs["x"]})  # an output over an input: refused


def test_closed_executor_raises_its_own_error(ex):
    inputs = demo_inputs(2)
    ex.infer(inputs)
    ex.infer(inputs)
    ex.close()
    with pytest.raises(ClosedError, match="is closed; load the engine again to use it"):
        ex.infer(inputs)


def test_the_lane_keeps_no_result_or_output_alive(ex):
    inputs = demo_inputs(2)
    out = {"sum": np.empty((2, 4), np.float32)}
    ex.infer(inputs, outputs=out)
    res = ex.infer(inputs, outputs=out)
    ref = weakref.ref(out["sum"])
    del out, res
    gc.collect()
    assert ref() is None


def test_a_lane_is_built_only_when_a_call_repeats_the_previous_shapes(ex, monkeypatch):
    from trt_exec.bound import Plan

    built = collections.Counter()
    real = Plan.after_call.__func__

    def counting(cls, *args):
        built["plans"] += 1
        return real(cls, *args)

    monkeypatch.setattr(Plan, "after_call", classmethod(counting))
    for seed in range(6):  # the shape changes every call: no plan is built for nothing
        inputs = demo_inputs(1 + seed % 3, seed=seed)
        _check(ex.infer(inputs), inputs)
    assert built["plans"] == 0
    for seed in range(3):  # the same shape again: one plan, then the lane
        inputs = demo_inputs(2, seed=seed)
        _check(ex.infer(inputs), inputs)
    assert built["plans"] == 1


def test_the_generated_matcher_takes_names_as_values_not_source():
    # Tensor names come from the engine: any text, never part of the generated source.
    from trt_exec._lane import _matcher

    name = "x\")\nraise SystemExit('injected') #'"
    arr = np.zeros((2, 3), np.float32)
    matches = _matcher(None, None, ((name, arr.dtype, arr.shape, arr.strides),), (), 0, 1)
    assert matches({name: arr}, None, None)
    assert not matches({name: arr.astype(np.float64)}, None, None)
    assert not matches({"x": arr}, None, None)
    assert not matches({name: arr}, {"y": arr}, None)  # outputs where the lane has none
