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
from ._types import (
    DATATYPE_EXTRA,
    DimsBase,
    PermutationBase,
    WeightsBase,
    fixed_rank_dims,
    make_enum,
)
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

    dims_ns: dict[str, Any] = {"__slots__": ()}
    if rel.flavor == "tensorrt" and rel.vt < (10,):
        # 8.x binds MAX_DIMS as an instance property: ``trt.Dims.MAX_DIMS`` is the property
        # object (observed on the real 8.6.1 wheel; an int from 10.0.1 on).
        dims_ns["MAX_DIMS"] = property(lambda self: 8)
    C["Dims"] = meta("Dims", (DimsBase,), finish(dims_ns, "Dims"))
    for dname, rank in (("Dims2", 2), ("DimsHW", 2), ("Dims3", 3), ("Dims4", 4)):
        C[dname] = meta(dname, (C["Dims"],), finish(fixed_rank_dims(rank), dname))
    C["Permutation"] = meta(
        "Permutation", (PermutationBase,), finish({"__slots__": ()}, "Permutation")
    )
    C["Weights"] = meta("Weights", (WeightsBase,), finish({"__slots__": ()}, "Weights"))

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
            if public in ("ILogger", "IOutputAllocator", "IDebugListener", "IGpuAllocator")
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
    mod.__version__ = rel.version_string
    mod.__trt_exec_simulated__ = True
    mod._sim = ctl
    ctl._module = weakref.ref(mod)  # an engine's own module (discovery.engine_module)
    for name, cls in C.items():
        setattr(mod, name, cls)
    for cname, value in constants.items():
        setattr(mod, cname, C["DataType"](value))
    mod.nptype, mod.volume = _module_functions(mod)
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


def _not_iterable(self: Any) -> Any:
    raise TypeError("'IHostMemory' object is not iterable")


def _not_subscriptable(self: Any, key: Any) -> Any:
    raise TypeError("'IHostMemory' object is not subscriptable")


def _no_contains(self: Any, item: Any) -> bool:
    raise TypeError("argument of type 'IHostMemory' is not iterable")


def _not_implemented(self: Any, other: Any) -> Any:
    return NotImplemented


def _host_memory_repr(self: Any) -> str:
    return f"<{type(self).__module__}.IHostMemory object at {id(self):#x}>"


def _no_pickle(self: Any, protocol: Any = None) -> Any:
    raise TypeError(f"cannot pickle '{type(self).__module__}.IHostMemory' object")


# IHostMemory is a bytes subclass only to give it the buffer protocol (Python 3.11 has no
# __buffer__); everything else bytes adds is hidden or reset to what the pybind11 class has. The
# real class (every manifest, 8.6.1 to RTX 1.7.1) lists the buffer protocol, ``dtype`` and
# ``nbytes`` and no ``__len__``, ``__getitem__``, ``__iter__`` or ``__contains__``, so:
# ``bool()`` is always True (Polygraphy checks ``if not engine_bytes:`` after a build), ``len()``,
# iteration, indexing and ``in`` raise TypeError, ``==`` and ``hash`` are by identity (object's),
# and it does not pickle.
_HIDDEN_BYTES: dict[str, Any] = {n: _Hidden() for n in dir(bytes) if not n.startswith("_")}
for _n, _h in _HIDDEN_BYTES.items():
    _h._name = _n
_HIDDEN_BYTES.update(
    {
        "__len__": _no_len,
        "__bool__": lambda self: True,
        "__iter__": _not_iterable,
        "__getitem__": _not_subscriptable,
        "__contains__": _no_contains,
        # By identity, and never falling back to bytes' comparison of the contents.
        "__eq__": lambda self, other: self is other,
        "__ne__": lambda self, other: self is not other,
        "__hash__": object.__hash__,
        "__lt__": _not_implemented,
        "__le__": _not_implemented,
        "__gt__": _not_implemented,
        "__ge__": _not_implemented,
        "__add__": _not_implemented,
        "__mul__": _not_implemented,
        "__rmul__": _not_implemented,
        "__mod__": _not_implemented,
        "__rmod__": _not_implemented,
        "__repr__": _host_memory_repr,
        "__str__": _host_memory_repr,
        "__reduce_ex__": _no_pickle,
        "__getnewargs__": _Hidden(),
    }
)
_HIDDEN_BYTES["__getnewargs__"]._name = "__getnewargs__"

# trt.nptype's table (the bindings' __init__.py, e.g. tensorrt_rtx_bindings 1.7.1): the module
# constants that have a numpy equivalent; a release lacking a constant lacks its entry.
_NPTYPE_CONSTANTS = ("float32", "float16", "int8", "int32", "int64", "bool", "uint8")


def _module_functions(mod: Any) -> tuple[Any, Any]:
    """``trt.nptype`` and ``trt.volume`` as the bindings' ``__init__.py`` defines them (every
    release; read in tensorrt_rtx_bindings 1.7.1 and the binding wheels' ``__init__.py``)."""
    import numpy as np

    mapping = {
        getattr(mod, c): (np.bool_ if c == "bool" else getattr(np, c))
        for c in _NPTYPE_CONSTANTS
        if hasattr(mod, c)
    }

    def nptype(trt_type: Any) -> Any:
        """Returns the numpy-equivalent of a TensorRT DataType: a dict lookup, so only a
        DataType member matches (DataType is a strict pybind11 enum: ``0`` is not FLOAT), and
        FP8, BF16, INT4 and FP4 raise TypeError."""
        if trt_type in mapping:
            return mapping[trt_type]
        raise TypeError("Could not resolve TensorRT datatype to an equivalent numpy datatype.")

    def volume(iterable: Any) -> int:
        """The product of the elements of any iterable, 1 for an empty one. Like the bindings'
        ``for elem in iterable``, a Dims is walked through ``__getitem__`` until IndexError (the
        real Dims has no ``__iter__``), so an unknown shape (nbDims == -1) gives 1."""
        vol = 1
        if isinstance(iterable, DimsBase):
            i = 0
            while True:
                try:
                    elem = iterable[i]
                except IndexError:
                    return vol
                vol *= elem
                i += 1
        for elem in iterable:
            vol *= elem
        return vol

    return nptype, volume
