"""Pinned host blocks lent to the numpy arrays ``infer`` returns, and parallel staging copies.

A large output (at least :data:`LEND_MIN` bytes) is downloaded straight into a pinned block and
returned as a numpy array over that block: no copy into a fresh array, whose first touch of every
page is most of a large round trip's host time (64 MiB: ~30 ms of page faults and copies against
~2.5 ms of DMA on an H200, ``benchmarks/README.md``).

Ownership: the returned array's base is a small :class:`_Block` holder; the block goes back to
its :class:`PinnedPool` only when the holder is collected, that is when the array and every view
of it are gone, so a block is never reused while an array can still read it. A weak-reference
callback (not ``__del__``) gives it back, from whichever thread drops the last reference. The
pool keeps at most :data:`_KEEP` free blocks of each size; after the data path closes, blocks
still lent out are freed when their arrays go.
"""

from __future__ import annotations

import os
import threading
import weakref
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

from ..arrays import numpy_owner
from .driver import check, loaded

__all__ = [
    "LEND_MIN",
    "PARALLEL_MIN",
    "REGISTER_MIN",
    "PinnedPool",
    "Registrations",
    "parallel_copy",
]

#: Outputs at least this large come back in lent pinned blocks; smaller ones are copied (a copy
#: of a few KB costs less than the holder and its weak reference).
LEND_MIN = 256 << 10
#: Host copies at least this large are split over threads (numpy releases the GIL while it
#: copies), each chunk's upload enqueued as soon as it is staged.
PARALLEL_MIN = 8 << 20
#: Inputs at least this large that a synchronous call passes again are page-locked in place
#: (:class:`Registrations`): registering costs about as much as one copy (~40 µs per MiB on an
#: H200 host), which each later call with the same array saves.
REGISTER_MIN = 1 << 20
_CHUNK = 4 << 20
_KEEP = 4

_live: dict[weakref.ref[Any], tuple[PinnedPool, int, int]] = {}
_threads: ThreadPoolExecutor | None = None
_threads_lock = threading.Lock()


class _Block:
    """The base of a returned array: exposes the block through the array interface."""

    __slots__ = ("__array_interface__", "__weakref__")

    def __init__(self, ptr: int, size: int) -> None:
        self.__array_interface__ = {
            "shape": (size,),
            "typestr": "|u1",
            "data": (ptr, False),
            "version": 3,
        }


def _gone(ref: weakref.ref[Any]) -> None:
    entry = _live.pop(ref, None)
    if entry is not None:
        pool, ptr, size = entry
        pool.give(ptr, size)


class PinnedPool:
    """Pinned blocks by size, lent to arrays and taken back when the arrays are collected."""

    __slots__ = ("free", "ctx", "closed")

    def __init__(self, ctx: Any) -> None:
        self.free: dict[int, list[int]] = {}
        self.ctx = ctx
        self.closed = False

    def take(self, drv: Any, size: int) -> int:
        """A block of exactly ``size`` bytes (sizes come rounded from the data path)."""
        blocks = self.free.get(size)
        if blocks:
            try:
                return blocks.pop()
            except IndexError:  # another thread took the last one
                pass
        return int(check("cuMemHostAlloc", drv.cuMemHostAlloc(size, 0)))

    def lend(self, ptr: int, size: int, nbytes: int, shape: tuple[int, ...], dtype: Any) -> Any:
        """A numpy array of ``shape``/``dtype`` over the block; the block returns when it goes."""
        holder = _Block(ptr, size)
        _live[weakref.ref(holder, _gone)] = (self, ptr, size)
        return np.asarray(holder)[:nbytes].view(dtype).reshape(shape)

    def give(self, ptr: int, size: int) -> None:
        blocks = self.free.setdefault(size, [])
        if self.closed or len(blocks) >= _KEEP:
            self._free(ptr)
        else:
            blocks.append(ptr)
            if self.closed:  # closed meanwhile (another thread): drain() may have missed it
                self.drain()

    def drain(self) -> None:
        """Free every block not lent out (at close; lent blocks are freed when returned)."""
        self.closed = True
        for blocks in list(self.free.values()):
            while True:
                try:
                    ptr = blocks.pop()
                except IndexError:
                    break
                self._free(ptr)

    def _free(self, ptr: int) -> None:
        drv = loaded()
        if drv is None:
            return
        if self.ctx is not None:
            drv.cuCtxSetCurrent(self.ctx)
        drv.cuMemFreeHost(ptr)


#: Per input name: the arrays seen lately (candidates) and the arrays kept page-locked.
_SEEN = 4
_KEPT = 2
#: CU_MEMHOSTREGISTER_PORTABLE: the registration holds for every CUDA context.
_PORTABLE = 1


class Registrations:
    """Large numpy inputs that a caller passes again and again, page-locked in place
    (``cuMemHostRegister``) so that a synchronous call uploads straight from the caller's array:
    no copy into staging, the DMA floor of the transfer.

    Policy: an array is registered the second time it is seen for an input (an array used once
    costs nothing but a weak reference); at most :data:`_KEPT` arrays per input stay registered,
    the oldest unregistered first. Only an ndarray over numpy's own memory qualifies (it owns
    it, or is a view of one that does): a weak reference's callback unregisters the memory when
    the array is collected, before numpy can free it (``array_dealloc`` clears weak references
    first, and a view keeps its base alive), and ``ndarray.resize`` refuses an array that is
    weakly referenced or viewed, so the memory cannot move while registered. Registration
    failures (memory registered by someone else, a refusal of the driver) fall back to staging
    silently: the copy is correct, only slower. Only
    synchronous calls read registered memory, so nothing is in flight when it is unregistered.
    ``close()`` unregisters everything (the data path's release).
    """

    __slots__ = ("drv", "ctx", "seen", "kept", "closed", "pid")

    def __init__(self, drv: Any, ctx: Any) -> None:
        self.drv = drv
        self.ctx = ctx
        self.pid = os.getpid()  # a forked child inherits the entries, not the CUDA context
        # Per input: id(weak reference) -> (weak reference, address), oldest first (an ndarray
        # is unhashable, so is a weak reference to it). Dicts, because a weak reference's
        # callback may remove an entry from any thread at any time: pop() is atomic, so each
        # registration is undone exactly once, by whoever pops it.
        self.seen: dict[str, dict[int, tuple[weakref.ref[Any], int]]] = {}
        self.kept: dict[str, dict[int, tuple[weakref.ref[Any], int]]] = {}
        self.closed = False

    def host_pointer(self, name: str, array: np.ndarray) -> int | None:
        """``array``'s own address when it is page-locked by this data path (registering it on
        its second use), else None (stage it)."""
        if type(array) is not np.ndarray or self.closed or numpy_owner(array) is None:
            return None
        ptr = int(array.__array_interface__["data"][0])
        kept = self.kept.setdefault(name, {})
        for ref, p in tuple(kept.values()):
            if ref() is array and p == ptr:
                return ptr
        seen = self.seen.setdefault(name, {})
        for key, (ref, p) in tuple(seen.items()):
            if ref() is array and p == ptr:
                seen.pop(key, None)
                return self._register(kept, array, ptr)
        try:
            ref = weakref.ref(array)
        except TypeError:
            return None
        seen[id(ref)] = (ref, ptr)
        for key in tuple(seen)[: max(0, len(seen) - _SEEN)]:  # the oldest, from a snapshot
            seen.pop(key, None)
        return None

    def _register(
        self, kept: dict[int, tuple[weakref.ref[Any], int]], array: np.ndarray, ptr: int
    ) -> int | None:
        if self.drv.cuMemHostRegister(ptr, array.nbytes, _PORTABLE)[0]:
            return None  # already registered elsewhere, or refused: stage it

        def gone(ref: weakref.ref[Any]) -> None:  # before numpy frees the memory
            if kept.pop(id(ref), None) is not None:
                self._unregister(ptr)

        ref = weakref.ref(array, gone)
        kept[id(ref)] = (ref, ptr)
        # The oldest go first. A snapshot of the keys: a callback (another thread, or a
        # collection here) may remove entries meanwhile; whoever pops an entry undoes it.
        for key in tuple(kept)[: max(0, len(kept) - _KEPT)]:
            old = kept.pop(key, None)
            if old is not None:
                self._unregister(old[1])
        return ptr

    def _unregister(self, ptr: int) -> None:
        if os.getpid() != self.pid:
            return  # CUDA does not survive fork(): the parent's registration is not ours
        try:
            if self.ctx is None:
                self.drv.cuMemHostUnregister(ptr)
                return
            # Often a weak-reference callback in whichever thread dropped the array: leave that
            # thread's current context as it was.
            err, previous = self.drv.cuCtxGetCurrent()
            self.drv.cuCtxSetCurrent(self.ctx)
            self.drv.cuMemHostUnregister(ptr)
            if not err and previous is not None:
                self.drv.cuCtxSetCurrent(previous)
        except Exception:  # at interpreter exit the driver may be gone: nothing to undo then
            pass

    def close(self) -> None:
        """Unregister every kept array (the data path's release; its work is done)."""
        self.closed = True
        for kept in self.kept.values():
            for key in tuple(kept):
                entry = kept.pop(key, None)
                if entry is not None:
                    self._unregister(entry[1])
        self.seen.clear()


def parallel_copy(dst: np.ndarray, src: np.ndarray, each: Any) -> None:
    """``dst[...] = src`` (flat uint8 views) in chunks over a few threads; ``each(start, end)``
    is called, in order, as soon as the chunk ``[start, end)`` is copied (to enqueue its
    upload while later chunks are still being copied)."""
    global _threads
    n = src.nbytes
    if _threads is None:
        with _threads_lock:
            if _threads is None:
                workers = max(2, min(8, (os.cpu_count() or 2) // 2))
                _threads = ThreadPoolExecutor(workers, thread_name_prefix="trt_exec-copy")
    bounds = [(a, min(a + _CHUNK, n)) for a in range(0, n, _CHUNK)]
    futures = [_threads.submit(np.copyto, dst[a:b], src[a:b]) for a, b in bounds]
    try:
        for (a, b), future in zip(bounds, futures):
            future.result()
            each(a, b)
    finally:
        for future in futures:
            future.cancel()
        for future in futures:
            if not future.cancelled():
                future.exception()  # wait: no copy may still write dst after we return
