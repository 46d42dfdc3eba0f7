"""Routing TensorRT's ILogger into :mod:`logging`, and capturing the error lines of a call.

TensorRT reports most failures by returning False/None and logging a line through the ILogger
given to the Runtime (TensorRT developer guide, "The Runtime Phase"; the Python API's
``ILogger.log``). trt_exec logs every line to the ``trt_exec.tensorrt`` logger with the severity
mapped, and collects ERROR/INTERNAL_ERROR lines emitted while a :func:`capture` block runs in the
same thread, so they can be attached to the exception raised for that call.
"""

from __future__ import annotations

import logging
import os
import threading
import weakref
from collections import deque
from types import ModuleType
from typing import Any

LOGGER = logging.getLogger("trt_exec.tensorrt")
# A library's loggers get a NullHandler (logging HOWTO, "Configuring Logging for a Library"):
# without one, a TensorRT ERROR line of a failing call whose exception the caller catches would
# still reach stderr through logging.lastResort. The lines are on the exception
# (TrtExecError.tensorrt_log), and in the application's log if it configures logging.
logging.getLogger("trt_exec").addHandler(logging.NullHandler())

# ILogger.Severity values are the same in every release: INTERNAL_ERROR=0 ERROR=1 WARNING=2
# INFO=3 VERBOSE=4.
_LEVELS = {
    0: logging.CRITICAL,
    1: logging.ERROR,
    2: logging.WARNING,
    3: logging.INFO,
    4: logging.DEBUG,
}


class _Count:
    """``errors.count``: how many ERROR lines TensorRT has logged in this process.

    A plain slot, not a thread-local: it is read before every enqueue and bind, and a
    ``threading.local`` attribute costs ~700 instructions to read against ~90 (Python 3.12),
    a quarter of a bound call's overhead over the raw call (``benchmarks.instructions``). Each
    line also records its number in its thread's ``recent`` deque, so :func:`since` still
    returns this thread's lines only."""

    __slots__ = ("count",)

    def __init__(self) -> None:
        self.count = 0


_local = threading.local()
_bridge_classes: weakref.WeakKeyDictionary[ModuleType, type] = weakref.WeakKeyDictionary()
_lock = threading.Lock()
_count_lock = threading.Lock()  # numbers each ERROR line once (a rare path)


def _new_lock_in_child() -> None:
    # A fork while another thread held a lock would leave the child's copy held for ever:
    # the child gets fresh ones (the parent's threads do not exist there).
    global _lock, _count_lock
    _lock = threading.Lock()
    _count_lock = threading.Lock()


os.register_at_fork(after_in_child=_new_lock_in_child)


_RECENT = 64  # error lines kept per thread for since()


def _record(severity: Any, msg: str) -> None:
    level = _LEVELS.get(int(severity), logging.INFO)
    LOGGER.log(level, "%s", msg)
    if level >= logging.ERROR:
        stack = getattr(_local, "stack", None)
        if stack:
            stack[-1].append(str(msg))
        recent = getattr(_local, "recent", None)
        if recent is None:
            recent = _local.recent = deque(maxlen=_RECENT)
        with _count_lock:
            errors.count += 1
            number = errors.count
        recent.append((number, str(msg)))


#: How many ERROR lines TensorRT has logged so far (``errors.count``, all threads): the cheap
#: form of :class:`capture` for calls that almost never fail (binds, the enqueue). Read the
#: count before the call, and only if it failed collect this thread's lines logged since
#: (:func:`since`).
errors = _Count()


def since(start: int) -> list[str]:
    """The ERROR lines logged in this thread since ``errors.count`` was ``start`` (lines of
    other threads in between are theirs: each line carries its number)."""
    recent = getattr(_local, "recent", None)
    if not recent:
        return []
    return [line for number, line in recent if number > start]


def bridge_logger(trt: ModuleType) -> Any:
    """A new ILogger (subclass of ``trt.ILogger``) that forwards to :data:`LOGGER`."""
    with _lock:
        cls = _bridge_classes.get(trt)
        if cls is None:
            base = trt.ILogger

            def __init__(self: Any) -> None:
                base.__init__(self)

            def log(self: Any, severity: Any, msg: str) -> None:
                _record(severity, msg)

            cls = type("TrtExecLogger", (base,), {"__init__": __init__, "log": log})
            _bridge_classes[trt] = cls
    return cls()


class capture:  # noqa: N801 - used as a function: ``with capture() as log:``
    """Collect the ERROR lines TensorRT logs in this thread while the block runs.

    A slotted class rather than ``@contextmanager``: it wraps every enqueue, and a generator-based
    context manager costs about 0.7 µs more per call (CPython 3.11), which is most of
    ``execute()``'s overhead over hand-written TensorRT calls (benchmarks/README.md, scenario A).
    """

    __slots__ = ("lines",)

    def __init__(self) -> None:
        self.lines: list[str] = []

    def __enter__(self) -> list[str]:
        stack = getattr(_local, "stack", None)
        if stack is None:
            stack = _local.stack = []
        stack.append(self.lines)
        return self.lines

    def __exit__(self, *exc: object) -> None:
        _local.stack.pop()
