"""Moved: the V2 backend is :mod:`trt_exec.backends.v2` (``trt_exec.V2Executor`` is unchanged).

This alias keeps ``import trt_exec.v2`` working for code written against trt_exec 0.1; it warns.
"""

import warnings as _warnings

from .backends.v2 import *  # noqa: F403
from .backends.v2 import __all__  # noqa: F401

_warnings.warn(
    "trt_exec.v2 moved to trt_exec.backends.v2; import trt_exec.V2Executor or trt_exec.backends.v2",
    DeprecationWarning,
    stacklevel=2,
)
