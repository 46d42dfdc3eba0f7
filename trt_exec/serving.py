"""What a serving layer needs that does not need a server: dynamic batching of requests and the
JSON encoding of arrays. :mod:`trt_exec.serve` (Ray Serve) is built on it; it is pure numpy.

Dynamic batching: requests whose inputs share every dimension but the first are concatenated
along it, run once and split back. A request joins a batch only when the engine is
batch-polymorphic (every input and output has a dynamic first dimension) and the request gives
every input as an array of the engine's dtype and rank, all with the same first dimension (its
"rows", at least 1). Everything else runs alone, and gets exactly the error it would get alone.

JSON encoding of one array (requests ``{"inputs": {name: ARRAY}}``, responses
``{"outputs": {name: ARRAY}}``)::

    {"dtype": "float32", "shape": [2, 4], "data": [[...], [...]]}

``data`` is nested lists (row-major; a flat list is accepted too when ``shape`` is given).
Requests may also give a bare nested list, whose dtype is then the engine's. ``dtype`` is a numpy
dtype name. Non-finite floats are written as ``NaN``, ``Infinity`` and ``-Infinity`` (Python's
``json``; most JSON parsers accept them).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from .errors import ArrayError, BindingError, DTypeError, ShapeError
from .spec import TensorSpec

__all__ = [
    "batch_rows",
    "batchable",
    "concat",
    "decode_array",
    "decode_inputs",
    "encode_array",
    "encode_outputs",
    "max_rows",
    "plan_batches",
    "split",
]

Arrays = Mapping[str, np.ndarray]


def batchable(inputs: Mapping[str, TensorSpec], outputs: Mapping[str, TensorSpec]) -> bool:
    """Whether the engine can run concatenated requests: every input and output has a dynamic
    first dimension, and no input is a shape tensor (whose values, not rows, are the shape)."""
    return all(
        spec.shape and spec.shape[0] == -1 and not spec.is_shape_tensor
        for spec in (*inputs.values(), *outputs.values())
    )


def max_rows(inputs: Mapping[str, TensorSpec]) -> int:
    """The most rows one call can take: the largest first-dimension maximum of a profile (the
    smallest over that profile's inputs)."""
    best = 0
    specs = list(inputs.values())
    for k in range(len(specs[0].profile_shapes) if specs else 0):
        best = max(best, min(s.profile_shapes[k].max[0] for s in specs))
    return best


def batch_rows(request: Any, inputs: Mapping[str, TensorSpec]) -> int | None:
    """The request's rows when it may join a batch, else None (it runs alone)."""
    if not isinstance(request, Mapping) or request.keys() != inputs.keys():
        return None
    rows = None
    for name, spec in inputs.items():
        arr = request[name]
        if (
            type(arr) is not np.ndarray
            or arr.dtype != spec.dtype
            or arr.ndim != len(spec.shape)
            or arr.ndim == 0
        ):
            return None
        if rows is None:
            rows = arr.shape[0]
        elif arr.shape[0] != rows:
            return None
    return rows if rows else None


def _key(request: Arrays) -> tuple[Any, ...]:
    return tuple((name, arr.shape[1:]) for name, arr in sorted(request.items()))


def plan_batches(
    rows: Sequence[int | None], requests: Sequence[Arrays], limit: int
) -> list[list[int]]:
    """Groups of request indices, in arrival order: requests with the same trailing dimensions
    fill a group up to ``limit`` rows; a request with ``rows[i] is None`` or over ``limit`` is a
    group of its own."""
    groups: list[list[int]] = []
    open_: dict[tuple[Any, ...], tuple[list[int], int]] = {}
    for i, n in enumerate(rows):
        if n is None or n > limit:
            groups.append([i])
            continue
        key = _key(requests[i])
        entry = open_.get(key)
        if entry is not None and entry[1] + n <= limit:
            entry[0].append(i)
            open_[key] = (entry[0], entry[1] + n)
            continue
        group = [i]
        groups.append(group)
        open_[key] = (group, n)
    return groups


def concat(requests: Sequence[Arrays]) -> dict[str, np.ndarray]:
    """The requests' inputs concatenated along the first dimension."""
    return {name: np.concatenate([r[name] for r in requests]) for name in requests[0]}


def split(outputs: Arrays, rows: Sequence[int]) -> list[dict[str, np.ndarray]]:
    """A batched call's outputs split back per request. ShapeError when an output's first
    dimension is not the total rows (the engine does not map rows to rows)."""
    total = sum(rows)
    for name, arr in outputs.items():
        if arr.ndim == 0 or arr.shape[0] != total:
            raise ShapeError(
                f"output {name!r}: first dimension {arr.shape[:1]!r} is not the batch's {total} "
                "rows; this engine cannot be batched along the first dimension"
            )
    cuts = np.cumsum(rows)[:-1]
    parts = {name: np.split(arr, cuts) for name, arr in outputs.items()}
    # Copies: a view would keep the whole batch's output alive per request.
    return [{name: parts[name][j].copy() for name in outputs} for j in range(len(rows))]


def encode_array(array: np.ndarray) -> dict[str, Any]:
    """One array as JSON-ready ``{"dtype", "shape", "data"}``."""
    return {"dtype": array.dtype.name, "shape": list(array.shape), "data": array.tolist()}


def encode_outputs(outputs: Arrays) -> dict[str, Any]:
    return {"outputs": {name: encode_array(np.asarray(a)) for name, a in outputs.items()}}


def decode_array(name: str, value: Any, spec: TensorSpec | None) -> np.ndarray:
    """One input from its JSON form (see the module docstring); ArrayError/DTypeError/ShapeError
    naming the input and what is allowed."""
    dtype: np.dtype[Any] | None
    if isinstance(value, dict):
        if "data" not in value:
            raise ArrayError(
                f"input {name!r}: {sorted(value)!r} has no 'data'; send "
                '{"dtype": ..., "shape": [...], "data": [...]} or a nested list'
            )
        try:
            dtype = np.dtype(value.get("dtype") or (spec.dtype if spec else "float32"))
        except TypeError:
            raise DTypeError(
                f"input {name!r}: dtype {value.get('dtype')!r} is not a numpy dtype name; send "
                "e.g. 'float32'" + (f" (the engine's is {spec.dtype.name!r})" if spec else "")
            ) from None
        data, shape = value["data"], value.get("shape")
    else:
        dtype, data, shape = (spec.dtype if spec else None), value, None
    try:
        arr = np.asarray(data, dtype=dtype)
    except (TypeError, ValueError) as exc:
        raise ArrayError(
            f"input {name!r}: data is not a rectangular array of {dtype} ({exc}); send nested "
            "lists of numbers"
        ) from None
    if shape is not None:
        try:
            shape = tuple(int(d) for d in shape)
            arr = arr.reshape(shape)
        except (TypeError, ValueError):
            raise ShapeError(
                f"input {name!r}: shape {value.get('shape')!r} does not fit {arr.size} data "
                "values; send a shape whose product is the number of values"
            ) from None
    return np.ascontiguousarray(arr)


def decode_inputs(body: Any, inputs: Mapping[str, TensorSpec]) -> dict[str, np.ndarray]:
    """``{"inputs": {name: ARRAY}}`` decoded; BindingError for a malformed body."""
    if not isinstance(body, dict) or not isinstance(body.get("inputs"), dict):
        raise BindingError(
            f"request body {type(body).__name__} has no 'inputs' object; send "
            '{"inputs": {"' + '": ..., "'.join(inputs) + '": ...}}'
        )
    return {name: decode_array(name, v, inputs.get(name)) for name, v in body["inputs"].items()}
