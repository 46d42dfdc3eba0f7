"""A pool of execution contexts over one engine, for serving concurrent requests.

One :class:`~trt_exec.executor.BaseExecutor` serializes its calls (a TensorRT execution context
is not thread-safe). A :class:`Pool` deserializes the engine once and opens ``size`` executors on
it, each with its own execution context, stream and buffers; :meth:`Pool.infer` borrows a free one
for the duration of the call, blocking while all are busy.
"""

from __future__ import annotations

import queue
import threading
import warnings
import weakref
from collections.abc import Mapping
from typing import Any

import numpy as np

from . import _fork
from .errors import ClosedError, ConfigurationError
from .executor import BaseExecutor
from .loading import load

__all__ = ["Pool"]


def _release_pool(executors: list[BaseExecutor]) -> None:
    warnings.warn(
        f"Pool of {len(executors)} contexts was garbage-collected without close(); call close() "
        "or use it as a context manager",
        ResourceWarning,
        stacklevel=2,
    )
    for ex in reversed(executors):
        ex.close()


class Pool(_fork.NotCopyable):
    """``size`` executors sharing one deserialized engine. Thread-safe. Not copyable or
    picklable; inherited through ``os.fork()`` it raises ClosedError in the child.

    Arguments other than ``size`` are those of :func:`trt_exec.load`. Close it (or use it as a
    context manager) to release every context: :meth:`close` waits for the call in progress on
    each executor, and later calls raise :class:`~trt_exec.errors.ClosedError`. A pool collected
    without :meth:`close` releases its contexts and warns once (``ResourceWarning``).
    """

    def __init__(self, engine: Any, size: int = 4, **load_kwargs: Any) -> None:
        if isinstance(size, bool) or not isinstance(size, int) or size < 1:
            raise ConfigurationError(f"Pool: size={size!r} is not valid; pass an integer >= 1")
        first = load(engine, **load_kwargs)
        self._executors: list[BaseExecutor] = [first]
        try:
            kwargs = dict(load_kwargs, tensorrt=first.tensorrt, backend=first.backend)
            for _ in range(size - 1):
                self._executors.append(load(first.engine, **kwargs))
        except BaseException:
            for ex in reversed(self._executors):
                ex.close()
            raise
        self._free: queue.SimpleQueue[BaseExecutor] = queue.SimpleQueue()
        for ex in self._executors:
            self._free.put(ex)
        self._closed = False
        self._lock = threading.Lock()
        self._finalizer = weakref.finalize(self, _release_pool, self._executors)
        self._forked_from: int | None = None
        _fork.track(self)

    def _after_fork_in_child(self, parent: int) -> None:
        # The executors park their own resources; the queue may hold none of them (all
        # borrowed at the fork), so a call must not wait on it.
        self._forked_from = parent
        self._lock = threading.Lock()
        self._finalizer.detach()

    @property
    def size(self) -> int:
        return len(self._executors)

    @property
    def executors(self) -> tuple[BaseExecutor, ...]:
        return tuple(self._executors)

    def infer(
        self, inputs: Mapping[str, Any], *, profile: int | None = None
    ) -> dict[str, np.ndarray]:
        """Run ``inputs`` on a free executor (see :meth:`BaseExecutor.infer`)."""
        if self._closed or self._forked_from is not None:
            if self._forked_from is not None:
                raise _fork.inherited_error("Pool", self._forked_from)
            raise ClosedError("Pool is closed; create a new one")
        ex = self._free.get()
        try:
            return ex.infer(inputs, profile=profile)
        finally:
            self._free.put(ex)

    def close(self) -> None:
        """Close every executor; the engine's owner (the first) last. Idempotent."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
        self._finalizer.detach()
        for ex in reversed(self._executors):
            ex.close()

    def __enter__(self) -> Pool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
