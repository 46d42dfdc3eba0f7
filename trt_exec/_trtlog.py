"""Routing TensorRT's ILogger into :mod:`logging`, and capturing the error lines of a call.

TensorRT reports most failures by returning False/None and logging a line through the ILogger
given to the Runtime (TensorRT developer guide, "The Runtime Phase"; the Python API's
``ILogger.log``). trt_exec logs every line to the ``trt_exec.tensorrt`` logger with the severity
mapped, and collects ERROR/INTERNAL_ERROR lines emitted while a :func:`capture` block runs in the
same thread, so they can be attached to the exception raised for that call.
"""

from __future__ import annotations

import logging
import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from types import ModuleType
from typing import Any

LOGGER = logging.getLogger("trt_exec.tensorrt")

# ILogger.Severity values are the same in every release: INTERNAL_ERROR=0 ERROR=1 WARNING=2
# INFO=3 VERBOSE=4.
_LEVELS = {
    0: logging.CRITICAL,
    1: logging.ERROR,
    2: logging.WARNING,
    3: logging.INFO,
    4: logging.DEBUG,
}

_local = threading.local()
_bridge_classes: weakref.WeakKeyDictionary[ModuleType, type] = weakref.WeakKeyDictionary()
_lock = threading.Lock()


def _record(severity: Any, msg: str) -> None:
    level = _LEVELS.get(int(severity), logging.INFO)
    LOGGER.log(level, "%s", msg)
    if level >= logging.ERROR:
        stack = getattr(_local, "stack", None)
        if stack:
            stack[-1].append(str(msg))


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


@contextmanager
def capture() -> Iterator[list[str]]:
    """Collect the ERROR lines TensorRT logs in this thread while the block runs."""
    stack = getattr(_local, "stack", None)
    if stack is None:
        stack = _local.stack = []
    lines: list[str] = []
    stack.append(lines)
    try:
        yield lines
    finally:
        stack.pop()
