"""What :meth:`~trt_exec.executor.BaseExecutor.infer_async` returns: :class:`AsyncResult` and its
:class:`DeviceTensor` outputs, and the :class:`ResultBuilder` a call collects them in.

Host mode (the simulated TensorRT on the CPU) uses the same classes with numpy outputs, no device
memory and no event. Device memory and events go through :mod:`trt_exec.cuda.driver`, which
imports cuda-python only when a GPU result is made.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Generator, Mapping
from typing import Any, Protocol

import numpy as np

from .cuda.driver import (
    EVENT_FLAGS,
    LEGACY_STREAM,
    check,
    context_for,
    driver,
    loaded,
    raise_status,
    status_name,
    stream_handle,
)
from .errors import ClosedError, ShapeError

__all__ = [
    "AsyncResult",
    "DeviceTensor",
    "EventLender",
    "EventResult",
    "ResultBuilder",
    "wait_event",
]

# How long wait_event sleeps between two cuEventQuery polls: a few bare yields to the loop first
# (a small engine finishes within them), then doubling up to a cap, so a long call costs a query
# per millisecond at most and a short one is seen within a loop iteration or two.
_POLL_YIELDS = 4
_POLL_FIRST_S = 25e-6
_POLL_MAX_S = 1e-3


async def wait_event(event: Any) -> None:
    """Wait, without blocking the event loop and without a thread, until ``event`` completes.

    Polls ``cuEventQuery`` between ``asyncio.sleep`` calls. A host callback on the stream
    (``cuLaunchHostFunc``) would need a C function pointer made with ctypes, which this project
    does not use over the CUDA libraries; polling needs none and is cancellation-safe (a
    cancelled wait leaves the event and the stream untouched).
    """
    drv = driver()
    delay = 0.0
    polls = 0
    while True:
        err = drv.cuEventQuery(event)[0]
        if not err:
            return
        if status_name(err) != "CUDA_ERROR_NOT_READY":
            check("cuEventQuery", (err,))
        polls += 1
        if polls > _POLL_YIELDS:
            delay = _POLL_FIRST_S if delay == 0.0 else min(delay * 2, _POLL_MAX_S)
        await asyncio.sleep(delay)


class EventLender(Protocol):
    """Lends an AsyncResult its event and takes it back when the result is released."""

    def take(self, drv: Any) -> Any: ...

    def give(self, event: Any) -> None: ...


class _ResultMemory:
    """Per-call device buffers and the event of an AsyncResult; released once, in stream
    order."""

    __slots__ = ("ptrs", "event", "ctx", "pool", "released")

    def __init__(self, ctx: Any, pool: EventLender | None) -> None:
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
    drv = loaded()
    if drv is None:
        return
    if mem.ptrs:
        if mem.ctx is not None:
            drv.cuCtxSetCurrent(mem.ctx)
        # Freed on the legacy default stream, which is ordered after all work on blocking
        # streams (torch's and cupy's defaults among them) that may still read these buffers.
        for ptr in mem.ptrs:
            drv.cuMemFreeAsync(ptr, LEGACY_STREAM)
        mem.ptrs.clear()
    event, mem.event = mem.event, None
    if event is not None:
        if mem.pool is not None:
            mem.pool.give(event)
        else:
            if mem.ctx is not None:
                drv.cuCtxSetCurrent(mem.ctx)
            drv.cuEventDestroy(event)


# One non-blocking copy stream per device (in its primary context), for copy_to_host; created
# at first use and kept for the process, like the primary contexts it lives in.
_copy_streams: dict[int, Any] = {}


def _copy_stream(drv: Any, device: int) -> Any:
    context_for(device)  # another device's executor may have made its context current here
    stream = _copy_streams.get(device)
    if stream is None:
        # CU_STREAM_NON_BLOCKING (1): not ordered after the legacy default stream.
        stream = _copy_streams[device] = check("cuStreamCreate", drv.cuStreamCreate(1))
    return stream


class ResultBuilder:
    """Collects the outputs of one infer_async call, then seals them into an AsyncResult.

    ``pool`` lends the result its event (see :meth:`CudaDataPath.finish`); without a context
    (host mode) there is no device memory and no event.
    """

    __slots__ = ("mem", "keep", "ref", "outputs", "device")

    def __init__(self, ctx: Any, device: int | None, pool: EventLender | None = None) -> None:
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
        return DeviceTensor(ptr, shape, dtype, self.device or 0, stream, self.keep, self.mem)

    def seal(self, stream: int) -> AsyncResult:
        mem = self.mem
        if mem is not None and mem.event is None:  # the data path's finish() did not record
            drv = driver()
            ev = check("cuEventCreate", drv.cuEventCreate(EVENT_FLAGS))
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
    memory lives as long as this object or its :class:`AsyncResult` does. After
    :meth:`AsyncResult.release` it is freed: ``ptr``, ``__cuda_array_interface__`` and
    :meth:`numpy` then raise :class:`~trt_exec.errors.ClosedError` instead of exposing freed
    memory.
    """

    __slots__ = ("_ptr", "shape", "dtype", "device", "stream", "_owner", "_mem", "__weakref__")

    def __init__(
        self,
        ptr: int,
        shape: tuple[int, ...],
        dtype: np.dtype,
        device: int,
        stream: int,
        owner: Any,
        mem: _ResultMemory | None = None,
    ) -> None:
        self._ptr = ptr
        self.shape = tuple(shape)
        self.dtype = np.dtype(dtype)
        self.device = device
        self.stream = stream
        self._owner = owner
        self._mem = mem

    @property
    def released(self) -> bool:
        """True once :meth:`AsyncResult.release` freed this tensor's memory."""
        mem = self._mem
        return mem is not None and mem.released

    @property
    def ptr(self) -> int:
        """The device address; raises ClosedError once the memory is released."""
        mem = self._mem
        if mem is not None and mem.released:
            raise ClosedError(
                f"DeviceTensor shape={self.shape} dtype={self.dtype.name}: its memory was freed "
                "by AsyncResult.release(); copy it (.numpy(), torch.clone) before releasing the "
                "result"
            )
        return self._ptr

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
            "stream": self.stream or LEGACY_STREAM,
        }

    def numpy(self) -> np.ndarray:
        """Copy to a new numpy array (waits for the producing stream)."""
        ptr = self.ptr  # raises once released
        drv = driver()
        out = np.empty(self.shape, self.dtype)
        if self.nbytes:
            check("cuStreamSynchronize", drv.cuStreamSynchronize(self.stream))
            check("cuMemcpyDtoH", drv.cuMemcpyDtoH(out.ctypes.data, ptr, self.nbytes))
        return out

    def copy_to_host(self) -> np.ndarray:
        """Copy to a new numpy array once the producing work is known to be done (after its
        event): on a non-blocking stream, so it waits for no other work (the legacy default
        stream used by ``cuMemcpyDtoH`` would wait for every blocking stream)."""
        drv = driver()
        out = np.empty(self.shape, self.dtype)
        if self.nbytes:
            stream = _copy_stream(drv, self.device)
            check(
                "cuMemcpyDtoHAsync",
                drv.cuMemcpyDtoHAsync(out.ctypes.data, self.ptr, self.nbytes, stream),
            )
            check("cuStreamSynchronize", drv.cuStreamSynchronize(stream))
        return out

    def __repr__(self) -> str:
        where = "released" if self.released else f"ptr={self._ptr:#x}"
        return (
            f"<DeviceTensor shape={self.shape} dtype={self.dtype.name} device={self.device} "
            f"{where}>"
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
        if status_name(err) == "CUDA_ERROR_NOT_READY":
            return False
        check("cuEventQuery", (err,))
        return True

    def synchronize(self) -> AsyncResult:
        """Block the host until the work is done; returns self."""
        event = self.event
        if event is not None:
            err = driver().cuEventSynchronize(event)[0]
            if err:  # (not check(): one frame less on every infer_async round trip)
                raise_status("cuEventSynchronize", err)
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

    def __await__(self) -> Generator[Any, None, AsyncResult]:
        """``await result`` waits for the work without blocking the event loop; returns self.

        In host mode the work is already done and the await returns at once. Cancelling the
        awaiting task does not cancel the GPU work: the outputs stay valid while the result is
        referenced.
        """
        if self.event is not None:
            yield from wait_event(self.event).__await__()
        return self

    def host_outputs(self) -> dict[str, Any]:
        """Every output on the host after the work is done (``await`` it first): DeviceTensors
        copied to new numpy arrays, other outputs (numpy in host mode, caller arrays) as they
        are. Unlike :meth:`numpy` it does not synchronize the stream, which may already carry
        later work; it copies on a non-blocking stream of its own."""
        return {
            name: value.copy_to_host() if isinstance(value, DeviceTensor) else value
            for name, value in self.outputs.items()
        }

    async def to_host(self, into: Mapping[str, np.ndarray] | None = None) -> dict[str, Any]:
        """Await the work, then every output on the host (:meth:`host_outputs`); ``into`` names
        numpy arrays to copy outputs into, returned as given. Releases this result's per-call
        memory afterwards, also when the awaiting task is cancelled (in stream order: the work
        in flight is not disturbed)."""
        try:
            out = (await self).host_outputs()
        finally:
            self.release()
        for name, array in (into or {}).items():
            if array.shape != out[name].shape:
                raise ShapeError(
                    f"output {name!r}: the array passed has shape {array.shape!r}, the output "
                    f"has {out[name].shape!r}; pass an array of the output's shape"
                )
            np.copyto(array, out[name])
            out[name] = array
        return out

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


class EventResult(AsyncResult):
    """An :class:`AsyncResult` whose outputs are all the caller's arrays: it owns nothing but
    its event, lent by ``pool`` and given back when the result is collected. One object per
    call (``__del__``), where a result with per-call memory needs a builder, a holder and a
    weak reference (:class:`ResultBuilder`). :meth:`release` has nothing to free."""

    __slots__ = ("_pool",)

    def __init__(
        self, outputs: dict[str, Any], stream: int, event: Any, pool: EventLender | None
    ) -> None:
        self.outputs = outputs
        self.stream = stream
        self.event = event
        self._pool = pool

    def release(self) -> None:
        """Nothing to free: the outputs are the caller's. The event stays valid while this
        result is referenced."""

    def __del__(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            try:
                pool.give(self.event)
            except Exception:  # at interpreter exit: the event goes with the process
                pass
