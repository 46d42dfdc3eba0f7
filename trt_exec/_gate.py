"""The executor's lock: :class:`Gate`, a mutual-exclusion lock whose uncontended take and give
are one ``deque.pop()`` and one ``deque.append()``.

Every call of an executor takes its lock, and on CPython 3.12 ``threading.Lock.acquire()``
parses its optional ``blocking`` and ``timeout`` arguments through
``PyArg_ParseTupleAndKeywords`` on each call: an uncontended acquire and release cost ~1,070
instructions (callgrind, Python 3.12.1), a take and give here ~720 - on a bound call whose
whole overhead over the raw TensorRT call was ~1,900 (issue 13; ``benchmarks/README.md``,
round 7).

How it works: the lock is a one-slot ``collections.deque`` holding a token while the lock is
free. Taking it pops the token, giving it back appends it; "deques support thread-safe, memory
efficient appends and pops from either side" (the ``collections`` documentation), so two
threads can never both pop it. A thread that finds the deque empty waits on a
:class:`threading.Condition`, counted in :attr:`Gate.waiting`; a give that sees a waiter
notifies one. The per-call paths inline the two steps (:class:`Gate`'s docstring shows how);
everything else uses the lock as a context manager, as ``threading.Lock``.

No lost wake-up under the GIL: a waiter counts itself and tries the deque again while holding
the condition's lock before it waits, and a giver appends before it reads the count, so either
the waiter's second try finds the token or the giver sees the waiter and, to notify it, waits
for the condition's lock that the waiter releases only inside ``wait()``. A waiter also wakes
every :data:`RECHECK` seconds and tries again, so that a wake-up lost anyway (a free-threaded
build, where the giver's read of the count is not ordered after its append by a GIL) costs
latency, never a hang. Not reentrant, like ``threading.Lock``; not fair (a thread arriving
while a waiter is being woken may take the lock first), like ``threading.Lock``.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from types import TracebackType

__all__ = ["Gate", "RECHECK"]

#: How long a waiting thread sleeps before it tries the lock again without being notified.
RECHECK = 0.05


class Gate:
    """A lock (see the module docstring): ``with gate:``, :meth:`acquire`, :meth:`release`,
    :meth:`locked` as ``threading.Lock``'s.

    The inlined form on the per-call paths::

        gate = owner._lock
        try:
            gate.token.pop()
        except IndexError:
            gate.wait()
        try:
            ...
        finally:
            gate.token.append(True)
            if gate.waiting:
                gate.wake()
    """

    __slots__ = ("_cond", "token", "waiting")

    def __init__(self) -> None:
        #: Holds one token while the lock is free (``maxlen=1``: a second one can never appear).
        self.token: deque[bool] = deque((True,), maxlen=1)
        #: How many threads wait in :meth:`wait` (read without a lock by a giver).
        self.waiting = 0
        self._cond = threading.Condition(threading.Lock())

    def acquire(self, blocking: bool = True, timeout: float = -1) -> bool:
        """Take the lock; as ``threading.Lock.acquire``: False when ``blocking`` is false or
        ``timeout`` (seconds, -1 for none) passes while another thread holds it."""
        if timeout != -1:
            if not blocking:
                raise ValueError("a timeout cannot be given for a non-blocking acquire")
            if timeout < 0:
                raise ValueError(f"timeout must be a non-negative number or -1, not {timeout!r}")
        try:
            self.token.pop()
            return True
        except IndexError:
            if not blocking:
                return False
        return self.wait(timeout)

    def wait(self, timeout: float = -1) -> bool:
        """The contended take: wait until the lock is given back, then take it. True once
        taken; False when ``timeout`` seconds (-1: none) passed first."""
        deadline = None if timeout < 0 else time.monotonic() + timeout
        cond = self._cond
        with cond:
            self.waiting += 1
            try:
                while True:
                    try:
                        self.token.pop()
                        return True
                    except IndexError:
                        pass
                    if deadline is None:
                        cond.wait(RECHECK)
                    else:
                        left = deadline - time.monotonic()
                        if left <= 0:
                            return False
                        cond.wait(min(left, RECHECK))
            finally:
                self.waiting -= 1

    def release(self) -> None:
        """Give the lock back; ``RuntimeError`` when it is not held (as ``threading.Lock``)."""
        token = self.token
        if token:
            raise RuntimeError("release of an executor lock that is not held")
        token.append(True)
        if self.waiting:
            self.wake()

    def wake(self) -> None:
        """Notify one waiting thread (a give that saw :attr:`waiting`)."""
        with self._cond:
            self._cond.notify()

    def locked(self) -> bool:
        """Whether some thread holds the lock."""
        return not self.token

    def __enter__(self) -> bool:
        return self.acquire()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()

    def __repr__(self) -> str:
        state = "locked" if self.locked() else "unlocked"
        return f"<trt_exec Gate {state}, {self.waiting} waiting>"
