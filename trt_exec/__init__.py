"""trt_exec: one execution layer for NVIDIA TensorRT engines, on every release users deploy.

>>> import trt_exec
>>> with trt_exec.load("model.engine") as ex:          # doctest: +SKIP
...     out = ex.infer({"x": x})

The backend - ``"v2"`` (bindings × profiles, TensorRT <= 8.6) or ``"v3"`` (named tensors,
TensorRT >= 8.5, 10.x, 11.x, TensorRT-RTX) - is chosen from the installed TensorRT version;
``TRT_EXEC_BACKEND`` overrides it. Importing trt_exec needs neither TensorRT nor CUDA: the first
call that needs one raises a typed error saying what is missing.

``trt_exec.testing`` (the simulated TensorRT, test networks and, in ``trt_exec.testing.strategies``,
Hypothesis strategies) is loaded on first access, so ``import trt_exec`` does not pay for it.
"""

import importlib as _importlib
from types import ModuleType as _ModuleType
from typing import TYPE_CHECKING as _TYPE_CHECKING

from . import errors
from ._version import __version__
from .backends.v2 import V2Executor
from .backends.v3 import V3Executor
from .bound import BoundCall
from .discovery import FLAVORS, find_tensorrt
from .errors import (
    ArrayError,
    BackendUnavailableError,
    BindingError,
    ClosedError,
    ConfigurationError,
    CudaUnavailableError,
    DTypeError,
    EngineLoadError,
    EngineNotFoundError,
    ExecutionError,
    InvalidBackendError,
    ProfileError,
    ShapeError,
    StaleBindingError,
    TensorRTNotFoundError,
    TrtExecError,
)
from .executor import Executor
from .loading import load
from .pool import Pool
from .results import AsyncResult, DeviceTensor
from .selection import BackendChoice, explain_backend, select_backend
from .spec import ProfileShape, TensorSpec

if _TYPE_CHECKING:
    from . import testing as testing

__all__ = [
    "BoundCall",
    "AsyncResult",
    "DeviceTensor",
    "Pool",
    "FLAVORS",
    "BackendChoice",
    "ArrayError",
    "BackendUnavailableError",
    "BindingError",
    "ClosedError",
    "ConfigurationError",
    "CudaUnavailableError",
    "DTypeError",
    "EngineLoadError",
    "EngineNotFoundError",
    "ExecutionError",
    "Executor",
    "InvalidBackendError",
    "ProfileError",
    "ProfileShape",
    "ShapeError",
    "StaleBindingError",
    "TensorRTNotFoundError",
    "TensorSpec",
    "TrtExecError",
    "V2Executor",
    "V3Executor",
    "__version__",
    "errors",
    "explain_backend",
    "find_tensorrt",
    "load",
    "select_backend",
]


def __getattr__(name: str) -> _ModuleType:
    # PEP 562: ``trt_exec.testing`` is imported on first access, not by ``import trt_exec``.
    # importlib rather than ``from . import testing``, whose hasattr() would recurse into here.
    if name == "testing":
        return _importlib.import_module(f"{__name__}.testing")
    raise AttributeError(f"module 'trt_exec' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), "testing"})
