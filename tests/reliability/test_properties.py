"""Hypothesis: mutated engine bytes always give EngineLoadError (never another exception, never a
crash); random shapes and dtypes always give the error an independent oracle predicts, naming the
tensor, or exactly numpy's result; one executor serves every example, so no example may leave
state behind that spoils the next."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import trt_exec
from trt_exec import errors as E
from trt_exec.testing import InputSpec, NetworkSpec, OpSpec, build_engine

from .helpers import (
    PROFILE_BATCHES,
    TARGET_IDS,
    TARGETS,
    assert_correct,
    assert_log_capture_closed,
    open_executor,
    plan,
    sim,
)

_OTHER = NetworkSpec(
    inputs=(InputSpec("a", "int32", (3, -1)),),
    ops=(OpSpec("unary", ("a",), "neg", "NEG"),),
    outputs=("neg",),
    profiles=((((3, 1), (3, 2), (3, 8)),),),
)


def _engines(release: str) -> list[bytes]:
    return [plan(release), build_engine(sim(release), _OTHER)]


@st.composite
def mutated(draw: Any, release: str) -> bytes:
    engines = _engines(release)
    base = draw(st.sampled_from(engines))
    n = len(base)
    kind = draw(
        st.sampled_from(
            [
                "truncate",
                "drop_head",
                "flip",
                "overwrite",
                "insert",
                "delete",
                "random",
                "splice",
                "repeat",
            ]
        )
    )
    if kind == "truncate":
        return base[: draw(st.integers(0, n - 1))]
    if kind == "drop_head":
        return base[draw(st.integers(1, n)) :]
    if kind == "flip":
        data = bytearray(base)
        for bit in draw(st.lists(st.integers(0, 8 * n - 1), min_size=1, max_size=16, unique=True)):
            data[bit // 8] ^= 1 << (bit % 8)
        return bytes(data)
    if kind == "overwrite":
        at = draw(st.integers(0, n - 1))
        patch = draw(st.binary(min_size=1, max_size=32))
        return base[:at] + patch + base[at + len(patch) :]
    if kind == "insert":
        at = draw(st.integers(0, n))
        return base[:at] + draw(st.binary(min_size=1, max_size=32)) + base[at:]
    if kind == "delete":
        at = draw(st.integers(0, n - 1))
        return base[:at] + base[at + draw(st.integers(1, 16)) :]
    if kind == "random":
        return draw(st.binary(min_size=0, max_size=2048))
    if kind == "splice":
        other = draw(st.sampled_from(engines))
        return base[: draw(st.integers(0, n))] + other[draw(st.integers(0, len(other))) :]
    return base * draw(st.integers(2, 3))


def _check_mutant(release: str, data: bytes) -> None:
    assume(data not in _engines(release))
    with pytest.raises(E.EngineLoadError) as info:
        trt_exec.load(data, tensorrt=sim(release))
    err = info.value
    assert type(err) is E.EngineLoadError
    if data:
        assert f"({len(data)} bytes)" in err.message and release in err.message
        assert err.tensorrt_log, "TensorRT's reason is not attached"
    else:
        assert "empty" in err.message
    assert_log_capture_closed()


@settings(max_examples=700, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=mutated("10.16.1"))
def test_mutated_engine_bytes_10x(data: bytes) -> None:
    _check_mutant("10.16.1", data)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=mutated("8.6.1"))
def test_mutated_engine_bytes_8x(data: bytes) -> None:
    _check_mutant("8.6.1", data)


def test_mutants_are_refused_and_the_original_loads() -> None:
    # The property is not vacuous: the unmutated engines load and run.
    for release in ("8.6.1", "10.16.1"):
        for blob in _engines(release):
            trt_exec.load(blob, tensorrt=sim(release)).close()


# --- random shapes and dtypes against an oracle --------------------------------------------
_DTYPES = (
    "float32",
    "float32",
    "float32",
    "float64",
    "float16",
    "int32",
    "int64",
    "bool",
    "uint8",
    ">f4",
)

dims = st.one_of(st.integers(-3, 20), st.sampled_from([4, 4, 1, 2, 8, 16, 17, 0]))
shapes = st.lists(dims, min_size=0, max_size=4).map(tuple)
good_shapes = st.tuples(st.integers(1, 16), st.just(4))


def _oracle(specs: dict[str, tuple[str, tuple[int, ...]]]) -> tuple[type | None, str]:
    """(error class or None, what the message must contain), independent of trt_exec."""
    for name in ("x", "y"):
        dtype, shape = specs[name]
        if dtype != "float32":
            return E.DTypeError, f"'{name}'"
        if len(shape) != 2 or any(d < 0 for d in shape) or shape[1] != 4:
            return E.ShapeError, f"'{name}'"
    bx, by = specs["x"][1][0], specs["y"][1][0]
    fits = [{k for k, (lo, hi) in enumerate(PROFILE_BATCHES) if lo <= b <= hi} for b in (bx, by)]
    if not fits[0]:
        return E.ShapeError, "'x'"
    if not fits[1]:
        return E.ShapeError, "'y'"
    if not fits[0] & fits[1]:
        return E.ShapeError, "no single optimization profile"
    if bx != by and 1 not in (bx, by):
        return E.ShapeError, f"x=({bx}, 4), y=({by}, 4)"
    return None, ""


_EXECUTORS: dict[tuple[str, str], Any] = {}


def _shared(release: str, backend: str) -> Any:
    ex = _EXECUTORS.get((release, backend))
    if ex is None or ex.closed:
        ex = _EXECUTORS[(release, backend)] = open_executor(release, backend)
    return ex


@pytest.fixture(scope="module", autouse=True)
def _close_shared() -> Any:
    yield
    for ex in _EXECUTORS.values():
        ex.close()


@pytest.mark.parametrize("target", TARGETS, ids=TARGET_IDS)
@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    dx=st.sampled_from(_DTYPES),
    dy=st.sampled_from(_DTYPES),
    sx=st.one_of(shapes, good_shapes),
    sy=st.one_of(shapes, good_shapes),
    same=st.booleans(),
    seed=st.integers(0, 2**32 - 1),
)
def test_random_shapes_and_dtypes(
    target: Any, dx: str, dy: str, sx: Any, sy: Any, same: bool, seed: int
) -> None:
    if same:
        sy = sx
    ex = _shared(*target)
    rng = np.random.default_rng(seed)
    want_error, mention = _oracle({"x": (dx, sx), "y": (dy, sy)})
    if any(d < 0 for d in sx + sy):
        # Arrays cannot have negative dimensions: prepare() takes the shapes directly.
        want_error, mention = _oracle({"x": ("float32", sx), "y": ("float32", sy)})
        with pytest.raises(E.TrtExecError) as info:
            ex.prepare({"x": sx, "y": sy})
        assert type(info.value) is want_error, str(info.value)
        assert mention in info.value.message
    else:
        arrays = {
            name: np.asarray(rng.uniform(-3, 3, size=s) * 3).astype(d)
            for name, d, s in (("x", dx, sx), ("y", dy, sy))
        }
        if want_error is None:
            assert_correct(ex.infer(arrays), arrays)
        else:
            with pytest.raises(E.TrtExecError) as info:
                ex.infer(arrays)
            assert type(info.value) is want_error, str(info.value)
            assert mention in info.value.message
    # Whatever happened, the next valid call is exact.
    k = int(rng.integers(0, 2))
    b = int(rng.integers(*PROFILE_BATCHES[k], endpoint=True))
    good = {n: rng.uniform(-2, 2, size=(b, 4)).astype(np.float32) for n in ("x", "y")}
    assert_correct(ex.infer(good), good)
    assert_log_capture_closed()


@settings(max_examples=200, deadline=None)
@given(
    sx=st.lists(st.one_of(dims, st.just(True), st.floats(-2, 20), st.text(max_size=2)), max_size=3),
    sy=good_shapes,
)
def test_random_prepare_shapes(sx: list, sy: tuple) -> None:
    """prepare() takes any object as a shape: it returns the output shapes or raises ShapeError
    naming the tensor, never a bare TypeError/ValueError."""
    ex = _shared("10.16.1", "v3")
    valid = (
        len(sx) == 2
        and all(type(d) is int for d in sx)
        and sx[1] == 4
        and 1 <= sx[0] <= 16
        and any(lo <= sx[0] <= hi and lo <= sy[0] <= hi for lo, hi in PROFILE_BATCHES)
        and (sx[0] == sy[0] or 1 in (sx[0], sy[0]))
    )
    if valid:
        out = ex.prepare({"x": sx, "y": sy})
        assert out == {"sum": (max(sx[0], sy[0]), 4), "act": (max(sx[0], sy[0]), 4)}
    else:
        with pytest.raises(E.TrtExecError) as info:
            ex.prepare({"x": sx, "y": sy})
        assert type(info.value) is E.ShapeError
        assert "'x'" in info.value.message or "x=" in info.value.message
    good = {n: np.full((3, 4), 2, np.float32) for n in ("x", "y")}
    assert_correct(ex.infer(good), good)
