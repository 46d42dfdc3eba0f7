"""Hypothesis strategies for tiny TensorRT networks, shapes and input data.

This is the only module of ``trt_exec.testing`` that imports hypothesis.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

try:
    from hypothesis import strategies as st
except ModuleNotFoundError as exc:
    if exc.name != "hypothesis":
        raise
    raise ModuleNotFoundError(
        "trt_exec.testing.strategies needs Hypothesis, which is not installed; install it with "
        "`pip install 'trt-exec[test]'` (or `pip install hypothesis`)",
        name="hypothesis",
    ) from None

from .network import InputSpec, NetworkSpec, OpSpec, Shape

__all__ = ["networks", "shapes_in_profile", "shapes_outside_profiles", "input_arrays"]

_FLOATS = ("float32", "float16")
_NUMERIC_EW = ("SUM", "PROD", "SUB", "MAX", "MIN")
_BOOL_EW = ("AND", "OR", "XOR")
_COMPARE = ("GREATER", "LESS", "EQUAL")


def _unary_ops(dtype: str, on_input: bool) -> tuple[str, ...]:
    if dtype == "bool":
        return ("NOT",)
    if dtype in _FLOATS and on_input:
        return ("ABS", "NEG", "EXP")  # EXP only of inputs, so float16 never overflows
    return ("ABS", "NEG")


@st.composite
def networks(
    draw: Any,
    min_inputs: int = 1,
    max_inputs: int = 6,
    min_outputs: int = 1,
    max_outputs: int = 6,
    max_profiles: int = 4,
    dtypes: Sequence[Any] = (np.float32, np.float16, np.int32, np.bool_),
    allow_data_dependent: bool = False,
    shape_tensors: bool = False,
    fixed_shapes: bool = False,
) -> NetworkSpec:
    """Random valid :class:`NetworkSpec` s.

    All inputs share one rank and one template of dims; each dim is static or dynamic, and an
    input may hold a static 1 where the template has another size (broadcast). Every input feeds
    at least one op, and every op's output is a network output (no dead layers). Ops fit each
    dtype (bool: NOT/AND/OR/XOR; numbers: ABS/NEG/SUM/PROD/SUB/MAX/MIN/comparisons; floats also
    EXP of an input). With ``allow_data_dependent``, some outputs are ``non_zero`` of an input;
    don't build those for TensorRT-RTX 1.7.1, whose builder refuses NonZero (the real one and the
    simulated one alike).

    With ``fixed_shapes``, every input dim is static (no -1): the network has no profile unless
    it has shape tensors, and trt_exec makes no shape call. With ``shape_tensors``, one or two
    more outputs (beyond ``max_outputs``) are a ``reshape`` of an input by an int32 shape-tensor
    input (values: the new dims, their product the element count) or a ``slice`` of an input
    whose size is a shape-tensor input; each profile bounds their values (reshape: 1 to the
    input's largest element count per dim; slice: a drawn min up to the input's min dim, max the
    input's max dim). :func:`shapes_in_profile` and :func:`input_arrays` draw valid values. The
    defaults draw exactly the networks they drew before these options existed.
    """
    if not 1 <= min_inputs <= max_inputs or not 1 <= min_outputs <= max_outputs:
        raise ValueError(
            f"need 1 <= {min_inputs=} <= {max_inputs=} and 1 <= {min_outputs=} <= {max_outputs=}"
        )
    if min_inputs > 2 * max_outputs:
        raise ValueError(f"{min_inputs=} inputs cannot all be used by {max_outputs=} ops")
    names_dt = [np.dtype(d).name for d in dtypes]
    n_in = draw(st.integers(min_inputs, min(max_inputs, 2 * max_outputs)))
    n_out = draw(st.integers(max(min_outputs, math.ceil(n_in / 2)), max_outputs))
    rank = draw(st.integers(1, 3))
    template = [
        draw(st.sampled_from((1, 2, 3) if fixed_shapes else (-1, 1, 2, 3))) for _ in range(rank)
    ]
    n_prof = draw(st.integers(1, max_profiles))
    bounds = []
    for _ in range(n_prof):
        per_dim = []
        for d in template:
            if d == -1:
                lo = draw(st.integers(1, 3))
                opt = draw(st.integers(lo, lo + 2))
                hi = draw(st.integers(opt, opt + 3))
                per_dim.append((lo, opt, hi))
            else:
                per_dim.append((d, d, d))
        bounds.append(per_dim)
    in_shapes = []
    for _ in range(n_in):
        in_shapes.append(tuple(1 if draw(st.integers(0, 4)) == 0 else d for d in template))

    in_names = [f"in{i}" for i in range(n_in)]
    dtype_of: dict[str, str] = {}
    reusable: list[str] = []  # tensors that later ops may consume
    uncovered = list(in_names)
    ops: list[OpSpec] = []
    for j in range(n_out):
        out = f"out{j}"
        left_after = n_out - j - 1
        first = uncovered.pop(0) if uncovered else draw(st.sampled_from(in_names + reusable))
        if first not in dtype_of:
            dtype_of[first] = draw(st.sampled_from(names_dt))
        dt = dtype_of[first]
        must_pair = len(uncovered) > 2 * left_after
        second: str | None
        if must_pair:
            second = uncovered.pop(0)
            dtype_of[second] = dt
        else:
            same = [t for t in in_names + reusable if dtype_of.get(t) == dt and t != first]
            second = draw(st.sampled_from(same)) if same and draw(st.booleans()) else None
        if (
            second is None
            and allow_data_dependent
            and first in in_names
            and draw(st.integers(0, 3)) == 0
        ):
            ops.append(OpSpec("non_zero", (first,), out))
            continue
        if second is None:
            kind = draw(st.sampled_from(("identity", "unary", "unary")))
            if kind == "identity":
                ops.append(OpSpec("identity", (first,), out))
            else:
                op = draw(st.sampled_from(_unary_ops(dt, first in in_names)))
                ops.append(OpSpec("unary", (first,), out, op))
                if op == "EXP":
                    dtype_of[out] = dt
                    continue
            dtype_of[out] = dt
        else:
            if dt == "bool":
                op = draw(st.sampled_from(_BOOL_EW))
            else:
                op = draw(st.sampled_from(_NUMERIC_EW + _COMPARE))
            ops.append(OpSpec("elementwise", (first, second), out, op))
            dtype_of[out] = "bool" if op in _COMPARE else dt
        reusable.append(out)
    inputs = tuple(
        InputSpec(n, dtype_of.get(n, names_dt[0]), s) for n, s in zip(in_names, in_shapes)
    )
    profiles = tuple(
        tuple(
            tuple(tuple(b[sel] if d == -1 else d for d, b in zip(s, bounds[k])) for sel in range(3))
            for s in in_shapes
        )
        for k in range(n_prof)
    )
    if shape_tensors:
        extra = [
            draw(_shape_tensor_op(j, n_out, in_names, profiles))
            for j in range(draw(st.integers(1, 2)))
        ]
        ops += [op for op, _, _ in extra]
        inputs += tuple(inp for _, inp, _ in extra)
        profiles = tuple(p + tuple(b[k] for _, _, b in extra) for k, p in enumerate(profiles))
    elif fixed_shapes:
        profiles = ()
    return NetworkSpec(inputs, tuple(ops), tuple(o.output for o in ops), profiles)


@st.composite
def _shape_tensor_op(
    draw: Any, j: int, n_out: int, in_names: list[str], profiles: tuple[Any, ...]
) -> tuple[OpSpec, InputSpec, list[tuple[Shape, Shape, Shape]]]:
    """A reshape or slice of one of ``in_names`` by a new shape-tensor input ``s{j}``, with its
    (min, opt, max) values per profile, derived from the data input's bounds in that profile."""
    idx = draw(st.integers(0, len(in_names) - 1))
    kind = draw(st.sampled_from(("reshape", "slice")))
    rank = len(profiles[0][idx][0])
    length = draw(st.integers(1, 3)) if kind == "reshape" else rank
    bounds: list[tuple[Shape, Shape, Shape]] = []
    for p in profiles:
        mn, opt, mx = p[idx]
        if kind == "reshape":
            lo: Shape = (1,) * length
            hi: Shape = (math.prod(mx),) * length
            mid: Shape = (math.prod(opt),) + (1,) * (length - 1)
        else:
            lo = tuple(draw(st.integers(0, m)) for m in mn)
            hi = tuple(mx)
            mid = tuple(draw(st.integers(a, b)) for a, b in zip(lo, hi))
        bounds.append((lo, mid, hi))
    name = f"s{j}"
    op = OpSpec(kind, (in_names[idx], name), f"out{n_out + j}")
    return op, InputSpec(name, "int32", (length,)), bounds


def _shared_bounds(spec: NetworkSpec, k: int) -> list[tuple[int, int] | None]:
    """Per dim index: the [lo, hi] every dynamic input allows in profile k (None if none)."""
    rank = len(spec.inputs[0].shape)
    out: list[tuple[int, int] | None] = []
    for i in range(rank):
        lo, hi, any_dyn = 1, 1 << 30, False
        for inp, (mn, _, mx) in zip(spec.inputs, spec.profiles[k]):
            if len(inp.shape) == rank and inp.shape[i] == -1:
                any_dyn = True
                lo, hi = max(lo, mn[i]), min(hi, mx[i])
        out.append((lo, hi) if any_dyn and lo <= hi else None)
    return out


@st.composite
def shapes_in_profile(draw: Any, spec: NetworkSpec, profile: int) -> dict[str, Shape]:
    """Concrete input shapes inside profile ``profile``; a dynamic dim index takes one value
    shared by all inputs (so elementwise ops broadcast). A shape tensor gets its static shape
    (:func:`input_arrays` draws its values). A network without profiles (fixed shapes) takes
    ``profile=0`` and gets its static shapes."""
    if not spec.profiles:
        if profile != 0:
            raise ValueError(f"{profile=} is out of range [0, 0] for a network without profiles")
        return {inp.name: inp.shape for inp in spec.inputs}
    shared = _shared_bounds(spec, profile)
    values: list[int | None] = [draw(st.integers(*b)) if b else None for b in shared]
    out = {}
    for inp, (mn, _, mx) in zip(spec.inputs, spec.profiles[profile]):
        dims = []
        for i, d in enumerate(inp.shape):
            if d != -1:
                dims.append(d)
            elif i < len(values) and (v := values[i]) is not None:
                dims.append(v)
            else:
                dims.append(draw(st.integers(mn[i], mx[i])))
        out[inp.name] = tuple(dims)
    return out


@st.composite
def shapes_outside_profiles(draw: Any, spec: NetworkSpec) -> tuple[str, Shape]:
    """``(input_name, shape)`` with a shape no profile accepts for that input: a dynamic dim
    beyond every profile's max (or below every min), or a static dim changed. Shape tensors are
    never chosen."""
    shaped = [i for i, inp in enumerate(spec.inputs) if inp.name not in spec.shape_tensors]
    idx = shaped[draw(st.integers(0, len(shaped) - 1))]  # the draw of before shape tensors
    inp = spec.inputs[idx]
    base = list(spec.profiles[0][idx][1] if spec.profiles else inp.shape)  # opt of profile 0
    dyn = [i for i, d in enumerate(inp.shape) if d == -1]
    if dyn:
        i = draw(st.sampled_from(dyn))
        hi = max(p[idx][2][i] for p in spec.profiles)
        lo = min(p[idx][0][i] for p in spec.profiles)
        choices = [hi + draw(st.integers(1, 3))]
        if lo > 1:
            choices.append(draw(st.integers(1, lo - 1)))
        base[i] = draw(st.sampled_from(choices))
    else:
        if not inp.shape:
            raise ValueError(f"input {inp.name} is a scalar; no shape lies outside its profile")
        i = draw(st.integers(0, len(inp.shape) - 1))
        base[i] = inp.shape[i] + draw(st.integers(1, 3))
    return inp.name, tuple(base)


def _array(rng: np.random.Generator, dtype: str, shape: Shape) -> np.ndarray:
    if dtype == "bool":
        return rng.integers(0, 2, size=shape).astype(np.bool_)
    if dtype in _FLOATS:
        # Multiples of 0.5 in [-4, 4]: exact in float16; EXP(4) and products stay finite.
        return (rng.integers(-8, 9, size=shape) / 2).astype(dtype)
    return rng.integers(-10, 11, size=shape).astype(dtype)


def _profile_of(spec: NetworkSpec, shapes: dict[str, Shape]) -> int:
    """The first profile whose shape bounds hold every non-shape-tensor input's shape."""
    for k, p in enumerate(spec.profiles):
        if all(
            all(a <= d <= b for a, d, b in zip(mn, shapes[inp.name], mx))
            for inp, (mn, _, mx) in zip(spec.inputs, p)
            if inp.name not in spec.shape_tensors
        ):
            return k
    raise ValueError(f"no profile of the network holds the shapes {shapes!r}")


def _shape_values(
    rng: np.random.Generator, kind: str, dims: Shape, lo: Shape, hi: Shape
) -> np.ndarray:
    """Values for a shape tensor inside [lo, hi]: a reshape's dims (product: the element count of
    ``dims``) or a slice's size (at most ``dims``)."""
    if kind == "slice":
        tops = [min(h, d) for h, d in zip(hi, dims)]
        if any(a > t for a, t in zip(lo, tops)):
            raise ValueError(f"no slice size of {dims=} lies inside the value bounds {[lo, hi]}")
        return np.array([rng.integers(a, t + 1) for a, t in zip(lo, tops)], np.int32)
    count = math.prod(dims)
    found: list[Shape] = [()]
    for a, b in zip(lo, hi):
        found = [f + (v,) for f in found for v in range(max(a, 1), min(b, count) + 1)]
        found = [f for f in found if count % math.prod(f) == 0]
    found = [f for f in found if math.prod(f) == count]
    if not found:
        raise ValueError(f"no reshape of {dims=} lies inside the value bounds {[lo, hi]}")
    return np.array(found[rng.integers(len(found))], np.int32)


def input_arrays(
    spec: NetworkSpec, shapes: dict[str, Shape], profile: int | None = None
) -> st.SearchStrategy[dict[str, np.ndarray]]:
    """C-contiguous input arrays of the given shapes with small exact values (see ``_array``).

    A shape tensor gets int32 values inside the value bounds of ``profile`` (default: the first
    profile that holds ``shapes``) that fit its data input's shape in ``shapes``: dims whose
    product is its element count (reshape), or a size no larger than it (slice).
    """
    shape_ops = {
        op.operands[1]: op for op in spec.ops if op.operands[1:] and op.kind in ("reshape", "slice")
    }
    k = 0
    if shape_ops:
        k = _profile_of(spec, shapes) if profile is None else profile

    def make(seed: int) -> dict[str, np.ndarray]:
        rng = np.random.default_rng(seed)
        out = {}
        for i in spec.inputs:
            if i.name in shape_ops:
                op = shape_ops[i.name]
                lo, _, hi = spec.profiles[k][i.name]
                out[i.name] = _shape_values(rng, op.kind, shapes[op.operands[0]], lo, hi)
            else:
                out[i.name] = np.ascontiguousarray(_array(rng, i.dtype, shapes[i.name]))
        return out

    return st.integers(0, 2**32 - 1).map(make)
