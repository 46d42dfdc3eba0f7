"""Finding the TensorRT module to use.

Discovery order: ``tensorrt``, ``tensorrt_rtx``, ``tensorrt_lean``, ``tensorrt_dispatch``. The
environment variable ``TRT_EXEC_TENSORRT`` (read when used, not at import) names one of them, or
``sim:<version>`` for the simulated TensorRT of :mod:`trt_exec.sim`: ``sim:8.4.3``,
``sim:8.6.1``, ``sim:10.0.1``, ``sim:10.16.1``, ``sim:11.4.0`` or ``sim:rtx-1.7.1`` (also spelled
``sim:1.7.1``; see :func:`simulated_release`).
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Sequence
from types import ModuleType
from typing import Any

from .errors import ConfigurationError, TensorRTNotFoundError

__all__ = [
    "FLAVORS",
    "ENV_TENSORRT",
    "find_tensorrt",
    "module_flavor",
    "module_version",
    "is_simulated",
    "engine_module",
    "module_for_engine",
    "simulated_release",
]

FLAVORS = ("tensorrt", "tensorrt_rtx", "tensorrt_lean", "tensorrt_dispatch")
ENV_TENSORRT = "TRT_EXEC_TENSORRT"
_INSTALL_HINT = (
    "install one with `pip install tensorrt` (or `pip install 'trt-exec[tensorrt]'`), "
    "`pip install tensorrt-rtx-cu13` for TensorRT-RTX, or use the simulator with "
    f"{ENV_TENSORRT}=sim:10.16.1"
)


def _import_flavor(name: str) -> ModuleType:
    try:
        module = importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name != name:  # the package exists but one of its own imports failed
            raise TensorRTNotFoundError(
                f"{name!r} is installed but failed to import ({exc}); {_INSTALL_HINT}"
            ) from exc
        raise
    except (ImportError, OSError) as exc:
        raise TensorRTNotFoundError(
            f"{name!r} is installed but failed to import: {exc}. Its native libraries "
            f"(libnvinfer) may be missing; {_INSTALL_HINT}"
        ) from exc
    return _checked(module)


def _checked(module: ModuleType) -> ModuleType:
    """``module`` if it has TensorRT's API: an empty ``./tensorrt/`` folder imports as a
    namespace package (PEP 420) named ``tensorrt``, which is not TensorRT."""
    if hasattr(module, "Runtime") and hasattr(module, "__version__"):
        return module
    where = getattr(module, "__file__", None) or list(getattr(module, "__path__", []))
    raise TensorRTNotFoundError(
        f"{module.__name__!r} imported from {where!r} is not TensorRT (it has no Runtime or "
        "__version__): a folder or file of that name in the working directory or on sys.path "
        f"hides the real one; rename it or run from another directory. {_INSTALL_HINT}"
    )


def simulated_release(value: str, known: Sequence[str]) -> str:
    """The simulated release that ``sim:<version>`` names, accepting the obvious spellings.

    ``known`` is :data:`trt_exec.sim.SIMULATED_VERSIONS`. Case and spaces do not matter, a
    leading ``v`` is dropped, ``rtx1.7.1`` / ``rtx_1.7.1`` / ``tensorrt_rtx-1.7.1`` mean
    ``rtx-1.7.1``, and a bare ``1.x`` version is TensorRT-RTX (TensorRT itself had no 1.x
    release). Anything else raises :class:`ConfigurationError` listing the valid spellings, with
    the closest one first when the value is a prefix of one (``sim:10.16`` -> ``sim:10.16.1``).
    """
    v = value.strip().lower().replace(" ", "")
    for prefix in ("tensorrt_rtx", "tensorrt-rtx", "rtx"):
        if v.startswith(prefix):
            v = "rtx-" + v[len(prefix) :].lstrip("-_:")
            break
    if v.startswith("v") and v[1:2].isdigit():
        v = v[1:]
    if v.startswith("1.") and f"rtx-{v}" in known:
        v = f"rtx-{v}"
    if v in known:
        return v
    close = [k for k in known if v and k.startswith(v)]
    hint = f"did you mean 'sim:{close[0]}'? " if len(close) == 1 else ""
    raise ConfigurationError(
        f"{ENV_TENSORRT}/tensorrt='sim:{value}': no simulated release {value!r}; {hint}valid are "
        + ", ".join(f"'sim:{k}'" for k in known)
    )


def _resolve_name(value: str) -> ModuleType:
    v = value.strip()
    if v.lower().startswith("sim:"):
        from .sim import SIMULATED_VERSIONS, simulated_tensorrt

        return simulated_tensorrt(simulated_release(v[4:], SIMULATED_VERSIONS))
    if v not in FLAVORS:
        raise ConfigurationError(
            f"{ENV_TENSORRT}/tensorrt={value!r} is not a TensorRT module; valid values are "
            + ", ".join(repr(f) for f in FLAVORS)
            + " or 'sim:<version>'"
        )
    try:
        return _import_flavor(v)
    except ModuleNotFoundError:
        raise TensorRTNotFoundError(f"{v!r} is not installed; {_INSTALL_HINT}") from None


def find_tensorrt(tensorrt: ModuleType | str | None = None) -> ModuleType:
    """Return the TensorRT module to use.

    ``tensorrt`` may be a module (used as is), a module name or ``"sim:<version>"``. Without it,
    ``TRT_EXEC_TENSORRT`` decides, else the first importable flavour in :data:`FLAVORS`.
    Raises :class:`TensorRTNotFoundError` (an ``ImportError``) when none is available and
    :class:`ConfigurationError` for an invalid name.
    """
    if isinstance(tensorrt, ModuleType):
        return tensorrt
    if tensorrt is not None:
        if not isinstance(tensorrt, str):
            raise ConfigurationError(
                f"tensorrt={tensorrt!r} is neither a module nor a name; pass the imported module, "
                "one of " + ", ".join(repr(f) for f in FLAVORS) + " or 'sim:<version>'"
            )
        return _resolve_name(tensorrt)
    env = os.environ.get(ENV_TENSORRT, "").strip()
    if env:
        return _resolve_name(env)
    for name in FLAVORS:
        try:
            return _import_flavor(name)
        except ModuleNotFoundError:
            continue
    raise TensorRTNotFoundError(
        f"no TensorRT module found (tried {', '.join(FLAVORS)}); {_INSTALL_HINT}"
    )


def module_flavor(trt: ModuleType) -> str:
    """The flavour name of a TensorRT module: ``tensorrt``, ``tensorrt_rtx``, ..."""
    return trt.__name__.split(".")[0]


def module_version(trt: ModuleType) -> str:
    return str(getattr(trt, "__version__", "0"))


def is_simulated(trt: ModuleType) -> bool:
    return bool(getattr(trt, "__trt_exec_simulated__", False))


def engine_module(engine: Any) -> ModuleType | None:
    """The TensorRT module an ``ICudaEngine`` object belongs to, or None when it cannot tell.

    A simulated engine knows its module; a real one is an instance of the ``ICudaEngine`` of an
    imported flavour in :data:`FLAVORS` (checked in ``sys.modules``: nothing is imported here).
    """
    ctl = getattr(type(engine), "_ctl", None)
    ref = getattr(ctl, "_module", None)
    if ref is not None and ref() is not None:
        module: ModuleType = ref()
        return module
    for name in FLAVORS:
        mod = sys.modules.get(name)
        cls = getattr(mod, "ICudaEngine", None)
        if isinstance(cls, type) and isinstance(engine, cls):
            return mod
    return None


def module_for_engine(engine: Any, tensorrt: ModuleType | str | None) -> ModuleType:
    """The module to run an ``ICudaEngine`` object with: its own.

    With no ``tensorrt`` and no ``TRT_EXEC_TENSORRT`` nothing is discovered. An explicit module
    (or name, or environment value) that is not the engine's own is refused: the engine's enums
    are its module's, so every IO tensor would look like an output to another module. A
    ``sim:<version>`` naming the engine's own simulated release means its module.
    """
    own = engine_module(engine)
    requested: ModuleType | str | None = tensorrt
    if requested is None:
        requested = os.environ.get(ENV_TENSORRT, "").strip() or None
    if own is None:
        return find_tensorrt(tensorrt)
    if requested is None or requested is own:
        return own
    if isinstance(requested, str):
        name = requested.strip()
        if name == module_flavor(own) and sys.modules.get(name) is own:
            return own
        if name.startswith("sim:") and is_simulated(own):
            ctl = getattr(own, "_sim", None)
            if getattr(ctl, "version", None) == name[4:]:
                return own
        resolved = find_tensorrt(name)
    else:
        resolved = find_tensorrt(requested)
    if resolved is own:
        return own
    raise ConfigurationError(
        f"the ICudaEngine belongs to {_describe(own)}, but tensorrt={requested!r} "
        f"(argument or {ENV_TENSORRT}) is {_describe(resolved)}: an engine runs only with its "
        "own module. Drop tensorrt= and unset TRT_EXEC_TENSORRT to use the engine's module, or "
        "pass the serialized engine (bytes or a path) to load it with another"
    )


def _describe(trt: ModuleType) -> str:
    sim = " (simulated)" if is_simulated(trt) else ""
    return f"{module_flavor(trt)} {module_version(trt)}{sim} <module at {id(trt):#x}>"
