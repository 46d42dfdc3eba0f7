"""What becomes of executors and pools across ``os.fork()``, and why they cannot be copied.

A CUDA context does not survive ``fork()``: the CUDA programming guide says a child process must
not use CUDA state created by its parent (the driver returns ``CUDA_ERROR_NOT_INITIALIZED`` or
worse), and a TensorRT execution context lives in one. Worse, a thread of the parent may hold an
executor's lock at the moment of the fork; the child gets the lock held by a thread that does
not exist there, and its next call would wait forever.

So every executor and pool registers here, and an ``os.register_at_fork`` hook marks each one
*inherited* in the child: it gets a fresh lock, its resources are parked in :data:`_parked`
(never released in the child, whose destructors would call CUDA on the parent's context), and its
next use raises :class:`~trt_exec.errors.ClosedError` saying to load the engine again in the
child. Nothing hangs. The parent is unaffected.

Copying would give two objects one set of resources (closing one frees the other's), and
pickling cannot carry an engine to another process: both raise ``TypeError`` (:func:`refuse`).
"""

from __future__ import annotations

import os
import threading
import weakref
from typing import Any, NoReturn, Protocol

from .errors import ClosedError

__all__ = ["ForkAware", "NotCopyable", "track", "park", "inherited_error", "refuse"]


class ForkAware(Protocol):
    """An object that drops what it holds when the process forks."""

    def _after_fork_in_child(self, parent: int) -> None: ...


_tracked: weakref.WeakSet[Any] = weakref.WeakSet()
_tracked_lock = threading.Lock()
#: Resources inherited from the parent: kept alive, never released, in the child.
_parked: list[Any] = []


def track(obj: ForkAware) -> None:
    """Have ``obj._after_fork_in_child(parent_pid)`` called in a child after ``os.fork()``."""
    with _tracked_lock:
        _tracked.add(obj)


def park(*resources: Any) -> None:
    """Keep ``resources`` alive for the child's lifetime without ever releasing them."""
    _parked.extend(r for r in resources if r is not None)


def _after_fork_in_child() -> None:
    global _tracked_lock
    _tracked_lock = threading.Lock()  # may have been held by a parent thread at the fork
    parent = os.getppid()
    for obj in list(_tracked):
        obj._after_fork_in_child(parent)
    _tracked.clear()


if hasattr(os, "register_at_fork"):  # POSIX; Windows has no fork
    os.register_at_fork(after_in_child=_after_fork_in_child)


def inherited_error(what: str, parent: int) -> ClosedError:
    """The error an object inherited through ``fork()`` raises when used in the child."""
    return ClosedError(
        f"{what} was created in process {parent} and inherited by this process through fork(); "
        "CUDA and TensorRT contexts do not survive fork: load the engine again in this process "
        "(or start workers with multiprocessing's 'spawn' or 'forkserver' method)"
    )


def refuse(obj: object, action: str) -> NoReturn:
    """Raise the TypeError for copying or pickling ``obj``."""
    name = type(obj).__name__
    raise TypeError(
        f"cannot {action} a {name}: it owns a TensorRT execution context and device memory, "
        "which one object must own alone (a copy's close() would free the original's) and which "
        f"cannot move to another process; share the {name} itself, or load the engine again "
        "(in another process, load it there)"
    )


class NotCopyable:
    """A mixin: ``copy.copy``, ``copy.deepcopy`` and ``pickle`` raise :func:`refuse`'s error."""

    __slots__ = ()

    def __copy__(self) -> NoReturn:
        refuse(self, "copy")

    def __deepcopy__(self, memo: Any) -> NoReturn:
        refuse(self, "copy")

    def __reduce_ex__(self, protocol: Any) -> NoReturn:
        refuse(self, "pickle")
