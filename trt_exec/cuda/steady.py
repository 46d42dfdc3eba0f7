"""The steady state of a :class:`~trt_exec.cuda.datapath.CudaDataPath`: the context current on
each thread, and the programs of repeated calls (:class:`Programs`, a base of the data path kept
in its own module).

A program is a call that repeats, fixed into one function: what the general path does in a
dozen method calls and lookups per call (make the context current, order after another stream,
stage, upload, enqueue or replay, download, synchronize, record), done from values resolved
once. It checks on every run that nothing it resolved has changed since, and does nothing
(returns None) once anything has: the caller then takes the general path, which makes it again.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Hashable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, NoReturn

import numpy as np

from .._trtlog import errors
from ..results import AsyncResult, EventResult
from .driver import check, raise_status
from .pinned import LEND_MIN, REGISTER_MIN
from .resources import IN, CudaResources, EventPool

if TYPE_CHECKING:
    from ..datapath import Owner

__all__ = ["Programs", "current"]


class _Current(threading.local):
    """The context trt_exec last made current on this thread (see CudaDataPath.begin)."""

    ctx: Any = None  # a class default: read without getattr on the per-call path


current = _Current()


class Programs:
    """:meth:`program` and :meth:`device_program` of :class:`~trt_exec.cuda.datapath.CudaDataPath`
    (its state is documented there)."""

    # The data path's state the programs read and write (set by CudaDataPath.__init__).
    _res: CudaResources
    _drv: Any
    _ctx: Any
    _one_gpu: bool
    _generation: int
    _lent: dict[str, tuple[int, int]]
    _views: dict[str, np.ndarray]
    _upload_pending: bool
    _upload_stream: int | None
    _last_stream: int | None
    _last_unrecorded: bool
    _last_event: Any
    _ev_end: Any
    _pool: EventPool

    if TYPE_CHECKING:  # CudaDataPath's own

        def begin(self, stream: int) -> None: ...

        def event_result(self, outputs: dict[str, Any], stream: int) -> AsyncResult: ...

    def program(
        self,
        inputs: Sequence[tuple[str, tuple[int, ...], np.dtype]],
        outputs: Sequence[tuple[str, int, tuple[int, ...], np.dtype]],
        stream: int,
        enqueue: Callable[[int], bool],
        failed: Callable[[int], NoReturn],
        graph: Hashable | None,
    ) -> Callable[[Sequence[np.ndarray]], list[np.ndarray] | None] | None:
        """A repeated synchronous call on ``stream``, fixed into one function, after a call that
        ran it the general way (its buffers exist; with ``graph``, its graph was captured).

        ``inputs``: each numpy input (name, shape, dtype); ``outputs``: each output downloaded
        into a new array (name, nbytes, shape, dtype); none for a call on caller device arrays
        only. ``program(arrays)`` copies each array into its pinned staging and uploads it,
        runs ``enqueue(stream)`` (TensorRT's: False when it fails, and then ``failed(start)``
        raises, given :data:`~trt_exec._trtlog.errors`' count before it) or launches the graph
        captured for ``graph``, downloads, synchronizes, and returns each output as a new array:
        the steps of :meth:`input_address`, :meth:`replay`, :meth:`download`, :meth:`complete`
        and :meth:`fetch`, without a lookup or a frame each (~0.3 µs less per call on an H200
        host). It does nothing and returns None once it is stale: an owned buffer was replaced,
        graphs were turned on or off, a graph captured (which may have destroyed this
        one), or the data path closed (``_generation``); staging lent or in flight.
        None (no program) for empty or large tensors, which take the general path (see
        :data:`~trt_exec.cuda.pinned.REGISTER_MIN` and :data:`~trt_exec.cuda.pinned.LEND_MIN`),
        and when there is no graph for ``graph``."""
        res = self._res
        records = []
        for group, limit, prefix in ((inputs, REGISTER_MIN, IN), (outputs, LEND_MIN, "")):
            made = []
            for item in group:
                name, shape, dtype = item[0], item[-2], item[-1]
                nbytes = math.prod(shape) * dtype.itemsize
                key = prefix + name
                dev, host = res.device_bufs.get(key), res.host_bufs.get(key)
                if not 0 < nbytes < limit or dev is None or host is None:
                    return None
                if dev[1] < nbytes or host[1] < nbytes:
                    return None
                view = self._views[key][:nbytes].view(dtype).reshape(shape)
                made.append((dev[0], host[0], nbytes, view))
            records.append(tuple(made))
        ins, outs = records
        cache = res.graphs
        if (graph is None) != (cache is None):
            return None  # graphs turned on or off since
        pair = None if cache is None else cache._entries.get(graph)
        if cache is not None and pair is None:
            return None
        generation = self._generation
        drv = self._drv
        h2d, d2h, launch = drv.cuMemcpyHtoDAsync, drv.cuMemcpyDtoHAsync, drv.cuGraphLaunch
        sync = drv.cuStreamSynchronize
        here, ctx, one_gpu = current, self._ctx, self._one_gpu
        # With a graph: replayed as DataPath.replay does, while no graph was captured since
        # (which may have destroyed it: capture() bumps _generation). A hit is counted; the LRU
        # order needs no update: see device_program.
        graphs: Any = cache  # (typed Any: mypy does not narrow it inside the closure)
        exec_ = None if pair is None else pair[1]

        def run(arrays: Sequence[np.ndarray]) -> list[np.ndarray] | None:
            if self._generation != generation or self._lent or self._upload_pending:
                return None
            last = self._last_stream
            if not one_gpu or here.ctx is not ctx or (last is not None and last != stream):
                self.begin(stream)
            if ins:
                if self._upload_stream is not None:
                    # A synchronous call whose synchronize() failed may still read staging.
                    check("cuStreamSynchronize", drv.cuStreamSynchronize(self._upload_stream))
                    self._upload_stream = None
                for (dptr, hptr, nbytes, view), array in zip(ins, arrays):
                    np.copyto(view, array)
                    err = h2d(dptr, hptr, nbytes, stream)[0]
                    if err:
                        raise_status("cuMemcpyHtoDAsync", err)
                self._upload_stream = stream
            if exec_ is None:
                start = errors.count
                if not enqueue(stream):
                    failed(start)
            else:
                graphs.hits += 1
                err = launch(exec_, stream)[0]
                if err:
                    raise_status("cuGraphLaunch", err)
            for dptr, hptr, nbytes, _ in outs:
                err = d2h(hptr, dptr, nbytes, stream)[0]
                if err:
                    raise_status("cuMemcpyDtoHAsync", err)
            # complete(), inlined: one frame less on every run.
            err = sync(stream)[0]
            if err:
                self._last_stream = stream
                self._last_unrecorded = True
                raise_status("cuStreamSynchronize", err)
            self._last_stream = None
            self._last_unrecorded = False
            if stream == self._upload_stream:
                self._upload_stream = None
            return [view.copy() for _, _, _, view in outs] if outs else []

        return run

    def device_program(
        self,
        owner: Owner,
        epoch: int,
        stream: int,
        enqueue: Callable[[int], bool],
        failed: Callable[[int], NoReturn],
        graph: Hashable | None,
        order: tuple[str, ...] | None,
        asynchronous: bool = False,
        fallback: Callable[[Mapping[str, Any]], Any] | None = None,
        event: bool = False,
    ) -> Callable[[Any], Any] | None:
        """A repeated call on caller device arrays only (a bound call, ``infer``'s and
        ``infer_async``'s lanes), fixed into one function with its caller's part: ``owner``'s
        lock held around it, and ``owner._state.epoch == epoch`` (the execution context still
        holds the call's shapes and addresses) checked first. ``run(objects)`` runs
        ``enqueue(stream)`` (``failed(start)`` when TensorRT refuses) or launches the graph
        captured for ``graph``, then synchronizes and returns the outputs given as a new dict (in
        ``order`` when given: the caller's dict may be in another); ``asynchronous``: returns
        :meth:`event_result` over them instead, without graphs (each such call asks whether the
        caller is capturing the stream, which the general path does). None (nothing done) once
        stale, as :meth:`program`; the owner's lock is read on every run (a forked child has
        another). ``fallback`` (a bound call's, synchronous only): a run returns ``objects``
        itself (the call's read-only mapping of its outputs, the same every run) instead of a
        new dict, and once stale it returns ``fallback(objects)`` (the general path, after the
        lock is released) instead of None, so that its caller needs no frame of its own.
        ``event`` (with ``asynchronous``; a bound call's ``launch()``): a run records the data
        path's own end event after the work and returns it, as :meth:`finish` with ``record``
        does, instead of an :meth:`event_result`.

        :meth:`program`'s work without its staging, and the caller's frame (lock, epoch check,
        result dict) folded in: ~2,900 instructions (~0.15 µs on an H200 host) less per bound
        call than a program inside the caller's :meth:`~trt_exec.bound.Plan.run`; the
        asynchronous one inlines :meth:`event_result`. A run leaves the upload stream
        (:meth:`complete`'s last step) as it was: at worst a later numpy program synchronizes
        an idle stream once.

        A graph replay counts a hit but leaves the cache's LRU order as it is: its key is the
        most recent already. The program was made right after its own lookup, and a lookup of
        any other key since needed the context bound to other shapes or addresses, which moved
        the owner's epoch (:class:`~trt_exec._context_state.ContextState`) and made the
        program stale; the same holds for :meth:`program`, whose caller checks the epoch."""
        cache = self._res.graphs
        if (graph is None) != (cache is None) or (asynchronous and cache is not None):
            return None  # graphs turned on or off since
        pair = None if cache is None else cache._entries.get(graph)
        if cache is not None and pair is None:
            return None
        generation = self._generation
        drv = self._drv
        launch, sync, record = drv.cuGraphLaunch, drv.cuStreamSynchronize, drv.cuEventRecord
        here, ctx, one_gpu = current, self._ctx, self._one_gpu
        graphs: Any = cache  # (typed Any: mypy does not narrow it inside the closure)
        exec_ = None if pair is None else pair[1]
        pool = self._pool
        free = pool.free
        end = self._ev_end

        def run(objects: Any) -> Any:  # a dict, or a bound call's mapping
            gate = owner._lock  # a trt_exec._gate.Gate, taken inline (its docstring)
            try:
                gate.token.pop()
            except IndexError:
                gate.wait()
            try:
                if owner._state.epoch == epoch and self._generation == generation:
                    last = self._last_stream
                    if not one_gpu or here.ctx is not ctx or (last is not None and last != stream):
                        self.begin(stream)
                    if exec_ is None:
                        start = errors.count
                        if not enqueue(stream):
                            failed(start)
                    else:
                        graphs.hits += 1
                        err = launch(exec_, stream)[0]
                        if err:
                            raise_status("cuGraphLaunch", err)
                    err = sync(stream)[0]  # complete(), inlined
                    if err:
                        self._last_stream = stream
                        self._last_unrecorded = True
                        raise_status("cuStreamSynchronize", err)
                    if last is not None:
                        self._last_stream = None
                        self._last_unrecorded = False
                    if fallback is not None:  # a bound call's read-only mapping
                        return objects
                    if order is None:
                        return objects.copy()  # a lane's dict (dict() costs twice as much)
                    return {n: objects[n] for n in order}
            finally:
                gate.token.append(True)
                if gate.waiting:
                    gate.wake()
            return None if fallback is None else fallback(objects)  # stale

        def run_async(objects: dict[str, Any]) -> Any:  # an AsyncResult, or an event
            gate = owner._lock
            try:
                gate.token.pop()
            except IndexError:
                gate.wait()
            try:
                if owner._state.epoch != epoch or self._generation != generation:
                    return None
                last = self._last_stream
                if not one_gpu or here.ctx is not ctx or (last is not None and last != stream):
                    self.begin(stream)
                start = errors.count
                if not enqueue(stream):
                    failed(start)
                if event:  # finish(record=True), inlined: the data path's own end event
                    err = record(end, stream)[0]
                    if err:
                        raise_status("cuEventRecord", err)
                    self._last_event = end
                    self._last_stream = stream
                    self._last_unrecorded = False
                    return end
                # event_result(), inlined: an event from the pool recorded after the work.
                try:
                    ev = free.pop()
                except IndexError:
                    ev = pool.take(drv)
                err = record(ev, stream)[0]
                if err:
                    pool.give(ev)
                    raise_status("cuEventRecord", err)
                self._last_event = ev
                self._last_stream = stream
                self._last_unrecorded = False
                outputs = objects.copy() if order is None else {n: objects[n] for n in order}
                return EventResult(outputs, stream, ev, pool)
            finally:
                gate.token.append(True)
                if gate.waiting:
                    gate.wake()

        return run_async if asynchronous else run
