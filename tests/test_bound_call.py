"""``Executor.bind()`` / ``BoundCall`` on the simulated TensorRT in host mode: results, borrowed
arrays refilled between runs, re-binding after other calls, the refusals (profile switched,
closed, bad arrays, data-dependent outputs, launch without device outputs)."""

from __future__ import annotations

import copy
import gc
import pickle
import types
import weakref

import numpy as np
import pytest

import trt_exec
from trt_exec.errors import (
    ArrayError,
    BindingError,
    ClosedError,
    DTypeError,
    ShapeError,
    StaleBindingError,
)
from trt_exec.testing import (
    DEMO_NETWORK,
    InputSpec,
    NetworkSpec,
    OpSpec,
    build_engine,
    reference,
    simulated_tensorrt,
)
from trt_exec.testing.matrix import subset

from .helpers import demo_inputs, load_demo


@pytest.fixture(params=subset(("10.16.1", "v3"), ("8.6.1", "v2"), ("rtx-1.7.1", "v3")))
def ex(request):
    version, backend = request.param
    trt = simulated_tensorrt(version)
    with load_demo(trt, backend) as e:
        yield e


def _check(out, inputs):
    for name, want in reference(DEMO_NETWORK, inputs).items():
        np.testing.assert_allclose(out[name], want, rtol=1e-6, err_msg=name)


def test_bound_call_runs_and_reads_refilled_inputs(ex):
    inputs = demo_inputs(3, seed=1)
    call = ex.bind(inputs)
    first = call()
    assert list(first) == ["sum", "act"]
    _check(first, inputs)
    for seed in (2, 3):  # the arrays are borrowed: new contents, same objects
        fresh = demo_inputs(3, seed=seed)
        for name in inputs:
            inputs[name][...] = fresh[name]
        out = call()
        _check(out, fresh)
    assert not np.shares_memory(out["sum"], first["sum"])  # each run returns new arrays


def test_bound_call_returns_a_read_only_mapping_and_cannot_be_pickled(ex):
    call = ex.bind(demo_inputs(2, seed=1))
    out = call()
    assert isinstance(out, types.MappingProxyType) and list(out) == ["sum", "act"]
    with pytest.raises(TypeError):
        out["sum"] = np.zeros(1)  # type: ignore[index]
    for how in (pickle.dumps, copy.copy, copy.deepcopy):
        with pytest.raises(TypeError, match="cannot be pickled or copied"):
            how(call)


def test_a_bound_call_goes_with_its_last_reference(ex):
    # No reference cycle (the call's run refers to the call weakly): the call, and with it
    # what it borrows, is released at once, without waiting for the garbage collector.
    gc.disable()
    try:
        call = ex.bind(demo_inputs(2, seed=1))
        call()
        call()
        ref = weakref.ref(call)
        del call
        assert ref() is None
    finally:
        gc.enable()


def test_bound_call_writes_caller_outputs_in_place(ex):
    inputs = demo_inputs(2)
    outs = {"sum": np.empty((2, 4), np.float32)}
    call = ex.bind(inputs, outputs=outs)
    res = call()
    assert res["sum"] is outs["sum"]
    _check(res, inputs)


def test_bound_call_fixes_profile_and_survives_other_calls(ex):
    inputs = demo_inputs(8)  # profile 1 only
    call = ex.bind(inputs)
    assert ex.active_profile == 1
    other = demo_inputs(6, seed=5)
    _check(ex.infer(other), other)  # same profile, other shapes and buffers
    _check(call(), inputs)  # binds its own again
    _check(ex.infer(other), other)
    _check(call(), inputs)


def test_bound_call_binds_again_after_an_infer_with_the_same_shapes(ex):
    """Same profile and shapes, other buffers: only the addresses changed, and the bound call
    must still read and write its own arrays."""
    inputs = demo_inputs(8)
    outputs = {n: np.full((8, 4), np.nan, np.float32) for n in ex.outputs}
    call = ex.bind(inputs, outputs)
    other = demo_inputs(8, seed=7)
    _check(ex.infer(other), other)
    result = call()
    _check(result, inputs)
    _check(outputs, inputs)  # written in place, not into the other call's buffers


def test_bound_call_refuses_after_a_profile_switch(ex):
    call = ex.bind(demo_inputs(2), profile=0)
    call()
    ex.infer(demo_inputs(8))  # switches to profile 1
    with pytest.raises(StaleBindingError, match=r"profile 0.*now 1.*bind\(\) again"):
        call()
    fresh = ex.bind(demo_inputs(2), profile=0)  # binding again works
    _check(fresh(), demo_inputs(2))


def test_bound_call_refuses_after_close(ex):
    call = ex.bind(demo_inputs(2))
    ex.close()
    with pytest.raises(ClosedError, match="closed"):
        call()
    with pytest.raises(ClosedError):
        call.launch()


def test_launch_needs_device_outputs(ex):
    call = ex.bind(demo_inputs(2))
    with pytest.raises(ArrayError, match=r"launch\(\).*'sum'.*call\(\)"):
        call.launch()


def test_launch_in_host_mode_is_done_on_return(ex):
    inputs = demo_inputs(2)
    outs = {n: np.empty((2, 4), np.float32) for n in ("sum", "act")}
    call = ex.bind(inputs, outputs=outs)
    assert call.launch() is None  # no event in host mode
    _check(outs, inputs)


def test_bind_validates_like_infer(ex):
    with pytest.raises(BindingError, match="missing input"):
        ex.bind({"x": np.ones((2, 4), np.float32)})
    with pytest.raises(DTypeError, match="float64"):
        ex.bind({"x": np.ones((2, 4)), "y": np.ones((2, 4), np.float32)})
    with pytest.raises(ShapeError, match=r"\(2, 4\)"):
        ex.bind(demo_inputs(2), outputs={"sum": np.empty((3, 4), np.float32)})
    with pytest.raises(ArrayError, match="read-only"):
        ro = np.empty((2, 4), np.float32)
        ro.flags.writeable = False
        ex.bind(demo_inputs(2), outputs={"sum": ro})


def test_bind_refuses_data_dependent_outputs():
    trt = simulated_tensorrt("10.16.1")
    net = NetworkSpec(
        inputs=(InputSpec("x", "float32", (-1, 4)),),
        ops=(OpSpec("non_zero", ("x",), "nz"),),
        outputs=("nz",),
        profiles=((((1, 4), (2, 4), (4, 4)),),),
    )
    with trt_exec.load(build_engine(trt, net), tensorrt=trt) as e:
        with pytest.raises(ArrayError, match=r"'nz'.*data-dependent.*infer\(\)"):
            e.bind({"x": np.ones((2, 4), np.float32)})


def test_repr_names_profile_and_shapes(ex):
    r = repr(ex.bind(demo_inputs(2)))
    assert "profile=0" in r and "x=(2, 4)" in r


def test_bind_refuses_shape_tensor_inputs_and_infer_still_runs() -> None:
    """A bound call fixes shapes once; shape-tensor values are read when shapes are set, so a
    bound call could not follow them: bind() refuses, naming the inputs, and infer() works."""
    from .io_engines import shape_reference, shape_tensor_engine

    trt = simulated_tensorrt("10.16.1")
    with trt_exec.load(shape_tensor_engine(trt), tensorrt=trt) as ex:
        x = np.arange(12, dtype=np.float32).reshape(2, 6)
        inputs = {"x": x, "s": np.array([3, 4], np.int32), "n": np.array([1, 2], np.int32)}
        with pytest.raises(ArrayError, match=r"\['s', 'n'\] are shape tensors.*infer\(\)"):
            ex.bind(inputs)
        got = ex.infer(inputs)
        want = shape_reference(x, inputs["s"], inputs["n"])
        for name in ("y", "z"):
            np.testing.assert_array_equal(got[name], want[name])
