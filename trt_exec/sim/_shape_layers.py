"""Simulated shape-tensor layers of a network definition: ``IShapeLayer``, ``IShuffleLayer``
(reshape, by ``reshape_dims`` or by a shape tensor through ``set_input(1, tensor)``) and
``ISliceLayer`` (start/size/stride, each static or from a shape tensor through
``set_input(1|2|3, tensor)``), the ``INetworkDefinition`` methods that add them, and
``mark_output_for_shapes``.

Every release simulated has these classes and methods (8.6.1, 10.0.1, 10.16.1, 11.4.0 and RTX
1.7.1 manifests: ``add_shape``, ``add_shuffle``, ``add_slice``, ``set_input``,
``mark_output_for_shapes``). Their evaluation is in ``_shape_eval``.

Which tensors are shape tensors (TensorRT developer guide, "Execution Tensors vs. Shape
Tensors"; ``ITensor::isShapeTensor`` docs): the second input of IShuffleLayer and inputs 1-3 of
ISliceLayer must be shape tensors; the output of IShapeLayer is one. A network input used there
is a shape-tensor input of the engine: its values live in host memory.
"""

from __future__ import annotations

from typing import Any

from . import _releases as R
from ._base import _api_error, _Sim
from ._types import as_shape

__all__ = [
    "IShapeLayerImpl",
    "IShuffleLayerImpl",
    "ISliceLayerImpl",
    "NETWORK_METHODS",
    "shape_operands",
    "shape_dtypes",
]


class IShapeLayerImpl(_Sim):
    """``trt.IShapeLayer``: a 1-D tensor of the input's dimensions."""

    _PUBLIC = "IShapeLayer"
    _BASES = ("ILayer",)
    _RULES: dict[str, R.Rule] = {}
    _KIND = "shape"
    _TYPE = "Shape"

    def _params(self) -> tuple[Any, ...]:
        return ()


class IShuffleLayerImpl(_Sim):
    """``trt.IShuffleLayer`` as a reshape: ``reshape_dims`` or ``set_input(1, shape_tensor)``
    (the dynamic reshape of the IShuffleLayer docs; the second input overrides reshape_dims).
    Transposes are not simulated."""

    _PUBLIC = "IShuffleLayer"
    _BASES = ("ILayer",)
    _RULES: dict[str, R.Rule] = {}
    _KIND = "reshape"
    _TYPE = "Shuffle"

    @property
    def reshape_dims(self) -> Any:
        dims = self.__dict__.get("_reshape")
        return self._C["Dims"](dims if dims is not None else ())

    @reshape_dims.setter
    def reshape_dims(self, value: Any) -> None:
        self.__dict__["_reshape"] = as_shape(value)

    @property
    def zero_is_placeholder(self) -> bool:
        return bool(self.__dict__.get("_zero", True))

    @zero_is_placeholder.setter
    def zero_is_placeholder(self, value: bool) -> None:
        self.__dict__["_zero"] = bool(value)

    def set_input(self, index: int, tensor: Any) -> None:
        """Index 0 replaces the data input; index 1 sets the reshape-dimensions shape tensor."""
        _set_slot(self, index, tensor, 1)

    def _params(self) -> tuple[Any, ...]:
        dims = self.__dict__.get("_reshape")
        return (list(dims) if dims is not None else None, self.zero_is_placeholder)


class ISliceLayerImpl(_Sim):
    """``trt.ISliceLayer`` in the default mode (STRICT_BOUNDS); ``set_input(1|2|3, tensor)``
    takes the start, size or stride from a shape tensor (ISliceLayer docs)."""

    _PUBLIC = "ISliceLayer"
    _BASES = ("ILayer",)
    _RULES: dict[str, R.Rule] = {}
    _KIND = "slice"
    _TYPE = "Slice"

    def _get(self, key: str) -> Any:
        return self._C["Dims"](self.__dict__.get(key, ()))

    def _set(self, key: str, value: Any) -> None:
        self.__dict__[key] = as_shape(value)

    start = property(lambda self: self._get("_start"), lambda self, v: self._set("_start", v))
    shape = property(lambda self: self._get("_size"), lambda self, v: self._set("_size", v))
    stride = property(lambda self: self._get("_stride"), lambda self, v: self._set("_stride", v))

    def set_input(self, index: int, tensor: Any) -> None:
        """Index 0: the data; 1: start, 2: size, 3: stride, each a 1-D shape tensor."""
        _set_slot(self, index, tensor, 3)

    def _params(self) -> tuple[Any, ...]:
        slots = sorted(self.__dict__.get("_slots", {}))
        return (
            list(self.__dict__.get("_start", ())),
            list(self.__dict__.get("_size", ())),
            list(self.__dict__.get("_stride", ())),
            slots,
        )


def _set_slot(layer: Any, index: int, tensor: Any, last: int) -> None:
    index = int(index)
    if not 0 <= index <= last:
        _api_error(
            layer._ctl,
            layer._net._builder._logger,
            "ILayer",
            "setInput",
            f"Parameter check failed, condition: index {index} in [0, {last}]",
        )
        return
    if index == 0:
        layer._inputs[0] = tensor
        return
    slots = layer.__dict__.setdefault("_slots", {})
    slots[index] = tensor
    layer._inputs[1:] = [slots[k] for k in sorted(slots)]


def shape_dtypes(rel: R.Release) -> frozenset[str]:
    """DataTypes a shape tensor may have: INT32 on 8.x; INT32 and INT64 from 10.0 and on RTX
    (TensorRT 10.0 release notes: INT64 shape tensors; 8.6.1 has no DataType.INT64)."""
    if rel.flavor == "tensorrt" and rel.vt < (10,):
        return frozenset({"INT32"})
    return frozenset({"INT32", "INT64"})


def shape_operands(network: Any) -> list[Any]:
    """The tensors the network uses as shape tensors (second input of a shuffle, inputs 1-3 of a
    slice), in order of use."""
    found: list[Any] = []
    for layer in network._layers:
        if layer._KIND in ("reshape", "slice"):
            for t in layer._inputs[1:]:
                if not any(t is f for f in found):
                    found.append(t)
    return found


def _add_shape(self: Any, input: Any) -> Any:
    """IShapeLayer output type: INT32 through 8.x, INT64 from 10.0 and on RTX ("This layer sets
    the output to a 1D tensor of type Int64", IShapeLayer docs 10.x; Int32 in 8.x)."""
    dt = self._C["DataType"]
    rel = self._ctl._rel
    out = dt.INT32 if rel.flavor == "tensorrt" and rel.vt < (10,) else dt.INT64
    return self._add("IShapeLayer", [input], out)


def _add_shuffle(self: Any, input: Any) -> Any:
    return self._add("IShuffleLayer", [input], input._dtype)


def _add_slice(self: Any, input: Any, start: Any, shape: Any, stride: Any) -> Any:
    layer = self._add("ISliceLayer", [input], input._dtype)
    layer.start, layer.shape, layer.stride = start, shape, stride
    return layer


def _mark_output_for_shapes(self: Any, tensor: Any) -> bool:
    """Marks a shape tensor as a network output whose values TensorRT writes to host memory
    (``TensorLocation.HOST``; ``INetworkDefinition::markOutputForShapes``). The simulator takes
    the output of an IShapeLayer; anything else logs an error and returns False."""
    producer = tensor._producer
    if producer is None or producer._KIND != "shape":
        _api_error(
            self._ctl,
            self._builder._logger,
            "INetworkDefinition",
            "markOutputForShapes",
            f"Parameter check failed, condition: {tensor._name} is a shape tensor",
        )
        return False
    self.__dict__.setdefault("_host_outputs", set()).add(id(tensor))
    self.mark_output(tensor)
    return True


def _is_shape_tensor(self: Any) -> bool:
    """True for an IShapeLayer output and for a tensor used as a shape operand; reliable only
    once the network is complete (ITensor::isShapeTensor docs)."""
    if self._producer is not None and self._producer._KIND == "shape":
        return True
    return any(t is self for t in shape_operands(self._net))


NETWORK_METHODS = {
    "add_shape": _add_shape,
    "add_shuffle": _add_shuffle,
    "add_slice": _add_slice,
    "mark_output_for_shapes": _mark_output_for_shapes,
}
TENSOR_IS_SHAPE = property(_is_shape_tensor)


# --- the build phase -------------------------------------------------------------------------
def _set_shape_input(self: Any, input: str, min: Any, opt: Any, max: Any) -> None:
    """``IOptimizationProfile.set_shape_input``: the (min, opt, max) *values* of a shape-tensor
    input (setShapeValues). Like ``set_shape`` (pyCore.cpp), a refused selector raises
    RuntimeError; the simulator refuses values of different lengths."""
    vals = [tuple(int(v) for v in x) for x in (min, opt, max)]
    for label, v in zip(("min", "opt", "max"), vals):
        if len(v) != len(vals[0]):
            _api_error(
                self._ctl,
                self._builder._logger,
                "IOptimizationProfile",
                "setShapeValues",
                f"Parameter check failed, condition: {label} values of {input} have "
                f"{len(v)} elements, min has {len(vals[0])}",
            )
            raise RuntimeError(f"Shape provided for {label} is inconsistent with other shapes.")
    self.__dict__.setdefault("_values", {})[str(input)] = tuple(vals)


def _get_shape_input(self: Any, input: str) -> list[list[int]]:
    """[min, opt, max] values as lists, or [] when none were set (getShapeValues)."""
    vals = self.__dict__.get("_values", {}).get(str(input))
    return [] if vals is None else [list(v) for v in vals]


PROFILE_METHODS = {"set_shape_input": _set_shape_input, "get_shape_input": _get_shape_input}


def compile_shape_io(
    network: Any, profile_values: list[dict[str, Any]], fail: Any
) -> dict[str, Any]:
    """The Plan fields of the network's shape-tensor IO: ``shape_inputs``, ``host_outputs`` and
    ``profile_values`` (one dict per profile). ``fail(detail)`` raises the builder's error.

    A shape-tensor input must have a release's shape dtype, rank 0 or 1 with a static length,
    and values in every profile ("Network has dynamic or shape inputs, but no optimization
    profile has been defined" when there is no profile at all).
    """
    rel = network._ctl._rel
    allowed = shape_dtypes(rel)
    inputs = {id(t): t for t in network._inputs}
    shape_inputs = []
    for t in shape_operands(network):
        if t._producer is not None and t._producer._KIND == "shape":
            continue
        if id(t) not in inputs:
            fail(f"{t._name}: shape operands computed by other layers are not simulated")
        if t._dtype.name not in allowed:
            fail(
                f"{t._name}: a shape tensor must have type {' or '.join(sorted(allowed))}, "
                f"got {t._dtype.name}"
            )
        if len(t._shape) > 1 or any(d < 0 for d in t._shape):
            fail(f"{t._name}: a shape tensor must be 0-D or 1-D with a static length")
        shape_inputs.append(t._name)
    if shape_inputs and not profile_values:
        fail("Network has dynamic or shape inputs, but no optimization profile has been defined.")
    values = []
    for k, prof in enumerate(profile_values):
        got = {}
        for name in shape_inputs:
            if name not in prof:
                fail(f"{name}: shape input is missing values in profile {k}.")
            t = next(t for t in network._inputs if t._name == name)
            n = t._shape[0] if t._shape else 1
            if any(len(v) != n for v in prof[name]):
                fail(f"{name}: profile {k} gives {len(prof[name][0])} values, expected {n}.")
            got[name] = prof[name]
        values.append(got)
    host = network.__dict__.get("_host_outputs", set())
    return {
        "shape_inputs": frozenset(shape_inputs),
        "host_outputs": frozenset(t._name for t in network._outputs if id(t) in host),
        "profile_values": tuple(values),
    }


# --- the runtime -----------------------------------------------------------------------------
def context_values(ctx: Any) -> dict[str, tuple[int, ...] | None]:
    """The values of each shape-tensor input as the context sees them now (None: not given).

    Named-tensor API (8.5+): read from the host address given to ``set_tensor_address`` each
    time they are needed - "Data representing shape values is not copied until enqueueV3 is
    invoked" (IExecutionContext::setTensorAddress docs, 10.x; 8.5/8.6 say the pointer of a
    kHOST tensor "must point to a host buffer of sufficient size"). Bindings API (8.x): the
    values given to ``set_shape_input`` (setInputShapeBinding).
    """
    import numpy as np

    from .devices import host_array

    m = ctx._m
    out: dict[str, tuple[int, ...] | None] = {}
    given = ctx.__dict__.get("_shape_values", {})
    for name in m.shape_inputs:
        if name in given:
            out[name] = given[name]
            continue
        ptr = ctx._addr.get(name, 0)
        if not ptr:
            out[name] = None
            continue
        shape = m.shape[name]
        arr = host_array(ptr, shape, np.dtype(m.np_dtype[name]))
        out[name] = tuple(int(v) for v in arr.reshape(-1))
    return out


def check_values(ctx: Any, func: str, values: dict[str, tuple[int, ...] | None]) -> bool:
    """Every shape-tensor input has values, each within the active profile's [min, max]
    (logs an error and returns False otherwise, as allInputShapesSpecified / the profile check
    of enqueue do)."""
    bounds = ctx._plan.profile_values[ctx._profile] if ctx._plan.profile_values else {}
    for name, vals in values.items():
        if vals is None:
            return bool(
                ctx._err(
                    func,
                    "Parameter check failed, condition: allInputShapesSpecified. Values of "
                    f"shape tensor {name} are not specified",
                )
            )
        lo, _opt, hi = bounds[name]
        if len(vals) != len(lo) or not all(a <= v <= b for a, v, b in zip(lo, vals, hi)):
            return bool(
                ctx._err(
                    func,
                    f"Parameter check failed, condition: satisfyProfile. Values {list(vals)} of "
                    f"shape tensor {name} are outside profile {ctx._profile} "
                    f"([{list(lo)}, {list(hi)}])",
                )
            )
    return True


def set_shape_input(ctx: Any, binding: int, shape: Any) -> bool:
    """8.x ``IExecutionContext.set_shape_input(binding, shape)`` (setInputShapeBinding): the
    values of a shape-tensor input binding of the active profile, checked against it."""
    m = ctx._m
    binding = int(binding)
    if not 0 <= binding < len(m.binding_names) or binding // m.nio != ctx._profile:
        return bool(
            ctx._err(
                "setInputShapeBinding",
                f"Parameter check failed, condition: binding {binding} is an input binding of "
                f"the active profile {ctx._profile}",
            )
        )
    name = m.names[binding % m.nio]
    if name not in m.shape_inputs:
        return bool(
            ctx._err(
                "setInputShapeBinding",
                f"Parameter check failed, condition: {name} is a shape-tensor input binding",
            )
        )
    vals = tuple(int(v) for v in shape)
    if not check_values(ctx, "setInputShapeBinding", {name: vals}):
        return False
    ctx.__dict__.setdefault("_shape_values", {})[name] = vals
    ctx._oshapes = None
    return True


# --- the engine ------------------------------------------------------------------------------
def _profile_values(self: Any, func: str, profile_index: int, name: str) -> list[list[int]]:
    m = self._m
    if not 0 <= profile_index < m.n_prof or name not in m.shape_inputs:
        self._err(
            func,
            f"Parameter check failed, condition: {name!r} is a shape-tensor input and "
            f"profile index {profile_index} in [0, {m.n_prof})",
        )
        return []
    return [list(v) for v in self._plan.profile_values[profile_index][name]]


def _get_tensor_profile_values(self: Any, name: int, profile_index: str) -> list[list[int]]:
    """TensorRT 10.0+: [min, opt, max] values of a shape-tensor input. The binding's
    parameter names are swapped (10.0.1 to 11.4.0 and RTX manifests:
    ``get_tensor_profile_values(self, name: int, profile_index: str)``): the first argument
    is the profile index, the second the tensor name, so callers pass them positionally."""
    return _profile_values(self, "getProfileTensorValues", int(name), str(profile_index))


def _get_profile_shape_input(self: Any, profile_index: int, binding: Any) -> list[list[int]]:
    """8.x: [min, opt, max] values of a shape-tensor input binding (index or name)."""
    i = self._binding("getProfileShapeValues", binding)
    name = self._m.names[i % self._m.nio] if i >= 0 else ""
    return _profile_values(self, "getProfileShapeValues", int(profile_index), name)


ENGINE_METHODS = {
    "get_tensor_profile_values": _get_tensor_profile_values,
    "get_profile_shape_input": _get_profile_shape_input,
}
