"""Simulated runtime side: ``Runtime``, ``ICudaEngine`` (with its per-release
``create_execution_context`` overloads) and ``IRuntimeConfig``."""

from __future__ import annotations

import math
from typing import Any

from . import _releases as R
from ._base import _ALIGN, _api_error, _check_logger, _log, _Sim
from ._plan import (
    NP_DTYPES,
    Plan,
    PlanError,
    ShapeMismatch,
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
        # Inputs without a dynamic dimension: their shape is known before any set_input_shape.
        self.fixed_inputs = {t.name: t.shape for t in plan.inputs if -1 not in t.shape}
        self.n_prof = len(plan.profiles)
        # bounds[k][name] = (min, max)
        self.bounds = [{n: (s[0], s[2]) for n, s in p.items()} for p in plan.profiles]
        self.dd = plan.data_dependent
        # Shape-tensor inputs and host outputs: TensorLocation.HOST, isShapeInferenceIO.
        self.shape_inputs = plan.shape_inputs
        self.host = plan.shape_inputs | plan.host_outputs
        nio = len(self.io)
        self.binding_names = [
            n if k == 0 else f"{n} [profile {k}]" for k in range(self.n_prof) for n in self.names
        ]
        self.binding_index = {n: i for i, n in enumerate(self.binding_names)}
        self.nio = nio
        sizes: list[int] = []
        for p in plan.profiles:
            maxes = {n: s[2] for n, s in p.items()}
            k = len(sizes)
            vmax = {n: v[2] for n, v in plan.profile_values[k].items()} if plan.shape_inputs else {}
            try:
                shapes = plan.infer(maxes, values=vmax)
            except ShapeMismatch:
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
    """``trt.ICudaEngine``. Bindings API through 8.x; named-tensor API from 8.5 (TensorRT 8.5
    release notes; the 8.5/8.6 Python API docs list both).

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
        "get_binding_format": R.BINDINGS,
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
        "get_tensor_profile_values": R.V10,
        "get_profile_shape_input": R.BINDINGS,
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
        """The bindings' ``engine[key]`` (python/src/infer/pyCore.cpp, ``engine_getitem``).

        8.x: a str gives its binding index (-1 if unknown) and an int its binding name; 10.x+ and
        RTX: only an int, giving the IO tensor name. A negative index counts from the end; one at
        or past the end raises IndexError, so ``for name in engine:`` ends (the sequence protocol:
        the real class has ``__getitem__`` and no ``__iter__``, per the manifests). Below ``-n``:
        8.4 converts the index to ``size_t`` (IndexError); 8.6+ keep an ``int32_t`` that passes
        the ``index < n`` check, so the getter logs an error and returns None.
        """
        bindings = hasattr(self, "num_bindings")
        if isinstance(key, str) and bindings:
            return self.get_binding_index(key)
        if not isinstance(key, int):
            raise _incompatible(
                self,
                "__getitem__",
                (["self: ICudaEngine, name: str"] if bindings else [])
                + ["self: ICudaEngine, index: int"],
                (key,),
                {},
            )
        n = len(self._m.binding_names) if bindings else self._m.nio
        index = key + n if key < 0 else key
        if index >= n or (index < 0 and self._ctl._rel.vt < (8, 5) and bindings):
            raise IndexError("Out of bounds")
        return self.get_binding_name(index) if bindings else self.get_tensor_name(index)

    def __len__(self) -> int:
        """8.x only: ``num_bindings`` (the 8.6.1 manifest lists ``__len__``; 10.x+ do not)."""
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
        """HOST for shape-tensor inputs and outputs marked with mark_output_for_shapes."""
        self._known("getTensorLocation", name)
        loc = self._C["TensorLocation"]
        return loc.HOST if name in self._m.host else loc.DEVICE

    def is_shape_inference_io(self, name: str) -> bool:
        self._known("isShapeInferenceIO", name)
        return name in self._m.host

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
        i = self._binding("isShapeBinding", binding)
        return i >= 0 and self._m.names[i % self._m.nio] in self._m.host

    def is_execution_binding(self, binding: int) -> bool:
        """8.x: parameter ``binding`` (8.6.1 manifest)."""
        return self._binding("isExecutionBinding", binding) >= 0

    def get_binding_format(self, index: Any) -> Any:
        """8.x: every simulated IO tensor is row-major LINEAR."""
        self._binding("getBindingFormat", index)
        return self._C["TensorFormat"].LINEAR

    def get_location(self, index: Any) -> Any:
        i = self._binding("getLocation", index)
        loc = self._C["TensorLocation"]
        return loc.HOST if i >= 0 and self._m.names[i % self._m.nio] in self._m.host else loc.DEVICE

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
