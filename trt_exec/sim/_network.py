"""Simulated network definition: ``ITensor``, the layers and ``INetworkDefinition``.

Shape inference at definition time (issue 17). On the real builder a layer output's ``shape`` is
known as soon as the layer is added, and follows later changes of the input shapes: it is computed
when read (observed on the real TensorRT-RTX 1.7.1: ``add_unary`` on a ``(-1, 8)`` input gives
``(-1, 8)``; setting the input's shape afterwards changes the output's). Where the shapes do not
conform, reading ``shape`` logs an ERROR ("ITensor::getDimensions: Error Code 4: Shape Error
(broadcast dimensions must be conformable ...)") and raises ``RuntimeError("Could not get tensor
shape.")``; adding the layer itself succeeds.

The hook: every layer class implements ``_infer_shape(self, shapes)``, which takes its inputs'
shapes (tuples, -1 for a dimension unknown until runtime) and returns its output's shape, raising
``ShapeMismatch`` where they do not conform. ``ILayerImpl._infer_shape`` (the output has its first
input's shape) serves the pointwise layers. A new layer class (e.g. a shape-tensor layer) only
defines ``_TYPE``/``_LAYER_TYPE``/``_KIND`` and its own ``_infer_shape``.
"""

from __future__ import annotations

from typing import Any

from . import _releases as R
from ._base import _api_error, _log, _Sim
from ._plan import (
    EW_BOOL_ONLY,
    EW_COMPARE,
    ShapeMismatch,
    elementwise_out_dtype,
    unary_out_dtype,
)
from ._types import as_shape


def definition_broadcast(a: tuple[int, ...], b: tuple[int, ...]) -> tuple[int, ...]:
    """Elementwise broadcast of definition-time shapes (-1: unknown until runtime).

    Each pair of dimensions is equal, or one is 1, or one is -1. -1 against a known extent
    greater than 1 gives that extent (the -1 must be it or 1); -1 against 1 or -1 stays -1.
    Observed on the real TensorRT-RTX 1.7.1: ``(-1, 8)`` with ``(4, 1)`` gives ``(4, 8)``,
    ``(4, 1)`` with ``(1, 8)`` gives ``(4, 8)``, ``(-1, 8)`` with ``(3, 5)`` and ``(4, 1)`` with
    ``(3, 5)`` are refused, as are unequal ranks (NvInfer.h, IElementWiseLayer: "the two input
    tensors must have the same rank"; each dimension "must be equal or one of them must be 1").
    """
    if len(a) != len(b):
        raise ShapeMismatch(f"Assertion x.nbDims == y.nbDims failed. mismatched inputs {a} and {b}")
    out = []
    for x, y in zip(a, b):
        if x == y or y == 1:
            out.append(x)
        elif x == 1:
            out.append(y)
        elif x == -1:
            out.append(y)
        elif y == -1:
            out.append(x)
        else:
            raise ShapeMismatch("broadcast dimensions must be conformable")
    return tuple(out)


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
        """A name another tensor of the network has is refused: an ERROR is logged and the name
        stays (observed on the real TensorRT-RTX 1.7.1: "ITensor::setName: Error Code 3: API
        Usage Error (Failed attempt to rename a tensor from d to a as the new name is already in
        use.)"; ITensor::setName docs, 8.x to 11.x: names must be unique)."""
        new = str(value)
        if new != self._name and self._net._tensor_named(new) is not None:
            _api_error(
                self._ctl,
                self._net._builder._logger,
                "ITensor",
                "setName",
                f"Failed attempt to rename a tensor from {self._name} to {new} as the new name "
                "is already in use.",
            )
            return
        self._name = new

    @property
    def shape(self) -> Any:
        """Computed when read through the producing layers' ``_infer_shape`` (module docstring);
        RuntimeError after an ERROR where they do not conform."""
        try:
            dims = self._dims()
        except ShapeMismatch as exc:
            _log(
                self._ctl,
                self._net._builder._logger,
                1,
                f"ITensor::getDimensions: Error Code 4: Shape Error ({exc})",
            )
            raise RuntimeError("Could not get tensor shape.") from None
        return self._C["Dims"](dims)

    @shape.setter
    def shape(self, value: Any) -> None:
        """Only a network input's shape can be set; on another tensor an ERROR is logged and the
        shape stays (observed on the real TensorRT-RTX 1.7.1: "ITensor::setDimensions: Error Code
        3: API Usage Error (Parameter check failed, condition: isNetworkInput().)")."""
        dims = as_shape(value)
        detail = ""
        if not self._is_input:
            detail = "Parameter check failed, condition: isNetworkInput()."
        elif any(d < -1 for d in dims):  # as addInput (observed: a shape of (-2,) is refused)
            detail = "Parameter check failed, condition: isValidDims(dims, false)."
        if detail:
            _api_error(self._ctl, self._net._builder._logger, "ITensor", "setDimensions", detail)
            return
        self._shape = dims

    def _dims(self) -> tuple[int, ...]:
        """This tensor's shape; ShapeMismatch where a producing layer's inputs do not conform."""
        if self._producer is None:
            return tuple(self._shape)
        layer = self._producer
        return tuple(layer._infer_shape([t._dims() for t in layer._inputs]))

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
    _LAYER_TYPE = ""  # the LayerType member

    def __init__(self, net: Any, inputs: list[Any], out_dtype: Any, op: Any = None) -> None:
        self._net = net
        self._inputs = inputs
        self._op = op
        self._name = f"(Unnamed Layer* {len(net._layers)}) [{self._TYPE}]"
        self._layer_type = self._LAYER_TYPE
        self._out = self._C["ITensor"](net, f"{self._name}_output", out_dtype, ())
        self._out._producer = self

    @property
    def name(self) -> str:
        return self._name

    @name.setter
    def name(self, value: str) -> None:
        self._name = str(value)

    @property
    def type(self) -> Any:
        """The layer's ``LayerType`` (``ILayer.type`` in every manifest, 8.6.1 to RTX 1.7.1)."""
        return getattr(self._C["LayerType"], self._layer_type)

    def _as_base(self) -> Any:
        """This layer as a plain ``ILayer`` sharing its state: what ``get_layer`` and indexing
        return. The bindings return the base class there (observed on the real TensorRT-RTX
        1.7.1: ``network[0]`` of an identity layer is an ``ILayer``); callers set ``__class__``
        to the concrete class from ``layer.type``, as Polygraphy does."""
        view = object.__new__(self._C["ILayer"])
        view.__dict__ = self.__dict__
        return view

    @property
    def num_inputs(self) -> int:
        return len(self._inputs)

    @property
    def num_outputs(self) -> int:
        return 1

    def get_input(self, index: int) -> Any:
        """None out of range, without logging (observed on the real TensorRT-RTX 1.7.1)."""
        return self._inputs[index] if 0 <= index < len(self._inputs) else None

    def get_output(self, index: int) -> Any:
        """None out of range, after an ERROR (observed on the real TensorRT-RTX 1.7.1: "ILayer::
        getOutput: Error Code 3: API Usage Error (Parameter check failed ...)")."""
        if index == 0:
            return self._out
        _api_error(
            self._ctl,
            self._net._builder._logger,
            "ILayer",
            "getOutput",
            "Parameter check failed, condition: (0) <= (index) && (index) < (getNbOutputs()). "
            f"Invalid layer output tensor index: {index}. Valid range of layer output tensor "
            "index is [0, 1).",
        )
        return None

    def _infer_shape(self, shapes: list[tuple[int, ...]]) -> tuple[int, ...]:
        """Output shape from the inputs' shapes (the hook: module docstring). Pointwise: the
        first input's (NvInfer.h: IIdentityLayer, IUnaryLayer and ICastLayer keep the shape;
        observed on the real TensorRT-RTX 1.7.1)."""
        return shapes[0]


class IIdentityLayerImpl(_Sim):
    _PUBLIC = "IIdentityLayer"
    _BASES = ("ILayer",)
    _RULES: dict[str, R.Rule] = {}
    _KIND = "identity"
    _TYPE = "Identity"
    _LAYER_TYPE = "IDENTITY"


class IElementWiseLayerImpl(_Sim):
    _PUBLIC = "IElementWiseLayer"
    _BASES = ("ILayer",)
    _RULES: dict[str, R.Rule] = {}
    _KIND = "elementwise"
    _TYPE = "ElementWise"
    _LAYER_TYPE = "ELEMENTWISE"

    def _infer_shape(self, shapes: list[tuple[int, ...]]) -> tuple[int, ...]:
        """Input types the builder refuses fail here too (observed on the real TensorRT-RTX
        1.7.1: reading the output shape of SUM over FLOAT and INT32 logs "ElementWiseOperation
        SUM must have same input types" and raises)."""
        a, b = (int(t._dtype) for t in self._inputs)
        if elementwise_out_dtype(int(self._op), a, b) is None:
            raise ShapeMismatch(
                f"{self._name}: ElementWiseOperation {self._op.name} does not accept input types "
                f"{self._inputs[0]._dtype.name} and {self._inputs[1]._dtype.name}"
            )
        return definition_broadcast(shapes[0], shapes[1])

    @property
    def op(self) -> Any:
        return self._op


class IUnaryLayerImpl(_Sim):
    _PUBLIC = "IUnaryLayer"
    _BASES = ("ILayer",)
    _RULES: dict[str, R.Rule] = {}
    _KIND = "unary"
    _TYPE = "Unary"
    _LAYER_TYPE = "UNARY"

    def _infer_shape(self, shapes: list[tuple[int, ...]]) -> tuple[int, ...]:
        """The input's shape; an input type the builder refuses fails here (observed on the real
        TensorRT-RTX 1.7.1: EXP of INT32 logs "input has type Int32 but must have type Float,
        ..." when the output's shape is read)."""
        if unary_out_dtype(int(self._op), int(self._inputs[0]._dtype)) is None:
            raise ShapeMismatch(
                f"{self._name}: UnaryOperation {self._op.name} does not accept input type "
                f"{self._inputs[0]._dtype.name}"
            )
        return shapes[0]

    @property
    def op(self) -> Any:
        return self._op


class INonZeroLayerImpl(_Sim):
    _PUBLIC = "INonZeroLayer"
    _BASES = ("ILayer",)
    _RULES: dict[str, R.Rule] = {}
    _KIND = "non_zero"
    _TYPE = "NonZero"
    _LAYER_TYPE = "NON_ZERO"

    def _infer_shape(self, shapes: list[tuple[int, ...]]) -> tuple[int, ...]:
        """``(rank, -1)``: one row per input dimension, one column per non-zero element, known
        only at runtime (INonZeroLayer docs; observed on the real TensorRT-RTX 1.7.1: a ``(3, 5)``
        input gives ``(2, -1)``)."""
        return (len(shapes[0]), -1)


class ICastLayerImpl(_Sim):
    _PUBLIC = "ICastLayer"
    _BASES = ("ILayer",)
    _RULES: dict[str, R.Rule] = {}
    _KIND = "cast"
    _TYPE = "Cast"
    _LAYER_TYPE = "CAST"

    @property
    def to_type(self) -> Any:
        return self._out._dtype


class INetworkDefinitionImpl(_Sim):
    """``trt.INetworkDefinition`` with the layers the simulator can evaluate.

    Index and marking errors log an ERROR and change nothing, as on the real TensorRT-RTX 1.7.1
    (observed on a CPU) and as NvInfer.h documents for every release ("index must be in the range
    [0, getNbInputs())"; a tensor "cannot be both input and output"; markOutput of an output or
    unmarkOutput of a non-output is an API usage error).
    """

    _PUBLIC = "INetworkDefinition"
    _RULES = {
        "has_implicit_batch_dimension": R.TRT_ONLY,  # still in 11.4 (manifest), not in RTX
        "add_cast": R.V8_6,  # ICastLayer: TensorRT 8.6
        "flags": R.V10,  # 10.0.1 to 11.4.0 and RTX 1.7.1 manifests, not 8.6.1
    }

    def __len__(self) -> int:
        return len(self._layers)

    def __getitem__(self, index: int) -> Any:
        """``get_layer(index)``, a negative index counting from the end; IndexError("Out of
        bounds") past the end, which ends ``for layer in network`` (observed on the real
        TensorRT-RTX 1.7.1; a negative index still below 0 gives None after get_layer's ERROR)."""
        n = len(self._layers)
        if index >= n:
            raise IndexError("Out of bounds")
        return self.get_layer(index + n if index < 0 else index)

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
    def flags(self) -> int:
        """The creation flags. TensorRT-RTX networks are always explicit-batch: the real RTX
        1.7.1 reports 1 (EXPLICIT_BATCH) for ``create_network(0)`` (observed)."""
        if self._ctl._rel.flavor == "rtx":
            return self._flags | 1
        return self._flags

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

    def _index_error(self, func: str, what: str, index: int, n: int, count: str) -> None:
        _api_error(
            self._ctl,
            self._builder._logger,
            "INetworkDefinition",
            func,
            f"Parameter check failed, condition: (0) <= (index) && (index) < ({count}()). "
            f"Invalid network {what} index: {index}. Valid range of network {what} index is "
            f"[0, {n}).",
        )

    def get_input(self, index: int) -> Any:
        if 0 <= index < len(self._inputs):
            return self._inputs[index]
        self._index_error("getInput", "input", index, len(self._inputs), "getNbInputs")
        return None

    def get_output(self, index: int) -> Any:
        if 0 <= index < len(self._outputs):
            return self._outputs[index]
        self._index_error("getOutput", "output", index, len(self._outputs), "getNbOutputs")
        return None

    def get_layer(self, index: int) -> Any:
        """None out of range, after an ERROR (the real TensorRT-RTX 1.7.1 logs "Unexpected
        exception vector::_M_range_check: ...")."""
        if 0 <= index < len(self._layers):
            return self._layers[index]._as_base()
        n = len(self._layers)
        _log(
            self._ctl,
            self._builder._logger,
            1,
            f"Unexpected exception vector::_M_range_check: __n (which is {index % (1 << 64)}) "
            f">= this->size() (which is {n})",
        )
        return None

    def _tensor_named(self, name: str) -> Any:
        for t in self._inputs:
            if t._name == name:
                return t
        for la in self._layers:
            if la._out._name == name:
                return la._out
        return None

    def add_input(self, name: str, dtype: Any, shape: Any) -> Any:
        """None after an ERROR for a name already in use or a dimension below -1 (observed on the
        real TensorRT-RTX 1.7.1: "Parameter check failed, condition: inName !=
        knownInput->getName()" and "isValidDims(dims, false)"; the network keeps one input).
        More than ``Dims.MAX_DIMS`` (8) dimensions do not convert to Dims: TypeError."""
        dims = as_shape(shape)
        if len(dims) > 8:
            raise TypeError(
                "add_input(): incompatible function arguments. The following argument types are "
                "supported:\n    1. (self: INetworkDefinition, name: str, dtype: DataType, "
                f"shape: Dims) -> ITensor\n\nInvoked with: {name!r}, {dtype!r}, {shape!r}"
            )
        detail = ""
        if any(t._name == str(name) for t in self._inputs):
            detail = "Parameter check failed, condition: inName != knownInput->getName()."
        elif any(d < -1 for d in dims):
            detail = "Parameter check failed, condition: isValidDims(dims, false)."
        if detail:
            _api_error(self._ctl, self._builder._logger, "INetworkDefinition", "addInput", detail)
            return None
        t = self._C["ITensor"](self, str(name), dtype, dims)
        t._is_input = True
        self._inputs.append(t)
        return t

    def mark_output(self, tensor: Any) -> None:
        if tensor._is_input:
            detail = (
                f"Failed attempt to set a tensor {tensor._name} as network-level output. It was "
                "previously set as a network-level input. Tensor can't be both input and output "
                "at network level."
            )
        elif any(t is tensor for t in self._outputs):
            detail = (
                f"Failed attempt to set a tensor {tensor._name} as network-level output as it "
                "was already set as network-level output."
            )
        else:
            self._outputs.append(tensor)
            return
        _log(
            self._ctl,
            self._builder._logger,
            1,
            f"INetworkDefinition::markOutput: Error Code 4: API Usage Error ({detail})",
        )

    def unmark_output(self, tensor: Any) -> None:
        if not any(t is tensor for t in self._outputs):
            _api_error(
                self._ctl,
                self._builder._logger,
                "INetworkDefinition",
                "unmarkOutput",
                f"Failed attempt to unset a tensor {tensor._name} as a network-level output. "
                "It's currently not set as a network-level output.",
            )
            return
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
        """The output type: the builder's where it accepts the input types; otherwise BOOL for
        logical and comparison operations and the first input's type for the others, which is
        what the real TensorRT-RTX 1.7.1 reports at definition time (AND of two FLOAT tensors:
        BOOL; SUM of FLOAT and INT32: FLOAT); the build refuses such a layer.

        On TensorRT (not RTX) unequal ranks log an error and give None here. The real
        TensorRT-RTX 1.7.1 adds the layer and refuses the shape when the output's shape is read
        (module docstring)."""
        rel = self._ctl._rel
        if rel.flavor != "rtx":
            r1, r2 = len(input1._dims()), len(input2._dims())
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
        if out is None:
            bool_out = int(op) in EW_BOOL_ONLY or int(op) in EW_COMPARE
            out_dt = dt.BOOL if bool_out else input1._dtype
        else:
            out_dt = dt(out)
        return self._add("IElementWiseLayer", [input1, input2], out_dt, op)

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
