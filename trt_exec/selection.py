"""Backend selection: a pure function of (version, flavor, requested, environment value).

TensorRT's execution API history (Python bindings):

* up to 8.4: the bindings API only (``num_bindings``, ``execute_async_v2``);
* 8.5: the named-tensor API arrives (``num_io_tensors``, ``execute_async_v3``); bindings are
  deprecated but present through 8.6;
* 10.0: the bindings API is removed;
* TensorRT-RTX (``tensorrt_rtx``, versions 1.x) has only the named-tensor API.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from packaging.version import InvalidVersion, Version

from .errors import BackendUnavailableError, InvalidBackendError

__all__ = ["BACKENDS", "BackendChoice", "explain_backend", "select_backend"]

BACKENDS = ("v2", "v3")
_REQUESTS = ("auto", "v2", "v3")
ENV_BACKEND = "TRT_EXEC_BACKEND"

_NAMED_TENSOR_API = Version("8.5")
_BINDINGS_REMOVED = Version("10.0")
_RTX = "tensorrt_rtx"


@dataclass(frozen=True, slots=True)
class BackendChoice:
    """The backend chosen and why: ``source`` is "argument" (``backend=``, including an explicit
    "auto"), "environment" (``TRT_EXEC_BACKEND``) or "version" (neither was given)."""

    backend: str
    source: str
    reason: str


def _parse_version(version: str | Version) -> Version:
    if isinstance(version, Version):
        return version
    try:
        return Version(str(version).strip())
    except InvalidVersion:
        raise BackendUnavailableError(
            f"TensorRT version {version!r} is not a version number; cannot tell which execution "
            "API it has. Pass backend='v2' or 'v3' explicitly only if you know it"
        ) from None


def _normalize(value: str, origin: str) -> str:
    v = value.strip().lower()
    if v == "":
        return "auto"
    if v not in _REQUESTS:
        raise InvalidBackendError(
            f"{origin}={value!r} is not a valid backend; valid values are "
            + ", ".join(repr(r) for r in _REQUESTS)
        )
    return v


def explain_backend(
    version: str | Version,
    requested: str | None = None,
    *,
    flavor: str = "tensorrt",
    environ: dict[str, str] | None = None,
) -> BackendChoice:
    """Like :func:`select_backend`, but also say where the choice came from and why."""
    if requested is not None and not isinstance(requested, str):
        raise InvalidBackendError(
            f"backend={requested!r} is not a string; valid values are "
            + ", ".join(repr(r) for r in _REQUESTS)
        )
    env = os.environ if environ is None else environ
    if requested is not None:
        # An explicit "auto" is a request for the version rule: it overrides the environment.
        want, source = _normalize(requested, "backend"), "argument"
    else:
        want = _normalize(env.get(ENV_BACKEND, ""), ENV_BACKEND)
        source = "environment"
    v = _parse_version(version)
    rtx = flavor == _RTX
    label = f"TensorRT-RTX {v}" if rtx else f"TensorRT {v}"
    has_bindings = not rtx and v < _BINDINGS_REMOVED
    has_named = rtx or v >= _NAMED_TENSOR_API
    if want == "v2" and not has_bindings:
        why = "TensorRT-RTX never had it" if rtx else "it was removed in TensorRT 10.0"
        raise BackendUnavailableError(
            f"backend 'v2' (the bindings API) is unavailable on {label}: {why}. Use backend='v3' "
            f"or leave the backend unset (and unset {ENV_BACKEND})"
        )
    if want == "v3" and not has_named:
        raise BackendUnavailableError(
            f"backend 'v3' (the named-tensor API) is unavailable on {label}: it arrived in "
            f"TensorRT 8.5. Use backend='v2', or upgrade TensorRT to 8.5 or newer"
        )
    if want != "auto":
        via = "backend argument" if source == "argument" else f"{ENV_BACKEND}={env[ENV_BACKEND]!r}"
        return BackendChoice(want, source, f"{via} on {label}")
    # The version rule; source "version", or "argument" for an explicit backend="auto".
    source = "argument" if source == "argument" else "version"
    why = "backend='auto': " if source == "argument" else ""
    if has_named:
        return BackendChoice("v3", source, f"{why}{label} has the named-tensor API (>= 8.5)")
    return BackendChoice("v2", source, f"{why}{label} predates the named-tensor API (< 8.5)")


def select_backend(
    version: str | Version, requested: str | None = None, *, flavor: str = "tensorrt"
) -> str:
    """Return ``"v2"`` or ``"v3"`` for a TensorRT ``version``.

    The rule, first match wins:

    1. ``requested`` when given: "v2" or "v3" is used as is, and "auto" means the version rule
       (3.), whatever ``TRT_EXEC_BACKEND`` says;
    2. else the environment variable ``TRT_EXEC_BACKEND`` (read now, at call time): "v2", "v3",
       or "auto"/unset for the version rule;
    3. the version rule: "v3" when the release has the named-tensor API (>= 8.5, or any
       TensorRT-RTX), else "v2".

    ``flavor`` is the module name (``tensorrt``, ``tensorrt_rtx``, ``tensorrt_lean``,
    ``tensorrt_dispatch``).

    Raises :class:`BackendUnavailableError` when the backend cannot run on that version, and its
    subclass :class:`InvalidBackendError` for a value outside "auto"/"v2"/"v3". Nothing else.
    """
    return explain_backend(version, requested, flavor=flavor).backend
