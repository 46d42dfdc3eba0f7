"""The contract suite for TensorRT's whole IO model, on every backend × simulated release (and
real TensorRT with a GPU where present): shape-tensor inputs, host outputs, fixed-shape engines,
empty tensors, outputs that must not alias, tensor names that look like internal keys."""

from __future__ import annotations

import numpy as np
import pytest

import trt_exec
from trt_exec.errors import ArrayError, ShapeError

from .io_engines import SHAPE_PROFILES, fixed_engine, shape_reference, shape_tensor_engine


@pytest.fixture
def shape_ex(target):
    plan = shape_tensor_engine(target.trt)
    with trt_exec.load(plan, tensorrt=target.trt, backend=target.backend) as ex:
        yield ex


def _x(rows: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).uniform(-2, 2, size=(rows, 6)).astype(np.float32)


def _i32(*v: int) -> np.ndarray:
    return np.array(v, np.int32)


def test_shape_tensor_specs(shape_ex):
    s, x = shape_ex.inputs["s"], shape_ex.inputs["x"]
    assert s.is_shape_tensor and s.location == "host" and s.shape == (2,)
    assert s.dtype == np.dtype(np.int32)
    assert [tuple(b) for b in s.profile_values] == [p["s"] for p in SHAPE_PROFILES]
    assert not x.is_shape_tensor and x.profile_values is None and x.location == "device"
    xs = shape_ex.outputs["xs"]
    assert (
        xs.location == "host" and xs.is_shape_tensor and not shape_ex.outputs["y"].is_shape_tensor
    )


@pytest.mark.parametrize(
    ("rows", "s", "n"), [(2, (3, 4), (1, 6)), (2, (12, 1), (2, 2)), (6, (4, 9), (5, 3))]
)
def test_infer_with_shape_tensor_values(shape_ex, rows, s, n):
    x = _x(rows)
    got = shape_ex.infer({"x": x, "s": _i32(*s), "n": _i32(*n)})
    want = shape_reference(x, s, n)
    assert set(got) == set(want)
    for name in want:
        assert isinstance(got[name], np.ndarray)
        assert got[name].shape == want[name].shape, name
        np.testing.assert_array_equal(got[name], want[name].astype(got[name].dtype))


def test_new_values_give_new_outputs_between_calls(shape_ex):
    """Same shapes, new values: nothing remembered from the previous call may be reused."""
    x = _x(2)
    for s in [(3, 4), (4, 3), (2, 6), (12, 1), (3, 4)]:
        arr = _i32(*s)
        got = shape_ex.infer({"x": x, "s": arr, "n": _i32(1, 1)})
        np.testing.assert_array_equal(got["y"], x.reshape(s))
        arr[:] = (6, 2)  # the caller's array changing after the call changes nothing done
        np.testing.assert_array_equal(got["y"], x.reshape(s))


def test_values_accept_lists_and_other_host_buffers(shape_ex):
    x = _x(2)
    got = shape_ex.infer({"x": x, "s": [6, 2], "n": (np.int64(2), np.int64(3))})
    np.testing.assert_array_equal(got["y"], x.reshape(6, 2))
    np.testing.assert_array_equal(got["z"], x[:2, :3])


def test_profile_chosen_by_values(shape_ex):
    x = _x(2)
    shape_ex.infer({"x": x, "s": _i32(3, 4), "n": _i32(1, 1)})
    assert shape_ex.active_profile == 0
    x6 = _x(6)
    got = shape_ex.infer({"x": x6, "s": _i32(36, 1), "n": _i32(5, 3)})
    assert shape_ex.active_profile == 1
    np.testing.assert_array_equal(got["y"], x6.reshape(36, 1))


def test_value_outside_every_profile_names_tensor_values_and_bounds(shape_ex):
    with pytest.raises(ShapeError) as info:
        shape_ex.infer({"x": _x(2), "s": _i32(99, 1), "n": _i32(1, 1)})
    msg = str(info.value)
    assert "'s'" in msg and "(99, 1)" in msg and "values" in msg
    for k, p in enumerate(SHAPE_PROFILES):
        assert f"profile {k}: min={p['s'][0]}" in msg


def test_value_outside_requested_profile(shape_ex):
    with pytest.raises(ShapeError, match=r"'s'.*\(30, 1\).*outside optimization profile 0"):
        shape_ex.infer({"x": _x(2), "s": _i32(30, 1), "n": _i32(1, 1)}, profile=0)


@pytest.mark.parametrize("bad", [_i32(3), np.array([3.0, 4.0]), [3, "4"], np.array([True, False])])
def test_wrong_values_refused(shape_ex, bad):
    with pytest.raises(ShapeError, match=r"input 's' is a shape tensor"):
        shape_ex.infer({"x": _x(2), "s": bad, "n": _i32(1, 1)})


class _FakeCudaArray:
    __cuda_array_interface__ = {
        "shape": (2,),
        "typestr": "<i4",
        "data": (0x1000, False),
        "version": 3,
    }


def test_device_array_for_shape_tensor_refused(shape_ex):
    with pytest.raises(ArrayError, match=r"'s' is a shape tensor.*host memory.*CUDA array"):
        shape_ex.infer({"x": _x(2), "s": _FakeCudaArray(), "n": _i32(1, 1)})


def test_prepare_takes_values_and_returns_output_shapes(shape_ex):
    shapes = shape_ex.prepare({"x": (2, 6), "s": _i32(4, 3), "n": [2, 5]})
    assert shapes["y"] == (4, 3) and shapes["z"] == (2, 5) and shapes["xs"] == (2,)
    with pytest.raises(ShapeError, match="outside every optimization profile"):
        shape_ex.prepare({"x": (2, 6), "s": [0, 500], "n": [2, 5]})


def test_empty_slice_output(shape_ex):
    """An empty tensor (a zero dimension) runs and comes back with its shape."""
    x = _x(3)
    got = shape_ex.infer({"x": x, "s": _i32(18, 1), "n": _i32(0, 6)})
    assert got["z"].shape == (0, 6)
    np.testing.assert_array_equal(got["xs"], [3, 6])


def test_infer_async_host_output_is_numpy(shape_ex, target):
    if not target.host_memory:
        pytest.skip("device outputs of infer_async are DeviceTensors on a GPU")
    x = _x(2)
    r = shape_ex.infer_async({"x": x, "s": _i32(3, 4), "n": _i32(2, 2)})
    r.synchronize()
    assert isinstance(r.outputs["xs"], np.ndarray)
    np.testing.assert_array_equal(r.outputs["xs"], [2, 6])
    np.testing.assert_array_equal(r.outputs["y"], x.reshape(3, 4))


def test_host_output_in_outputs_refused(shape_ex):
    with pytest.raises(ArrayError, match=r"'xs' lives in host memory"):
        shape_ex.infer(
            {"x": _x(2), "s": _i32(3, 4), "n": _i32(1, 1)},
            outputs={"xs": np.zeros(2, shape_ex.outputs["xs"].dtype)},
        )


# --- fixed-shape engines ----------------------------------------------------------------------
@pytest.fixture
def fixed_ex(target):
    with trt_exec.load(fixed_engine(target.trt), tensorrt=target.trt, backend=target.backend) as ex:
        yield ex


def test_fixed_shape_engine_runs_without_a_shape_call(fixed_ex, target, monkeypatch):
    calls: list[str] = []
    ctx_cls = type(fixed_ex.engine.create_execution_context())
    for meth in ("set_input_shape", "set_binding_shape"):
        original = getattr(ctx_cls, meth, None)
        if original is None:
            continue

        def counting(self, *args, _orig=original, _meth=meth):
            calls.append(_meth)
            return _orig(self, *args)

        monkeypatch.setattr(ctx_cls, meth, counting)
    rng = np.random.default_rng(1)
    x, y = (rng.standard_normal((2, 4)).astype(np.float32) for _ in range(2))
    for _ in range(2):
        got = fixed_ex.infer({"x": x, "y": y})
        np.testing.assert_allclose(got["out"], x + y, rtol=1e-6)
    assert fixed_ex.inputs["x"].profile_values is None
    assert calls == []


def test_output_named_like_an_internal_key(fixed_ex):
    x = np.arange(8, dtype=np.float32).reshape(2, 4)
    got = fixed_ex.infer({"x": x, "y": np.ones((2, 4), np.float32)})
    np.testing.assert_array_equal(got["x#in"], x)
    np.testing.assert_array_equal(got["out"], x + 1)


# --- outputs that must not alias ---------------------------------------------------------------
def _xy():
    rng = np.random.default_rng(2)
    return {"x": rng.standard_normal((2, 4)).astype(np.float32), "y": np.ones((2, 4), np.float32)}


def test_two_outputs_in_one_array_refused(fixed_ex):
    buf = np.zeros((2, 4), np.float32)
    with pytest.raises(ArrayError, match=r"output 'out' .*same memory as output 'x#in'"):
        fixed_ex.infer(_xy(), outputs={"out": buf, "x#in": buf})


def test_overlapping_outputs_refused(fixed_ex):
    big = np.zeros(12, np.float32)
    a, b = big[:8].reshape(2, 4), big[4:].reshape(2, 4)
    with pytest.raises(ArrayError, match=r"'out'.*overlapping output 'x#in'"):
        fixed_ex.infer(_xy(), outputs={"out": a, "x#in": b})


def test_output_that_is_an_input_refused(fixed_ex):
    arrays = _xy()
    with pytest.raises(ArrayError, match=r"output 'out' .*input 'x'.*in-place"):
        fixed_ex.infer(arrays, outputs={"out": arrays["x"]})


def test_disjoint_parts_of_one_buffer_are_fine(fixed_ex):
    big = np.zeros(16, np.float32)
    a, b = big[:8].reshape(2, 4), big[8:].reshape(2, 4)
    arrays = _xy()
    got = fixed_ex.infer(arrays, outputs={"out": a, "x#in": b})
    assert got["out"] is a and got["x#in"] is b
    np.testing.assert_allclose(big[:8].reshape(2, 4), arrays["x"] + 1, rtol=1e-6)
    np.testing.assert_array_equal(big[8:].reshape(2, 4), arrays["x"])
