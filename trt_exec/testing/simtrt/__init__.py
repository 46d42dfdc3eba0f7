"""Moved: the simulated TensorRT now lives in :mod:`trt_exec.sim`.

This alias keeps ``import trt_exec.testing.simtrt`` (and its submodules) working; new code imports
``trt_exec.sim`` (or the re-exports in ``trt_exec.testing``).
"""

import sys as _sys
import warnings as _warnings

from ... import sim as _sim

_warnings.warn(
    "trt_exec.testing.simtrt moved to trt_exec.sim; import trt_exec.sim instead",
    DeprecationWarning,
    stacklevel=2,
)
_sys.modules[__name__] = _sim
