"""Builds one simulated `tensorrt` / `tensorrt_rtx` module per call, and its `_sim` control."""

from __future__ import annotations

import collections
import sys
import threading
import types
import weakref
from typing import Any

from . import _api
from . import _releases as R
from ._types import DATATYPE_EXTRA, DimsBase, fixed_rank_dims, make_enum
from .devices import Device, HostDevice

SIMULATED_VERSIONS: tuple[str, ...] = tuple(R.RELEASES)

# Methods whose failure can be injected, and what they return on failure.
_INJECTABLE = {
    "execute_async_v3": False,
    "execute_async_v2": False,
    "execute_v2": False,
    "set_input_shape": False,
    "set_binding_shape": False,
    "set_tensor_address": False,
    "set_optimization_profile_async": False,
    "deserialize_cuda_engine": None,
    "build_serialized_network": None,
    "create_execution_context": None,
}


class SimControl:
    """``mod._sim``: the simulator's control panel (not part of the TensorRT API).

    Attributes:
        version: the version label given to ``simulated_tensorrt`` ("10.0.1", "rtx-1.7.1", ...).
        flavor: "tensorrt" or "rtx".
        device: where engines run (``HostDevice()`` by default; see ``devices.py``).
        accesses: with ``record_access=True``, the set of ``(caller_module, owner, attribute)``
            for every public attribute read on the module ("tensorrt" as owner), its classes and
            their instances; otherwise an empty set that stays empty.
        errors: the last 10,000 ERROR messages logged by any simulated object, in order.
        gpu: False in host mode (engines read and write host memory; trt_exec serves them with
            its host data path); True once :func:`trt_exec.sim.gpu.enable_gpu` put the module
            on a GPU, where addresses are CUDA device pointers.
    """

    def __init__(self, rel: R.Release, record: bool) -> None:
        self._rel = rel
        self.version = rel.label
        self.flavor = rel.flavor
        self.device: Device = HostDevice()
        self.gpu = False
        self.accesses: set[tuple[str, str, str]] = set()
        self.errors: collections.deque[str] = collections.deque(maxlen=10_000)
        self.record_access = record
        self._failures: dict[str, list[Any]] = {}
        self._lock = threading.Lock()
        self._classes: dict[str, Any] = {}
        self._sev: dict[int, Any] = {}
        self._module: Any = None  # weakref.ref to the module, set by simulated_tensorrt

    def inject_failure(self, method: str, times: int = 1, message: str | None = None) -> None:
        """Make the next ``times`` calls of ``method`` (on any object of this module) log an
        ERROR (``message`` or a default) and return what TensorRT returns on failure (False, or
        None for deserialize_cuda_engine / build_serialized_network / create_execution_context).
        """
        if method not in _INJECTABLE:
            raise ValueError(
                f"method={method!r} cannot fail by injection; choose one of {sorted(_INJECTABLE)}"
            )
        if times < 1:
            raise ValueError(f"times={times!r} must be >= 1")
        with self._lock:
            entry = self._failures.setdefault(method, [0, None])
            entry[0] += times
            entry[1] = message

    def clear_failures(self) -> None:
        """Forget every pending injected failure."""
        with self._lock:
            self._failures.clear()

    def use_null_device(self) -> None:
        """Shortcut for ``self.device = NullDevice()`` (validate everything, compute nothing)."""
        from .devices import NullDevice

        self.device = NullDevice()

    def _take(self, method: str, logger: Any) -> bool:
        with self._lock:
            entry = self._failures.get(method)
            if not entry:
                return False
            entry[0] -= 1
            message = entry[1]
            if entry[0] <= 0:
                del self._failures[method]
        _api._log(
            self, logger, 1, message or f"Error Code 1: Cuda Runtime (injected failure of {method})"
        )
        return True


# Accesses made by the simulator itself are not recorded.
_OWN = "trt_exec.sim."


# Accesses made by the simulator itself are not recorded.
_OWN = "trt_exec.sim."


class _SimMeta(type):
    """Metaclass of every simulated class (class-level attribute reads are not recorded)."""


def _owner(obj: Any) -> str:
    return str(
        type.__getattribute__(obj, "_PUBLIC_NAME")
        if isinstance(obj, type)
        else type(obj)._PUBLIC_NAME
    )


def _recording_meta(ctl: SimControl) -> type:
    accesses = ctl.accesses

    class _RecordingMeta(_SimMeta):
        def __getattribute__(cls, name: str) -> Any:
            if name[0] != "_":
                caller = sys._getframe(1).f_globals.get("__name__", "?")
                if not caller.startswith(_OWN):
                    accesses.add((caller, type.__getattribute__(cls, "_PUBLIC_NAME"), name))
            return type.__getattribute__(cls, name)

    return _RecordingMeta


def _recording_getattribute(ctl: SimControl) -> Any:
    accesses = ctl.accesses

    def __getattribute__(self: Any, name: str) -> Any:
        if name[0] != "_":
            caller = sys._getframe(1).f_globals.get("__name__", "?")
            if not caller.startswith(_OWN):
                accesses.add((caller, type(self)._PUBLIC_NAME, name))
        return object.__getattribute__(self, name)

    return __getattribute__


def _trampoline_meta(base: type, module_name: str) -> type:
    """pybind11 raises TypeError when a Python subclass skips the base ``__init__``."""

    class _TrampolineMeta(base):  # type: ignore[misc]
        def __call__(cls, *args: Any, **kwargs: Any) -> Any:
            obj = super().__call__(*args, **kwargs)
            if not obj.__dict__.get("_tramp_init"):
                pub = type.__getattribute__(cls, "_PUBLIC_NAME")
                raise TypeError(
                    f"{module_name}.{module_name}.{pub}.__init__() must be called "
                    f"when overriding __init__"
                )
            return obj

    return _TrampolineMeta


class SimulatedTensorRTModule(types.ModuleType):
    """The module type of every simulated ``tensorrt`` / ``tensorrt_rtx`` module."""


def simulated_tensorrt(version: str, *, record_access: bool = False) -> types.ModuleType:
    """Return a new, isolated simulated TensorRT module for ``version``.

    ``version`` is one of :data:`SIMULATED_VERSIONS` ("rtx-1.7.1" gives a ``tensorrt_rtx``
    module with ``__version__ == "1.7.1"``). The module mirrors that release's Python API: names
    the release lacks are absent, enums carry the real members and values (from the API
    manifests), setters return False and log through the ILogger, bad plans deserialize to None.
    Engines run on ``mod._sim.device`` (host numpy by default; see ``devices.py``).

    Every call builds new classes, so modules share no state. ``mod._sim`` is the
    :class:`SimControl`; ``mod.__trt_exec_simulated__`` is True.

    With ``record_access=True``, every read of a public attribute of the module, its classes or
    their instances, from code outside the simulator, is added to ``mod._sim.accesses`` as
    ``(caller module __name__, owner, attribute)`` where owner is the TensorRT class name (e.g.
    "ICudaEngine", "DataType", "ILogger.Severity") or "tensorrt" for the module itself. Without it
    no hook is installed, so there is no overhead.
    """
    rel = R.RELEASES.get(version)
    if rel is None:
        raise ValueError(
            f"version={version!r} is not simulated; choose one of {', '.join(SIMULATED_VERSIONS)}"
        )
    ctl = SimControl(rel, record_access)
    modname = rel.module_name
    meta: type = _recording_meta(ctl) if record_access else _SimMeta
    tmeta = _trampoline_meta(meta, modname)
    getattribute = _recording_getattribute(ctl) if record_access else None
    C = ctl._classes

    def finish(ns: dict[str, Any], public: str) -> dict[str, Any]:
        ns["_PUBLIC_NAME"] = public
        ns["_ctl"] = ctl
        ns["_C"] = C
        ns["__module__"] = modname
        ns["__qualname__"] = public
        if getattribute is not None:
            ns["__getattribute__"] = getattribute
        return ns

    # Enums.
    enums, constants = R.enum_members(rel)
    for ename, members in enums.items():
        if "." in ename:
            continue
        extra = dict(DATATYPE_EXTRA) if ename == "DataType" else {}
        C[ename] = make_enum(ename, members, ename in R.ARITHMETIC, meta, finish(extra, ename))
    sev = make_enum(
        "Severity", enums["ILogger.Severity"], True, meta, finish({}, "ILogger.Severity")
    )
    ctl._sev = {m.value: m for m in type.__getattribute__(sev, "__members__").values()}

    C["Dims"] = meta("Dims", (DimsBase,), finish({"__slots__": ()}, "Dims"))
    for dname, rank in (("Dims2", 2), ("DimsHW", 2), ("Dims3", 3), ("Dims4", 4)):
        C[dname] = meta(dname, (C["Dims"],), finish(fixed_rank_dims(rank), dname))

    # Classes.
    for impl in _api.IMPLS:
        public = impl._PUBLIC
        rule = _api.CLASS_RULES.get(public)
        if rule is not None and not rule(rel):
            continue
        ns: dict[str, Any] = {}
        for k, v in vars(impl).items():
            if k in ("_RULES", "_VARIANTS", "_PUBLIC", "_BASES", "__dict__", "__weakref__"):
                continue
            if k == "__doc__":
                continue
            r = impl._RULES.get(k)
            if r is not None and not r(rel):
                continue
            ns[k] = v
        # Methods whose signature differs between releases: the first variant whose rule
        # matches this release is the method (none matching: the release lacks it).
        for k, variants in getattr(impl, "_VARIANTS", {}).items():
            ns.pop(k, None)
            for rule_v, fn in variants:
                if rule_v(rel):
                    ns[k] = fn
                    break
        if public == "IExecutionContext":
            ns["active_optimization_profile"] = _api.context_profile_property(rel)
        ns["__doc__"] = impl.__doc__
        # The bindings add __enter__/__exit__ to every class in Python (common_enter/exit).
        ns.setdefault("__enter__", _enter)
        ns.setdefault("__exit__", _exit)
        if public == "IHostMemory":
            ns.update(_HIDDEN_BYTES)
        bases: tuple[type, ...] = tuple(C[b] for b in getattr(impl, "_BASES", ()))
        if not bases:
            bases = (bytes,) if issubclass(impl, bytes) else (object,)
        use_meta = (
            tmeta
            if public in ("ILogger", "IOutputAllocator", "IDebugListener")
            else type(bases[0])
            if bases[0] not in (object, bytes)
            else meta
        )
        C[public] = use_meta(public, bases, finish(ns, public))

    ilogger = C["ILogger"]
    type.__setattr__(ilogger, "Severity", sev)
    for m in ctl._sev.values():
        type.__setattr__(ilogger, m.name, m)

    mod_cls: type = SimulatedTensorRTModule
    if record_access:
        accesses = ctl.accesses

        def mod_getattribute(self: Any, name: str) -> Any:
            if name[0] != "_":
                caller = sys._getframe(1).f_globals.get("__name__", "?")
                if not caller.startswith(_OWN):
                    accesses.add((caller, "tensorrt", name))
            return types.ModuleType.__getattribute__(self, name)

        mod_cls = type(
            "SimulatedTensorRTModule",
            (SimulatedTensorRTModule,),
            {"__getattribute__": mod_getattribute},
        )
    mod: Any = mod_cls(modname, f"Simulated {modname} {rel.version} (trt_exec.sim)")
    mod.__version__ = rel.version
    mod.__trt_exec_simulated__ = True
    mod._sim = ctl
    ctl._module = weakref.ref(mod)  # an engine's own module (discovery.engine_module)
    for name, cls in C.items():
        setattr(mod, name, cls)
    for cname, value in constants.items():
        setattr(mod, cname, C["DataType"](value))
    mod.nptype = _nptype
    mod.volume = _volume
    mod.init_libnvinfer_plugins, mod.get_plugin_registry = _plugin_functions(ctl)
    made: types.ModuleType = mod
    return made


def _plugin_functions(ctl: SimControl) -> tuple[Any, Any]:
    """Module functions ``init_libnvinfer_plugins`` and ``get_plugin_registry`` (every manifest,
    8.6.1 to RTX 1.7.1; Polygraphy calls the first before parsing or loading engines)."""
    C = ctl._classes

    def init_libnvinfer_plugins(logger: Any, namespace: str) -> bool:
        """Register the plugins (the simulator has none); True. Like the bindings' ``void*``
        argument, ``logger`` may be None or any TensorRT object; a plain Python object is a
        TypeError (observed on RTX 1.7.1)."""
        ok_logger = logger is None or isinstance(type(logger), _SimMeta)
        if not ok_logger or not isinstance(namespace, str):
            raise TypeError(
                "init_libnvinfer_plugins(): incompatible function arguments. The following "
                "argument types are supported:\n    1. (logger: capsule, namespace: str) -> bool"
                f"\n\nInvoked with: {logger!r}, {namespace!r}"
            )
        return True

    def get_plugin_registry() -> Any:
        """The module's one IPluginRegistry."""
        reg = ctl.__dict__.get("_plugin_registry")
        if reg is None:
            cls = C["IPluginRegistry"]
            reg = object.__new__(cls)
            ctl.__dict__["_plugin_registry"] = reg
        return reg

    return init_libnvinfer_plugins, get_plugin_registry


def _enter(self: Any) -> Any:
    return self


def _exit(self: Any, exc_type: Any, exc_value: Any, traceback: Any) -> None:
    return None


class _Hidden:
    """A descriptor that makes an inherited attribute look absent."""

    def __set_name__(self, owner: type, name: str) -> None:
        self._name = name

    def __get__(self, obj: Any, owner: Any = None) -> Any:
        raise AttributeError(f"'IHostMemory' object has no attribute '{self._name}'")


def _no_len(self: Any) -> int:
    raise TypeError("object of type 'IHostMemory' has no len()")


_HIDDEN_BYTES: dict[str, Any] = {n: _Hidden() for n in dir(bytes) if not n.startswith("_")}
for _n, _h in _HIDDEN_BYTES.items():
    _h._name = _n
_HIDDEN_BYTES["__len__"] = _no_len


def _nptype(trt_type: Any) -> Any:
    """``trt.nptype``: the numpy type of a DataType; TypeError for types numpy lacks."""
    import numpy as np

    from ._plan import NP_DTYPES

    dt = NP_DTYPES.get(int(trt_type))
    if dt is None:
        raise TypeError("Could not resolve TensorRT datatype to an equivalent numpy datatype.")
    return dt.type if dt != np.dtype(np.bool_) else np.bool_


def _volume(iterable: Any) -> int:
    """``trt.volume``: product of the dims (1 for an empty shape)."""
    vol = 1
    for d in iterable:
        vol *= d
    return vol
