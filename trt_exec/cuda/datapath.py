"""The CUDA data path: device and pinned host buffers, streams and events on one GPU.

Ownership follows cuda.core: what :class:`CudaDataPath` creates (a stream, buffers, events,
graphs) it owns and releases exactly once, through a ``weakref.finalize`` on a small slotted
holder; what a caller passes (a stream handle, an array) is borrowed and never freed.
"""

from __future__ import annotations

import math
import weakref
from collections.abc import Callable, Hashable
from dataclasses import replace
from typing import Any

import numpy as np

from ..arrays import DeviceArray
from ..errors import ArrayError
from ..results import AsyncResult, DeviceTensor, EventResult, ResultBuilder
from .driver import (
    EVENT_FLAGS,
    LEGACY_STREAM,
    check,
    check_device,
    context_for,
    driver,
    raise_status,
    stream_handle,
)
from .graphs import GraphCache, capture, capturing, destroy_graph, replayer
from .pinned import (
    LEND_MIN,
    PARALLEL_MIN,
    REGISTER_MIN,
    PinnedPool,
    Registrations,
    parallel_copy,
)
from .resources import IN as _IN
from .resources import CudaResources, EventPool, grow, release_cuda
from .steady import Programs
from .steady import current as _current

__all__ = ["CudaDataPath"]


class CudaDataPath(Programs):
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

    def __init__(self, device: int = 0, *, stream: Any = None) -> None:
        self.device = check_device(device)
        res = CudaResources()
        self._res = res
        self._finalizer = weakref.finalize(self, release_cuda, res)
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
        _current.ctx = res.ctx  # context_for made it current
        # Whether the data path's stream waits for the legacy default stream's earlier work by
        # itself: a blocking stream (flags 0, as the one it creates) of the context does. A
        # borrowed stream outlives the data path, so its flags are asked once.
        self._follows_legacy = res.owns_stream or not self._flags(res.stream) & 1
        # With one GPU in the process, the primary context trt_exec makes current is the only
        # one it can need; begin() then skips cuCtxSetCurrent on a thread where it did it before.
        self._one_gpu = check("cuDeviceGetCount", drv.cuDeviceGetCount()) == 1
        res.pool = self._pool = EventPool(res.ctx)
        res.registered = self._registered = Registrations(drv, res.ctx)
        res.pinned = self._pinned = PinnedPool(res.ctx)
        self._lent: dict[str, tuple[int, int]] = {}  # output -> pinned block downloaded into
        self._ev_end = self._event()
        self._ev_upload = self._event()
        self._ev_tmp = self._event()
        # The end of the previous call's work: _ev_end, or the event lent to that call's
        # AsyncResult (finish records one event per call, not two).
        self._last_event: Any = self._ev_end
        self._last_stream: int | None = None
        # The previous call was synchronous and recorded no event; its synchronize() settles it.
        self._last_unrecorded = False
        self._upload_pending = False  # _ev_upload marks when the pinned staging may be reused
        self._upload_stream: int | None = None  # ... or, after infer(), that stream's sync
        self._staged: set[str] = set()
        self._views: dict[str, np.ndarray] = {}  # name -> uint8 view of its pinned buffer
        # Typed views of the staging buffers by (name, shape, dtype); cleared when any buffer
        # is replaced (see _stage and fetch).
        self._stages: dict[tuple[str, tuple[int, ...], np.dtype], Any] = {}
        # Bumped when any owned buffer is replaced, graphs are turned on or off, a graph is
        # captured (it may evict another), or the data path closes: a program made before then
        # is stale.
        self._generation = 0
        self._fetches: dict[tuple[str, tuple[int, ...], np.dtype], np.ndarray] = {}

    # -- plumbing ---------------------------------------------------------------------------
    @property
    def stream(self) -> int:
        return self._res.stream

    @property
    def closed(self) -> bool:
        return self._res.released

    def _event(self) -> Any:
        # Timing disabled: cheaper record/wait, and these events only order work.
        ev = check("cuEventCreate", self._drv.cuEventCreate(EVENT_FLAGS))
        self._res.events.append(ev)
        return ev

    def _wait_last_on_host(self) -> None:
        """Block until the previous call's work is done (before freeing what it may use)."""
        if self._last_unrecorded:
            check("cuStreamSynchronize", self._drv.cuStreamSynchronize(self._last_stream))
            self._last_unrecorded = False
        else:
            check("cuEventSynchronize", self._drv.cuEventSynchronize(self._last_event))

    def _device_buffer(self, name: str, nbytes: int) -> int:
        entry = self._res.device_bufs.get(name)
        if entry is not None and entry[1] >= nbytes:
            return entry[0]
        if entry is not None:
            self._stages.clear()
            self._fetches.clear()
            self._generation += 1
            # The old buffer may still be read by work in flight.
            if self._last_stream is not None:
                self._wait_last_on_host()
            check("cuMemFree", self._drv.cuMemFree(entry[0]))
            del self._res.device_bufs[name]
        size = grow(nbytes)
        ptr = int(check("cuMemAlloc", self._drv.cuMemAlloc(size)))
        self._res.device_bufs[name] = (ptr, size)
        return ptr

    def _host_buffer(self, name: str, nbytes: int) -> int:
        entry = self._res.host_bufs.get(name)
        if entry is not None and entry[1] >= nbytes:
            return entry[0]
        if entry is not None:
            self._stages.clear()
            self._fetches.clear()
            self._generation += 1
            self._views.pop(name, None)
            check("cuMemFreeHost", self._drv.cuMemFreeHost(entry[0]))
            del self._res.host_bufs[name]
        size = grow(nbytes)
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
        ctx = self._ctx
        if not self._one_gpu or _current.ctx is not ctx:
            err = self._drv.cuCtxSetCurrent(ctx)[0]
            if err:
                raise_status("cuCtxSetCurrent", err)
            _current.ctx = ctx
        last = self._last_stream
        if last is not None and last != stream:
            drv = self._drv
            if self._last_unrecorded:
                # The previous call recorded no event (none was needed until now): record one
                # on its stream now, after its work (and after anything enqueued there since).
                check("cuEventRecord", drv.cuEventRecord(self._ev_end, last))
                self._last_event = self._ev_end
                self._last_unrecorded = False
            check("cuStreamWaitEvent", drv.cuStreamWaitEvent(stream, self._last_event, 0))

    def _flags(self, stream: int) -> int:
        """``cuStreamGetFlags``: 1 (CU_STREAM_NON_BLOCKING) when unknown, the safe answer."""
        err, flags = self._drv.cuStreamGetFlags(stream)
        return 1 if err else int(flags)

    def ordered_after(self, producer: int, stream: int) -> bool:
        """Whether work enqueued on ``stream`` already follows the work a producer left on
        stream ``producer`` (a CAI v3 ``stream``): the same stream, or the legacy default stream
        (1, where cupy and numba leave data by default) followed by the data path's own blocking
        stream. CUDA Driver API, "Stream synchronization behavior": work on a blocking stream
        waits for the legacy stream's earlier work. Else the call waits on an event."""
        return producer == stream or (
            producer == LEGACY_STREAM and stream == self._res.stream and self._follows_legacy
        )

    def input_address(
        self, name: str, array: np.ndarray | DeviceArray, stream: int, synchronous: bool = False
    ) -> int:
        drv = self._drv
        if isinstance(array, DeviceArray):
            self.check_device_array("input", name, array)
            producer = array.stream
            if (
                producer is not None
                and not self.ordered_after(producer, stream)
                and not capturing(drv, stream)
            ):
                check("cuEventRecord", drv.cuEventRecord(self._ev_tmp, producer))
                check("cuStreamWaitEvent", drv.cuStreamWaitEvent(stream, self._ev_tmp, 0))
            if array.ptr == 0 or not array.shape or 0 in array.shape:
                return array.ptr or self._device_buffer(_IN + name, 1)
            return array.ptr
        stage = self._stages.get((name, array.shape, array.dtype))
        if stage is None:
            stage = self._stage(name, array)
        dptr, hptr, nbytes, view = stage
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
        if nbytes >= REGISTER_MIN and synchronous:
            src_ptr = self._registered.host_pointer(name, array)
            if src_ptr is not None:  # the caller's own page-locked memory: no host copy
                check("cuMemcpyHtoDAsync", drv.cuMemcpyHtoDAsync(dptr, src_ptr, nbytes, stream))
                self._staged.add(name)
                return dptr
        if nbytes >= PARALLEL_MIN:

            def upload(a: int, b: int) -> None:
                check("cuMemcpyHtoDAsync", drv.cuMemcpyHtoDAsync(dptr + a, hptr + a, b - a, stream))

            src = array.reshape(-1).view(np.uint8)
            parallel_copy(self._views[_IN + name], src, upload)
        else:
            np.copyto(view, array)
            err = drv.cuMemcpyHtoDAsync(dptr, hptr, nbytes, stream)[0]
            if err:
                raise_status("cuMemcpyHtoDAsync", err)
        self._staged.add(name)
        return dptr

    def _stage(self, name: str, array: np.ndarray) -> tuple[int, int, int, np.ndarray]:
        """Input ``name``'s device buffer, pinned staging and a view of the staging with the
        array's shape and dtype (so a call copies with one ``np.copyto``), kept per
        (name, shape, dtype) until a buffer is replaced."""
        nbytes = array.nbytes
        key = _IN + name
        dptr = self._device_buffer(key, max(nbytes, 1))
        if nbytes == 0:
            return dptr, 0, 0, array
        hptr = self._host_buffer(key, nbytes)
        view = self._views[key][:nbytes].view(array.dtype).reshape(array.shape)
        stage = self._stages[(name, array.shape, array.dtype)] = (dptr, hptr, nbytes, view)
        return stage

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
        if self._lent:
            stale = self._lent.pop(name, None)
            if stale is not None:  # a failed call never fetched it
                self._pinned.give(*stale)
        if nbytes >= LEND_MIN:
            size = grow(nbytes)
            hptr = self._pinned.take(self._drv, size)
            self._lent[name] = (hptr, size)
        else:
            hptr = self._host_buffer(name, nbytes)
        err = self._drv.cuMemcpyDtoHAsync(hptr, dptr, nbytes, stream)[0]
        if err:
            raise_status("cuMemcpyDtoHAsync", err)

    def fetch(self, name: str, shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
        """A new array with output ``name``: over a lent pinned block for large outputs (see
        :mod:`trt_exec.cuda.pinned`), else a copy of the staging buffer."""
        n = math.prod(shape) * dtype.itemsize
        if self._lent:
            lent = self._lent.pop(name, None)
            if lent is not None:
                out: np.ndarray = self._pinned.lend(lent[0], lent[1], n, shape, dtype)
                return out
        if n:
            view = self._fetches.get((name, shape, dtype))
            if view is None:
                view = self._views[name][:n].view(dtype).reshape(shape)
                self._fetches[(name, shape, dtype)] = view
            out = view.copy()
            return out
        return np.empty(shape, dtype)

    def fetch_into(self, name: str, array: np.ndarray) -> None:
        n = array.nbytes
        lent = self._lent.pop(name, None)
        if lent is not None:
            # The view is the block's only user: it goes back to the pool when the view does.
            view = self._pinned.lend(lent[0], lent[1], n, (n,), np.dtype(np.uint8))
            np.copyto(array.reshape(-1).view(np.uint8), view)
            return
        if n:
            np.copyto(array.reshape(-1).view(np.uint8), self._views[name][:n])

    def event_result(self, outputs: dict[str, Any], stream: int) -> AsyncResult:
        """End an asynchronous call whose outputs are all caller arrays: record an event lent
        from the pool on ``stream`` (it also orders this data path's next call, as
        :meth:`finish` does) and return the result that gives it back when collected."""
        pool = self._pool
        ev = pool.take(self._drv)
        err = self._drv.cuEventRecord(ev, stream)[0]
        if err:
            pool.give(ev)
            raise_status("cuEventRecord", err)
        self._last_event = ev
        self._last_stream = stream
        self._last_unrecorded = False
        return EventResult(outputs, stream, ev, pool)

    def finish(
        self,
        stream: int,
        result: ResultBuilder | None = None,
        synchronous: bool = False,
        record: bool = False,
    ) -> Any:
        """Mark the end of this call's work on ``stream``; return the event recorded there.

        With ``result`` (infer_async) the event is one lent to that result from the pool: it
        both orders the next call and is the result's ``event``, one record instead of two.
        With ``record`` the data path's own end event is recorded and returned (it is recorded
        again by a later call). Otherwise nothing is recorded (the raw sequence records
        nothing either): a later call on another stream records an event on this one then
        (:meth:`begin`), and one that must free a buffer first synchronizes it.
        """
        if result is None and not record:
            self._last_stream = stream
            self._last_unrecorded = True
            return None
        mem = result.mem if result is not None else None
        if mem is not None:
            ev = mem.event = self._pool.take(self._drv)
        else:
            ev = self._ev_end
        err = self._drv.cuEventRecord(ev, stream)[0]
        if err:
            raise_status("cuEventRecord", err)
        self._last_event = ev
        self._last_stream = stream
        self._last_unrecorded = False
        return ev

    def complete(self, stream: int) -> None:
        """:meth:`finish` and :meth:`synchronize` of a synchronous call, in one: every piece of
        work this data path enqueued on ``stream`` is done when it returns."""
        err = self._drv.cuStreamSynchronize(stream)[0]
        if err:
            self._last_stream = stream
            self._last_unrecorded = True
            raise_status("cuStreamSynchronize", err)
        self._last_stream = None
        self._last_unrecorded = False
        if stream == self._upload_stream:
            self._upload_stream = None

    def synchronize(self, stream: int | None = None) -> None:
        s = self.stream if stream is None else stream
        err = self._drv.cuStreamSynchronize(s)[0]
        if err:
            raise_status("cuStreamSynchronize", err)
        if s == self._last_stream:
            # Everything this data path enqueued is done: no later call needs to wait for it.
            self._last_stream = None
            self._last_unrecorded = False
        if s == self._upload_stream:
            self._upload_stream = None

    # -- CUDA graphs ------------------------------------------------------------------------
    def enable_graphs(self, max_graphs: int) -> None:
        self._generation += 1  # programs made without graphs: stale
        old = self._res.graphs
        if old is not None:
            old.clear()
        self._res.graphs = GraphCache(max_graphs, destroy_graph)

    def disable_graphs(self) -> None:
        self._generation += 1
        if self._res.graphs is not None:
            self._res.graphs.clear()
            self._res.graphs = None

    def graph_stats(self) -> dict[str, int] | None:
        graphs = self._res.graphs
        return None if graphs is None else graphs.stats()

    def device_checked(self, array: DeviceArray) -> DeviceArray:
        """``array`` with its device recorded: this data path has checked it (see
        :meth:`check_device_array`), so later calls with the same array skip the check."""
        return replace(array, device=self.device)

    def can_capture(self, stream: int, synchronous: bool = False) -> bool:
        # The legacy/per-thread default streams cannot be captured, and a stream the caller is
        # already capturing takes the enqueue into the caller's graph instead. A synchronous
        # call synchronizes the stream before it returns, which CUDA refuses on a stream being
        # captured (cuStreamSynchronize: CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED), so such a call
        # cannot be part of a caller's capture: it skips the cuStreamIsCapturing query.
        return stream > 2 and (synchronous or not capturing(self._drv, stream))

    def replay(self, key: Hashable, stream: int) -> bool:
        """Launch the graph captured for ``key`` on ``stream``; False when there is none."""
        cache = self._res.graphs
        assert cache is not None
        pair = cache.get(key)  # (graph, executable graph)
        if pair is None:
            return False
        err = self._drv.cuGraphLaunch(pair[1], stream)[0]
        if err:
            raise_status("cuGraphLaunch", err)
        return True

    def replayer(self, key: Hashable) -> Callable[[int], bool] | None:
        """A replay of the graph captured for ``key``, for a caller that runs it again and again
        (see :func:`trt_exec.cuda.graphs.replayer`); None when there is none."""
        cache = self._res.graphs
        return None if cache is None else replayer(self._drv, cache, key)

    def capture(self, key: Hashable, enqueue: Callable[[int], None], stream: int) -> None:
        """Run ``enqueue`` (this call's work, and the warm-up TensorRT needs after shape
        changes), then capture it for ``key`` (see :func:`trt_exec.cuda.graphs.capture`)."""
        cache = self._res.graphs
        assert cache is not None
        self._generation += 1  # a capture may evict another graph: programs check again
        capture(self._drv, cache, key, enqueue, stream)

    def close(self) -> None:
        if self._last_stream is not None and not self._res.released:
            try:  # work on a borrowed stream may still use the buffers about to be freed
                self._wait_last_on_host()
            except Exception:
                pass
        self._generation += 1  # programs: stale
        self._finalizer()
        self._views.clear()
        self._stages.clear()
        self._fetches.clear()
        self._lent.clear()
