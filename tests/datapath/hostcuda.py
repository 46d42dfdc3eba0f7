"""A stand-in for ``cuda.bindings.driver`` backed by host memory, for CPU tests of the CUDA data
path's logic (which calls it makes, in which order, and what the bytes become).

"Device" buffers are numpy blocks; copies happen at once (``ctypes.memmove``), except on a stream
being captured, where they are recorded and replayed by ``cuGraphLaunch``. Every call is logged
in ``calls``; ``fail`` maps a call's name to the status it returns next (once). Nothing here
says how a real GPU times or orders work: ``tests/gpu`` checks that on CUDA itself.
"""

from __future__ import annotations

import ctypes
import enum
import itertools
from typing import Any

import numpy as np


class CUresult(enum.IntEnum):
    CUDA_SUCCESS = 0
    CUDA_ERROR_INVALID_VALUE = 1
    CUDA_ERROR_LAUNCH_FAILED = 719


class CUstreamCaptureMode:
    CU_STREAM_CAPTURE_MODE_THREAD_LOCAL = 1


class CUpointer_attribute:  # noqa: N801 - cuda-python's name
    CU_POINTER_ATTRIBUTE_DEVICE_ORDINAL = 9


class CUdevice_attribute:  # noqa: N801 - cuda-python's name
    CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR = 75
    CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR = 76


_OK = (CUresult.CUDA_SUCCESS,)


class HostCuda:
    """One fake GPU (ordinal 0). See the module docstring."""

    CUresult = CUresult
    CUstreamCaptureMode = CUstreamCaptureMode
    CUpointer_attribute = CUpointer_attribute
    CUdevice_attribute = CUdevice_attribute

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.fail: dict[str, CUresult] = {}
        self.device: dict[int, np.ndarray] = {}  # address -> block
        self.host: dict[int, np.ndarray] = {}
        self.capturing: dict[int, list[tuple[int, int, int]]] = {}  # stream -> copies
        self.graphs: dict[int, list[tuple[int, int, int]]] = {}
        self.stream_flags: dict[int, int] = {}  # 1: CU_STREAM_NON_BLOCKING
        self._ids = itertools.count(0x1000)

    # -- plumbing -----------------------------------------------------------------------------
    def _call(self, name: str) -> CUresult:
        self.calls.append(name)
        return self.fail.pop(name, CUresult.CUDA_SUCCESS)

    def _block(self, table: dict[int, np.ndarray], nbytes: int) -> int:
        block = np.zeros(max(nbytes, 1), np.uint8)
        ptr = block.ctypes.data
        table[ptr] = block
        return ptr

    def _copy(self, dst: int, src: int, nbytes: int, stream: int) -> tuple[CUresult]:
        if stream in self.capturing:
            self.capturing[stream].append((int(dst), int(src), int(nbytes)))
        else:
            ctypes.memmove(int(dst), int(src), int(nbytes))
        return _OK

    def is_device(self, ptr: int) -> bool:
        return any(p <= ptr < p + b.nbytes for p, b in self.device.items())

    def array(
        self, shape: tuple[int, ...], dtype: Any = np.float32, stream: int | None = None
    ) -> Any:
        """A device array (``__cuda_array_interface__``, produced on ``stream``) in a new fake
        device block."""
        nbytes = int(np.prod(shape)) * np.dtype(dtype).itemsize
        ptr = self._block(self.device, nbytes)
        view = np.frombuffer(self.device[ptr], np.uint8, nbytes).view(dtype).reshape(shape)
        return _DeviceArray(ptr, shape, np.dtype(dtype).str, view, stream)

    # -- the driver API trt_exec uses ---------------------------------------------------------
    def cuInit(self, flags: int) -> tuple[CUresult]:
        return (self._call("cuInit"),)

    def cuDeviceGetCount(self) -> tuple[CUresult, int]:
        return (self._call("cuDeviceGetCount"), 1)

    def cuDeviceGet(self, ordinal: int) -> tuple[CUresult, int]:
        return (self._call("cuDeviceGet"), ordinal)

    def cuDeviceGetAttribute(self, attr: int, dev: int) -> tuple[CUresult, int]:
        return (self._call("cuDeviceGetAttribute"), 9)

    def cuDevicePrimaryCtxRetain(self, dev: int) -> tuple[CUresult, str]:
        return (self._call("cuDevicePrimaryCtxRetain"), "ctx0")

    def cuCtxSetCurrent(self, ctx: Any) -> tuple[CUresult]:
        return (self._call("cuCtxSetCurrent"),)

    def cuCtxGetCurrent(self) -> tuple[CUresult, str]:
        return (self._call("cuCtxGetCurrent"), "ctx0")

    def cuStreamCreate(self, flags: int) -> tuple[CUresult, int]:
        stream = next(self._ids)
        self.stream_flags[stream] = flags
        return (self._call("cuStreamCreate"), stream)

    def cuStreamGetFlags(self, stream: int) -> tuple[CUresult, int]:
        return (self._call("cuStreamGetFlags"), self.stream_flags.get(stream, 0))

    def cuStreamDestroy(self, stream: int) -> tuple[CUresult]:
        return (self._call("cuStreamDestroy"),)

    def cuStreamSynchronize(self, stream: int) -> tuple[CUresult]:
        return (self._call("cuStreamSynchronize"),)

    def cuStreamWaitEvent(self, stream: int, event: int, flags: int) -> tuple[CUresult]:
        return (self._call("cuStreamWaitEvent"),)

    def cuStreamIsCapturing(self, stream: int) -> tuple[CUresult, int]:
        return (self._call("cuStreamIsCapturing"), int(stream in self.capturing))

    def cuStreamBeginCapture(self, stream: int, mode: int) -> tuple[CUresult]:
        self.capturing[stream] = []
        return (self._call("cuStreamBeginCapture"),)

    def cuStreamEndCapture(self, stream: int) -> tuple[CUresult, int]:
        graph = next(self._ids)
        self.graphs[graph] = self.capturing.pop(stream)
        return (self._call("cuStreamEndCapture"), graph)

    def cuGraphInstantiate(self, graph: int, flags: int) -> tuple[CUresult, int]:
        exec_ = next(self._ids)
        self.graphs[exec_] = list(self.graphs[graph])
        return (self._call("cuGraphInstantiate"), exec_)

    def cuGraphLaunch(self, exec_: int, stream: int) -> tuple[CUresult]:
        err = self._call("cuGraphLaunch")
        if not err:
            for copy in self.graphs[exec_]:
                self._copy(*copy, stream)
        return (err,)

    def cuGraphDestroy(self, graph: int) -> tuple[CUresult]:
        return (self._call("cuGraphDestroy"),)

    def cuGraphExecDestroy(self, exec_: int) -> tuple[CUresult]:
        return (self._call("cuGraphExecDestroy"),)

    def cuEventCreate(self, flags: int) -> tuple[CUresult, int]:
        return (self._call("cuEventCreate"), next(self._ids))

    def cuEventRecord(self, event: int, stream: int) -> tuple[CUresult]:
        return (self._call("cuEventRecord"),)

    def cuEventSynchronize(self, event: int) -> tuple[CUresult]:
        return (self._call("cuEventSynchronize"),)

    def cuEventQuery(self, event: int) -> tuple[CUresult]:
        return (self._call("cuEventQuery"),)

    def cuEventDestroy(self, event: int) -> tuple[CUresult]:
        return (self._call("cuEventDestroy"),)

    def cuMemAlloc(self, nbytes: int) -> tuple[CUresult, int]:
        return (self._call("cuMemAlloc"), self._block(self.device, nbytes))

    def cuMemAllocAsync(self, nbytes: int, stream: int) -> tuple[CUresult, int]:
        return (self._call("cuMemAllocAsync"), self._block(self.device, nbytes))

    def cuMemFree(self, ptr: int) -> tuple[CUresult]:
        del self.device[int(ptr)]
        return (self._call("cuMemFree"),)

    def cuMemFreeAsync(self, ptr: int, stream: int) -> tuple[CUresult]:
        return self.cuMemFree(ptr)

    def cuMemHostAlloc(self, nbytes: int, flags: int) -> tuple[CUresult, int]:
        return (self._call("cuMemHostAlloc"), self._block(self.host, nbytes))

    def cuMemFreeHost(self, ptr: int) -> tuple[CUresult]:
        del self.host[int(ptr)]
        return (self._call("cuMemFreeHost"),)

    def cuMemHostRegister(self, ptr: int, nbytes: int, flags: int) -> tuple[CUresult]:
        return (self._call("cuMemHostRegister"),)

    def cuMemHostUnregister(self, ptr: int) -> tuple[CUresult]:
        return (self._call("cuMemHostUnregister"),)

    def _copy_call(self, name: str, dst: int, src: int, n: int, stream: int) -> tuple[CUresult]:
        err = self._call(name)
        return (err,) if err else self._copy(dst, src, n, stream)

    def cuMemcpyHtoDAsync(self, dst: int, src: int, n: int, stream: int) -> tuple[CUresult]:
        return self._copy_call("cuMemcpyHtoDAsync", dst, src, n, stream)

    def cuMemcpyDtoHAsync(self, dst: int, src: int, n: int, stream: int) -> tuple[CUresult]:
        return self._copy_call("cuMemcpyDtoHAsync", dst, src, n, stream)

    def cuMemcpyDtoDAsync(self, dst: int, src: int, n: int, stream: int) -> tuple[CUresult]:
        return self._copy_call("cuMemcpyDtoDAsync", dst, src, n, stream)

    def cuMemcpyDtoH(self, dst: int, src: int, n: int) -> tuple[CUresult]:
        return self._copy_call("cuMemcpyDtoH", dst, src, n, -1)

    def cuMemcpyHtoD(self, dst: int, src: int, n: int) -> tuple[CUresult]:
        return self._copy_call("cuMemcpyHtoD", dst, src, n, -1)

    def cuPointerGetAttribute(self, attr: int, ptr: int) -> tuple[CUresult, int]:
        self.calls.append("cuPointerGetAttribute")
        if self.is_device(int(ptr)):
            return (CUresult.CUDA_SUCCESS, 0)
        return (CUresult.CUDA_ERROR_INVALID_VALUE, 0)


class _DeviceArray:
    """A device array of :class:`HostCuda` (``__cuda_array_interface__`` v3), with
    ``host``: a numpy view of its bytes for the test to fill and read."""

    def __init__(
        self, ptr: int, shape: tuple[int, ...], typestr: str, host: np.ndarray, stream: int | None
    ) -> None:
        self.__cuda_array_interface__ = {
            "shape": tuple(shape),
            "typestr": typestr,
            "data": (ptr, False),
            "version": 3,
            "strides": None,
            "stream": stream,
        }
        self.host = host
