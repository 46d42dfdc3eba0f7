"""CUDA resources for trt_exec, on cuda-python's driver bindings (``cuda.bindings.driver``).

Everything that touches CUDA lives here: the status checker, contexts, streams, device and pinned
host buffers, events, CUDA graphs, and the view of DLPack device arrays. cuda-python is imported
at first use, never at ``import trt_exec``, so a CPU-only machine imports trt_exec and gets a
:class:`~trt_exec.errors.CudaUnavailableError` saying what is missing (cuda-python, the driver or
a GPU) only when it asks for the GPU.

Ownership follows cuda.core: what :class:`CudaDataPath` creates (a stream, buffers, events,
graphs) it owns and releases exactly once, through a ``weakref.finalize`` on a small slotted
holder; what a caller passes (a stream handle, an array) is borrowed and never freed.

Contexts: the data path binds to one device ordinal and makes that device's *primary* context
current before each operation - the context the CUDA runtime, TensorRT, PyTorch and CuPy use. The
primary context is retained once per process and never released, as the CUDA runtime does.
"""

from __future__ import annotations

import math
import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any

import numpy as np

from ..arrays import DeviceArray
from ..errors import ArrayError, ConfigurationError, CudaUnavailableError, ExecutionError

__all__ = [
    "AsyncResult",
    "ResultBuilder",
    "CudaDataPath",
    "DeviceTensor",
    "GraphCache",
    "check",
    "driver",
    "dlpack_device_array",
    "stream_handle",
]

_INSTALL = "install it with `pip install cuda-python`"
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
_LEGACY_STREAM = 1  # CU_STREAM_LEGACY
_EVENT_FLAGS = 2  # CU_EVENT_DISABLE_TIMING: cheaper record/wait; these events only order work
_MIB = 1 << 20

_drv: Any = None
_init_lock = threading.Lock()
_contexts: dict[int, Any] = {}  # ordinal -> retained primary context (never released)


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
                f"trt_exec needs cuda-python for the GPU data path ({exc}); {_INSTALL}"
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


def _status_name(err: Any) -> str:
    return getattr(err, "name", None) or f"CUresult({int(err)})"


def _raise_unavailable(call: str, err: Any) -> None:
    if int(err) == 0:
        return
    name = _status_name(err)
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
        _raise_status(call, result[0])
    n = len(result)
    if n == 1:
        return None
    return result[1] if n == 2 else result[1:]


def _raise_status(call: str, err: Any) -> None:
    name = _status_name(err)
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


def dlpack_device_array(obj: Any, device_id: int) -> DeviceArray:
    """A borrowed :class:`DeviceArray` over a CUDA DLPack tensor, via cuda.core's view.

    The producer is asked to make the data ready on the legacy default stream (DLPack stream 1),
    which the executor's own (blocking) stream orders after.
    """
    try:
        from cuda.core.utils import StridedMemoryView
    except ImportError as exc:
        raise CudaUnavailableError(
            f"reading a CUDA DLPack array needs cuda-python's cuda.core ({exc}); {_INSTALL}"
        ) from None
    # cuda.core >= 0.5 has from_dlpack and deprecates construction from the object itself.
    make = getattr(StridedMemoryView, "from_dlpack", StridedMemoryView)
    try:
        view = make(obj, stream_ptr=_LEGACY_STREAM)
    except (TypeError, BufferError):
        view = make(obj, stream_ptr=-1)  # producers that take no stream
    dtype = np.dtype(view.dtype)
    strides = view.strides  # in elements; None when C-contiguous
    return DeviceArray(
        ptr=int(view.ptr),
        shape=tuple(int(d) for d in view.shape),
        dtype=dtype,
        strides=None if strides is None else tuple(int(s) * dtype.itemsize for s in strides),
        device=int(view.device_id) if view.device_id is not None else device_id,
        owner=view,
        readonly=bool(view.readonly),
    )


class GraphCache:
    """A bounded LRU of instantiated CUDA graphs keyed by the enqueue's signature. Pure.

    The key holds everything a captured enqueue depends on: the profile, the input shapes and
    every bound address. A change in any of them is a new key - the old graph is never replayed
    for it - and the least recently used graph is destroyed (``destroy(value)``) when more than
    ``max_graphs`` are held.
    """

    __slots__ = ("max_graphs", "_entries", "_destroy", "hits", "misses", "evictions")

    def __init__(self, max_graphs: int, destroy: Callable[[Any], None]) -> None:
        if isinstance(max_graphs, bool) or not isinstance(max_graphs, int) or max_graphs < 1:
            raise ConfigurationError(
                f"max_graphs={max_graphs!r} is out of range [1, ...): pass a positive integer"
            )
        self.max_graphs = max_graphs
        self._entries: OrderedDict[Hashable, Any] = OrderedDict()
        self._destroy = destroy
        self.hits = self.misses = self.evictions = 0

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, key: Hashable) -> bool:
        return key in self._entries

    def keys(self) -> list[Hashable]:
        """Keys, least recently used first."""
        return list(self._entries)

    def get(self, key: Hashable) -> Any:
        value = self._entries.get(key)
        if value is None:
            self.misses += 1
            return None
        self._entries.move_to_end(key)
        self.hits += 1
        return value

    def put(self, key: Hashable, value: Any) -> None:
        old = self._entries.pop(key, None)
        if old is not None:
            self._destroy(old)
        self._entries[key] = value
        while len(self._entries) > self.max_graphs:
            _, victim = self._entries.popitem(last=False)
            self.evictions += 1
            self._destroy(victim)

    def clear(self) -> None:
        while self._entries:
            _, value = self._entries.popitem(last=False)
            self._destroy(value)

    def stats(self) -> dict[str, int]:
        return {
            "graphs": len(self._entries),
            "max_graphs": self.max_graphs,
            "hits": self.hits,
            "misses": self.misses,
            "evictions": self.evictions,
        }


def _destroy_graph(pair: tuple[Any, Any]) -> None:
    drv = _drv
    if drv is None:
        return
    graph, exec_ = pair
    drv.cuGraphExecDestroy(exec_)
    drv.cuGraphDestroy(graph)


class _EventPool:
    """Timing-disabled events that a CudaDataPath lends to its AsyncResults, one per result.

    An event goes back to the pool when its result is released (from any thread: list append
    and pop are atomic) and is recorded again by a later call, instead of a cuEventCreate and a
    cuEventDestroy (plus a context switch) per infer_async. Re-recording is safe: a wait
    enqueued earlier captured the event's state at that time, and a released result's event is
    no longer reachable through trt_exec. Events lent out when the data path closes belong to
    their results until those are released; whoever pops an event after ``closed`` destroys it,
    so each is destroyed exactly once.
    """

    __slots__ = ("free", "ctx", "closed")

    def __init__(self, ctx: Any) -> None:
        self.free: list[Any] = []
        self.ctx = ctx
        self.closed = False

    def take(self, drv: Any) -> Any:
        try:
            return self.free.pop()
        except IndexError:
            return check("cuEventCreate", drv.cuEventCreate(_EVENT_FLAGS))

    def give(self, event: Any) -> None:
        self.free.append(event)
        if self.closed:
            self.drain()

    def drain(self) -> None:
        drv = _drv
        switched = False
        while True:
            try:
                event = self.free.pop()
            except IndexError:
                return
            if drv is None:
                continue
            if not switched and self.ctx is not None:
                drv.cuCtxSetCurrent(self.ctx)
                switched = True
            drv.cuEventDestroy(event)


class _CudaResources:
    """What a CudaDataPath owns; released exactly once by weakref.finalize."""

    __slots__ = (
        "ctx",
        "stream",
        "owns_stream",
        "device_bufs",
        "host_bufs",
        "events",
        "graphs",
        "last_event",
        "released",
        "pool",
    )

    def __init__(self) -> None:
        self.ctx: Any = None
        self.stream = 0
        self.owns_stream = False
        self.device_bufs: dict[str, tuple[int, int]] = {}  # name -> (ptr, capacity)
        self.host_bufs: dict[str, tuple[int, int]] = {}  # pinned staging
        self.events: list[Any] = []
        self.graphs: GraphCache | None = None
        self.last_event: Any = None
        self.released = False
        self.pool: _EventPool | None = None


def _release_cuda(res: _CudaResources) -> None:
    # Runs from close() or at garbage collection (then possibly at interpreter exit, where the
    # driver may already be gone): errors here have no caller to reach, so statuses are ignored.
    if res.released:
        return
    res.released = True
    drv = _drv
    if drv is None or res.ctx is None:
        return
    drv.cuCtxSetCurrent(res.ctx)
    # Work enqueued by this data path may still read or write its buffers.
    if res.last_event is not None:
        drv.cuEventSynchronize(res.last_event)
    if res.owns_stream:
        drv.cuStreamSynchronize(res.stream)
    if res.graphs is not None:
        res.graphs.clear()
        res.graphs = None
    for ptr, _ in res.device_bufs.values():
        drv.cuMemFree(ptr)
    res.device_bufs.clear()
    for ptr, _ in res.host_bufs.values():
        drv.cuMemFreeHost(ptr)
    res.host_bufs.clear()
    for ev in res.events:
        drv.cuEventDestroy(ev)
    res.events.clear()
    if res.pool is not None:
        res.pool.closed = True
        res.pool.drain()
    if res.owns_stream:
        drv.cuStreamDestroy(res.stream)
    res.stream = 0


def _grow(size: int) -> int:
    # Round up so that small shape changes reuse the buffer: 256 B alignment, then powers of
    # two up to 1 MiB and 1 MiB steps beyond.
    size = max(size, 256)
    if size <= _MIB:
        return 1 << (size - 1).bit_length()
    return (size + _MIB - 1) // _MIB * _MIB


class CudaDataPath:
    """Device memory on one GPU for real TensorRT and the simulator's GPU mode.

    - Owns a stream (``stream=None``) or borrows the caller's (an int handle or stream object).
    - Device buffers per tensor are reused and grown only when a shape needs more.
    - numpy inputs go through pinned staging (one host copy, one H2D); numpy outputs come back
      through pinned staging (one D2H) after one synchronize.
    - Device arrays (``__cuda_array_interface__``, CUDA DLPack) are used in place; one on another
      device is refused with ArrayError.
    - Work on a new stream is ordered after this data path's previous work on another stream (an
      event wait), because one TensorRT execution context must never run on two streams at once.
    """

    kind = "cuda"

    def __init__(self, device: int = 0, *, stream: Any = None) -> None:
        self.device = check_device(device)
        res = _CudaResources()
        self._res = res
        self._finalizer = weakref.finalize(self, _release_cuda, res)
        drv = driver()
        res.ctx = context_for(self.device)
        if stream is None:
            # A blocking stream: ordered after the legacy default stream, where numpy-era
            # producers (torch and cupy by default) leave their data.
            res.stream = int(check("cuStreamCreate", drv.cuStreamCreate(0)))
            res.owns_stream = True
        else:
            res.stream = stream_handle(stream)
        self._drv = drv
        self._ctx = res.ctx
        res.pool = self._pool = _EventPool(res.ctx)
        self._ev_last = self._event()
        self._ev_upload = self._event()
        self._ev_tmp = self._event()
        # The end of the previous call's work: _ev_last, or the event lent to that call's
        # AsyncResult (finish records one event per call, not two).
        self._last_ev: Any = self._ev_last
        self._last_stream: int | None = None
        # The previous call was synchronous and recorded no event; its synchronize() settles it.
        self._last_unrecorded = False
        self._upload_pending = False  # _ev_upload marks when the pinned staging may be reused
        self._upload_stream: int | None = None  # ... or, after infer(), that stream's sync
        self._staged: set[str] = set()
        self._views: dict[str, np.ndarray] = {}  # name -> uint8 view of its pinned buffer

    # -- plumbing ---------------------------------------------------------------------------
    @property
    def stream(self) -> int:
        return self._res.stream

    @property
    def closed(self) -> bool:
        return self._res.released

    def _event(self) -> Any:
        # Timing disabled: cheaper record/wait, and these events only order work.
        ev = check("cuEventCreate", self._drv.cuEventCreate(_EVENT_FLAGS))
        self._res.events.append(ev)
        return ev

    def _wait_last_on_host(self) -> None:
        """Block until the previous call's work is done (before freeing what it may use)."""
        if self._last_unrecorded:
            check("cuStreamSynchronize", self._drv.cuStreamSynchronize(self._last_stream))
            self._last_unrecorded = False
        else:
            check("cuEventSynchronize", self._drv.cuEventSynchronize(self._last_ev))

    def _device_buffer(self, name: str, nbytes: int) -> int:
        entry = self._res.device_bufs.get(name)
        if entry is not None and entry[1] >= nbytes:
            return entry[0]
        if entry is not None:
            # The old buffer may still be read by work in flight.
            if self._last_stream is not None:
                self._wait_last_on_host()
            check("cuMemFree", self._drv.cuMemFree(entry[0]))
            del self._res.device_bufs[name]
        size = _grow(nbytes)
        ptr = int(check("cuMemAlloc", self._drv.cuMemAlloc(size)))
        self._res.device_bufs[name] = (ptr, size)
        return ptr

    def _host_buffer(self, name: str, nbytes: int) -> int:
        entry = self._res.host_bufs.get(name)
        if entry is not None and entry[1] >= nbytes:
            return entry[0]
        if entry is not None:
            self._views.pop(name, None)
            check("cuMemFreeHost", self._drv.cuMemFreeHost(entry[0]))
            del self._res.host_bufs[name]
        size = _grow(nbytes)
        ptr = int(check("cuMemHostAlloc", self._drv.cuMemHostAlloc(size, 0)))
        self._res.host_bufs[name] = (ptr, size)
        self._views[name] = self._host_view(ptr, size)
        return ptr

    @staticmethod
    def _host_view(ptr: int, nbytes: int) -> np.ndarray:
        # A numpy view of pinned memory without ctypes: the array-interface protocol. Built
        # once per buffer (a class per call cost ~2 µs): calls slice the cached view.
        class _Mem:
            __array_interface__ = {
                "shape": (nbytes,),
                "typestr": "|u1",
                "data": (ptr, False),
                "version": 3,
            }

        return np.asarray(_Mem())

    def pointer_device(self, ptr: int) -> int:
        """The ordinal of the device that owns ``ptr``; ArrayError if it is not CUDA memory."""
        attr = self._drv.CUpointer_attribute.CU_POINTER_ATTRIBUTE_DEVICE_ORDINAL
        err, value = self._drv.cuPointerGetAttribute(attr, ptr)
        if err:
            return -1
        return int(value)

    def check_device_array(self, role: str, name: str, arr: DeviceArray) -> None:
        dev = arr.device if arr.device is not None else self.pointer_device(arr.ptr)
        if dev != self.device:
            where = "is not CUDA device memory" if dev < 0 else f"is on CUDA device {dev}"
            raise ArrayError(
                f"{role} {name!r}: the array {where}, but this executor runs on device "
                f"{self.device}; move it first (e.g. x.to('cuda:{self.device}')) or load the "
                f"engine with device={dev if dev >= 0 else self.device}"
            )

    # -- one call ---------------------------------------------------------------------------
    def begin(self, stream: int) -> None:
        """Start a call on ``stream``: make the context current and order it after the previous
        call when that ran on another stream."""
        err = self._drv.cuCtxSetCurrent(self._ctx)[0]
        if err:
            _raise_status("cuCtxSetCurrent", err)
        last = self._last_stream
        if last is not None and last != stream:
            if self._last_unrecorded:
                self._wait_last_on_host()
            else:
                check("cuStreamWaitEvent", self._drv.cuStreamWaitEvent(stream, self._last_ev, 0))

    def input_address(self, name: str, array: np.ndarray | DeviceArray, stream: int) -> int:
        drv = self._drv
        if isinstance(array, DeviceArray):
            self.check_device_array("input", name, array)
            producer = array.stream
            if producer is not None and producer != stream and not _capturing(drv, stream):
                check("cuEventRecord", drv.cuEventRecord(self._ev_tmp, producer))
                check("cuStreamWaitEvent", drv.cuStreamWaitEvent(stream, self._ev_tmp, 0))
            if array.ptr == 0 or not array.shape or 0 in array.shape:
                return array.ptr or self._device_buffer(name + "#in", 1)
            return array.ptr
        nbytes = array.nbytes
        dptr = self._device_buffer(name + "#in", max(nbytes, 1))
        if nbytes == 0:
            return dptr
        if self._upload_pending:
            # The pinned staging of the previous (asynchronous) call may still be in transfer.
            check("cuEventSynchronize", drv.cuEventSynchronize(self._ev_upload))
            self._upload_pending = False
        if self._upload_stream is not None:
            # ... or of a synchronous call whose synchronize() did not complete.
            check("cuStreamSynchronize", drv.cuStreamSynchronize(self._upload_stream))
            self._upload_stream = None
        key = name + "#in"
        hptr = self._host_buffer(key, nbytes)
        np.copyto(self._views[key][:nbytes], array.reshape(-1).view(np.uint8))
        err = drv.cuMemcpyHtoDAsync(dptr, hptr, nbytes, stream)[0]
        if err:
            _raise_status("cuMemcpyHtoDAsync", err)
        self._staged.add(name)
        return dptr

    def inputs_ready(self, stream: int, synchronous: bool = False) -> None:
        """The inputs are enqueued. ``synchronous``: the caller synchronizes ``stream`` before
        its next call, which is what makes the pinned staging reusable (no event needed)."""
        if self._staged:
            self._staged.clear()
            if synchronous:
                self._upload_stream = stream
            else:
                check("cuEventRecord", self._drv.cuEventRecord(self._ev_upload, stream))
                self._upload_pending = True

    def output_address(self, name: str, nbytes: int) -> int:
        return self._device_buffer(name, max(nbytes, 1))

    def output_array_address(self, name: str, array: np.ndarray | DeviceArray) -> int | None:
        """Where to write a caller-provided output: its own address for a device array, None for
        a numpy array (written through an owned buffer and pinned staging)."""
        if isinstance(array, DeviceArray):
            self.check_device_array("output", name, array)
            return array.ptr or self._device_buffer(name, 1)
        return None

    def allocate(self, name: str, nbytes: int) -> int:
        return self._device_buffer(name, max(int(nbytes), 1))

    def result_builder(self) -> ResultBuilder:
        """Collects one infer_async call's per-call outputs (stream-ordered allocations)."""
        return ResultBuilder(self._ctx, self.device, self._pool)

    def async_output(
        self,
        builder: ResultBuilder,
        name: str,
        shape: tuple[int, ...],
        dtype: np.dtype,
        stream: int,
    ) -> tuple[int, DeviceTensor]:
        """A per-call device buffer for one infer_async output."""
        nbytes = math.prod(shape) * dtype.itemsize
        tensor = builder.device_tensor(nbytes, shape, dtype, stream)
        return tensor.ptr, tensor

    def async_copy_output(
        self,
        builder: ResultBuilder,
        name: str,
        shape: tuple[int, ...],
        dtype: np.dtype,
        stream: int,
    ) -> DeviceTensor:
        """Copy a data-dependent output (in an owned buffer) into a per-call one."""
        nbytes = math.prod(shape) * dtype.itemsize
        tensor = builder.device_tensor(nbytes, shape, dtype, stream)
        if nbytes:
            src = self._res.device_bufs[name][0]
            check("cuMemcpyDtoDAsync", self._drv.cuMemcpyDtoDAsync(tensor.ptr, src, nbytes, stream))
        return tensor

    def download(self, name: str, nbytes: int, stream: int) -> None:
        if nbytes == 0:
            return
        dptr = self._res.device_bufs[name][0]
        hptr = self._host_buffer(name, nbytes)
        err = self._drv.cuMemcpyDtoHAsync(hptr, dptr, nbytes, stream)[0]
        if err:
            _raise_status("cuMemcpyDtoHAsync", err)

    def fetch(self, name: str, shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
        n = math.prod(shape) * dtype.itemsize
        if n:
            return self._views[name][:n].view(dtype).reshape(shape).copy()
        return np.empty(shape, dtype)

    def fetch_into(self, name: str, array: np.ndarray) -> None:
        if array.nbytes:
            np.copyto(array.reshape(-1).view(np.uint8), self._views[name][: array.nbytes])

    def finish(
        self, stream: int, result: ResultBuilder | None = None, synchronous: bool = False
    ) -> Any:
        """Mark the end of this call's work on ``stream`` and return the event recorded there.

        With ``result`` (infer_async) the event is one lent to that result from the pool: it
        both orders the next call and is the result's ``event``, one record instead of two.
        ``synchronous`` (infer, which synchronizes next) records nothing: the synchronize
        settles the call, and until it has, the next call waits for ``stream`` on the host.
        """
        if synchronous:
            self._last_stream = stream
            self._last_unrecorded = True
            return None
        mem = result.mem if result is not None else None
        if mem is not None:
            ev = mem.event = self._pool.take(self._drv)
        else:
            ev = self._ev_last
        err = self._drv.cuEventRecord(ev, stream)[0]
        if err:
            _raise_status("cuEventRecord", err)
        self._last_ev = ev
        self._last_stream = stream
        self._last_unrecorded = False
        return ev

    def synchronize(self, stream: int | None = None) -> None:
        s = self.stream if stream is None else stream
        err = self._drv.cuStreamSynchronize(s)[0]
        if err:
            _raise_status("cuStreamSynchronize", err)
        if s == self._last_stream:
            # Everything this data path enqueued is done: no later call needs to wait for it.
            self._last_stream = None
            self._last_unrecorded = False
        if s == self._upload_stream:
            self._upload_stream = None

    # -- CUDA graphs ------------------------------------------------------------------------
    def enable_graphs(self, max_graphs: int) -> None:
        old = self._res.graphs
        if old is not None:
            old.clear()
        self._res.graphs = GraphCache(max_graphs, _destroy_graph)

    def disable_graphs(self) -> None:
        if self._res.graphs is not None:
            self._res.graphs.clear()
            self._res.graphs = None

    @property
    def graphs(self) -> GraphCache | None:
        return self._res.graphs

    def can_capture(self, stream: int) -> bool:
        # The legacy/per-thread default streams cannot be captured, and a stream the caller is
        # already capturing takes the enqueue into the caller's graph instead.
        return stream > 2 and not _capturing(self._drv, stream)

    def launch(self, key: Hashable, enqueue: Callable[[int], None], stream: int) -> bool:
        """Replay the graph for ``key`` on ``stream``; on a miss run ``enqueue`` (this call's
        result, and the warm-up TensorRT needs after shape changes) then capture it for next
        time. Returns True when a graph was replayed."""
        drv = self._drv
        cache = self._res.graphs
        assert cache is not None
        pair = cache.get(key)
        if pair is not None:
            err = drv.cuGraphLaunch(pair[1], stream)[0]
            if err:
                _raise_status("cuGraphLaunch", err)
            return True
        enqueue(stream)
        mode = drv.CUstreamCaptureMode.CU_STREAM_CAPTURE_MODE_THREAD_LOCAL
        check("cuStreamBeginCapture", drv.cuStreamBeginCapture(stream, mode))
        try:
            enqueue(stream)
        finally:
            err, graph = drv.cuStreamEndCapture(stream)
        check("cuStreamEndCapture", (err, graph))
        try:
            exec_ = check("cuGraphInstantiate", drv.cuGraphInstantiate(graph, 0))
        except BaseException:
            drv.cuGraphDestroy(graph)
            raise
        cache.put(key, (graph, exec_))
        return False

    def close(self) -> None:
        self._finalizer()
        self._views.clear()


def _capturing(drv: Any, stream: int) -> bool:
    err, status = drv.cuStreamIsCapturing(stream)
    # CU_STREAM_CAPTURE_STATUS_NONE is 0 (CUresult and the status are int enums).
    return not err and status != 0


# -- asynchronous results ------------------------------------------------------------------
class _ResultMemory:
    """Per-call device buffers and the event of an AsyncResult; released once, in stream
    order."""

    __slots__ = ("ptrs", "event", "ctx", "pool", "released")

    def __init__(self, ctx: Any, pool: _EventPool | None) -> None:
        self.ptrs: list[int] = []
        self.event: Any = None
        self.ctx = ctx
        self.pool = pool
        self.released = False


class _Keep:
    """Held by an AsyncResult and each of its DeviceTensors; when the last goes, the memory is
    released (a weakref callback on it), with no reference cycle to wait for."""

    __slots__ = ("__weakref__",)


# The live results' memory, keyed by the weak reference whose callback releases it: what
# weakref.finalize does, for a quarter of its cost (~0.25 µs instead of ~1 µs per result; no
# atexit bookkeeping, which results do not need). Dict operations are atomic under the GIL, so
# the callback (any thread, at any time) and abandon() pop each entry exactly once.
_live: dict[weakref.ref[Any], _ResultMemory] = {}


def _result_gone(ref: weakref.ref[Any]) -> None:
    mem = _live.pop(ref, None)
    if mem is not None:
        _release_result(mem)


def _release_result(mem: _ResultMemory) -> None:
    if mem.released:
        return
    mem.released = True
    drv = _drv
    if drv is None:
        return
    if mem.ptrs:
        if mem.ctx is not None:
            drv.cuCtxSetCurrent(mem.ctx)
        # Freed on the legacy default stream, which is ordered after all work on blocking
        # streams (torch's and cupy's defaults among them) that may still read these buffers.
        for ptr in mem.ptrs:
            drv.cuMemFreeAsync(ptr, _LEGACY_STREAM)
        mem.ptrs.clear()
    event, mem.event = mem.event, None
    if event is not None:
        if mem.pool is not None:
            mem.pool.give(event)
        else:
            if mem.ctx is not None:
                drv.cuCtxSetCurrent(mem.ctx)
            drv.cuEventDestroy(event)


class ResultBuilder:
    """Collects the outputs of one infer_async call, then seals them into an AsyncResult.

    ``pool`` lends the result its event (see :meth:`CudaDataPath.finish`); without a context
    (host mode) there is no device memory and no event.
    """

    __slots__ = ("mem", "keep", "ref", "outputs", "device")

    def __init__(self, ctx: Any, device: int | None, pool: _EventPool | None = None) -> None:
        self.keep = _Keep()
        self.outputs: dict[str, Any] = {}
        self.device = device
        if ctx is None:
            self.mem = None
            self.ref = None
        else:
            self.mem = _ResultMemory(ctx, pool)
            self.ref = weakref.ref(self.keep, _result_gone)
            _live[self.ref] = self.mem

    def device_tensor(
        self, nbytes: int, shape: tuple[int, ...], dtype: np.dtype, stream: int
    ) -> DeviceTensor:
        assert self.mem is not None
        ptr = int(check("cuMemAllocAsync", driver().cuMemAllocAsync(max(nbytes, 1), stream)))
        self.mem.ptrs.append(ptr)
        return DeviceTensor(ptr, shape, dtype, self.device or 0, stream, self.keep)

    def seal(self, stream: int) -> AsyncResult:
        mem = self.mem
        if mem is not None and mem.event is None:  # the data path's finish() did not record
            drv = driver()
            ev = check("cuEventCreate", drv.cuEventCreate(_EVENT_FLAGS))
            mem.event = ev
            check("cuEventRecord", drv.cuEventRecord(ev, stream))
        return AsyncResult(self.outputs, stream, self)

    def abandon(self) -> None:
        if self.ref is not None:
            mem = _live.pop(self.ref, None)
            if mem is not None:
                _release_result(mem)


class DeviceTensor:
    """A device output of :meth:`~trt_exec.executor.BaseExecutor.infer_async`.

    Exposes ``__cuda_array_interface__`` (v3, with the producing stream), so
    ``torch.as_tensor(t, device="cuda")`` and ``cupy.asarray(t)`` use it without a copy. The
    memory lives as long as this object or its :class:`AsyncResult` does.
    """

    __slots__ = ("ptr", "shape", "dtype", "device", "stream", "_owner", "__weakref__")

    def __init__(
        self,
        ptr: int,
        shape: tuple[int, ...],
        dtype: np.dtype,
        device: int,
        stream: int,
        owner: Any,
    ) -> None:
        self.ptr = ptr
        self.shape = tuple(shape)
        self.dtype = np.dtype(dtype)
        self.device = device
        self.stream = stream
        self._owner = owner

    @property
    def nbytes(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64)) * self.dtype.itemsize

    @property
    def __cuda_array_interface__(self) -> dict[str, Any]:
        return {
            "shape": self.shape,
            "typestr": self.dtype.str,
            "data": (self.ptr, False),
            "strides": None,
            "version": 3,
            # CAI forbids 0 for the stream; 1 names the legacy default stream.
            "stream": self.stream or _LEGACY_STREAM,
        }

    def numpy(self) -> np.ndarray:
        """Copy to a new numpy array (waits for the producing stream)."""
        drv = driver()
        out = np.empty(self.shape, self.dtype)
        if self.nbytes:
            check("cuStreamSynchronize", drv.cuStreamSynchronize(self.stream))
            check("cuMemcpyDtoH", drv.cuMemcpyDtoH(out.ctypes.data, self.ptr, self.nbytes))
        return out

    def __repr__(self) -> str:
        return (
            f"<DeviceTensor shape={self.shape} dtype={self.dtype.name} device={self.device} "
            f"ptr={self.ptr:#x}>"
        )


class AsyncResult:
    """What :meth:`~trt_exec.executor.BaseExecutor.infer_async` returns: ``outputs`` by name
    (:class:`DeviceTensor`, or the caller's own arrays), the ``stream`` they were produced on and
    an ``event`` recorded after the work. Nothing has synchronized the host.

    Per-call output memory is freed when this result and every DeviceTensor from it are gone (or
    at :meth:`release`), on the legacy default stream: work that reads the outputs on a
    non-blocking stream must be ordered before that (e.g. synchronize it first).

    In host mode (the simulated TensorRT on the CPU) the outputs are numpy arrays, ``event`` is
    None and the work is already done.
    """

    __slots__ = ("outputs", "stream", "event", "_builder", "__weakref__")

    def __init__(self, outputs: dict[str, Any], stream: int, builder: ResultBuilder) -> None:
        self.outputs = outputs
        self.stream = stream
        self._builder = builder
        self.event = builder.mem.event if builder.mem is not None else None

    def __getitem__(self, name: str) -> Any:
        return self.outputs[name]

    def done(self) -> bool:
        """True when the work has completed (``cuEventQuery``), without waiting."""
        if self.event is None:
            return True
        err = driver().cuEventQuery(self.event)[0]
        if _status_name(err) == "CUDA_ERROR_NOT_READY":
            return False
        check("cuEventQuery", (err,))
        return True

    def synchronize(self) -> AsyncResult:
        """Block the host until the work is done; returns self."""
        if self.event is not None:
            check("cuEventSynchronize", driver().cuEventSynchronize(self.event))
        return self

    def wait_on(self, stream: Any) -> None:
        """Make ``stream`` wait for this result's work (no host sync)."""
        if self.event is not None:
            check(
                "cuStreamWaitEvent",
                driver().cuStreamWaitEvent(stream_handle(stream), self.event, 0),
            )

    def numpy(self) -> dict[str, np.ndarray]:
        """Every output copied to numpy (synchronizes)."""
        self.synchronize()
        return {
            name: value.numpy() if isinstance(value, DeviceTensor) else np.asarray(value)
            for name, value in self.outputs.items()
        }

    def release(self) -> None:
        """Free the per-call output buffers now, even if DeviceTensors from this result are still
        referenced (they must not be used afterwards). Idempotent."""
        self._builder.abandon()

    def __enter__(self) -> AsyncResult:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()

    def __repr__(self) -> str:
        return f"<AsyncResult outputs={list(self.outputs)} stream={self.stream:#x}>"
