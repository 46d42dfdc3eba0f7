"""Simulated ``ILogger`` and ``Logger``."""

from __future__ import annotations

import sys
import time
from typing import Any

from . import _releases as R
from ._base import _Sim

_SEV_LETTER = {0: "F", 1: "E", 2: "W", 3: "I", 4: "V"}


# ---------------------------------------------------------------------------------------------
# Logging (ILogger is subclassed by users; TensorRT calls self.log(severity, msg)).
class ILoggerImpl(_Sim):
    """``trt.ILogger``: subclass it, call ``ILogger.__init__(self)``, implement ``log``.

    Like pybind11, constructing a subclass whose ``__init__`` skipped ``ILogger.__init__`` raises
    TypeError, and calling the base ``log`` raises RuntimeError (pure virtual).
    """

    _PUBLIC = "ILogger"
    _RULES: dict[str, R.Rule] = {}

    def __init__(self) -> None:
        self._tramp_init = True

    def log(self, severity: Any, msg: str) -> None:
        raise RuntimeError('Tried to call pure virtual function "ILogger::log"')


class LoggerImpl(_Sim):
    """``trt.Logger(min_severity=Logger.WARNING)``: prints messages at or above min_severity to
    stderr as ``[MM/DD/YYYY-HH:MM:SS] [TRT] [E] msg`` (the bindings' default logger)."""

    _PUBLIC = "Logger"
    _BASES = ("ILogger",)
    _RULES: dict[str, R.Rule] = {}

    def __init__(self, min_severity: Any = None) -> None:
        self._tramp_init = True
        self._min = min_severity if min_severity is not None else self._ctl._sev[2]

    @property
    def min_severity(self) -> Any:
        return self._min

    @min_severity.setter
    def min_severity(self, value: Any) -> None:
        self._min = value

    def log(self, severity: Any, msg: str) -> None:
        if int(severity) <= int(self._min):
            stamp = time.strftime("%m/%d/%Y-%H:%M:%S")
            print(f"[{stamp}] [TRT] [{_SEV_LETTER.get(int(severity), '?')}] {msg}", file=sys.stderr)
