"""Tiny test networks: a plain description (:class:`NetworkSpec`), a builder that uses only real
TensorRT builder calls (so it runs unchanged on real TensorRT 8.6/10/11 and TensorRT-RTX), and the
numpy reference result."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np

__all__ = [
    "ProfileShapes",
    "InputSpec",
    "OpSpec",
    "NetworkSpec",
    "build_engine",
    "reference",
    "DEMO_NETWORK",
    "EngineBuildError",
    "trt_dtype",
]

Shape = tuple[int, ...]

# Ops whose second operand is a shape tensor (an input read for its values).
_SHAPE_OPS = ("reshape", "slice")


class InputSpec(NamedTuple):
    """A network input: ``shape`` uses -1 for dynamic dims; ``dtype`` is a numpy dtype name.

    A named tuple, so ``for name, dtype, shape in spec.inputs`` works. An input that a
    ``reshape`` or ``slice`` op takes as its shape operand is a shape tensor (see
    :attr:`NetworkSpec.shape_tensors`): int32, shape ``(n,)``, static.
    """

    name: str
    dtype: str
    shape: Shape


class ProfileShapes(tuple):  # type: ignore[type-arg]
    """One profile: ``(min, opt, max)`` per input in input order, also indexable by input name
    (``profile["x"]``)."""

    _names: tuple[str, ...]

    def __new__(cls, bounds: Any, names: tuple[str, ...]) -> ProfileShapes:
        obj = super().__new__(cls, (tuple(tuple(s) for s in b) for b in bounds))
        obj._names = names
        return obj

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, str):
            try:
                key = self._names.index(key)
            except ValueError:
                raise KeyError(key) from None
        return super().__getitem__(key)

    def __reduce__(self) -> Any:
        return (ProfileShapes, (tuple(self), self._names))


@dataclass(frozen=True)
class OpSpec:
    """One layer producing tensor ``output``.

    ``kind``: "identity" | "elementwise" | "unary" | "non_zero" | "reshape" | "slice"; ``op``: the
    TensorRT enum member name ("SUM", "ABS", ...) for elementwise/unary, else "".

    ``reshape`` and ``slice`` take ``(data, shape_tensor)``: the shape tensor's *values* are the
    new dims (``IShuffleLayer.set_input(1, s)``; no 0 or -1 placeholders) or the size of a slice
    that starts at 0 with stride 1 (``ISliceLayer.set_input(2, n)``).
    """

    kind: str
    operands: tuple[str, ...]
    output: str
    op: str = ""


@dataclass(frozen=True)
class NetworkSpec:
    """A tiny network. ``profiles[k][i]`` (or ``profiles[k]["name"]``) is the (min, opt, max) of
    ``inputs[i]`` in profile k; each profile becomes a :class:`ProfileShapes`. For a shape-tensor
    input (:attr:`shape_tensors`) the entry holds its (min, opt, max) *values*
    (``IOptimizationProfile.set_shape_input``), not shapes. ``profiles=()`` adds no profile to
    the builder config, for a fixed-shape network (every input static, no shape tensor)."""

    inputs: tuple[InputSpec, ...]
    ops: tuple[OpSpec, ...]
    outputs: tuple[str, ...]
    profiles: tuple[Any, ...]  # per profile: ((min, opt, max) per input); stored as ProfileShapes

    def __post_init__(self) -> None:
        names = tuple(i.name for i in self.inputs)
        inputs = tuple(InputSpec(*i) for i in self.inputs)
        for k, p in enumerate(self.profiles):
            if len(p) != len(names):
                raise ValueError(
                    f"profile {k} has {len(p)} entries; expected one (min, opt, max) "
                    f"per input {names}"
                )
        object.__setattr__(self, "inputs", inputs)
        object.__setattr__(self, "profiles", tuple(ProfileShapes(p, names) for p in self.profiles))
        for name in self.shape_tensors:
            inp = inputs[names.index(name)] if name in names else None
            if (
                inp is None
                or np.dtype(inp.dtype) != np.int32
                or len(inp.shape) != 1
                or inp.shape[0] < 0
            ):
                raise ValueError(
                    f"shape tensor {name!r} must be a network input of dtype int32 and static "
                    f"shape (n,); got {inp!r}"
                )

    @property
    def shape_tensors(self) -> frozenset[str]:
        """Inputs whose values are a ``reshape``'s dims or a ``slice``'s size (shape tensors)."""
        return frozenset(
            op.operands[1] for op in self.ops if op.kind in _SHAPE_OPS and len(op.operands) > 1
        )

    def profile(self, k: int) -> dict[str, tuple[Shape, Shape, Shape]]:
        """Profile ``k`` as ``{input_name: (min, opt, max)}``."""
        return {i.name: s for i, s in zip(self.inputs, self.profiles[k])}

    @property
    def data_dependent(self) -> frozenset[str]:
        """Tensors whose shape depends on values (non_zero outputs and what they feed)."""
        dd: set[str] = set()
        for op in self.ops:
            if op.kind == "non_zero" or any(o in dd for o in op.operands):
                dd.add(op.output)
        return frozenset(dd)

    def output_dtypes(self) -> dict[str, np.dtype]:
        """numpy dtype of every tensor (non_zero: int32, TensorRT's default indices type)."""
        types = {i.name: np.dtype(i.dtype) for i in self.inputs}
        for op in self.ops:
            if op.kind == "non_zero":
                types[op.output] = np.dtype(np.int32)
            elif op.kind == "elementwise" and op.op in ("EQUAL", "GREATER", "LESS"):
                types[op.output] = np.dtype(np.bool_)
            else:
                types[op.output] = types[op.operands[0]]
        return types


class EngineBuildError(RuntimeError):
    """Raised by :func:`build_engine` when TensorRT's builder returns None."""


_TRT_TYPES = {
    "float32": "FLOAT",
    "float16": "HALF",
    "int8": "INT8",
    "int32": "INT32",
    "bool": "BOOL",
    "uint8": "UINT8",
    "int64": "INT64",
}


def trt_dtype(trt: Any, dtype: Any) -> Any:
    """The ``trt.DataType`` member for a numpy dtype."""
    return getattr(trt.DataType, _TRT_TYPES[np.dtype(dtype).name])


def build_engine(trt: Any, spec: NetworkSpec, *, compute_capability: Any = None) -> bytes:
    """Build ``spec`` with ``trt`` (real or simulated) and return the serialized engine.

    TensorRT-RTX gets ``num_compute_capabilities = 1`` and ``compute_capability`` (default SM89),
    which lets it build on a machine without a GPU. Raises :class:`EngineBuildError` carrying the
    builder's logged errors when the build fails.
    """
    errors: list[str] = []

    class _Logger(trt.ILogger):  # type: ignore[misc]
        def __init__(self) -> None:
            trt.ILogger.__init__(self)

        def log(self, severity: Any, msg: str) -> None:
            if int(severity) <= int(trt.ILogger.Severity.ERROR):
                errors.append(msg)

    logger = _Logger()
    builder = trt.Builder(logger)
    major = int(trt.__version__.split(".")[0])
    flags = 0
    if trt.__name__ == "tensorrt" and major < 10:
        flags = 1 << int(trt.NetworkDefinitionCreationFlag.EXPLICIT_BATCH)
    network = builder.create_network(flags)
    tensors: dict[str, Any] = {}
    for inp in spec.inputs:
        tensors[inp.name] = network.add_input(inp.name, trt_dtype(trt, inp.dtype), inp.shape)
    for op in spec.ops:
        args = [tensors[o] for o in op.operands]
        if op.kind == "identity":
            layer = network.add_identity(args[0])
        elif op.kind == "elementwise":
            layer = network.add_elementwise(
                args[0], args[1], getattr(trt.ElementWiseOperation, op.op)
            )
        elif op.kind == "unary":
            layer = network.add_unary(args[0], getattr(trt.UnaryOperation, op.op))
        elif op.kind == "non_zero":
            layer = network.add_non_zero(args[0])
        elif op.kind == "reshape":
            layer = network.add_shuffle(args[0])
            if layer is not None:
                layer.set_input(1, args[1])
        elif op.kind == "slice":
            rank = len(args[0].shape)
            layer = network.add_slice(args[0], (0,) * rank, (1,) * rank, (1,) * rank)
            if layer is not None:
                layer.set_input(2, args[1])
        else:
            raise ValueError(
                f"op.kind={op.kind!r} is not one of identity, elementwise, unary, non_zero, "
                "reshape, slice"
            )
        if layer is None:
            raise EngineBuildError(f"adding {op} failed: {errors}")
        layer.name = f"layer_{op.output}"
        out = layer.get_output(0)
        out.name = op.output
        tensors[op.output] = out
    for name in spec.outputs:
        network.mark_output(tensors[name])
    config = builder.create_builder_config()
    for k in range(len(spec.profiles)):
        profile = builder.create_optimization_profile()
        for name, (lo, opt, hi) in spec.profile(k).items():
            if name in spec.shape_tensors:
                profile.set_shape_input(name, lo, opt, hi)
            else:
                profile.set_shape(name, lo, opt, hi)
        if config.add_optimization_profile(profile) < 0:
            raise EngineBuildError(f"profile {k} was refused: {errors}")
    if hasattr(trt, "ComputeCapability"):
        config.num_compute_capabilities = 1
        cc = compute_capability if compute_capability is not None else trt.ComputeCapability.SM89
        config.set_compute_capability(cc, 0)
    plan = builder.build_serialized_network(network, config)
    if plan is None:
        raise EngineBuildError(f"build_serialized_network returned None; TensorRT logged: {errors}")
    return bytes(memoryview(plan))


_EW = {
    "SUM": np.add,
    "PROD": np.multiply,
    "MAX": np.maximum,
    "MIN": np.minimum,
    "SUB": np.subtract,
    "AND": np.logical_and,
    "OR": np.logical_or,
    "XOR": np.logical_xor,
    "EQUAL": np.equal,
    "GREATER": np.greater,
    "LESS": np.less,
    "POW": np.power,
    "FLOOR_DIV": np.floor_divide,
}
_UN = {
    "EXP": np.exp,
    "ABS": np.abs,
    "NEG": np.negative,
    "NOT": np.logical_not,
    "LOG": np.log,
    "SQRT": np.sqrt,
    "RECIP": np.reciprocal,
    "SIN": np.sin,
    "COS": np.cos,
    "FLOOR": np.floor,
    "CEIL": np.ceil,
    "SIGN": np.sign,
}


def reference(spec: NetworkSpec, inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The expected outputs of ``spec`` for ``inputs``, computed with numpy (non_zero: int32;
    a shape tensor's entry in ``inputs`` holds its values)."""
    values = {i.name: np.asarray(inputs[i.name], dtype=i.dtype) for i in spec.inputs}
    types = spec.output_dtypes()
    with np.errstate(all="ignore"):
        for op in spec.ops:
            args = [values[o] for o in op.operands]
            if op.kind == "identity":
                r = args[0].copy()
            elif op.kind == "elementwise":
                r = _EW[op.op](args[0], args[1])
            elif op.kind == "unary":
                r = _UN[op.op](args[0])
            elif op.kind == "reshape":
                r = args[0].reshape(tuple(int(v) for v in args[1]))
            elif op.kind == "slice":
                r = args[0][tuple(slice(0, int(n)) for n in args[1])].copy()
            else:
                r = np.stack(np.nonzero(args[0])) if args[0].ndim else np.zeros((0, 0))
            values[op.output] = np.asarray(r).astype(types[op.output], copy=False)
    return {name: values[name] for name in spec.outputs}


DEMO_NETWORK = NetworkSpec(
    inputs=(InputSpec("x", "float32", (-1, 4)), InputSpec("y", "float32", (-1, 4))),
    ops=(
        OpSpec("elementwise", ("x", "y"), "sum", "SUM"),
        OpSpec("unary", ("x",), "abs_x", "ABS"),
        OpSpec("elementwise", ("abs_x", "y"), "act", "PROD"),
    ),
    outputs=("sum", "act"),
    profiles=(
        (((1, 4), (2, 4), (4, 4)), ((1, 4), (2, 4), (4, 4))),
        (((4, 4), (8, 4), (16, 4)), ((4, 4), (8, 4), (16, 4))),
    ),
)
"""Two float32 inputs ``x``, ``y`` of shape (batch, 4); outputs ``sum = x + y`` and
``act = abs(x) * y``; profile 0 covers batch 1..4, profile 1 batch 4..16."""
