"""Errors raised by trt_exec.

Every error derives from :class:`TrtExecError` and also from the builtin exception that fits it,
so ``except ValueError`` keeps working in code that does not know trt_exec. Messages name the
subject (tensor, engine, variable), show the bad value with ``!r``, say what is allowed and, where
there is one, the fix. Lines that TensorRT logged at ERROR severity while the failing call ran are
attached as :attr:`TrtExecError.tensorrt_log` and appended to ``str(error)``, so the cause is in
the exception rather than in a log somewhere else.
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = [
    "TrtExecError",
    "ConfigurationError",
    "TensorRTNotFoundError",
    "CudaUnavailableError",
    "BackendUnavailableError",
    "InvalidBackendError",
    "EngineLoadError",
    "EngineNotFoundError",
    "ShapeError",
    "ProfileError",
    "DTypeError",
    "BindingError",
    "ArrayError",
    "ExecutionError",
    "ClosedError",
    "StaleBindingError",
]


class TrtExecError(Exception):
    """Base class of every error trt_exec raises.

    ``tensorrt_log`` holds the lines TensorRT logged (ERROR and INTERNAL_ERROR) during the call
    that failed, oldest first, each once (TensorRT repeats a line when several getters hit the
    same failure, e.g. ``get_tensor_shape`` per output after a failed shape inference); it is
    empty when TensorRT said nothing.
    """

    def __init__(self, message: str, *, tensorrt_log: Iterable[str] = ()) -> None:
        super().__init__(message)
        self.message = message
        self.tensorrt_log: tuple[str, ...] = tuple(
            dict.fromkeys(str(line) for line in tensorrt_log)
        )

    def __str__(self) -> str:
        if not self.tensorrt_log:
            return self.message
        lines = "\n".join(f"  {line}" for line in self.tensorrt_log)
        return f"{self.message}\nTensorRT logged:\n{lines}"


class ConfigurationError(TrtExecError, ValueError):
    """An environment variable or option has a value trt_exec does not accept.

    Raised for an invalid ``TRT_EXEC_TENSORRT``; the message lists the valid values.
    """


class TensorRTNotFoundError(TrtExecError, ImportError):
    """No usable TensorRT module could be imported.

    Raised at first use (never at ``import trt_exec``); the message names the modules tried and
    the ``pip install`` command that provides one.
    """


class CudaUnavailableError(TrtExecError, RuntimeError):
    """CUDA is needed but cuda-python, a driver or a GPU is missing.

    Raised at the first operation that needs the GPU; the message says which piece is missing.
    """


class BackendUnavailableError(TrtExecError, LookupError):
    """The requested execution backend cannot run on the installed TensorRT.

    For example ``backend="v2"`` on TensorRT 10 (the bindings API was removed in 10.0) or
    ``backend="v3"`` on TensorRT 8.4 (the named-tensor API arrived in 8.5). The message gives the
    version, the reason and what to do.
    """


class InvalidBackendError(BackendUnavailableError, ValueError):
    """A backend name (argument or ``TRT_EXEC_BACKEND``) is not one of the valid values."""


class EngineLoadError(TrtExecError, ValueError):
    """A serialized engine could not be read or deserialized.

    TensorRT's own reason (e.g. a version mismatch) is attached as ``tensorrt_log``.
    """


class EngineNotFoundError(EngineLoadError, FileNotFoundError):
    """The engine path does not exist."""


class ShapeError(TrtExecError, ValueError):
    """An input shape is invalid: wrong rank, a negative dimension, a static dimension changed,
    or a shape outside the bounds of every optimization profile (each profile's bounds are in
    the message)."""


class ProfileError(TrtExecError, IndexError):
    """An optimization-profile index is out of range for the engine."""


class DTypeError(TrtExecError, TypeError):
    """An array's dtype differs from the tensor's, or TensorRT uses a dtype numpy lacks."""


class BindingError(TrtExecError, KeyError):
    """A tensor name is unknown, missing, or given twice; or declared IO names do not match the
    engine's IO count."""


class ArrayError(TrtExecError, ValueError):
    """An array cannot be used as given: not contiguous, on the wrong device, or a host array where
    a device array is required. trt_exec never copies silently to work around this."""


class ExecutionError(TrtExecError, RuntimeError):
    """TensorRT reported failure (returned False) from an execution call or a setter.

    The executor stays usable: the next valid call runs normally.
    """


class ClosedError(TrtExecError, RuntimeError):
    """The executor was used after :meth:`close`."""


class StaleBindingError(TrtExecError, RuntimeError):
    """A bound call (:meth:`~trt_exec.executor.BaseExecutor.bind`) was run after its executor
    switched to another optimization profile: what it bound is gone. Bind again."""
