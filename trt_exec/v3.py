"""Moved: the V3 backend is :mod:`trt_exec.backends.v3` (``trt_exec.V3Executor`` is unchanged).

This alias keeps ``import trt_exec.v3`` working for code written against trt_exec 0.1; it warns.
"""

import warnings as _warnings

from .backends.v3 import *  # noqa: F403
from .backends.v3 import __all__  # noqa: F401

_warnings.warn(
    "trt_exec.v3 moved to trt_exec.backends.v3; import trt_exec.V3Executor or trt_exec.backends.v3",
    DeprecationWarning,
    stacklevel=2,
)
