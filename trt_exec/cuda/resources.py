"""What a :class:`~trt_exec.cuda.datapath.CudaDataPath` owns, and its release.

:class:`CudaResources` holds every CUDA object a data path creates (its stream, buffers, events,
graphs, pinned pools, page-locked caller arrays); :func:`release_cuda` releases them exactly
once (a ``weakref.finalize`` of the data path calls it). :class:`EventPool` lends events to
the ``AsyncResult`` s a data path returns; :func:`grow` sizes its buffers.
"""

from __future__ import annotations

from typing import Any

from .driver import EVENT_FLAGS, check, loaded
from .graphs import GraphCache
from .pinned import PinnedPool, Registrations

__all__ = ["IN", "CudaResources", "EventPool", "grow", "release_cuda"]

_MIB = 1 << 20
#: Owned buffers are keyed by tensor name; an input's staging and device copy by this prefix plus
#: its name. TensorRT tensor names are C strings, so no name contains NUL and no output's key can
#: equal an input's (an output may be called "x#in" next to an input "x").
IN = "\0"


def grow(size: int) -> int:
    """The size to allocate for ``size`` bytes, rounded up so that small shape changes reuse
    the buffer: 256 B alignment, then powers of two up to 1 MiB and 1 MiB steps beyond."""
    size = max(size, 256)
    if size <= _MIB:
        return 1 << (size - 1).bit_length()
    return (size + _MIB - 1) // _MIB * _MIB


class EventPool:
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
            return check("cuEventCreate", drv.cuEventCreate(EVENT_FLAGS))

    def give(self, event: Any) -> None:
        self.free.append(event)
        if self.closed:
            self.drain()

    def drain(self) -> None:
        drv = loaded()
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


class CudaResources:
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
        "pinned",
        "registered",
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
        self.pool: EventPool | None = None
        self.pinned: PinnedPool | None = None
        self.registered: Registrations | None = None


def release_cuda(res: CudaResources) -> None:
    # Runs from close() or at garbage collection (then possibly at interpreter exit, where the
    # driver may already be gone): errors here have no caller to reach, so statuses are ignored.
    if res.released:
        return
    res.released = True
    drv = loaded()
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
    if res.pinned is not None:
        res.pinned.drain()
    if res.registered is not None:
        res.registered.close()
    if res.owns_stream:
        drv.cuStreamDestroy(res.stream)
    res.stream = 0
