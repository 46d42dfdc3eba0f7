"""Finding the TensorRT module to use.

Discovery order: ``tensorrt``, ``tensorrt_rtx``, ``tensorrt_lean``, ``tensorrt_dispatch``. The
environment variable ``TRT_EXEC_TENSORRT`` (read when used, not at import) names one of them, or
``sim:<version>`` for the simulated TensorRT of :mod:`trt_exec.sim`.
"""

from __future__ import annotations

import importlib
import os
from types import ModuleType

from .errors import ConfigurationError, TensorRTNotFoundError

__all__ = [
    "FLAVORS",
    "ENV_TENSORRT",
    "find_tensorrt",
    "module_flavor",
    "module_version",
    "is_simulated",
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


def _resolve_name(value: str) -> ModuleType:
    v = value.strip()
    if v.startswith("sim:"):
        from .sim import SIMULATED_VERSIONS, simulated_tensorrt

        version = v[4:]
        if version not in SIMULATED_VERSIONS:
            raise ConfigurationError(
                f"{ENV_TENSORRT}/tensorrt={value!r}: no simulated release {version!r}; valid are "
                + ", ".join(f"'sim:{s}'" for s in SIMULATED_VERSIONS)
            )
        return simulated_tensorrt(version)
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
