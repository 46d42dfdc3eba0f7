"""Handing out workers to threads and to asyncio tasks alike: :class:`Dispatcher`.

A :class:`~trt_exec.pool.Pool` has a fixed set of workers (executors, each with one execution
context) that may live on several GPUs. Callers borrow one for a call and give it back. A thread
waits for a free worker by blocking; an asyncio task waits on a future, so the event loop keeps
running (no thread per waiting task). Waiters are served first come, first served, whichever kind
they are; a freed worker is handed straight to the oldest waiter.

Which free worker: the one on the device with the fewest workers busy (the least busy device),
then the one used least, so every worker shares the load.

Cancellation: a task cancelled while it waits leaves the queue; a worker already on its way to it
is given back (to the next waiter or to the free set), never lost.
"""

from __future__ import annotations

import asyncio
import threading
from collections import deque
from collections.abc import Hashable, Sequence
from typing import Generic, TypeVar

__all__ = ["Dispatcher"]

W = TypeVar("W")


class _ThreadWaiter:
    __slots__ = ("event", "index")

    def __init__(self) -> None:
        self.event = threading.Event()
        self.index = -1


class _TaskWaiter:
    __slots__ = ("loop", "future")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.future: asyncio.Future[int] = loop.create_future()


class Dispatcher(Generic[W]):
    """Lends ``workers`` out one caller at a time each; ``devices[i]`` is where worker i lives
    (any hashable: a CUDA ordinal, or None in host mode). Thread-safe; :meth:`aacquire` is the
    asyncio form of :meth:`acquire`."""

    def __init__(self, workers: Sequence[W], devices: Sequence[Hashable]) -> None:
        if len(workers) != len(devices):
            raise ValueError("one device per worker")
        self._workers = list(workers)
        self._devices = list(devices)
        self._lock = threading.Lock()
        self._free = set(range(len(workers)))
        self._busy: dict[Hashable, int] = dict.fromkeys(devices, 0)
        self._uses = [0] * len(workers)
        self._waiters: deque[_ThreadWaiter | _TaskWaiter] = deque()

    @property
    def busy(self) -> dict[Hashable, int]:
        """Workers busy per device, now."""
        with self._lock:
            return dict(self._busy)

    def _take(self) -> int | None:
        """The least busy device's least used free worker, marked busy (lock held)."""
        if not self._free:
            return None
        devices, busy, uses = self._devices, self._busy, self._uses
        i = min(self._free, key=lambda j: (busy[devices[j]], uses[j], j))
        self._free.discard(i)
        busy[devices[i]] += 1
        uses[i] += 1
        return i

    def acquire(self) -> tuple[int, W]:
        """A free worker and its index, blocking the calling thread while none is free."""
        with self._lock:
            i = self._take()
            if i is None:
                waiter = _ThreadWaiter()
                self._waiters.append(waiter)
        if i is None:
            waiter.event.wait()
            i = waiter.index
        return i, self._workers[i]

    async def aacquire(self) -> tuple[int, W]:
        """A free worker and its index, waiting without blocking the event loop."""
        with self._lock:
            i = self._take()
            if i is not None:
                return i, self._workers[i]
            waiter = _TaskWaiter(asyncio.get_running_loop())
            self._waiters.append(waiter)
        try:
            i = await waiter.future
        except BaseException:
            with self._lock:
                queued = waiter in self._waiters
                if queued:
                    self._waiters.remove(waiter)
            fut = waiter.future
            if fut.done() and not fut.cancelled():
                self.release(fut.result())  # handed to us just as we were cancelled
            else:
                fut.cancel()  # a hand-off on its way sees this and passes the worker on
            raise
        return i, self._workers[i]

    def release(self, i: int) -> None:
        """Give worker ``i`` back: to the oldest waiter, or to the free set."""
        while True:
            with self._lock:
                if not self._waiters:
                    self._free.add(i)
                    self._busy[self._devices[i]] -= 1
                    return
                waiter = self._waiters.popleft()
                self._uses[i] += 1
            if isinstance(waiter, _ThreadWaiter):
                waiter.index = i
                waiter.event.set()
                return
            try:
                waiter.loop.call_soon_threadsafe(self._deliver, waiter.future, i)
                return
            except RuntimeError:  # that loop is closed: try the next waiter
                continue

    def _deliver(self, future: asyncio.Future[int], i: int) -> None:
        # On the waiter's loop. A task cancelled meanwhile does not take the worker.
        if future.done():
            self.release(i)
        else:
            future.set_result(i)
