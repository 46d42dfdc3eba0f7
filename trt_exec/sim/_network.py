"""Simulated network definition: ``ITensor``, the layers and ``INetworkDefinition``."""

from __future__ import annotations

from typing import Any

from . import _releases as R
from ._base import _api_error, _Sim
from ._plan import (
    ShapeMismatch,
    broadcast,
    elementwise_out_dtype,
    unary_out_dtype,
)
from ._types import as_shape


class ITensorImpl(_Sim):
    """``trt.ITensor`` of a network definition."""

    _PUBLIC = "ITensor"
    _RULES = {"location": R.TRT_ONLY}

    def __init__(self, net: Any, name: str, dtype: Any, shape: tuple[int, ...]) -> None:
        self._net = net
        self._name = name
        self._dtype = dtype
        self._shape = shape
        self._is_input = False
        self._producer: Any = None

    @property
    def name(self) -> str:
        return self._name

    @name.setter
    def name(self, value: str) -> None:
        self._name = str(value)

    @property
    def shape(self) -> Any:
        return self._C["Dims"](self._shape)

    @shape.setter
    def shape(self, value: Any) -> None:
        self._shape = as_shape(value)

    def _get_dtype(self) -> Any:
        return self._dtype

    def _set_dtype(self, value: Any) -> None:
        self._dtype = value

    @property
    def is_network_input(self) -> bool:
        return self._is_input

    @property
    def is_network_output(self) -> bool:
        return any(t is self for t in self._net._outputs)

    @property
    def is_shape_tensor(self) -> bool:
        return False

    @property
    def is_execution_tensor(self) -> bool:
        return True

    @property
    def location(self) -> Any:
        return self._C["TensorLocation"].DEVICE


# ITensor.dtype: settable through 10.x (8.6.1, 10.0.1, 10.16.1 manifests), read-only in 11.x and
# TensorRT-RTX (11.4.0 and RTX 1.7.1 manifests: strongly typed networks only).
ITensorImpl._VARIANTS = {
    "dtype": [
        (R.PRE11, property(ITensorImpl._get_dtype, ITensorImpl._set_dtype)),
        (R.ALL, property(ITensorImpl._get_dtype)),
    ],
}


class ILayerImpl(_Sim):
    """``trt.ILayer``: name, inputs and outputs of a network layer."""

    _PUBLIC = "ILayer"
    _RULES: dict[str, R.Rule] = {}
    _KIND = ""
    _TYPE = ""

    def __init__(self, net: Any, inputs: list[Any], out_dtype: Any, op: Any = None) -> None:
        self._net = net
        self._inputs = inputs
        self._op = op
        self._name = f"(Unnamed Layer* {len(net._layers)}) [{self._TYPE}]"
        self._out = self._C["ITensor"](net, f"{self._name}_output", out_dtype, ())
        self._out._producer = self

    @property
    def name(self) -> str:
        return self._name

    @name.setter
    def name(self, value: str) -> None:
        self._name = str(value)

    @property
    def num_inputs(self) -> int:
        return len(self._inputs)

    @property
    def num_outputs(self) -> int:
        return 1

    def get_input(self, index: int) -> Any:
        return self._inputs[index] if 0 <= index < len(self._inputs) else None

    def get_output(self, index: int) -> Any:
        return self._out if index == 0 else None


class IIdentityLayerImpl(_Sim):
    _PUBLIC = "IIdentityLayer"
    _BASES = ("ILayer",)
    _RULES: dict[str, R.Rule] = {}
    _KIND = "identity"
    _TYPE = "Identity"


class IElementWiseLayerImpl(_Sim):
    _PUBLIC = "IElementWiseLayer"
    _BASES = ("ILayer",)
    _RULES: dict[str, R.Rule] = {}
    _KIND = "elementwise"
    _TYPE = "ElementWise"

    @property
    def op(self) -> Any:
        return self._op


class IUnaryLayerImpl(_Sim):
    _PUBLIC = "IUnaryLayer"
    _BASES = ("ILayer",)
    _RULES: dict[str, R.Rule] = {}
    _KIND = "unary"
    _TYPE = "Unary"

    @property
    def op(self) -> Any:
        return self._op


class INonZeroLayerImpl(_Sim):
    _PUBLIC = "INonZeroLayer"
    _BASES = ("ILayer",)
    _RULES: dict[str, R.Rule] = {}
    _KIND = "non_zero"
    _TYPE = "NonZero"


class ICastLayerImpl(_Sim):
    _PUBLIC = "ICastLayer"
    _BASES = ("ILayer",)
    _RULES: dict[str, R.Rule] = {}
    _KIND = "cast"
    _TYPE = "Cast"

    @property
    def to_type(self) -> Any:
        return self._out._dtype


class INetworkDefinitionImpl(_Sim):
    """``trt.INetworkDefinition`` with the layers the simulator can evaluate."""

    _PUBLIC = "INetworkDefinition"
    _RULES = {
        "has_implicit_batch_dimension": R.TRT_ONLY,  # still in 11.4 (manifest), not in RTX
        "add_cast": R.V8_6,  # ICastLayer: TensorRT 8.6
    }

    def __len__(self) -> int:
        return len(self._layers)

    def __getitem__(self, index: int) -> Any:
        """``network[i]`` (pyGraph.cpp ``network_getitem``): a negative index counts from the
        end, one at or past the end raises IndexError("Out of bounds"); below ``-n`` the real
        binding logs an error and returns None (observed on RTX 1.7.1)."""
        n = len(self._layers)
        i = index + n if index < 0 else index
        if i >= n:
            raise IndexError("Out of bounds")
        return self._layers[i] if i >= 0 else None

    def __init__(self, builder: Any, flags: int) -> None:
        self._builder = builder
        self._flags = int(flags)
        self._inputs: list[Any] = []
        self._outputs: list[Any] = []
        self._layers: list[Any] = []
        self._name = "Unnamed Network 0"
        rel = self._ctl._rel
        self._implicit = rel.flavor == "tensorrt" and rel.vt < (10,) and not (self._flags & 1)

    @property
    def name(self) -> str:
        return self._name

    @name.setter
    def name(self, value: str) -> None:
        self._name = str(value)

    @property
    def has_implicit_batch_dimension(self) -> bool:
        return self._implicit

    @property
    def num_inputs(self) -> int:
        return len(self._inputs)

    @property
    def num_outputs(self) -> int:
        return len(self._outputs)

    @property
    def num_layers(self) -> int:
        return len(self._layers)

    def get_input(self, index: int) -> Any:
        return self._inputs[index] if 0 <= index < len(self._inputs) else None

    def get_output(self, index: int) -> Any:
        return self._outputs[index] if 0 <= index < len(self._outputs) else None

    def get_layer(self, index: int) -> Any:
        return self._layers[index] if 0 <= index < len(self._layers) else None

    def add_input(self, name: str, dtype: Any, shape: Any) -> Any:
        t = self._C["ITensor"](self, str(name), dtype, as_shape(shape))
        t._is_input = True
        self._inputs.append(t)
        return t

    def mark_output(self, tensor: Any) -> None:
        if not any(t is tensor for t in self._outputs):
            self._outputs.append(tensor)

    def unmark_output(self, tensor: Any) -> None:
        self._outputs = [t for t in self._outputs if t is not tensor]

    def _add(self, cls_name: str, inputs: list[Any], out_dtype: Any, op: Any = None) -> Any:
        layer = self._C[cls_name](self, inputs, out_dtype, op)
        self._layers.append(layer)
        return layer

    def add_identity(self, input: Any) -> Any:
        return self._add("IIdentityLayer", [input], input._dtype)

    def add_cast(self, input: Any, to_type: Any) -> Any:
        return self._add("ICastLayer", [input], to_type)

    def add_elementwise(self, input1: Any, input2: Any, op: Any) -> Any:
        """TensorRT requires equal ranks here: a mismatch logs an error and returns None."""
        r1, r2 = len(self._shape_of(input1)), len(self._shape_of(input2))
        if r1 != r2:
            _api_error(
                self._ctl,
                self._builder._logger,
                "INetworkDefinition",
                "addElementWise",
                f"Parameter check failed, condition: input1 rank {r1} == input2 rank {r2}",
            )
            return None
        out = elementwise_out_dtype(int(op), int(input1._dtype), int(input2._dtype))
        dt = self._C["DataType"]
        return self._add(
            "IElementWiseLayer", [input1, input2], dt(out) if out is not None else input1._dtype, op
        )

    def add_unary(self, input: Any, op: Any) -> Any:
        out = unary_out_dtype(int(op), int(input._dtype))
        dt = self._C["DataType"]
        return self._add("IUnaryLayer", [input], dt(out) if out is not None else input._dtype, op)

    def _non_zero(self, input: Any, indices_type: Any) -> Any:
        dt = self._C["DataType"]
        if indices_type is None:
            # INT32 in every release: TensorRT 8.x and 10.2/10.4 INonZeroLayer docs ("The output is
            # a matrix of type kINT32"); from 10.16/11.x setIndicesType may choose kINT64, the
            # default staying kINT32 (the binding docstring: "default value tensorrt.int32");
            # TensorRT-RTX 1.7.1 observed on a CPU build.
            indices_type = dt.INT32
        return self._add("INonZeroLayer", [input], indices_type)

    def _shape_of(self, t: Any) -> tuple[int, ...]:
        if t._producer is None:
            return tuple(t._shape)
        layer = t._producer
        shapes = [self._shape_of(i) for i in layer._inputs]
        if layer._KIND == "elementwise":
            try:
                return broadcast(shapes[0], shapes[1])
            except ShapeMismatch:
                return shapes[0]
        if layer._KIND == "non_zero":
            return (len(shapes[0]), -1)
        return shapes[0]


def _add_non_zero_1(self: Any, input: Any) -> Any:
    """``add_non_zero(input)``: TensorRT 8.5 to 10.15 (8.6.1 and 10.0.1 manifests)."""
    return self._non_zero(input, None)


_UNSET: Any = object()


def _add_non_zero_2(self: Any, input: Any, indices_type: Any = _UNSET) -> Any:
    """TensorRT 10.16+ (10.16.1, 11.4.0 manifests) and RTX: overloads ``(input)`` and
    ``(input, indices_type)``; ``indices_type`` must be a DataType (no default in the second)."""
    if indices_type is _UNSET:
        return self._non_zero(input, None)
    if not isinstance(indices_type, self._C["DataType"]):
        mod = self._ctl._rel.module_name
        raise TypeError(
            "add_non_zero(): incompatible function arguments. The following argument types are "
            "supported:\n    1. (self: INetworkDefinition, input: ITensor) -> INonZeroLayer\n"
            "    2. (self: INetworkDefinition, input: ITensor, indices_type: DataType) -> "
            f"INonZeroLayer\n\nInvoked with: <{mod}.INetworkDefinition object>, {input!r}, "
            f"{indices_type!r}"
        )
    return self._non_zero(input, indices_type)


INetworkDefinitionImpl._VARIANTS = {
    "add_non_zero": [(R.V10_16, _add_non_zero_2), (R.NAMED, _add_non_zero_1)],
}
