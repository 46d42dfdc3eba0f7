"""Full implementations of the simulated TensorRT classes (every method of every release).

The factory (``_factory.py``) builds each release's real classes from these with
``type(name, bases, namespace)``, keeping only the public names that release has (``_RULES``),
so a name a release lacks is truly absent (``hasattr`` is False).

Inside a generated class, ``self._ctl`` is the module's control object (``mod._sim``) and
``self._C`` maps public class names to that module's generated classes.
"""

from __future__ import annotations

import math
import sys
import time
from typing import Any

import numpy as np

from . import _releases as R
from ._plan import (
    NP_DTYPES,
    Layer,
    Plan,
    PlanError,
    ShapeMismatch,
    TensorInfo,
    broadcast,
    elementwise_out_dtype,
    unary_out_dtype,
)
from ._types import as_shape
from .devices import DeviceError


class _Sim:
    """Typing-only base: the factory gives every generated class these attributes."""

    _ctl: Any
    _C: Any
    _PUBLIC_NAME: str
    _op: Any  # layers
    _out: Any  # layers
    # Per-release signatures of one method: [(rule, function)], first match wins (factory).
    _VARIANTS: dict[str, list[tuple[R.Rule, Any]]] = {}


_SEV_LETTER = {0: "F", 1: "E", 2: "W", 3: "I", 4: "V"}
_ALIGN = 256


def _log(ctl: Any, logger: Any, sev: int, msg: str) -> None:
    if sev <= 1:
        ctl.errors.append(msg)
    logger.log(ctl._sev[sev], msg)


def _api_error(ctl: Any, logger: Any, cls: str, func: str, detail: str) -> None:
    """Log an API-usage error in the release's own format (8.x: file::func, 10.x: Class::func)."""
    if ctl._rel.flavor == "tensorrt" and ctl._rel.vt < (10,):
        msg = f"3: [{cls}::{func}] Error Code 3: API Usage Error ({detail})"
    else:
        msg = f"{cls}::{func}: Error Code 3: API Usage Error ({detail})"
    _log(ctl, logger, 1, msg)


# ---------------------------------------------------------------------------------------------
# Logging (ILogger is subclassed by users; TensorRT calls self.log(severity, msg)).
class ILoggerImpl(_Sim):
    """``trt.ILogger``: subclass it, call ``ILogger.__init__(self)``, implement ``log``.

    Like pybind11, constructing a subclass whose ``__init__`` skipped ``ILogger.__init__`` raises
    TypeError, and calling the base ``log`` raises RuntimeError (pure virtual).
    """

    _PUBLIC = "ILogger"
    _RULES: dict[str, R.Rule] = {}

    def __init__(self) -> None:
        self._tramp_init = True

    def log(self, severity: Any, msg: str) -> None:
        raise RuntimeError('Tried to call pure virtual function "ILogger::log"')


class LoggerImpl(_Sim):
    """``trt.Logger(min_severity=Logger.WARNING)``: prints messages at or above min_severity to
    stderr as ``[MM/DD/YYYY-HH:MM:SS] [TRT] [E] msg`` (the bindings' default logger)."""

    _PUBLIC = "Logger"
    _BASES = ("ILogger",)
    _RULES: dict[str, R.Rule] = {}

    def __init__(self, min_severity: Any = None) -> None:
        self._tramp_init = True
        self._min = min_severity if min_severity is not None else self._ctl._sev[2]

    @property
    def min_severity(self) -> Any:
        return self._min

    @min_severity.setter
    def min_severity(self, value: Any) -> None:
        self._min = value

    def log(self, severity: Any, msg: str) -> None:
        if int(severity) <= int(self._min):
            stamp = time.strftime("%m/%d/%Y-%H:%M:%S")
            print(f"[{stamp}] [TRT] [{_SEV_LETTER.get(int(severity), '?')}] {msg}", file=sys.stderr)


# ---------------------------------------------------------------------------------------------
# Builder side.
class IHostMemoryImpl(_Sim, bytes):
    """``trt.IHostMemory``: the serialized plan, readable through the buffer protocol
    (``bytes(m)``, ``memoryview(m)``, ``m.nbytes``). A bytes subclass whose str-like methods and
    ``len()`` are hidden, as the real class has neither."""

    _PUBLIC = "IHostMemory"
    _RULES: dict[str, R.Rule] = {}

    @property
    def nbytes(self) -> int:
        return bytes.__len__(self)

    @property
    def dtype(self) -> Any:
        return self._C["DataType"].UINT8 if hasattr(self._C["DataType"], "UINT8") else None


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
        if not 0 <= index < len(self._layers):
            raise IndexError(f"layer index {index} out of range")
        return self._layers[index]

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
            return t._shape
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


class IOptimizationProfileImpl(_Sim):
    """``trt.IOptimizationProfile``.

    ``set_shape`` calls setDimensions for min, opt and max and raises RuntimeError ("Shape
    provided for min is inconsistent with other shapes.") at the first one it refuses (pyCore.cpp
    of every release). setDimensions refuses:

    - negative dimensions, logging an Error Code 3 (every release; observed on the real
      TensorRT-RTX 1.7.1);
    - on TensorRT (not RTX), a rank that differs from a selector already set for the input (the
      setDimensions docs, 8.x to 11.x, give it as the example of a detected inconsistency). The
      real TensorRT-RTX 1.7.1 accepts it and refuses the profile at isValid.

    The order min <= opt <= max is not checked there on any release but by isValid, which
    ``bool(profile)`` and ``IBuilderConfig.add_optimization_profile`` call: the real
    TensorRT-RTX 1.7.1 returns None from ``set_shape((4, 4), (2, 4), (1, 4))`` without logging;
    on TensorRT 10.x, pytorch/TensorRT#4610 shows opt > max passing set_shape and failing the
    build; on 8.x/9.x, NVIDIA/Stable-Diffusion-WebUI-TensorRT#57 shows it refused by isValid
    ("4: Specified optimization profiles must satisfy MIN<=OPT<=MAX.") after set_shape.
    """

    _PUBLIC = "IOptimizationProfile"
    _RULES: dict[str, R.Rule] = {}

    def __init__(self, builder: Any) -> None:
        self._builder = builder
        self._shapes: dict[str, list[tuple[int, ...] | None]] = {}

    def _set(self, name: str, sel: int, dims: tuple[int, ...]) -> bool:
        rel = self._ctl._rel
        cur = self._shapes.setdefault(name, [None, None, None])
        detail = ""
        if any(d < 0 for d in dims):
            detail = (
                "Parameter check failed, condition: std::all_of(dims.d, dims.d + dims.nbDims, "
                "[](int32_t x) noexcept { return x >= 0; })."
            )
        elif rel.flavor != "rtx":
            for k, other in enumerate(cur):
                if other is not None and k != sel and len(other) != len(dims):
                    detail = (
                        f"Parameter check failed, condition: rank {len(dims)} of "
                        f"{('min', 'opt', 'max')[sel]} dimensions of input {name} equals rank "
                        f"{len(other)} of its {('min', 'opt', 'max')[k]} dimensions."
                    )
                    break
        if detail:
            _api_error(
                self._ctl, self._builder._logger, "IOptimizationProfile", "setDimensions", detail
            )
            return False
        cur[sel] = dims
        return True

    def set_shape(self, input: str, min: Any, opt: Any, max: Any) -> None:
        for sel, (label, dims) in enumerate((("min", min), ("opt", opt), ("max", max))):
            if not self._set(str(input), sel, as_shape(dims)):
                raise RuntimeError(f"Shape provided for {label} is inconsistent with other shapes.")

    def get_shape(self, input: str) -> list[Any]:
        cur = self._shapes.get(str(input))
        if cur is None or any(c is None for c in cur):
            return []
        return [self._C["Dims"](c) for c in cur]

    def _is_valid(self, logger: Any) -> bool:
        """isValid: every input set has min, opt and max of one rank with min <= opt <= max;
        otherwise an Error Code 4 is logged (RTX 1.7.1's message, observed; 8.x: the shorter
        one of Stable-Diffusion-WebUI-TensorRT#57)."""
        bad = []
        for name, (lo, opt, hi) in self._shapes.items():
            if (
                lo is None
                or opt is None
                or hi is None
                or not len(lo) == len(opt) == len(hi)
                or not all(a <= b <= c for a, b, c in zip(lo, opt, hi))
            ):
                bad.append(name)
        if not bad:
            return True
        rel = self._ctl._rel
        if rel.flavor == "tensorrt" and rel.vt < (10,):
            msg = "4: Specified optimization profiles must satisfy MIN<=OPT<=MAX."
        else:
            msg = (
                "IOptimizationProfile::isValid: Error Code 4: API Usage Error (Invalid "
                f"optimization profiles for input tensors {', '.join(bad)}, please ensure that "
                "the optimization profiles satisfy MIN<=OPT<=MAX.)"
            )
        _log(self._ctl, logger, 1, msg)
        return False

    def __bool__(self) -> bool:
        """``bool(profile)`` is isValid (the bindings' ``__bool__``; Polygraphy checks it)."""
        return self._is_valid(self._builder._logger)


class IBuilderConfigImpl(_Sim):
    """``trt.IBuilderConfig`` (flags, memory pools, profiles; RTX compute capabilities)."""

    _PUBLIC = "IBuilderConfig"
    _RULES = {
        "max_workspace_size": R.PRE10,
        "builder_optimization_level": R.V8_6,
        "num_compute_capabilities": R.RTX_ONLY,
        "set_compute_capability": R.RTX_ONLY,
        "get_compute_capability": R.RTX_ONLY,
    }

    def __init__(self, builder: Any) -> None:
        self._builder = builder
        self._flags = 0
        self._pools: dict[int, int] = {}
        self._profiles: list[Any] = []
        self._ccs: list[Any] = []
        self._opt_level = 3
        self.profiling_verbosity = self._C["ProfilingVerbosity"].LAYER_NAMES_ONLY

    def set_flag(self, flag: Any) -> None:
        self._flags |= 1 << int(flag)

    def clear_flag(self, flag: Any) -> None:
        self._flags &= ~(1 << int(flag))

    def get_flag(self, flag: Any) -> bool:
        return bool(self._flags & (1 << int(flag)))

    @property
    def flags(self) -> int:
        return self._flags

    @flags.setter
    def flags(self, value: int) -> None:
        self._flags = int(value)

    def set_memory_pool_limit(self, pool: Any, pool_size: int) -> None:
        self._pools[int(pool)] = int(pool_size)

    def get_memory_pool_limit(self, pool: Any) -> int:
        return self._pools.get(int(pool), 1 << 40)

    @property
    def max_workspace_size(self) -> int:
        return self._pools.get(0, 1 << 40)

    @max_workspace_size.setter
    def max_workspace_size(self, value: int) -> None:
        self._pools[0] = int(value)

    @property
    def builder_optimization_level(self) -> int:
        return self._opt_level

    @builder_optimization_level.setter
    def builder_optimization_level(self, value: int) -> None:
        self._opt_level = int(value)

    def add_optimization_profile(self, profile: Any) -> int:
        """The profile's index, or -1 for an invalid profile, after logging isValid's error and
        "Parameter check failed, condition: profile->isValid()" (real TensorRT-RTX 1.7.1)."""
        if not profile._is_valid(self._builder._logger):
            _api_error(
                self._ctl,
                self._builder._logger,
                "IBuilderConfig",
                "addOptimizationProfile",
                "Parameter check failed, condition: profile->isValid()",
            )
            return -1
        self._profiles.append({k: tuple(v) for k, v in profile._shapes.items()})
        return len(self._profiles) - 1

    @property
    def num_optimization_profiles(self) -> int:
        return len(self._profiles)

    @property
    def num_compute_capabilities(self) -> int:
        return len(self._ccs)

    @num_compute_capabilities.setter
    def num_compute_capabilities(self, value: int) -> None:
        n = int(value)
        self._ccs = (self._ccs + [None] * n)[:n]

    def set_compute_capability(self, compute_capability: Any, index: int) -> bool:
        if not 0 <= index < len(self._ccs):
            _api_error(
                self._ctl,
                self._builder._logger,
                "IBuilderConfig",
                "setComputeCapability",
                f"Parameter check failed, condition: index {index} < "
                f"num_compute_capabilities {len(self._ccs)}",
            )
            return False
        self._ccs[index] = compute_capability
        return True

    def get_compute_capability(self, index: int) -> Any:
        if 0 <= index < len(self._ccs) and self._ccs[index] is not None:
            return self._ccs[index]
        return self._C["ComputeCapability"].NONE


class BuilderImpl(_Sim):
    """``trt.Builder(logger)``."""

    _PUBLIC = "Builder"
    _RULES = {
        "build_engine": R.PRE10,
        "max_batch_size": R.PRE10,
        "platform_has_fast_fp16": R.PRE11,
    }

    def __init__(self, logger: Any) -> None:
        _check_logger(self, logger)
        self._logger = logger
        self._max_batch = 1

    @property
    def logger(self) -> Any:
        return self._logger

    @property
    def max_batch_size(self) -> int:
        return self._max_batch

    @max_batch_size.setter
    def max_batch_size(self, value: int) -> None:
        self._max_batch = int(value)

    @property
    def platform_has_fast_fp16(self) -> bool:
        return True

    def create_network(self, flags: int = 0) -> Any:
        return self._C["INetworkDefinition"](self, flags)

    def create_builder_config(self) -> Any:
        return self._C["IBuilderConfig"](self)

    def create_optimization_profile(self) -> Any:
        return self._C["IOptimizationProfile"](self)

    def build_serialized_network(self, network: Any, config: Any) -> Any:
        """Returns IHostMemory, or None after logging an ERROR for an invalid network (and, on
        TensorRT-RTX 1.7.1, for one whose outputs depend on NonZero: ``_refuse_rtx_non_zero``)."""
        ctl = self._ctl
        if ctl._failures and ctl._take("build_serialized_network", self._logger):
            return None
        try:
            plan = _compile(self, network, config)
        except _BuildError as exc:
            _log(
                ctl,
                self._logger,
                1,
                exc.logged or f"4: [network.cpp::validate] Error Code 4: Internal Error ({exc})",
            )
            return None
        return self._C["IHostMemory"](plan.to_bytes())

    def build_engine(self, network: Any, config: Any) -> Any:
        blob = self.build_serialized_network(network, config)
        if blob is None:
            return None
        return self._C["Runtime"](self._logger).deserialize_cuda_engine(blob)


class _BuildError(Exception):
    """The builder refuses the network; ``logged`` replaces the default validate message."""

    def __init__(self, detail: str, logged: str = "") -> None:
        super().__init__(detail)
        self.logged = logged


def _refuse_rtx_non_zero(network: Any, layers: list[Layer], outputs: list[str]) -> None:
    """TensorRT-RTX 1.7.1 builds no network whose outputs depend on an INonZeroLayer.

    Observed with the real ``tensorrt_rtx`` 1.7.1 building on a CPU with an explicit compute
    capability (``num_compute_capabilities = 1``; SM80, SM89 and SM120 alike, INT32 or INT64
    indices, static or dynamic shapes): build_serialized_network logs the error below and
    returns None. A NonZero layer that feeds no output is removed first and builds. Whether a
    build on an RTX GPU behaves the same was not observable here (no such GPU).
    """
    needed = set(outputs)
    for la in reversed(layers):
        if la.output in needed:
            needed.update(la.inputs)
    for la in layers:
        if la.kind == "non_zero" and la.output in needed:
            raise _BuildError(
                f"{la.name}: NonZero is not built by TensorRT-RTX",
                logged=(
                    "[tacticSupply.cpp::getSupportedFormats::48] Error Code 2: Internal Error "
                    f"(Assertion !layerImpls.empty() failed. {la.name} has no runners that "
                    "implement it In getSupportedFormats at "
                    "/_src/optimizer/builder/tacticSupply.cpp:48)"
                ),
            )


def _dims_str(d: tuple[int, ...]) -> str:
    return "[" + ",".join(map(str, d)) + "]"


def _compile(builder: Any, network: Any, config: Any) -> Plan:
    ctl = builder._ctl
    rel = ctl._rel
    if network._implicit:
        raise _BuildError(
            "Network was created without NetworkDefinitionCreationFlag."
            "EXPLICIT_BATCH: implicit-batch networks are not simulated"
        )
    if not network._outputs:
        raise _BuildError("Network must have at least one output")
    names = [t._name for t in network._inputs]
    if len(set(names)) != len(names):
        raise _BuildError(f"duplicate input names {names}")
    inputs = []
    for t in network._inputs:
        if int(t._dtype) not in NP_DTYPES:
            raise _BuildError(f"{t._name}: data type {t._dtype} is not supported by the simulator")
        if any(d == 0 or d < -1 for d in t._shape):
            raise _BuildError(f"{t._name}: invalid dimensions {_dims_str(t._shape)}")
        inputs.append(TensorInfo(t._name, int(t._dtype), t._shape))
    dynamic = [t for t in inputs if -1 in t.shape]
    profiles = list(config._profiles)
    if dynamic and not profiles:
        raise _BuildError(
            "Network has dynamic or shape inputs, but no optimization profile has been defined."
        )
    if not profiles:
        profiles = [{}]
    final_profiles = []
    for k, prof in enumerate(profiles):
        out: dict[str, tuple[tuple[int, ...], ...]] = {}
        for t in inputs:
            bounds = prof.get(t.name)
            if bounds is None:
                if -1 in t.shape:
                    raise _BuildError(
                        f"{t.name}: dynamic input is missing dimensions in profile {k}."
                    )
                bounds = (t.shape, t.shape, t.shape)
            for sel, s in zip(("min", "opt", "max"), bounds):
                if len(s) != len(t.shape):
                    raise _BuildError(
                        f"{t.name}: number of dimensions is {len(s)} for {sel} "
                        f"dimensions in profile {k}, expected {len(t.shape)}."
                    )
                for i, (d, nd) in enumerate(zip(s, t.shape)):
                    if nd != -1 and d != nd:
                        raise _BuildError(
                            f"{t.name}: for dimension number {i} in profile {k} "
                            f"does not match network definition (got {sel}={d}, "
                            f"network={nd})"
                        )
                    if d <= 0:
                        raise _BuildError(
                            f"{t.name}: {sel} dimension {i} in profile {k} must "
                            f"be positive, got {d}"
                        )
            out[t.name] = tuple(tuple(s) for s in bounds)
        final_profiles.append(out)
    # Layers in creation order (TensorRT topologically sorts; creation order is already sorted).
    tensor_ids: dict[int, str] = {id(t): t._name for t in network._inputs}
    shapes: dict[str, tuple[int, ...]] = {t.name: t.shape for t in inputs}
    layers: list[Layer] = []
    seen_names = set(shapes)
    for layer in network._layers:
        ins = []
        for t in layer._inputs:
            if id(t) not in tensor_ids:
                raise _BuildError(
                    f"{layer._name}: input tensor {t._name} is not produced by the network"
                )
            ins.append(tensor_ids[id(t)])
        kind = layer._KIND
        dtypes = [int(t._dtype) for t in layer._inputs]
        op = int(layer._op) if layer._op is not None else -1
        if kind == "elementwise":
            odt = elementwise_out_dtype(op, dtypes[0], dtypes[1])
            if odt is None:
                raise _BuildError(
                    f"{layer._name}: ElementWise operation {layer._op.name} does "
                    f"not support input types {layer._inputs[0]._dtype.name} and "
                    f"{layer._inputs[1]._dtype.name}"
                )
        elif kind == "unary":
            odt = unary_out_dtype(op, dtypes[0])
            if odt is None:
                raise _BuildError(
                    f"{layer._name}: Unary operation {layer._op.name} does not "
                    f"support input type {layer._inputs[0]._dtype.name}"
                )
        else:
            odt = int(layer._out._dtype)
        if odt not in NP_DTYPES:
            raise _BuildError(f"{layer._name}: output type not supported by the simulator")
        oname = layer._out._name
        if oname in seen_names:
            raise _BuildError(f"{layer._name}: tensor name {oname} is used twice")
        seen_names.add(oname)
        la = Layer(kind, layer._name, tuple(ins), oname, op, odt)
        try:
            shapes[oname] = la.out_shape([shapes[i] for i in ins])
        except ShapeMismatch as exc:
            raise _BuildError(f"{layer._name}: {exc}") from None
        tensor_ids[id(layer._out)] = oname
        layers.append(la)
    outputs = []
    for t in network._outputs:
        if id(t) not in tensor_ids or t._is_input:
            raise _BuildError(f"output {t._name} is not produced by a layer of the network")
        name = tensor_ids[id(t)]
        outputs.append(
            TensorInfo(name, next(la.dtype for la in layers if la.output == name), shapes[name])
        )
    if rel.flavor == "rtx":
        _refuse_rtx_non_zero(network, layers, [t.name for t in outputs])
    ccs = tuple(int(c) for c in config._ccs if c is not None)
    return Plan(
        rel.flavor,
        rel.version,
        network._name,
        tuple(inputs),
        tuple(outputs),
        tuple(layers),
        tuple(final_profiles),
        ccs,
    )


def _check_logger(obj: Any, logger: Any) -> None:
    if not isinstance(logger, obj._C["ILogger"]):
        raise TypeError(
            f"__init__(): incompatible constructor arguments. The following argument "
            f"types are supported:\n    1. ({obj._PUBLIC_NAME}, logger: ILogger)\n\n"
            f"Invoked with: {logger!r}"
        )


# ---------------------------------------------------------------------------------------------
# Runtime side.
class RuntimeImpl(_Sim):
    """``trt.Runtime(logger)``."""

    _PUBLIC = "Runtime"
    _RULES = {
        "engine_host_code_allowed": R.V8_6,
        "max_threads": R.V8_6,
    }

    def __init__(self, logger: Any) -> None:
        _check_logger(self, logger)
        self._logger = logger
        self._max_threads = 1
        self._host_code = False

    @property
    def max_threads(self) -> int:
        return self._max_threads

    @max_threads.setter
    def max_threads(self, value: int) -> None:
        self._max_threads = int(value)

    @property
    def engine_host_code_allowed(self) -> bool:
        return self._host_code

    @engine_host_code_allowed.setter
    def engine_host_code_allowed(self, value: bool) -> None:
        self._host_code = bool(value)

    @property
    def logger(self) -> Any:
        return self._logger

    def deserialize_cuda_engine(self, serialized_engine: Any) -> Any:
        """Returns ICudaEngine, or None after logging ERRORs, for bad or foreign bytes.

        Foreign plans get TensorRT's message: "The engine plan file is not compatible with this
        version of TensorRT, expecting library version X got Y, please rebuild."
        """
        ctl = self._ctl
        blob = bytes(memoryview(serialized_engine))
        if ctl._failures and ctl._take("deserialize_cuda_engine", self._logger):
            return None
        if not blob:
            _api_error(
                ctl,
                self._logger,
                "IRuntime",
                "deserializeCudaEngine",
                "Parameter check failed, condition: (blob) != nullptr && size > 0",
            )
            return None
        _log(ctl, self._logger, 3, f"Loaded engine size: {len(blob) / 2**20:.0f} MiB")
        try:
            flavor, version = Plan.peek_version(blob)
            mine = ctl._rel
            if (flavor, version) != (mine.flavor, mine.version):
                _log(
                    ctl,
                    self._logger,
                    1,
                    f"6: The engine plan file is not compatible with this version of "
                    f"{_product(mine.flavor)}, expecting library version {mine.version} got "
                    f"{version}{'' if flavor == mine.flavor else f' ({_product(flavor)})'}, "
                    f"please rebuild.",
                )
                _log(
                    ctl,
                    self._logger,
                    1,
                    "2: [engine.cpp::deserializeEngine] Error Code 2: "
                    "Internal Error (Assertion engine->deserialize() "
                    "failed. )",
                )
                return None
            plan = Plan.from_bytes(blob)
        except PlanError as exc:
            _log(
                ctl,
                self._logger,
                1,
                f"1: [stdArchiveReader.cpp::StdArchiveReader] Error Code 1: Serialization ({exc})",
            )
            _log(
                ctl,
                self._logger,
                1,
                "4: [runtime.cpp::deserializeCudaEngine] Error Code 4: "
                "Internal Error (Engine deserialization failed.)",
            )
            return None
        return self._C["ICudaEngine"](self, plan, blob)


def _product(flavor: str) -> str:
    return "TensorRT-RTX" if flavor == "rtx" else "TensorRT"


class _EngineMeta:
    """Per-engine metadata computed once at deserialization (the hot path only reads it)."""

    def __init__(self, ctl: Any, plan: Plan) -> None:
        C = ctl._classes
        dt = C["DataType"]
        self.io = tuple(plan.inputs) + tuple(plan.outputs)
        self.names = tuple(t.name for t in self.io)
        self.index = {n: i for i, n in enumerate(self.names)}
        self.n_in = len(plan.inputs)
        self.in_names = self.names[: self.n_in]
        self.out_names = self.names[self.n_in :]
        self.inputs = {t.name: t for t in plan.inputs}
        self.outputs = {t.name: t for t in plan.outputs}
        self.np_dtype = {t.name: NP_DTYPES[t.dtype] for t in self.io}
        self.trt_dtype = {t.name: dt(t.dtype) for t in self.io}
        self.shape = {t.name: t.shape for t in self.io}
        self.n_prof = len(plan.profiles)
        # bounds[k][name] = (min, max)
        self.bounds = [{n: (s[0], s[2]) for n, s in p.items()} for p in plan.profiles]
        self.dd = plan.data_dependent
        nio = len(self.io)
        self.binding_names = [
            n if k == 0 else f"{n} [profile {k}]" for k in range(self.n_prof) for n in self.names
        ]
        self.binding_index = {n: i for i, n in enumerate(self.binding_names)}
        self.nio = nio
        sizes = []
        for p in plan.profiles:
            maxes = {n: s[2] for n, s in p.items()}
            shapes = plan.infer(maxes)
            inner = [la.output for la in plan.layers if la.output not in self.outputs]
            total = sum(
                _aligned(math.prod(max(d, 1) for d in shapes[n]) * NP_DTYPES[la.dtype].itemsize)
                for n in inner
                for la in plan.layers
                if la.output == n
            )
            sizes.append(_ALIGN * 2 + total)
        self.mem_sizes = sizes


def _aligned(n: int) -> int:
    return (n + _ALIGN - 1) // _ALIGN * _ALIGN


class ICudaEngineImpl(_Sim):
    """``trt.ICudaEngine``. Bindings API through 8.x; named-tensor API from 8.5 (TENSORRT_FACTS).

    With P profiles there are ``num_io_tensors * P`` bindings; binding ``k * nio + i`` is IO tensor
    ``i`` of profile ``k`` and, for ``k > 0``, is named ``"<name> [profile k]"``.
    """

    _PUBLIC = "ICudaEngine"
    _RULES = {
        "num_bindings": R.BINDINGS,
        "get_binding_name": R.BINDINGS,
        "get_binding_index": R.BINDINGS,
        "get_binding_shape": R.BINDINGS,
        "get_binding_dtype": R.BINDINGS,
        "binding_is_input": R.BINDINGS,
        "get_profile_shape": R.BINDINGS,
        "is_shape_binding": R.BINDINGS,
        "is_execution_binding": R.BINDINGS,
        "get_location": R.BINDINGS,
        "max_batch_size": R.BINDINGS,
        "__len__": R.BINDINGS,
        "has_implicit_batch_dimension": R.PRE11,
        "device_memory_size": R.PRE11,
        "get_device_memory_size_for_profile": R.V10_PRE11,
        "device_memory_size_v2": R.V10_1,
        "get_device_memory_size_for_profile_v2": R.V10_1,
        "create_execution_context_without_device_memory": R.PRE11,
        "create_runtime_config": R.V10_11,
        "num_io_tensors": R.NAMED,
        "get_tensor_name": R.NAMED,
        "get_tensor_mode": R.NAMED,
        "get_tensor_shape": R.NAMED,
        "get_tensor_dtype": R.NAMED,
        "get_tensor_location": R.NAMED,
        "get_tensor_profile_shape": R.NAMED,
        "is_shape_inference_io": R.NAMED,
        "get_tensor_format": R.NAMED,
        "get_tensor_format_desc": R.NAMED,
        "get_tensor_bytes_per_component": R.NAMED,
        "get_tensor_components_per_element": R.NAMED,
        "get_tensor_vectorized_dim": R.NAMED,
        "num_aux_streams": R.V8_6,
        "get_aliased_input_tensor": R.V10_16,
    }

    def __init__(self, runtime: Any, plan: Plan, blob: bytes) -> None:
        self._runtime = runtime
        self._logger = runtime._logger
        self._plan = plan
        self._blob = blob
        self._m = _EngineMeta(self._ctl, plan)

    def _err(self, func: str, detail: str) -> None:
        _api_error(self._ctl, self._logger, "ICudaEngine", func, detail)

    def _dims(self, d: tuple[int, ...] | None) -> Any:
        out = self._C["Dims"](d or ())
        if d is None:
            out._d = None
        return out

    # -- common ---------------------------------------------------------------------------
    @property
    def name(self) -> str:
        return self._plan.name

    @property
    def num_layers(self) -> int:
        return len(self._plan.layers)

    @property
    def num_optimization_profiles(self) -> int:
        return self._m.n_prof

    @property
    def has_implicit_batch_dimension(self) -> bool:
        return False

    @property
    def refittable(self) -> bool:
        return False

    @property
    def device_memory_size(self) -> int:
        return max(self._m.mem_sizes)

    @property
    def device_memory_size_v2(self) -> int:
        return max(self._m.mem_sizes)

    def get_device_memory_size_for_profile(self, profile_index: int) -> int:
        if not 0 <= profile_index < self._m.n_prof:
            self._err(
                "getDeviceMemorySizeForProfile",
                f"profile index {profile_index} out of range [0, {self._m.n_prof})",
            )
            return 0
        return self._m.mem_sizes[profile_index]

    get_device_memory_size_for_profile_v2 = get_device_memory_size_for_profile

    def serialize(self) -> Any:
        return self._C["IHostMemory"](self._blob)

    def _new_context(self, strategy: Any) -> Any:
        ctl = self._ctl
        if ctl._failures and ctl._take("create_execution_context", self._logger):
            return None
        user = strategy is not None and int(strategy) == 2  # USER_MANAGED
        return self._C["IExecutionContext"](self, user)

    def get_aliased_input_tensor(self, name: str) -> Any:
        """The input sharing memory with output ``name`` (KVCacheUpdate and the like), or None
        (docstring of the 10.16.1 / 11.4.0 / RTX 1.7.1 bindings). No simulated layer aliases
        its input, so this is always None."""
        return None

    def create_execution_context_without_device_memory(self) -> Any:
        return self._C["IExecutionContext"](self, True)

    def create_runtime_config(self) -> Any:
        return self._C["IRuntimeConfig"]()

    def __getitem__(self, key: Any) -> Any:
        """8.x: int -> binding name, str -> binding index; 10.x: int -> tensor name."""
        bindings = hasattr(self, "num_bindings")
        if isinstance(key, str) and bindings:
            return self.get_binding_index(key)
        if isinstance(key, int):
            return self.get_binding_name(key) if bindings else self.get_tensor_name(key)
        raise TypeError(f"invalid key {key!r}")

    def __len__(self) -> int:
        return len(self._m.binding_names)

    @property
    def engine_capability(self) -> Any:
        return self._C["EngineCapability"].STANDARD

    @property
    def num_aux_streams(self) -> int:
        return 0

    @property
    def profiling_verbosity(self) -> Any:
        return self._C["ProfilingVerbosity"].LAYER_NAMES_ONLY

    @property
    def error_recorder(self) -> Any:
        return self.__dict__.get("_recorder")

    @error_recorder.setter
    def error_recorder(self, value: Any) -> None:
        self.__dict__["_recorder"] = value

    def get_tensor_format(self, name: str, profile_index: int = 0) -> Any:
        self._known("getTensorFormat", name)
        return self._C["TensorFormat"].LINEAR

    def get_tensor_format_desc(self, name: str, profile_index: int = 0) -> str:
        self._known("getTensorFormatDesc", name)
        return "Row major linear format"

    def get_tensor_bytes_per_component(self, name: str, profile_index: int = 0) -> int:
        if not self._known("getTensorBytesPerComponent", name):
            return -1
        return int(self._m.np_dtype[name].itemsize)

    def get_tensor_components_per_element(self, name: str, profile_index: int = 0) -> int:
        return 1 if self._known("getTensorComponentsPerElement", name) else -1

    def get_tensor_vectorized_dim(self, name: str, profile_index: int = 0) -> int:
        self._known("getTensorVectorizedDim", name)
        return -1

    # -- named tensors (8.5+) -------------------------------------------------------------
    @property
    def num_io_tensors(self) -> int:
        return self._m.nio

    def get_tensor_name(self, index: int) -> Any:
        names = self._m.names
        if not 0 <= index < len(names):
            self._err(
                "getIOTensorName",
                f"Parameter check failed, condition: index {index} in [0, {len(names)})",
            )
            return None
        return names[index]

    def get_tensor_mode(self, name: str) -> Any:
        m = self._m
        mode = self._C["TensorIOMode"]
        if name in m.inputs:
            return mode.INPUT
        if name in m.outputs:
            return mode.OUTPUT
        return mode.NONE

    def _known(self, func: str, name: str) -> bool:
        if name in self._m.index:
            return True
        self._err(
            func,
            f"Parameter check failed, condition: tensor name {name!r} is not an IO "
            f"tensor of the engine",
        )
        return False

    def get_tensor_shape(self, name: str) -> Any:
        if not self._known("getTensorShape", name):
            return self._dims(None)
        return self._dims(self._m.shape[name])

    def get_tensor_dtype(self, name: str) -> Any:
        if not self._known("getTensorDataType", name):
            return self._C["DataType"].FLOAT
        return self._m.trt_dtype[name]

    def get_tensor_location(self, name: str) -> Any:
        self._known("getTensorLocation", name)
        return self._C["TensorLocation"].DEVICE

    def is_shape_inference_io(self, name: str) -> bool:
        self._known("isShapeInferenceIO", name)
        return False

    def get_tensor_profile_shape(self, name: str, profile_index: int) -> list[Any]:
        """[min, opt, max] Dims of an input in a profile (pyCore get_tensor_profile_shape)."""
        m = self._m
        if not 0 <= profile_index < m.n_prof or name not in m.inputs:
            self._err(
                "getProfileShape",
                f"Parameter check failed, condition: {name!r} is an "
                f"input and profile index {profile_index} in [0, {m.n_prof})",
            )
            return [self._dims(None)] * 3
        return [self._dims(s) for s in self._plan.profiles[profile_index][name]]

    # -- bindings (<= 8.x) ----------------------------------------------------------------
    @property
    def num_bindings(self) -> int:
        return len(self._m.binding_names)

    @property
    def max_batch_size(self) -> int:
        return 1

    def _binding(self, func: str, b: Any) -> int:
        m = self._m
        if isinstance(b, str):
            idx = m.binding_index.get(b, -1)
        else:
            idx = int(b)
        if not 0 <= idx < len(m.binding_names):
            self._err(
                func,
                f"Parameter check failed, condition: bindingIndex {b!r} in "
                f"[0, {len(m.binding_names)})",
            )
            return -1
        return idx

    def get_binding_name(self, index: int) -> Any:
        i = self._binding("getBindingName", index)
        return None if i < 0 else self._m.binding_names[i]

    def get_binding_index(self, name: str) -> int:
        return self._m.binding_index.get(name, -1)

    def binding_is_input(self, index: Any) -> bool:
        i = self._binding("bindingIsInput", index)
        return i >= 0 and i % self._m.nio < self._m.n_in

    def get_binding_shape(self, index: Any) -> Any:
        i = self._binding("getBindingDimensions", index)
        return self._dims(None if i < 0 else self._m.shape[self._m.names[i % self._m.nio]])

    def get_binding_dtype(self, index: Any) -> Any:
        i = self._binding("getBindingDataType", index)
        return self._m.trt_dtype[self._m.names[max(i, 0) % self._m.nio]]

    def is_shape_binding(self, binding: int) -> bool:
        """8.x: parameter ``binding`` (8.6.1 manifest)."""
        self._binding("isShapeBinding", binding)
        return False

    def is_execution_binding(self, binding: int) -> bool:
        """8.x: parameter ``binding`` (8.6.1 manifest)."""
        return self._binding("isExecutionBinding", binding) >= 0

    def get_location(self, index: Any) -> Any:
        self._binding("getLocation", index)
        return self._C["TensorLocation"].DEVICE

    def get_profile_shape(self, profile_index: int, binding: Any) -> list[Any]:
        """[min, opt, max] of an input binding (index or name, any profile's slot) in a profile."""
        m = self._m
        i = self._binding("getProfileDimensions", binding)
        if i < 0 or i % m.nio >= m.n_in or not 0 <= profile_index < m.n_prof:
            self._err(
                "getProfileDimensions",
                f"Parameter check failed, condition: binding "
                f"{binding!r} is an input and profile {profile_index} in [0, {m.n_prof})",
            )
            return [self._dims(None)] * 3
        return [self._dims(s) for s in self._plan.profiles[profile_index][m.names[i % m.nio]]]


def _incompatible(obj: Any, func: str, signatures: list[str], args: Any, kwargs: Any) -> Any:
    """pybind11's TypeError for a call that matches no overload."""
    mod = obj._ctl._rel.module_name
    listed = "\n".join(f"    {i}. ({s})" for i, s in enumerate(signatures, 1))
    shown = ", ".join([repr(a) for a in args] + [f"{k}={v!r}" for k, v in kwargs.items()])
    return TypeError(
        f"{func}(): incompatible function arguments. The following argument types are "
        f"supported:\n{listed}\n\nInvoked with: <{mod}.ICudaEngine object>"
        + (f", {shown}" if shown else "")
    )


def _create_execution_context_8(self: Any) -> Any:
    """TensorRT 8.x: ``create_execution_context()`` takes no arguments (8.6.1 manifest)."""
    return self._new_context(None)


_SIG_STRATEGY = (
    "self: ICudaEngine, strategy: ExecutionContextAllocationStrategy = "
    "<ExecutionContextAllocationStrategy.STATIC: 0>"
)
_SIG_RUNTIME_CONFIG = "self: ICudaEngine, runtime_config: IRuntimeConfig = None"


def _create_execution_context_10_0(self: Any, strategy: Any = None) -> Any:
    """TensorRT 10.0-10.10: ``create_execution_context(strategy=STATIC)`` (10.0.1 manifest);
    USER_MANAGED needs set_device_memory before execute. Anything but an
    ExecutionContextAllocationStrategy is refused, as pybind11 converts no int to the enum."""
    if strategy is not None and not isinstance(
        strategy, self._C["ExecutionContextAllocationStrategy"]
    ):
        raise _incompatible(self, "create_execution_context", [_SIG_STRATEGY], (strategy,), {})
    return self._new_context(strategy)


def _create_execution_context_10_11(self: Any, *args: Any, **kwargs: Any) -> Any:
    """TensorRT 10.11+ (10.16.1 and 11.4.0 manifests) and TensorRT-RTX: two pybind11
    overloads, ``(strategy=STATIC)`` and ``(runtime_config=None)``, tried in that order;
    a call matching neither (both arguments at once, an int) raises TypeError."""
    strategy_t = self._C["ExecutionContextAllocationStrategy"]
    config_t = self._C["IRuntimeConfig"]
    if len(args) + len(kwargs) > 1:
        raise _incompatible(
            self,
            "create_execution_context",
            [_SIG_STRATEGY, _SIG_RUNTIME_CONFIG],
            args,
            kwargs,
        )
    if not args and not kwargs:
        return self._new_context(None)
    (key, value) = next(iter(kwargs.items())) if kwargs else (None, args[0])
    if key in (None, "strategy") and isinstance(value, strategy_t):
        return self._new_context(value)
    if key in (None, "runtime_config") and (value is None or isinstance(value, config_t)):
        return self._new_context(None if value is None else value._strategy)
    raise _incompatible(
        self, "create_execution_context", [_SIG_STRATEGY, _SIG_RUNTIME_CONFIG], args, kwargs
    )


ICudaEngineImpl._VARIANTS = {
    "create_execution_context": [
        (R.PRE10, _create_execution_context_8),
        (R.V10_11, _create_execution_context_10_11),
        (R.V10, _create_execution_context_10_0),
    ],
}


class IRuntimeConfigImpl(_Sim):
    """``trt.IRuntimeConfig`` (TensorRT 10.11+, TensorRT-RTX): allocation strategy only."""

    _PUBLIC = "IRuntimeConfig"
    _RULES: dict[str, R.Rule] = {}

    def __init__(self) -> None:
        self._strategy = self._C["ExecutionContextAllocationStrategy"].STATIC

    def set_execution_context_allocation_strategy(self, strategy: Any = None) -> None:
        self._strategy = (
            strategy
            if strategy is not None
            else self._C["ExecutionContextAllocationStrategy"].STATIC
        )

    def get_execution_context_allocation_strategy(self) -> Any:
        return self._strategy


class IDebugListenerImpl(_Sim):
    """``trt.IDebugListener`` (10.0+, RTX; 10.0.1 manifest): users subclass it, call
    ``IDebugListener.__init__`` (else TypeError, as the real RTX 1.7.1 raises) and override
    ``process_debug_tensor``; the base method does nothing (observed on RTX 1.7.1)."""

    _PUBLIC = "IDebugListener"
    _RULES: dict[str, R.Rule] = {}

    def __init__(self) -> None:
        self._tramp_init = True

    def process_debug_tensor(
        self, addr: Any, location: Any, type: Any, shape: Any, name: str, stream: int
    ) -> None:
        return None


class IPluginRegistryImpl(_Sim):
    """``trt.IPluginRegistry`` as ``get_plugin_registry()`` returns it: a subset of the real
    surface (manifests), with no creators, as the simulator implements no plugin layer (the real
    RTX 1.7.1 lists two after ``init_libnvinfer_plugins``). Not constructible from Python."""

    _PUBLIC = "IPluginRegistry"
    _RULES = {
        # 8.6.1-10.16.1 manifests; gone in 11.4.0 and RTX 1.7.1.
        "plugin_creator_list": R.PRE11,
        "get_plugin_creator": R.PRE11,
        # 10.0.1+ and RTX manifests.
        "all_creators": R.V10,
        "get_creator": R.V10,
    }

    def __init__(self) -> None:
        mod = self._ctl._rel.module_name
        raise TypeError(f"{mod}.{mod}.IPluginRegistry: No constructor defined!")

    @property
    def plugin_creator_list(self) -> list[Any]:
        return []

    @property
    def all_creators(self) -> list[Any]:
        return []

    def get_plugin_creator(self, type: str, version: str, plugin_namespace: str = "") -> Any:
        return None

    def get_creator(self, type: str, version: str, plugin_namespace: str = "") -> Any:
        return None


class IOutputAllocatorImpl(_Sim):
    """``trt.IOutputAllocator`` (8.5+): users subclass it and call ``IOutputAllocator.__init__``.

    In 8.x the base class carries pure-virtual ``reallocate_output`` and ``notify_shape`` (they
    raise if not overridden); from 10.0 it defines no Python methods and TensorRT looks up
    ``reallocate_output_async`` (preferred) or ``reallocate_output``, and ``notify_shape``, on the
    subclass (API manifests). An exception raised by a callback is printed and counts as a
    nullptr result, as in the bindings' trampoline.
    """

    _PUBLIC = "IOutputAllocator"
    _RULES = {"reallocate_output": R.PRE10, "notify_shape": R.PRE10}

    def __init__(self) -> None:
        self._tramp_init = True

    def reallocate_output(self, tensor_name: str, memory: int, size: int, alignment: int) -> int:
        raise RuntimeError(
            'Tried to call pure virtual function "IOutputAllocator::reallocateOutput"'
        )

    def notify_shape(self, tensor_name: str, shape: Any) -> None:
        raise RuntimeError('Tried to call pure virtual function "IOutputAllocator::notifyShape"')


_EMPTY: dict[str, Any] = {}


class IExecutionContextImpl(_Sim):
    """``trt.IExecutionContext``. Setters return False and log an ERROR on bad input."""

    _PUBLIC = "IExecutionContext"
    _RULES = {
        "set_binding_shape": R.BINDINGS,
        "get_binding_shape": R.BINDINGS,
        "execute_async_v2": R.BINDINGS,
        "all_shape_inputs_specified": R.PRE11,
        "set_input_shape": R.NAMED,
        "set_input_consumed_event": R.NAMED,
        "get_input_consumed_event": R.NAMED,
        "get_tensor_shape": R.NAMED,
        "set_tensor_address": R.NAMED,
        "get_tensor_address": R.NAMED,
        "execute_async_v3": R.NAMED,
        "set_output_allocator": R.NAMED,
        "get_output_allocator": R.NAMED,
        "get_max_output_size": R.NAMED,
        "get_tensor_strides": R.NAMED,
        "infer_shapes": R.NAMED,
        "set_device_memory": R.V10_1,
        "update_device_memory_size_for_shapes": R.V10,
        "set_all_tensors_debug_state": R.V10,
        "set_debug_listener": R.V10,
        "get_debug_listener": R.V10,
    }

    def __init__(self, engine: Any, needs_memory: bool) -> None:
        self._engine = engine
        self._m = engine._m
        self._plan = engine._plan
        self._logger = engine._logger
        self._profile = 0
        self._shapes: dict[str, tuple[int, ...]] = {}
        self._addr: dict[str, int] = {}
        self._alloc: dict[str, Any] = {}
        self._oshapes: dict[str, tuple[int, ...]] | None = None
        self._dd_shapes: dict[str, tuple[int, ...]] = {}
        self._needs_memory = needs_memory
        self._name = ""
        self.debug_sync = False
        v = self._ctl._rel
        self._async_alloc = v.flavor == "rtx" or v.vt >= (10,)

    def _err(self, func: str, detail: str) -> bool:
        _api_error(self._ctl, self._logger, "IExecutionContext", func, detail)
        return False

    @property
    def engine(self) -> Any:
        return self._engine

    @property
    def error_recorder(self) -> Any:
        return self.__dict__.get("_recorder")

    @error_recorder.setter
    def error_recorder(self, value: Any) -> None:
        self.__dict__["_recorder"] = value

    @property
    def profiler(self) -> Any:
        return self.__dict__.get("_profiler")

    @profiler.setter
    def profiler(self, value: Any) -> None:
        self.__dict__["_profiler"] = value

    def set_input_consumed_event(self, event: int) -> bool:
        self.__dict__["_consumed"] = int(event)
        return True

    def get_input_consumed_event(self) -> int:
        return int(self.__dict__.get("_consumed", 0))

    @property
    def name(self) -> str:
        return self._name

    @name.setter
    def name(self, value: str) -> None:
        self._name = str(value)

    # -- profiles -------------------------------------------------------------------------
    def _get_profile(self) -> int:
        return self._profile

    def _set_profile_sync(self, index: int) -> None:
        self._switch("setOptimizationProfile", index)

    active_optimization_profile = property(_get_profile)

    def _switch(self, func: str, index: int) -> bool:
        n = self._m.n_prof
        if not 0 <= int(index) < n:
            return self._err(
                func,
                f"Parameter check failed, condition: profileIndex {index} "
                f">= 0 && profileIndex < {n}",
            )
        if int(index) != self._profile:
            self._profile = int(index)
            self._shapes = {}
            self._oshapes = None
            self._dd_shapes = {}
        self._dd_shapes = {}
        return True

    def set_optimization_profile_async(self, profile_index: int, stream_handle: int) -> bool:
        """Selecting another profile forgets the input shapes set so far."""
        ctl = self._ctl
        if ctl._failures and ctl._take("set_optimization_profile_async", self._logger):
            return False
        return self._switch("setOptimizationProfileAsync", profile_index)

    # -- device memory --------------------------------------------------------------------
    def _set_device_memory(self, memory: int) -> None:
        self._needs_memory = not memory

    device_memory = property(None, _set_device_memory)

    def set_device_memory(self, memory: int, size: int) -> None:
        need = self._m.mem_sizes[self._profile]
        if size < need:
            self._err(
                "setDeviceMemoryV2", f"Parameter check failed, condition: size {size} >= {need}"
            )
            return
        self._needs_memory = not memory

    # -- debug tensors (10.0+, RTX: 10.0.1 manifest) --------------------------------------
    # TensorRT calls the listener only for tensors marked with INetworkDefinition.mark_debug at
    # build time; the simulator has no mark_debug, so its engines have no debug tensors and the
    # listener is never called.
    def set_all_tensors_debug_state(self, flag: bool) -> bool:
        """Turn the debug state of every debug tensor on or off; True."""
        self.__dict__["_debug_all"] = bool(flag)
        return True

    def set_debug_listener(self, listener: Any) -> bool:
        """Set (None: clear) the IDebugListener; True."""
        if listener is not None and not isinstance(listener, self._C["IDebugListener"]):
            raise TypeError(
                "set_debug_listener(): incompatible function arguments. The following argument "
                "types are supported:\n    1. (self: IExecutionContext, listener: IDebugListener)"
                f" -> bool\n\nInvoked with: <IExecutionContext object>, {listener!r}"
            )
        self.__dict__["_debug_listener"] = listener
        return True

    def get_debug_listener(self) -> Any:
        return self.__dict__.get("_debug_listener")

    def update_device_memory_size_for_shapes(self) -> int:
        return int(self._m.mem_sizes[self._profile])

    # -- shapes ---------------------------------------------------------------------------
    def _check_shape(self, func: str, name: str, dims: tuple[int, ...]) -> bool:
        m = self._m
        if name not in m.inputs:
            if name in m.outputs:
                return self._err(
                    func,
                    f"Parameter check failed, condition: {name} is an input "
                    f"tensor; cannot set the shape of output tensor {name}",
                )
            return self._err(
                func, f"Parameter check failed, condition: tensor {name!r} not found in engine"
            )
        engine_dims = m.shape[name]
        if len(dims) != len(engine_dims):
            return self._err(
                func,
                f"Parameter check failed, condition: engineDims.nbDims == "
                f"dimensions.nbDims. {name}: rank {len(dims)} given, expected "
                f"{len(engine_dims)}",
            )
        lo, hi = m.bounds[self._profile][name]
        for i, d in enumerate(dims):
            if d < 0:
                return self._err(
                    func,
                    f"Parameter check failed, condition: all dimensions of "
                    f"{name} are non-negative, got {_dims_str(dims)}",
                )
            if engine_dims[i] != -1 and d != engine_dims[i]:
                return self._err(
                    func,
                    f"Parameter check failed, condition: engineDims.d[{i}] "
                    f"== dims.d[{i}]. Static dimension mismatch while setting input "
                    f"shape for {name}. Set dimensions are {_dims_str(dims)}. "
                    f"Expected dimensions are {_dims_str(engine_dims)}.",
                )
            if not lo[i] <= d <= hi[i]:
                return self._err(
                    func,
                    f"Parameter check failed, condition: satisfyProfile "
                    f"Runtime dimension does not satisfy any optimization profile. "
                    f"{name}: dimension {i} is {d}, profile {self._profile} allows "
                    f"[{lo[i]}, {hi[i]}]",
                )
        return True

    def set_input_shape(self, name: str, shape: Any) -> bool:
        ctl = self._ctl
        if ctl._failures and ctl._take("set_input_shape", self._logger):
            return False
        dims = as_shape(shape)
        if not self._check_shape("setInputShape", name, dims):
            return False
        self._shapes[name] = dims
        self._oshapes = None
        self._dd_shapes = {}
        return True

    def set_binding_shape(self, binding: int, shape: Any) -> bool:
        """8.x: ``binding`` must be an input binding of the active profile's slots."""
        ctl = self._ctl
        if ctl._failures and ctl._take("set_binding_shape", self._logger):
            return False
        m = self._m
        binding = int(binding)
        if not 0 <= binding < len(m.binding_names):
            return self._err(
                "setBindingDimensions",
                f"Parameter check failed, condition: "
                f"bindingIndex {binding} in [0, {len(m.binding_names)})",
            )
        if binding // m.nio != self._profile:
            return self._err(
                "setBindingDimensions",
                f"Parameter check failed, condition: "
                f"binding {binding} belongs to the active profile "
                f"{self._profile} (bindings [{self._profile * m.nio}, "
                f"{(self._profile + 1) * m.nio}))",
            )
        name = m.names[binding % m.nio]
        dims = as_shape(shape)
        if not self._check_shape("setBindingDimensions", name, dims):
            return False
        self._shapes[name] = dims
        self._oshapes = None
        self._dd_shapes = {}
        return True

    def _output_shapes(self) -> dict[str, tuple[int, ...]] | None:
        if self._oshapes is None:
            if len(self._shapes) != self._m.n_in:
                return None
            try:
                self._oshapes = self._plan.infer(self._shapes)
            except ShapeMismatch as exc:
                self._err("inferShapes", f"shape inference failed: {exc}")
                return None
        return self._oshapes

    def _shape(self, name: str) -> Any:
        m = self._m
        Dims = self._C["Dims"]
        if name in m.inputs:
            return Dims(self._shapes.get(name, m.shape[name]))
        if name in self._dd_shapes:
            return Dims(self._dd_shapes[name])
        shapes = self._output_shapes()
        return Dims(shapes[name] if shapes is not None else m.shape[name])

    def get_tensor_shape(self, name: str) -> Any:
        """Inputs: -1 dims until set. Outputs: computed once every input shape is set; -1 for
        data-dependent dims (until an execution reports them)."""
        if name not in self._m.index:
            self._err("getTensorShape", f"tensor {name!r} not found")
            d = self._C["Dims"](())
            d._d = None
            return d
        return self._shape(name)

    def get_binding_shape(self, binding: int) -> Any:
        m = self._m
        if not 0 <= binding < len(m.binding_names):
            self._err("getBindingDimensions", f"bindingIndex {binding} out of range")
            d = self._C["Dims"](())
            d._d = None
            return d
        return self._shape(m.names[binding % m.nio])

    def get_tensor_strides(self, name: str) -> Any:
        shape = tuple(self._shape(name))
        strides, acc = [], 1
        for d in reversed(shape):
            strides.append(acc)
            acc *= max(d, 1)
        return self._C["Dims"](tuple(reversed(strides)))

    @property
    def all_binding_shapes_specified(self) -> bool:
        return len(self._shapes) == self._m.n_in

    @property
    def all_shape_inputs_specified(self) -> bool:
        return True

    def infer_shapes(self) -> list[str]:
        """Names of inputs whose shape is still unknown ([] when all are set); RuntimeError
        ("Error while inferring shapes.") when the set shapes are inconsistent."""
        missing = [n for n in self._m.in_names if n not in self._shapes]
        if missing:
            return missing
        if self._output_shapes() is None:
            raise RuntimeError("Error while inferring shapes.")
        return []

    # -- addresses and allocators ---------------------------------------------------------
    def set_tensor_address(self, name: str, memory: int) -> bool:
        """The address must be aligned to the element size; 0 unsets it."""
        ctl = self._ctl
        if ctl._failures and ctl._take("set_tensor_address", self._logger):
            return False
        m = self._m
        if name not in m.index:
            return self._err(
                "setTensorAddress",
                f"Parameter check failed, condition: tensor {name!r} not found in engine",
            )
        memory = int(memory)
        if memory % m.np_dtype[name].itemsize:
            return self._err(
                "setTensorAddress",
                f"Parameter check failed, condition: address "
                f"{memory:#x} of {name} is aligned to its element size "
                f"{m.np_dtype[name].itemsize}",
            )
        self._addr[name] = memory
        return True

    def get_tensor_address(self, name: str) -> int:
        return self._addr.get(name, 0)

    def set_output_allocator(self, name: str, output_allocator: Any) -> bool:
        if name not in self._m.outputs:
            return self._err(
                "setOutputAllocator",
                f"Parameter check failed, condition: {name!r} is an output tensor",
            )
        if output_allocator is None:
            self._alloc.pop(name, None)
        else:
            self._alloc[name] = output_allocator
        return True

    def get_output_allocator(self, name: str) -> Any:
        return self._alloc.get(name)

    def get_max_output_size(self, name: str) -> int:
        """Upper bound in bytes of a data-dependent output over the active profile."""
        m = self._m
        if name not in m.outputs:
            self._err("getMaxOutputSize", f"{name!r} is not an output")
            return 0
        maxes = {n: b[1] for n, b in m.bounds[self._profile].items()}
        shapes = self._plan.infer(maxes, upper_bound=True)
        return math.prod(shapes[name]) * m.np_dtype[name].itemsize

    # -- execution ------------------------------------------------------------------------
    def _enqueue(self, func: str, addr: dict[str, int], stream: int, use_alloc: bool) -> bool:
        m = self._m
        if self._needs_memory:
            return self._err(
                func,
                "Parameter check failed, condition: device memory was set "
                "(the context was created without device memory)",
            )
        shapes = self._shapes
        for name in m.in_names:
            if name not in shapes:
                return self._err(
                    func,
                    f"Parameter check failed, condition: "
                    f"allInputDimensionsSpecified. Input shape of {name} is not "
                    f"specified",
                )
            if not addr.get(name) and 0 not in shapes[name]:
                return self._err(
                    func,
                    f"Parameter check failed, condition: address of input "
                    f"tensor {name} is set (non-null)",
                )
        oshapes = self._output_shapes()
        if oshapes is None:
            return False
        io: dict[str, tuple[int, tuple[int, ...], np.dtype]] = {}
        npd = m.np_dtype
        for name in m.in_names:
            io[name] = (addr[name], shapes[name], npd[name])
        allocs = self._alloc if use_alloc else _EMPTY
        for name in m.out_names:
            a = addr.get(name, 0)
            s = oshapes[name]
            if name in m.dd:
                if name not in allocs and not a:
                    return self._err(
                        func,
                        f"Parameter check failed, condition: data-dependent "
                        f"output {name} has an IOutputAllocator or an address",
                    )
            elif not a and name not in allocs and 0 not in s:
                return self._err(
                    func,
                    f"Parameter check failed, condition: address of output "
                    f"tensor {name} is set (non-null)",
                )
            io[name] = (a, s, npd[name])
        notes: list[tuple[Any, str, tuple[int, ...]]] = []

        def allocate(name: str, shape: tuple[int, ...]) -> int:
            size = math.prod(shape) * npd[name].itemsize
            alloc = allocs.get(name)
            if alloc is None:
                cap = self.get_max_output_size(name)
                if size > cap:
                    raise DeviceError(f"output {name} needs {size} bytes > {cap}")
                self._dd_shapes[name] = tuple(shape)
                return io[name][0]
            ptr = _call_allocator(self, alloc, name, io[name][0], size, stream)
            if not ptr and size:
                raise DeviceError(f"IOutputAllocator for {name} returned nullptr for {size} bytes")
            notes.append((alloc, name, tuple(shape)))
            self._dd_shapes[name] = tuple(shape)
            return ptr

        # Static-shape outputs with an allocator are placed through it too.
        for name in m.out_names:
            if name not in m.dd and name in allocs:
                io[name] = (allocate(name, io[name][1]), io[name][1], npd[name])
        try:
            self._ctl.device.run(self._plan, io, stream, allocate)
        except DeviceError as exc:
            return self._err(func, f"enqueue failed: {exc}")
        for alloc, name, shape in notes:
            _notify(alloc, name, self._C["Dims"](shape))
        return True

    def execute_async_v3(self, stream_handle: int) -> bool:
        ctl = self._ctl
        if ctl._failures and ctl._take("execute_async_v3", self._logger):
            return False
        return self._enqueue("enqueueV3", self._addr, int(stream_handle), True)

    def _bindings_to_addr(self, func: str, bindings: Any) -> dict[str, int] | None:
        m = self._m
        v = self._ctl._rel
        bindings = list(bindings)
        per_io = not (v.flavor == "tensorrt" and v.vt < (10,))
        want = m.nio if per_io else len(m.binding_names)
        if len(bindings) != want:
            self._err(
                func,
                f"Parameter check failed, condition: bindings has {want} pointers "
                f"({'one per IO tensor' if per_io else 'num_bindings'}), got "
                f"{len(bindings)}",
            )
            return None
        base = 0 if per_io else self._profile * m.nio
        addr = {}
        for i, name in enumerate(m.names):
            ptr = int(bindings[base + i])
            if not ptr and 0 not in self._known_shape(name):
                self._err(
                    func,
                    f"Parameter check failed, condition: bindings[{base + i}] != nullptr ({name})",
                )
                return None
            addr[name] = ptr
        return addr

    def _known_shape(self, name: str) -> tuple[int, ...]:
        if name in self._shapes:
            return self._shapes[name]
        return (self._output_shapes() or {}).get(name, (1,))

    def execute_async_v2(
        self, bindings: Any, stream_handle: int, input_consumed: Any = None
    ) -> bool:
        """8.x: ``len(bindings) == num_bindings``; the active profile's slots are used."""
        ctl = self._ctl
        if ctl._failures and ctl._take("execute_async_v2", self._logger):
            return False
        if self._m.dd:
            return self._err("enqueueV2", "data-dependent output shapes need enqueueV3")
        addr = self._bindings_to_addr("enqueueV2", bindings)
        return addr is not None and self._enqueue("enqueueV2", addr, int(stream_handle), False)

    def execute_v2(self, bindings: Any) -> bool:
        """Synchronous. 8.x: num_bindings pointers; 10.x+: one per IO tensor, get_tensor_name
        order."""
        ctl = self._ctl
        if ctl._failures and ctl._take("execute_v2", self._logger):
            return False
        if self._m.dd:
            return self._err("executeV2", "data-dependent output shapes need enqueueV3")
        addr = self._bindings_to_addr("executeV2", bindings)
        return addr is not None and self._enqueue("executeV2", addr, 0, False)


def _call_allocator(ctx: Any, alloc: Any, name: str, current: int, size: int, stream: int) -> int:
    cls = type(alloc)
    try:
        if ctx._async_alloc and hasattr(cls, "reallocate_output_async"):
            result = alloc.reallocate_output_async(name, current, size, _ALIGN, stream)
        elif hasattr(cls, "reallocate_output"):
            result = alloc.reallocate_output(name, current, size, _ALIGN)
        else:
            raise RuntimeError(
                'Tried to call pure virtual function "IOutputAllocator::reallocateOutput"'
            )
        return int(result or 0)
    except Exception as exc:  # the trampoline swallows it and TensorRT sees nullptr
        print(f"[ERROR] Exception caught in reallocate_output(): {exc}", file=sys.stderr)
        return 0


def _notify(alloc: Any, name: str, dims: Any) -> None:
    if not hasattr(type(alloc), "notify_shape"):
        return
    try:
        alloc.notify_shape(name, dims)
    except Exception as exc:
        print(f"[ERROR] Exception caught in notify_shape(): {exc}", file=sys.stderr)


_PROFILE_SETTER = property(
    IExecutionContextImpl._get_profile, IExecutionContextImpl._set_profile_sync
)


def context_profile_property(rel: R.Release) -> property:
    """active_optimization_profile: settable (deprecated) through 8.x, read-only from 10.0."""
    if rel.flavor == "tensorrt" and rel.vt < (10,):
        return _PROFILE_SETTER
    return IExecutionContextImpl.active_optimization_profile  # type: ignore[return-value]


IMPLS: list[Any] = [
    ILoggerImpl,
    LoggerImpl,
    IHostMemoryImpl,
    ITensorImpl,
    ILayerImpl,
    IIdentityLayerImpl,
    IElementWiseLayerImpl,
    IUnaryLayerImpl,
    INonZeroLayerImpl,
    ICastLayerImpl,
    INetworkDefinitionImpl,
    IOptimizationProfileImpl,
    IBuilderConfigImpl,
    BuilderImpl,
    RuntimeImpl,
    ICudaEngineImpl,
    IRuntimeConfigImpl,
    IOutputAllocatorImpl,
    IExecutionContextImpl,
    IDebugListenerImpl,
    IPluginRegistryImpl,
]
# Whole classes that a release lacks.
CLASS_RULES = {
    "INonZeroLayer": R.NAMED,
    "ICastLayer": R.V8_6,
    "IOutputAllocator": R.NAMED,
    "IRuntimeConfig": R.V10_11,
    "IDebugListener": R.V10,
}
