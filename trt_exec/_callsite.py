"""Where user code called into trt_exec: for warnings that must point at the user's line.

A ``ResourceWarning`` for a leaked executor or pool is raised by a ``weakref.finalize`` at garbage
collection, where no frame of the user's code is on the stack; ``stacklevel`` cannot reach it. So
the site is recorded when the object is created (once per ``load()``, a few µs) and the warning
is issued with :func:`warnings.warn_explicit` at that file and line.
"""

from __future__ import annotations

import sys
import warnings
from dataclasses import dataclass

__all__ = ["CallSite", "user_call_site", "warn_at"]

_PACKAGE = __name__.rpartition(".")[0]  # "trt_exec"


@dataclass(frozen=True, slots=True)
class CallSite:
    filename: str
    lineno: int
    module: str

    def __str__(self) -> str:
        return f"{self.filename}:{self.lineno}"


def user_call_site() -> CallSite | None:
    """The innermost frame outside trt_exec's library modules (``trt_exec.testing`` counts as
    user code: it is what users' tests call), or None when there is none."""
    frame = sys._getframe(1)
    while frame is not None:
        module = str(frame.f_globals.get("__name__", ""))
        inside = module == _PACKAGE or module.startswith(_PACKAGE + ".")
        if not inside or module.startswith(_PACKAGE + ".testing"):
            return CallSite(frame.f_code.co_filename, frame.f_lineno, module)
        frame = frame.f_back  # type: ignore[assignment]
    return None


def warn_at(message: str, category: type[Warning], site: CallSite | None) -> None:
    """Warn as if from ``site`` (the user's line), or from here when it is unknown."""
    if site is None:
        warnings.warn(message, category, stacklevel=2)
        return
    warnings.warn_explicit(message, category, site.filename, site.lineno, module=site.module)
