"""Simulated build phase: ``IHostMemory``, ``IOptimizationProfile``, ``IBuilderConfig``,
``Builder`` and the network compiler (``_compile``) that turns a network into a ``Plan``."""

from __future__ import annotations

from typing import Any

from . import _releases as R
from ._base import _api_error, _check_logger, _dims_str, _log, _Sim
from ._plan import (
    NP_DTYPES,
    Layer,
    Plan,
    ShapeMismatch,
    TensorInfo,
    _frozen,
    elementwise_out_dtype,
    unary_out_dtype,
)
from ._shape_layers import compile_shape_io
from ._types import as_shape


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
        """``[min, opt, max]``; ``[]`` after an ERROR for an input the profile has not set
        (observed on the real TensorRT-RTX 1.7.1: "IOptimizationProfile::getDimensions: Error
        Code 4: API Usage Error (Cannot get dimensions for input: x. Input is not present in this
        OptimizationProfile)"; getDimensions is the same call in every release's header)."""
        cur = self._shapes.get(str(input))
        if cur is None or any(c is None for c in cur):
            _log(
                self._ctl,
                self._builder._logger,
                1,
                "IOptimizationProfile::getDimensions: Error Code 4: API Usage Error (Cannot get "
                f"dimensions for input: {input}. Input is not present in this OptimizationProfile)",
            )
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
    """``trt.IBuilderConfig`` (flags, memory pools, profiles; RTX compute capabilities).

    ``flags`` starts with TF32 set: BuilderFlag.TF32 is "enabled by default" (BuilderFlag docs,
    8.x to 11.x); the real TensorRT-RTX 1.7.1 reports 64 (1 << TF32) for a new config (observed).
    ``avg_timing_iterations`` starts at 1 and ``DLA_core`` at -1 (NvInfer.h defaults; observed on
    the real RTX 1.7.1, which keeps -1 after ``DLA_core = 2``: it has no DLA).
    """

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
        tf32 = getattr(self._C["BuilderFlag"], "TF32", None)
        self._flags = 0 if tf32 is None else 1 << int(tf32)
        self._avg_timing = 1
        self._dla_core = -1
        self._pools: dict[int, int] = {}
        self._profiles: list[Any] = []
        self._ccs: list[Any] = []
        self._opt_level = 3
        self.profiling_verbosity = self._C["ProfilingVerbosity"].LAYER_NAMES_ONLY

    # Every manifest, 8.6.1 to RTX 1.7.1; Polygraphy reads it when it logs a config. NvInfer.h:
    # getDefaultDeviceType "By default ... returns DeviceType::kGPU".
    @property
    def default_device_type(self) -> Any:
        return self.__dict__.get("_device_type", self._C["DeviceType"].GPU)

    @default_device_type.setter
    def default_device_type(self, value: Any) -> None:
        self.__dict__["_device_type"] = value

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

    @property
    def avg_timing_iterations(self) -> int:
        return self._avg_timing

    @avg_timing_iterations.setter
    def avg_timing_iterations(self, value: int) -> None:
        self._avg_timing = int(value)

    @property
    def DLA_core(self) -> int:
        return self._dla_core

    @DLA_core.setter
    def DLA_core(self, value: int) -> None:
        if self._ctl._rel.flavor != "rtx":  # RTX has no DLA and keeps -1 (observed)
            self._dla_core = int(value)

    def set_memory_pool_limit(self, pool: Any, pool_size: int) -> None:
        """``pool_size`` is a ``size_t``: a negative one fails pybind11's conversion with
        TypeError (observed on the real TensorRT-RTX 1.7.1)."""
        if not isinstance(pool_size, int) or pool_size < 0:
            raise TypeError(
                "set_memory_pool_limit(): incompatible function arguments. The following argument "
                "types are supported:\n    1. (self: IBuilderConfig, pool: MemoryPoolType, "
                f"pool_size: int) -> None\n\nInvoked with: {pool!r}, {pool_size!r}"
            )
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
        """Negative: an ERROR, the level stays (every release's setBuilderOptimizationLevel docs
        give the range 0 to 5). The real TensorRT-RTX 1.7.1 also clamps a level above 5 to 5
        (observed: 9 reads back as 5, with no error)."""
        level = int(value)
        if level < 0:
            _api_error(
                self._ctl,
                self._builder._logger,
                "IBuilderConfig",
                "setBuilderOptimizationLevel",
                "Parameter check failed, condition: level >= 0. Setting builder optimization "
                f"level. Valid values are 0 to 5, got {level}.",
            )
            return
        if self._ctl._rel.flavor == "rtx":
            level = min(level, 5)
        self._opt_level = level

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
        self.__dict__.setdefault("_values", []).append(dict(profile.__dict__.get("_values", {})))
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
        """NONE for an unset slot; NONE after an ERROR for an index out of range (observed on
        the real TensorRT-RTX 1.7.1)."""
        if not 0 <= index < len(self._ccs):
            _api_error(
                self._ctl,
                self._builder._logger,
                "IBuilderConfig",
                "getComputeCapability",
                "Parameter check failed, condition: index >= 0 && index < "
                f"std::ssize(mConfig.computeCapabilities). Got {index}.",
            )
            return self._C["ComputeCapability"].NONE
        if self._ccs[index] is not None:
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

    def fail(detail: str) -> None:
        raise _BuildError(detail)

    shape_io = compile_shape_io(network, config.__dict__.get("_values", []), fail)
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
        params = layer._params() if hasattr(layer, "_params") else ()
        la = Layer(kind, layer._name, tuple(ins), oname, op, odt, _frozen(params))
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
        **shape_io,
    )
