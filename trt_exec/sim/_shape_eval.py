"""Shape inference and evaluation of the simulated shape layers: ``shape``, ``reshape`` (an
IShuffleLayer whose reshape dimensions come from a shape tensor or ``reshape_dims``) and
``slice`` (an ISliceLayer whose start, size or stride may come from shape tensors).

Kept apart from the layer classes (``_shape_layers``) so the plan evaluator needs no network
code. Semantics, per the TensorRT API docs of IShuffleLayer, ISliceLayer and IShapeLayer
(8.x to 10.x, the same in each):

- IShapeLayer: a 1-D output holding the input's dimensions.
- IShuffleLayer reshape: with ``zero_is_placeholder`` (the default) a 0 copies the input's
  dimension at that index; one -1 is inferred from the volume.
- ISliceLayer, SampleMode.STRICT_BOUNDS (the default): output dimension i is ``size[i]``, element
  ``j`` reads ``start[i] + j * stride[i]``, which must lie inside the input.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from ._plan import Layer

__all__ = ["SHAPE_KINDS", "ShapeMismatch", "shape_layer_out_shape", "run_shape_layer"]

SHAPE_KINDS = frozenset({"shape", "reshape", "slice"})

# slice params: (start, size, stride, slots): ``slots`` names which of input slots 1..3
# (start, size, stride) come from tensors, in the order of the layer's inputs after the data.


class ShapeMismatch(Exception):
    """Raised when runtime input shapes (or shape-tensor values) do not fit the network."""


class ShapeValueError(Exception):
    """Shape-tensor values the layer cannot use (the runtime logs it as a shape error)."""


def _reshape_dims(
    data: tuple[int, ...], dims: tuple[int, ...], zero_is_placeholder: bool
) -> tuple[int, ...]:
    out = []
    for i, d in enumerate(dims):
        if d == 0 and zero_is_placeholder:
            if i >= len(data):
                raise ShapeValueError(f"reshape placeholder 0 at {i} beyond input rank {len(data)}")
            d = data[i]
        out.append(int(d))
    if out.count(-1) > 1:
        raise ShapeValueError(f"reshape dimensions {tuple(dims)} have more than one -1")
    volume = math.prod(data)
    if -1 in out:
        known = math.prod(d for d in out if d != -1)
        if known == 0 or volume % known:
            raise ShapeValueError(f"cannot infer -1 in {tuple(dims)} for input {data}")
        out[out.index(-1)] = volume // known
    if any(d < 0 for d in out) or math.prod(out) != volume:
        raise ShapeValueError(
            f"reshape of {data} (volume {volume}) to {tuple(out)} changes the volume"
        )
    return tuple(out)


def _slice_args(
    layer: Layer, values: list[tuple[int, ...] | None]
) -> tuple[tuple[int, ...] | None, ...]:
    start, size, stride, slots = layer.params
    got: list[tuple[int, ...] | None] = [tuple(start), tuple(size), tuple(stride)]
    for pos, slot in enumerate(slots, start=1):
        got[slot - 1] = values[pos]
    return tuple(got)


def shape_layer_out_shape(
    layer: Layer, shapes: list[tuple[int, ...]], values: list[tuple[int, ...] | None]
) -> tuple[int, ...]:
    """The layer's output shape; -1 where a needed shape-tensor value is unknown."""
    data = shapes[0]
    try:
        if layer.kind == "shape":
            return (len(data),)
        if layer.kind == "reshape":
            dims_given, zero_is_placeholder = layer.params
            dims = values[1] if len(layer.inputs) > 1 else tuple(dims_given)
            if dims is None:
                return (-1,) * shapes[1][0]
            if any(d < 0 for d in data):
                return tuple(-1 if d in (0, -1) else d for d in dims)
            return _reshape_dims(data, tuple(dims), bool(zero_is_placeholder))
        start, size, stride = _slice_args(layer, values)
        if size is None:
            return (-1,) * len(data)
        if start is not None and stride is not None and all(d >= 0 for d in data):
            for i, (lo, n, step, dim) in enumerate(zip(start, size, stride, data)):
                if n and not (0 <= lo < dim and 0 <= lo + (n - 1) * step < dim):
                    raise ShapeValueError(
                        f"slice out of bounds on axis {i}: start {lo}, size {n}, stride {step}, "
                        f"input dimension {dim}"
                    )
        return tuple(size)
    except ShapeValueError as exc:
        raise ShapeMismatch(f"{layer.name}: {exc}") from None


def run_shape_layer(layer: Layer, args: list[np.ndarray], np_dtype: np.dtype) -> np.ndarray:
    """Evaluate one shape layer on host arrays (shape tensors are host arrays here)."""
    data = args[0]
    values: list[tuple[int, ...] | None] = [None] + [
        tuple(int(v) for v in a.reshape(-1)) for a in args[1:]
    ]
    shape = shape_layer_out_shape(layer, [a.shape for a in args], values)
    if layer.kind == "shape":
        return np.array(data.shape, dtype=np_dtype)
    if layer.kind == "reshape":
        return np.ascontiguousarray(data.reshape(shape))
    start, _size, stride = _slice_args(layer, values)
    assert start is not None and stride is not None
    index = tuple(
        slice(lo, lo + n * step, step) if n else slice(0, 0)
        for lo, n, step in zip(start, shape, stride)
    )
    return np.ascontiguousarray(data[index])
