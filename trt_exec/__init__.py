"""trt_exec: one execution layer for NVIDIA TensorRT engines, on every release users deploy.

>>> import trt_exec
>>> with trt_exec.load("model.engine") as ex:          # doctest: +SKIP
...     out = ex.infer({"x": x})

The backend - ``"v2"`` (bindings × profiles, TensorRT <= 8.6) or ``"v3"`` (named tensors,
TensorRT >= 8.5, 10.x, 11.x, TensorRT-RTX) - is chosen from the installed TensorRT version;
``TRT_EXEC_BACKEND`` overrides it. Importing trt_exec needs neither TensorRT nor CUDA: the first
call that needs one raises a typed error saying what is missing.
"""

from . import errors
from ._version import __version__
from .backends.v2 import V2Executor
from .backends.v3 import V3Executor
from .discovery import FLAVORS, find_tensorrt
from .errors import (
    BackendUnavailableError,
    BindingError,
    ClosedError,
    EngineLoadError,
    ExecutionError,
    ShapeError,
    TrtExecError,
)
from .executor import Executor
from .loading import load
from .pool import Pool
from .results import AsyncResult, DeviceTensor
from .selection import BackendChoice, explain_backend, select_backend
from .spec import ProfileShape, TensorSpec

__all__ = [
    "AsyncResult",
    "DeviceTensor",
    "Pool",
    "FLAVORS",
    "BackendChoice",
    "BackendUnavailableError",
    "BindingError",
    "ClosedError",
    "EngineLoadError",
    "ExecutionError",
    "Executor",
    "ProfileShape",
    "ShapeError",
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
