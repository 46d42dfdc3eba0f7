"""The contract suite: one set of tests for every backend × simulated release, and for real
TensorRT with a GPU where present (skipped otherwise, with the reason)."""

from __future__ import annotations

import numpy as np
import pytest

import trt_exec
from trt_exec.errors import (
    BindingError,
    ClosedError,
    DTypeError,
    EngineLoadError,
    ExecutionError,
    ProfileError,
    ShapeError,
)
from trt_exec.testing import DEMO_NETWORK, build_engine, reference

from .helpers import profile_inputs


@pytest.fixture
def plan(target):
    return build_engine(target.trt, DEMO_NETWORK)


@pytest.fixture
def ex(target, plan):
    with trt_exec.load(plan, tensorrt=target.trt, backend=target.backend) as executor:
        yield executor


def test_backend_and_specs(ex, target):
    assert ex.backend == target.backend
    assert isinstance(ex, trt_exec.Executor)
    assert isinstance(ex, trt_exec.V2Executor if target.backend == "v2" else trt_exec.V3Executor)
    assert list(ex.inputs) == [n for n, _, _ in DEMO_NETWORK.inputs]
    assert list(ex.outputs) == list(DEMO_NETWORK.outputs)
    assert ex.num_profiles == len(DEMO_NETWORK.profiles)
    for name, dtype, shape in DEMO_NETWORK.inputs:
        spec = ex.inputs[name]
        assert spec.is_input and spec.dtype == np.dtype(dtype) and spec.shape == tuple(shape)
        for k, prof in enumerate(DEMO_NETWORK.profiles):
            assert tuple(spec.profile_shapes[k]) == tuple(tuple(s) for s in prof[name])
    for spec in ex.outputs.values():
        assert not spec.is_input and spec.profile_shapes == ()


def test_io_count_invariant(ex, target):
    engine = ex.engine
    io = len(DEMO_NETWORK.inputs) + len(DEMO_NETWORK.outputs)
    assert ex.io_count == io
    if target.backend == "v2":
        assert engine.num_bindings == io * ex.num_profiles == ex.num_bindings
    else:
        assert engine.num_io_tensors == io


@pytest.mark.parametrize("which", [0, 1, 2])
def test_infer_matches_numpy_in_every_profile(ex, which):
    for k in range(ex.num_profiles):
        arrays = profile_inputs(DEMO_NETWORK, k, which, seed=k)
        got = ex.infer(arrays, profile=k)
        want = reference(DEMO_NETWORK, arrays)
        assert set(got) == set(want)
        for name in want:
            assert got[name].shape == want[name].shape
            np.testing.assert_allclose(got[name], want[name], rtol=1e-6)


def test_profile_chosen_from_shapes(ex):
    # Shapes at each profile's max fit only that profile in the demo network.
    for k in range(ex.num_profiles):
        arrays = profile_inputs(DEMO_NETWORK, k, 2)
        got = ex.infer(arrays)
        np.testing.assert_allclose(got["sum"], reference(DEMO_NETWORK, arrays)["sum"])
        assert ex.active_profile == k


def test_set_profile_pins_and_validates(ex):
    ex.set_profile(1)
    assert ex.profile == 1
    with pytest.raises(ShapeError, match="outside optimization profile 1"):
        ex.infer(profile_inputs(DEMO_NETWORK, 0, 0))
    ex.set_profile(None)
    ex.infer(profile_inputs(DEMO_NETWORK, 0, 0))
    with pytest.raises(ProfileError, match="out of range"):
        ex.set_profile(ex.num_profiles)


def test_shape_outside_every_profile(ex):
    arrays = profile_inputs(DEMO_NETWORK, 1, 2)
    big = {n: np.concatenate([a, a]) for n, a in arrays.items()}
    with pytest.raises(ShapeError) as info:
        ex.infer(big)
    assert "'x'" in str(info.value) and "profile 0" in str(info.value)


def test_bad_names_and_dtypes(ex):
    arrays = profile_inputs(DEMO_NETWORK, 0)
    with pytest.raises(BindingError, match="missing input"):
        ex.infer({"x": arrays["x"]})
    with pytest.raises(BindingError, match="unknown input"):
        ex.infer({**arrays, "nope": arrays["x"]})
    with pytest.raises(DTypeError, match="float64"):
        ex.infer({**arrays, "x": arrays["x"].astype(np.float64)})


def test_results_are_not_overwritten_by_later_calls(ex):
    a = profile_inputs(DEMO_NETWORK, 0, seed=1)
    b = profile_inputs(DEMO_NETWORK, 0, seed=2)
    first = ex.infer(a)
    saved = {n: v.copy() for n, v in first.items()}
    ex.infer(b)
    for n in saved:
        np.testing.assert_array_equal(first[n], saved[n])


def test_close_is_idempotent_and_final(target, plan):
    ex = trt_exec.load(plan, tensorrt=target.trt, backend=target.backend)
    ex.close()
    ex.close()
    assert ex.closed
    with pytest.raises(ClosedError):
        ex.infer(profile_inputs(DEMO_NETWORK, 0))
    with pytest.raises(ClosedError):
        ex.set_profile(0)


def test_load_from_path_and_engine_object(target, plan, tmp_path):
    path = tmp_path / "demo.engine"
    path.write_bytes(bytes(plan))
    with trt_exec.load(str(path), tensorrt=target.trt, backend=target.backend) as ex:
        assert ex.backend == target.backend
    runtime = target.trt.Runtime(target.trt.Logger(target.trt.Logger.WARNING))
    engine = runtime.deserialize_cuda_engine(bytes(plan))
    with trt_exec.load(engine, tensorrt=target.trt, backend=target.backend) as ex:
        arrays = profile_inputs(DEMO_NETWORK, 0)
        np.testing.assert_allclose(ex.infer(arrays)["sum"], reference(DEMO_NETWORK, arrays)["sum"])


def test_expected_io_checked(target, plan):
    ins = [n for n, _, _ in DEMO_NETWORK.inputs]
    outs = list(DEMO_NETWORK.outputs)
    with trt_exec.load(
        plan,
        tensorrt=target.trt,
        backend=target.backend,
        expected_inputs=ins,
        expected_outputs=outs,
    ):
        pass
    with pytest.raises(BindingError, match="does not match"):
        trt_exec.load(
            plan,
            tensorrt=target.trt,
            backend=target.backend,
            expected_inputs=ins[:1],
            expected_outputs=outs,
        )


def test_bad_engine_bytes(target, plan):
    with pytest.raises(EngineLoadError) as info:
        trt_exec.load(b"\x00" * 64, tensorrt=target.trt, backend=target.backend)
    assert info.value.tensorrt_log, "TensorRT's logged reason must be attached"
    with pytest.raises(EngineLoadError, match="empty"):
        trt_exec.load(b"", tensorrt=target.trt, backend=target.backend)


def test_raw_execute_with_caller_buffers(ex, target):
    if not target.host_memory:
        pytest.skip("raw host pointers only stand in for device memory on the simulator's CPU mode")
    arrays = profile_inputs(DEMO_NETWORK, 1, 0)
    out_shapes = ex.prepare({n: a.shape for n, a in arrays.items()})
    outs = {n: np.empty(s, dtype=ex.outputs[n].dtype) for n, s in out_shapes.items()}
    addresses = {n: a.ctypes.data for n, a in {**arrays, **outs}.items()}
    ex.execute(addresses, 0)
    want = reference(DEMO_NETWORK, arrays)
    for n in want:
        np.testing.assert_allclose(outs[n], want[n])
    with pytest.raises(BindingError, match="missing"):
        ex.execute({n: addresses[n] for n in arrays}, 0)


def test_injected_execute_failure_is_typed_and_recoverable(ex, target):
    if target.real:
        pytest.skip("failure injection is a simulator feature")
    method = "execute_async_v2" if target.backend == "v2" else "execute_async_v3"
    target.trt._sim.inject_failure(method, times=1, message="injected failure")
    arrays = profile_inputs(DEMO_NETWORK, 0)
    with pytest.raises(ExecutionError) as info:
        ex.infer(arrays)
    assert any("injected failure" in line for line in info.value.tensorrt_log)
    np.testing.assert_allclose(ex.infer(arrays)["sum"], reference(DEMO_NETWORK, arrays)["sum"])
