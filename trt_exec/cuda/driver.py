"""cuda-python's driver bindings (``cuda.bindings.driver``), initialized once, and the one status
checker every CUDA call of trt_exec goes through.

cuda-python is imported at first use, never at ``import trt_exec``: a CPU-only machine imports
trt_exec and gets a :class:`~trt_exec.errors.CudaUnavailableError` saying what is missing
(cuda-python, the driver or a GPU) only when it asks for the GPU.

Contexts: trt_exec binds to one device ordinal and makes that device's *primary* context current
before each operation - the context the CUDA runtime, TensorRT, PyTorch and CuPy use. The primary
context is retained once per process and never released, as the CUDA runtime does.
"""

from __future__ import annotations

import threading
from typing import Any

import numpy as np

from ..errors import ConfigurationError, CudaUnavailableError, ExecutionError

__all__ = [
    "INSTALL",
    "LEGACY_STREAM",
    "EVENT_FLAGS",
    "check",
    "check_device",
    "context_for",
    "driver",
    "loaded",
    "raise_status",
    "status_name",
    "stream_handle",
]

INSTALL = "install it with `pip install cuda-python`"
# Statuses that mean "CUDA is not usable here" rather than "this call went wrong".
_UNAVAILABLE = {
    "CUDA_ERROR_NO_DEVICE": "no CUDA GPU is visible (check CUDA_VISIBLE_DEVICES and nvidia-smi)",
    "CUDA_ERROR_STUB_LIBRARY": "libcuda.so is the toolkit's stub, not a real NVIDIA driver",
    "CUDA_ERROR_INSUFFICIENT_DRIVER": "the NVIDIA driver is older than this cuda-python needs",
    "CUDA_ERROR_SYSTEM_DRIVER_MISMATCH": "the NVIDIA kernel driver and libcuda.so versions differ",
    "CUDA_ERROR_COMPAT_NOT_SUPPORTED_ON_DEVICE": "forward compatibility is not supported here",
    "CUDA_ERROR_DEVICE_UNAVAILABLE": "the GPU is busy or unavailable (exclusive compute mode?)",
    "CUDA_ERROR_NOT_INITIALIZED": "the CUDA driver is not initialized",
    "CUDA_ERROR_DEINITIALIZED": "the CUDA driver is shutting down",
}
LEGACY_STREAM = 1  # CU_STREAM_LEGACY
EVENT_FLAGS = 2  # CU_EVENT_DISABLE_TIMING: cheaper record/wait; these events only order work

_drv: Any = None
_init_lock = threading.Lock()
_contexts: dict[int, Any] = {}  # ordinal -> retained primary context (never released)


def loaded() -> Any:
    """The driver module if :func:`driver` has initialized it, else None. For release paths
    (finalizers, possibly at interpreter exit) that must not import or initialize anything."""
    return _drv


def driver() -> Any:
    """``cuda.bindings.driver``, initialized; CudaUnavailableError saying what is missing."""
    global _drv
    if _drv is not None:
        return _drv
    with _init_lock:
        if _drv is not None:
            return _drv
        try:
            from cuda.bindings import driver as drv
        except ImportError as exc:
            raise CudaUnavailableError(
                f"trt_exec needs cuda-python for the GPU data path ({exc}); {INSTALL}"
            ) from None
        try:
            (err,) = drv.cuInit(0)
        except RuntimeError as exc:  # cuda.pathfinder's DynamicLibNotFoundError: no libcuda.so
            raise CudaUnavailableError(
                f"no NVIDIA driver: libcuda.so could not be loaded ({exc}); install the NVIDIA "
                "driver, or use the simulated TensorRT in host mode on a machine without a GPU"
            ) from None
        _raise_unavailable("cuInit", err)
        _drv = drv
        return drv


def status_name(err: Any) -> str:
    return getattr(err, "name", None) or f"CUresult({int(err)})"


def _raise_unavailable(call: str, err: Any) -> None:
    if int(err) == 0:
        return
    name = status_name(err)
    why = _UNAVAILABLE.get(name)
    if why is not None:
        raise CudaUnavailableError(f"CUDA is unavailable: {call} returned {name}: {why}")
    raise ExecutionError(f"{call} failed with {name}")


def check(call: str, result: Any) -> Any:
    """The one status checker: ``result`` is what a ``cuda.bindings.driver`` call returned.

    Returns the call's value (None, one value, or a tuple). Raises CudaUnavailableError for
    statuses that mean no usable GPU/driver, ExecutionError otherwise; both name the call and
    the status.
    """
    # CUresult is an int enum and CUDA_SUCCESS is 0: a truth test is the cheapest comparison
    # (int(err) costs ~3x more, and this runs several times per call).
    if result[0]:
        raise_status(call, result[0])
    n = len(result)
    if n == 1:
        return None
    return result[1] if n == 2 else result[1:]


def raise_status(call: str, err: Any) -> None:
    name = status_name(err)
    if name in _UNAVAILABLE:
        raise CudaUnavailableError(
            f"CUDA is unavailable: {call} returned {name}: {_UNAVAILABLE[name]}"
        )
    if name == "CUDA_ERROR_OUT_OF_MEMORY":
        raise ExecutionError(f"{call} failed with {name}: the GPU is out of memory")
    raise ExecutionError(f"{call} failed with {name}")


def context_for(device: int) -> Any:
    """The retained primary context of ``device`` (validated), made current on this thread."""
    drv = driver()
    ctx = _contexts.get(device)
    if ctx is None:
        with _init_lock:
            ctx = _contexts.get(device)
            if ctx is None:
                count = check("cuDeviceGetCount", drv.cuDeviceGetCount())
                if not 0 <= device < count:
                    raise CudaUnavailableError(
                        f"device={device!r} is out of range [0, {count - 1}]: {count} CUDA "
                        "device(s) visible; pass an ordinal in range (CUDA_VISIBLE_DEVICES "
                        "renumbers them)"
                    )
                dev = check("cuDeviceGet", drv.cuDeviceGet(device))
                ctx = check("cuDevicePrimaryCtxRetain", drv.cuDevicePrimaryCtxRetain(dev))
                _contexts[device] = ctx
    check("cuCtxSetCurrent", drv.cuCtxSetCurrent(ctx))
    return ctx


def check_device(device: Any) -> int:
    """Validate a ``device=`` argument without touching CUDA."""
    if isinstance(device, bool) or not isinstance(device, (int, np.integer)) or device < 0:
        raise ConfigurationError(
            f"device={device!r} is not a CUDA device ordinal; pass an integer >= 0"
        )
    return int(device)


def stream_handle(stream: Any) -> int:
    """The raw ``CUstream`` handle (int) of ``stream``: an int, a ``CUstream``, or any object with
    ``__cuda_stream__`` (cuda.core), ``cuda_stream`` (torch) or ``ptr`` (cupy). Pure."""
    if isinstance(stream, bool):
        raise ConfigurationError(f"stream={stream!r} is not a CUDA stream")
    if isinstance(stream, (int, np.integer)):
        if stream < 0:
            raise ConfigurationError(f"stream={int(stream)!r} is negative; a handle is >= 0")
        return int(stream)
    proto = getattr(stream, "__cuda_stream__", None)
    if proto is not None:
        value = proto() if callable(proto) else proto
        return int(value[1])
    for attr in ("cuda_stream", "ptr", "handle"):
        value = getattr(stream, attr, None)
        if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
            return int(value)
    if type(stream).__name__ in ("CUstream", "cudaStream_t"):
        return int(stream)
    raise ConfigurationError(
        f"stream={stream!r} ({type(stream).__name__}) is not a CUDA stream; pass an int handle, "
        "a torch.cuda.Stream, a cupy.cuda.Stream or a cuda.core Stream"
    )
