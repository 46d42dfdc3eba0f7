"""The simulated engine plan: a self-describing byte format and a tiny numpy graph evaluator.

Format (little endian)::

    b"SIMTRTv1" | u32 header_len | header (UTF-8 JSON) | u32 crc32(everything before)

The header carries the flavor ("tensorrt"/"rtx") and the library version, so a plan built by one
simulated release is refused by another, as real TensorRT refuses plans from other versions.
"""

from __future__ import annotations

import json
import math
import struct
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ._shape_eval import (
    SHAPE_KINDS,
    ShapeMismatch,
    run_shape_layer,
    shape_layer_out_shape,
)

__all__ = ["Plan", "Layer", "TensorInfo", "PlanError", "ShapeMismatch", "NP_DTYPES"]

MAGIC = b"SIMTRTv1"
_U32 = struct.Struct("<I")

# DataType value -> numpy dtype. Types numpy lacks (FP8, BF16, INT4, FP4, E8M0) are not
# simulated: the builder refuses them with a logged error.
NP_DTYPES: dict[int, np.dtype] = {
    0: np.dtype(np.float32),
    1: np.dtype(np.float16),
    2: np.dtype(np.int8),
    3: np.dtype(np.int32),
    4: np.dtype(np.bool_),
    5: np.dtype(np.uint8),
    8: np.dtype(np.int64),
}
FLOAT_TYPES = {0, 1}
INT_TYPES = {2, 3, 5, 8}
BOOL = 4

# ElementWiseOperation values.
EW_NAMES = "SUM PROD MAX MIN SUB DIV POW FLOOR_DIV AND OR XOR EQUAL GREATER LESS".split()
EW_BOOL_ONLY = {8, 9, 10}
EW_COMPARE = {11, 12, 13}
EW_FLOAT_ONLY = {6}
UN_NAMES = (
    "EXP LOG SQRT RECIP ABS NEG SIN COS TAN SINH COSH ASIN ACOS ATAN ASINH ACOSH ATANH CEIL "
    "FLOOR ERF NOT SIGN ROUND ISINF ISNAN"
).split()
UN_ANY_NUMERIC = {4, 5, 21}  # ABS, NEG, SIGN also take integer types
UN_BOOL_ONLY = {20}
UN_TO_BOOL = {23, 24}


class PlanError(Exception):
    """Raised inside the simulator for an unreadable plan; the runtime turns it into a log line."""


def _div(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    out: np.ndarray
    if a.dtype.kind == "f":
        out = np.true_divide(a, b)
    else:
        out = np.trunc(np.true_divide(a, b)).astype(a.dtype)  # C++ integer division truncates
    return out


EW_FUNCS: dict[int, Callable[[np.ndarray, np.ndarray], np.ndarray]] = {
    0: np.add,
    1: np.multiply,
    2: np.maximum,
    3: np.minimum,
    4: np.subtract,
    5: _div,
    6: np.power,
    7: np.floor_divide,
    8: np.logical_and,
    9: np.logical_or,
    10: np.logical_xor,
    11: np.equal,
    12: np.greater,
    13: np.less,
}
_erf = np.vectorize(math.erf, otypes=[np.float64])
UN_FUNCS: dict[int, Callable[[np.ndarray], np.ndarray]] = {
    0: np.exp,
    1: np.log,
    2: np.sqrt,
    3: np.reciprocal,
    4: np.abs,
    5: np.negative,
    6: np.sin,
    7: np.cos,
    8: np.tan,
    9: np.sinh,
    10: np.cosh,
    11: np.arcsin,
    12: np.arccos,
    13: np.arctan,
    14: np.arcsinh,
    15: np.arccosh,
    16: np.arctanh,
    17: np.ceil,
    18: np.floor,
    19: lambda a: _erf(a).astype(a.dtype),
    20: np.logical_not,
    21: np.sign,
    22: np.rint,  # IUnaryLayer kROUND rounds half to even, like rint
    23: np.isinf,
    24: np.isnan,
}


def elementwise_out_dtype(op: int, a: int, b: int) -> int | None:
    """Output DataType of an elementwise layer, or None when TensorRT rejects the types."""
    if a != b:
        return None
    if op in EW_BOOL_ONLY:
        return BOOL if a == BOOL else None
    if a == BOOL:
        return None
    if op in EW_FLOAT_ONLY and a not in FLOAT_TYPES:
        return None
    return BOOL if op in EW_COMPARE else a


def unary_out_dtype(op: int, a: int) -> int | None:
    if op in UN_BOOL_ONLY:
        return BOOL if a == BOOL else None
    if a == BOOL:
        return None
    if op in UN_ANY_NUMERIC:
        return a
    if a not in FLOAT_TYPES:
        return None
    return BOOL if op in UN_TO_BOOL else a


def broadcast(a: tuple[int, ...], b: tuple[int, ...]) -> tuple[int, ...]:
    """TensorRT elementwise broadcast: equal rank; each dim equal or one of them 1 (-1 unknown)."""
    if len(a) != len(b):
        raise ShapeMismatch(f"rank mismatch {a} vs {b}")
    out = []
    for x, y in zip(a, b):
        if x == y:
            out.append(x)
        elif x == 1:
            out.append(y)
        elif y == 1:
            out.append(x)
        elif x == -1 or y == -1:
            out.append(-1)
        else:
            raise ShapeMismatch(f"dimensions {x} and {y} do not broadcast")
    return tuple(out)


@dataclass(frozen=True)
class Layer:
    kind: str  # identity | elementwise | unary | non_zero | cast | shape | reshape | slice
    name: str
    inputs: tuple[str, ...]
    output: str
    op: int = -1
    dtype: int = 0  # output DataType
    #: Static parameters of the shape layers (``_shape_layers``), JSON-serializable.
    params: tuple[Any, ...] = ()

    def out_shape(
        self, shapes: list[tuple[int, ...]], values: list[tuple[int, ...] | None] | None = None
    ) -> tuple[int, ...]:
        """The output shape from the input shapes and, for the shape layers, the values of
        their shape-tensor inputs (None where unknown: the dimensions they set are -1)."""
        if self.kind == "elementwise":
            return broadcast(shapes[0], shapes[1])
        if self.kind == "non_zero":
            return (len(shapes[0]), -1)
        if self.kind in SHAPE_KINDS:
            return shape_layer_out_shape(self, shapes, values or [None] * len(shapes))
        return shapes[0]


@dataclass(frozen=True)
class TensorInfo:
    name: str
    dtype: int
    shape: tuple[int, ...]  # build-time shape, -1 for dynamic or data-dependent dims


@dataclass
class Plan:
    """Everything an engine knows. Immutable after deserialization by convention."""

    flavor: str
    version: str
    name: str
    inputs: tuple[TensorInfo, ...]
    outputs: tuple[TensorInfo, ...]
    layers: tuple[Layer, ...]
    # profiles[k][input_name] = (min, opt, max)
    profiles: tuple[dict[str, tuple[tuple[int, ...], ...]], ...]
    compute_capabilities: tuple[int, ...] = ()
    #: Shape-tensor inputs: their values live in host memory (isShapeInferenceIO).
    shape_inputs: frozenset[str] = frozenset()
    #: Outputs marked with mark_output_for_shapes: TensorLocation.HOST.
    host_outputs: frozenset[str] = frozenset()
    #: profile_values[k][input_name] = (min, opt, max) values of a shape-tensor input.
    profile_values: tuple[dict[str, tuple[tuple[int, ...], ...]], ...] = ()
    tensors: dict[str, TensorInfo] = field(default_factory=dict)
    data_dependent: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        self.tensors = {t.name: t for t in self.inputs}
        dd: set[str] = set()
        for layer in self.layers:
            if layer.kind == "non_zero" or any(i in dd for i in layer.inputs):
                dd.add(layer.output)
        self.data_dependent = frozenset(dd)
        for t in self.outputs:
            self.tensors[t.name] = t

    # -- format ---------------------------------------------------------------------------
    def to_bytes(self) -> bytes:
        header: dict[str, Any] = {
            "flavor": self.flavor,
            "version": self.version,
            "name": self.name,
            "inputs": [[t.name, t.dtype, list(t.shape)] for t in self.inputs],
            "outputs": [[t.name, t.dtype, list(t.shape)] for t in self.outputs],
            "layers": [
                [la.kind, la.name, list(la.inputs), la.output, la.op, la.dtype]
                for la in self.layers
            ],
            "profiles": [{k: [list(s) for s in v] for k, v in p.items()} for p in self.profiles],
            "cc": list(self.compute_capabilities),
        }
        if self.shape_inputs or self.host_outputs:
            header["shape_inputs"] = sorted(self.shape_inputs)
            header["host_outputs"] = sorted(self.host_outputs)
            header["profile_values"] = [
                {k: [list(s) for s in v] for k, v in p.items()} for p in self.profile_values
            ]
        for entry, la in zip(header["layers"], self.layers):
            if la.params:
                entry.append(list(la.params))
        body = json.dumps(header, separators=(",", ":")).encode()
        blob = MAGIC + _U32.pack(len(body)) + body
        return blob + _U32.pack(zlib.crc32(blob))

    @staticmethod
    def peek_version(blob: bytes) -> tuple[str, str]:
        """Return (flavor, version) of a well-formed plan; raise PlanError otherwise."""
        header = _read_header(blob)
        try:
            return str(header["flavor"]), str(header["version"])
        except KeyError as exc:
            raise PlanError(f"malformed plan header: no {exc}") from None

    @classmethod
    def from_bytes(cls, blob: bytes) -> Plan:
        h = _read_header(blob)
        try:
            return cls(
                flavor=h["flavor"],
                version=h["version"],
                name=h["name"],
                inputs=tuple(TensorInfo(n, d, tuple(s)) for n, d, s in h["inputs"]),
                outputs=tuple(TensorInfo(n, d, tuple(s)) for n, d, s in h["outputs"]),
                layers=tuple(
                    Layer(k, n, tuple(i), o, op, d, _frozen(rest[0]) if rest else ())
                    for k, n, i, o, op, d, *rest in h["layers"]
                ),
                profiles=tuple(
                    {k: tuple(tuple(s) for s in v) for k, v in p.items()} for p in h["profiles"]
                ),
                compute_capabilities=tuple(h["cc"]),
                shape_inputs=frozenset(h.get("shape_inputs", ())),
                host_outputs=frozenset(h.get("host_outputs", ())),
                profile_values=tuple(
                    {k: tuple(tuple(s) for s in v) for k, v in p.items()}
                    for p in h.get("profile_values", ())
                ),
            )._checked()
        except (KeyError, TypeError, ValueError, IndexError) as exc:
            raise PlanError(f"malformed plan header: {type(exc).__name__}: {exc}") from None

    def _checked(self) -> Plan:
        """Every invariant the builder guarantees, checked on a plan read from bytes: a plan
        crafted with a valid checksum is refused at deserialization (as real TensorRT refuses a
        plan it cannot read: "Serialization ... failed", ``deserialize_cuda_engine`` returns
        None), never a raw error later."""

        def shape(s: Any, where: str) -> None:
            if not all(type(d) is int and d >= -1 for d in s):
                raise ValueError(f"{where}: shape {list(s)!r} is not dimensions >= -1")

        names: set[str] = set()
        inputs = {t.name for t in self.inputs}
        for t in self.inputs:
            if type(t.name) is not str or t.name in names or t.dtype not in NP_DTYPES:
                raise ValueError(f"input {t.name!r}: bad name or dtype {t.dtype!r}")
            shape(t.shape, f"input {t.name!r}")
            names.add(t.name)
        for la in self.layers:
            lo_arity, hi_arity = _LAYER_ARITY.get(la.kind, (-1, -1))
            if not lo_arity <= len(la.inputs) <= hi_arity:
                raise ValueError(
                    f"layer {la.name!r}: kind {la.kind!r} with {len(la.inputs)} inputs"
                )
            if any(i not in names for i in la.inputs) or la.dtype not in NP_DTYPES:
                raise ValueError(f"layer {la.name!r}: undefined input or bad dtype")
            if (la.kind == "elementwise" and la.op not in EW_FUNCS) or (
                la.kind == "unary" and la.op not in UN_FUNCS
            ):
                raise ValueError(f"layer {la.name!r}: unknown operation {la.op!r}")
            names.add(la.output)
        for t in self.outputs:
            if t.name not in names or t.dtype not in NP_DTYPES or t.name in inputs:
                raise ValueError(f"output {t.name!r}: not produced by a layer, or bad dtype")
            shape(t.shape, f"output {t.name!r}")
        if not self.profiles and any(-1 in t.shape for t in self.inputs):
            raise ValueError("dynamic inputs without an optimization profile")
        for k, prof in enumerate(self.profiles):
            if set(prof) != {t.name for t in self.inputs}:
                raise ValueError(f"profile {k}: inputs {sorted(prof)!r}")
            for t in self.inputs:
                bounds = prof[t.name]
                if len(bounds) != 3 or any(len(b) != len(t.shape) for b in bounds):
                    raise ValueError(f"profile {k}: bounds of {t.name!r}")
                for b in bounds:
                    shape(b, f"profile {k} {t.name!r}")
                lo, opt, hi = bounds
                if not all(0 <= a <= b <= c for a, b, c in zip(lo, opt, hi)):
                    raise ValueError(f"profile {k}: {t.name!r} needs 0 <= min <= opt <= max")
        return self

    # -- shapes and evaluation ------------------------------------------------------------
    def infer(
        self,
        input_shapes: dict[str, tuple[int, ...]],
        upper_bound: bool = False,
        values: dict[str, tuple[int, ...]] | None = None,
    ) -> dict[str, tuple[int, ...]]:
        """Shapes of every tensor from concrete input shapes and the values of the shape-tensor
        inputs (``values``; a dimension set by an unknown value is -1); data-dependent dims are
        -1, or with ``upper_bound`` their largest possible size (every element non-zero)."""
        shapes = dict(input_shapes)
        known: dict[str, tuple[int, ...]] = dict(values or {})
        for layer in self.layers:
            ins = [shapes[i] for i in layer.inputs]
            if upper_bound and layer.kind == "non_zero":
                shapes[layer.output] = (len(ins[0]), math.prod(ins[0]))
            else:
                shapes[layer.output] = layer.out_shape(ins, [known.get(i) for i in layer.inputs])
            if layer.kind == "shape" and all(d >= 0 for d in ins[0]):
                known[layer.output] = tuple(ins[0])
        return shapes

    def evaluate(self, arrays: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Run the graph with numpy; returns every output array (C-contiguous)."""
        values = dict(arrays)
        with np.errstate(all="ignore"):
            for layer in self.layers:
                args = [values[i] for i in layer.inputs]
                values[layer.output] = _run_layer(layer, args)
        return {t.name: values[t.name] for t in self.outputs}


# The layer kinds this format knows and how many inputs each takes.
# Inputs each layer kind takes, (fewest, most): a slice takes its start, size and stride as
# optional tensors, a reshape its shape as an optional second input.
_LAYER_ARITY = {
    "identity": (1, 1),
    "cast": (1, 1),
    "elementwise": (2, 2),
    "unary": (1, 1),
    "non_zero": (1, 1),
    "shape": (1, 1),
    "reshape": (1, 2),
    "slice": (1, 4),
}


def _run_layer(layer: Layer, args: list[np.ndarray]) -> np.ndarray:
    np_dtype = NP_DTYPES[layer.dtype]
    if layer.kind == "identity" or layer.kind == "cast":
        return np.ascontiguousarray(args[0].astype(np_dtype, copy=False))
    if layer.kind == "elementwise":
        return np.asarray(EW_FUNCS[layer.op](args[0], args[1])).astype(np_dtype, copy=False)
    if layer.kind == "unary":
        return np.asarray(UN_FUNCS[layer.op](args[0])).astype(np_dtype, copy=False)
    if layer.kind == "non_zero":
        return np.ascontiguousarray(np.stack(np.nonzero(args[0])).astype(np_dtype))
    if layer.kind in SHAPE_KINDS:
        return run_shape_layer(layer, args, np_dtype)
    raise PlanError(f"unknown layer kind {layer.kind!r}")


def _frozen(value: Any) -> Any:
    """JSON lists back to (nested) tuples: a Layer's params stay hashable."""
    if isinstance(value, list):
        return tuple(_frozen(v) for v in value)
    return value


def _read_header(blob: bytes) -> dict[str, Any]:
    if len(blob) < len(MAGIC) + 8 or blob[: len(MAGIC)] != MAGIC:
        raise PlanError(
            "Serialization assertion magicTagRead == kMAGIC_TAG failed.Magic tag does not match"
        )
    (n,) = _U32.unpack_from(blob, len(MAGIC))
    end = len(MAGIC) + 4 + n
    if len(blob) != end + 4:
        raise PlanError(
            f"Serialization assertion size == expected failed.Plan size {len(blob)} "
            f"does not match the size {end + 4} in its header (truncated plan?)"
        )
    (crc,) = _U32.unpack_from(blob, end)
    if zlib.crc32(blob[:end]) != crc:
        raise PlanError(
            "Serialization assertion checksum == expectedChecksum failed.Plan "
            "checksum does not match (corrupt plan)"
        )
    try:
        header = json.loads(blob[len(MAGIC) + 4 : end])
    except ValueError as exc:
        raise PlanError(f"malformed plan header: {exc}") from None
    if not isinstance(header, dict):
        raise PlanError("malformed plan header")
    return header
