""":class:`BoundCall`: one call's arrays, shapes and profile fixed once, run again and again.

:meth:`~trt_exec.executor.BaseExecutor.bind` validates the arrays, chooses the profile, sets the
shapes and binds every address once. Running the call then does only what must happen per run:
check that the execution context still holds what was bound (one integer compare, see
:attr:`~trt_exec._context_state.ContextState.epoch`), copy numpy inputs into pinned staging and
upload them, enqueue (or replay the CUDA graph), download numpy outputs, and for a synchronous
run (``call()``) synchronize.

The arrays are **borrowed**: the bound call reads and writes them in place on every run, keeps
them alive while it exists, and never copies them at bind time. Change their contents between
runs (that is the point); do not resize, reallocate or free them, and do not give them to another
thread while a run is in flight. A run does not wait for the arrays' producer streams (the
``stream`` of a ``__cuda_array_interface__``) as ``infer`` does: write them on the call's stream,
or synchronize before the run.

If another call on the same executor changed the shapes or addresses since the last run (an
``infer`` with other arrays), the next run binds its own again (a few TensorRT calls, once). If
the executor switched to another optimization profile, TensorRT forgot what was bound: the run
raises :class:`~trt_exec.errors.StaleBindingError` (bind again). After ``close()`` it raises
:class:`~trt_exec.errors.ClosedError`.

The per-run program itself is a :class:`Plan`, which holds addresses, shapes and names but no
caller array: a :class:`BoundCall` runs it with the arrays it borrowed, and ``infer`` runs the
plan of its previous call when the next call repeats it (:mod:`trt_exec._lane`).
"""

from __future__ import annotations

import functools
import sys
import weakref
from collections.abc import Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, NoReturn

import numpy as np

from ._arguments import ShapeValues
from ._outputs import Provided, check_provided_shape
from .arrays import DeviceArray
from .backends.base import TensorRTApi
from .datapath import DataPath
from .errors import ArrayError, ClosedError, StaleBindingError
from .results import AsyncResult

if TYPE_CHECKING:
    from .executor import BaseExecutor

__all__ = ["BoundCall", "Plan", "bind_call"]

#: An output the plan downloads from an owned buffer: (name, nbytes, shape, dtype, into), where
#: ``into`` says whether it is copied into a caller numpy array (else a new array is returned).
Staged = tuple[str, int, tuple[int, ...], np.dtype, bool]


def bind_call(
    ex: BaseExecutor,
    inputs: Mapping[str, Any],
    outputs: Mapping[str, Any] | None,
    stream: Any,
    profile: int | None,
) -> BoundCall:
    """:meth:`~trt_exec.executor.BaseExecutor.bind`: validate as ``infer`` does, then bind under
    the executor's lock. Device arrays are used in place, numpy inputs are copied through pinned
    staging on every run, outputs not in ``outputs`` come back as new numpy arrays; with CUDA
    graphs on, a run replays the captured graph."""
    shape_inputs = [n for n, spec in ex.inputs.items() if spec.is_shape_tensor]
    if shape_inputs:
        raise ArrayError(
            f"bind(): input(s) {shape_inputs!r} are shape tensors, whose values TensorRT reads "
            "from host memory when shapes are set; a bound call fixes shapes once, so it cannot "
            "follow them. Use infer() for this engine"
        )
    checked, verify = ex._args.inputs(inputs)
    arrays = {n: a for n, a in checked.items() if not isinstance(a, ShapeValues)}
    provided = ex._args.outputs(outputs, verify)
    handle: int | None = None
    if stream is not None:
        from .cuda.driver import stream_handle

        handle = stream_handle(stream)
    with ex._lock:
        api, dp = ex._open()
        stream_used = dp.stream if handle is None else handle
        plan = Plan.bind(ex, api, dp, arrays, provided, profile, stream_used)
        call = BoundCall(plan, arrays, provided)
        if verify:
            ex._args.verified(verify, dp)
        return call


class Plan:
    """A call's per-run program: the profile, shapes and device addresses it binds, the numpy
    inputs it uploads and the outputs it downloads, by name. Holds no caller array (a run is
    given them), so it keeps no caller memory alive.

    Built by :meth:`bind` (sets shapes and binds now; the lock is held) or :meth:`after_call`
    (from what a successful ``infer`` just left in the execution context; no TensorRT call).
    """

    __slots__ = (
        "ex",
        "stream",
        "k",
        "shapes",
        "switches",
        "epoch",
        "device",
        "host_inputs",
        "staged",
        "kinds",
        "replay",
        "program",
        "programmable",
        "steady",
        "steady_async",
        "steady_launch",
        "order",
        "names",
        "all_new",
        "fallback",
    )

    def __init__(
        self,
        ex: BaseExecutor,
        stream: int,
        k: int,
        shapes: dict[str, tuple[int, ...]],
        device: dict[str, int],
        host_inputs: tuple[str, ...],
        staged: list[Staged],
        ordered: bool,
    ) -> None:
        state = ex._state
        self.ex = ex
        self.stream = stream
        self.k = k
        self.shapes = shapes
        self.switches = state.switches
        self.epoch = state.epoch
        #: Device addresses fixed for the plan's life: caller device arrays (and caller numpy
        #: outputs in host mode, written in place).
        self.device = device
        self.host_inputs = host_inputs
        self.staged = staged
        fetched = {s[0]: s[4] for s in staged}
        # Per output, in engine order: 0 the caller's object, 1 a new array, 2 copied into the
        # caller's numpy array (and the caller's object returned).
        self.kinds = tuple(
            (name, 0 if name not in fetched else 2 if fetched[name] else 1) for name in ex.outputs
        )
        #: With CUDA graphs on, the replay of this plan's graph (DataPath.replayer), valid
        #: while the context holds the plan's shapes and addresses; dropped when it rebinds.
        self.replay: Any = None
        #: A synchronous run fixed into one function by the data path (DataPath.program) after
        #: a run the general way, for a plan with numpy inputs or new numpy outputs (none into
        #: a caller numpy array); valid while the context holds this plan's epoch (and the
        #: program says it is not stale).
        self.program: Any = None
        self.programmable = all(not s[4] for s in staged)
        self.names = tuple(ex.outputs)
        #: For a plan on caller device arrays only: the whole synchronous run, lock and epoch
        #: check included (DataPath.device_program), made after a run the general way; called
        #: with the caller's outputs, it returns the result, or None (nothing done) when the
        #: caller must take :meth:`run`. ``steady_async``: the same for infer_async's lane.
        self.steady: Any = _unready
        self.steady_async: Any = _unready
        #: The same for a bound call's ``launch()`` on the plan's stream: it returns the event.
        self.steady_launch: Any = _unready
        #: Whether the outputs a run is given are already in engine order (a bound call's), or
        #: the result must put them in it (infer's: the caller's dict may be in any order).
        self.order = None if ordered or len(self.names) == 1 else self.names
        self.all_new = all(kind == 1 for _, kind in self.kinds)
        #: A bound call's general run (set by :class:`BoundCall`), which its device program
        #: calls once stale; None for infer's lane, whose caller takes :meth:`run` itself.
        self.fallback: Any = None

    @classmethod
    def bind(
        cls,
        ex: BaseExecutor,
        api: TensorRTApi,
        dp: DataPath,
        arrays: Mapping[str, np.ndarray | DeviceArray],
        provided: Mapping[str, Provided],
        profile: int | None,
        stream: int,
    ) -> Plan:
        """Choose the profile, set the shapes and bind every address now (lock held)."""
        state = ex._state
        shapes = {name: arr.shape for name, arr in arrays.items()}
        requested = profile if profile is not None else ex._fixed_profile
        dp.begin(stream)
        k = ex._args.profile(shapes, requested)
        ex._apply_shapes(api, k, shapes, stream)
        if state.dynamic:
            raise ArrayError(
                f"bind(): output(s) {list(state.dynamic)!r} have data-dependent shapes, known "
                "only after each run, so they cannot be bound; use infer() for this engine"
            )
        device: dict[str, int] = {}
        host_inputs: list[str] = []
        for name, arr in arrays.items():
            if isinstance(arr, np.ndarray):
                host_inputs.append(name)
            else:
                device[name] = dp.input_address(name, arr, stream)
        staged: list[Staged] = []
        for name, spec in ex.outputs.items():
            shape = state.out_shapes[name]
            given = provided.get(name)
            if given is not None:
                check_provided_shape(name, given[1], shape)
                addr = dp.output_array_address(name, given[1])
                if addr is not None:
                    device[name] = addr
                    continue
            staged.append((name, spec.nbytes(shape), shape, spec.dtype, given is not None))
        plan = cls(ex, stream, k, shapes, device, tuple(host_inputs), staged, True)
        plan._bind_all(api, dp)
        return plan

    @classmethod
    def after_call(
        cls,
        ex: BaseExecutor,
        arrays: Mapping[str, Any],
        provided: Mapping[str, Provided],
        stream: int,
    ) -> Plan:
        """The plan of the ``infer`` that just succeeded with these validated arrays (lock held):
        its addresses are what TensorRT holds now. Device outputs only among ``provided``."""
        state = ex._state
        bound = state.bound
        device: dict[str, int] = {}
        host_inputs: list[str] = []
        for name, arr in arrays.items():
            if type(arr) is np.ndarray:
                host_inputs.append(name)
            else:
                device[name] = bound[name]
        staged: list[Staged] = []
        out_shapes = state.out_shapes
        for name, spec in ex.outputs.items():
            if name in provided:
                device[name] = bound[name]
            else:
                shape = out_shapes[name]
                staged.append((name, spec.nbytes(shape), shape, spec.dtype, False))
        shapes = {name: arr.shape for name, arr in arrays.items()}
        return cls(ex, stream, state.profile, shapes, device, tuple(host_inputs), staged, False)

    def fixed(self, asynchronous: bool = False) -> Any:
        """The function a repeated run goes through, None while there is none (introspection:
        tests, debugging): the device program (:attr:`steady`, or :attr:`steady_async`), else
        for a synchronous run the data path's :attr:`program`."""
        made = self.steady_async if asynchronous else self.steady
        if made is not _unready:
            return made
        return None if asynchronous else self.program

    # --- the runs -------------------------------------------------------------------------------
    def run(
        self,
        host: Mapping[str, Any],
        objects: Mapping[str, Any],
        into: Mapping[str, np.ndarray],
        lane: bool,
    ) -> dict[str, Any] | None:
        """Run synchronously: numpy inputs from ``host``, caller outputs returned from
        ``objects`` (numpy ones copied into ``into``; a bound call's are in engine order). For
        ``infer``'s lane (``lane``), None when the executor switched profile since (the caller
        takes the full path)."""
        ex = self.ex
        gate = ex._lock  # taken inline, not `with`: ~0.15 µs less per call (trt_exec._gate)
        try:
            gate.token.pop()
        except IndexError:
            gate.wait()
        try:
            program = self.program
            if program is not None and ex._state.epoch == self.epoch:
                made = program([host[n] for n in self.host_inputs] if self.host_inputs else ())
                if made is not None:
                    if not made:  # outputs in caller device arrays only
                        # A bound call's objects are already every output, in engine order.
                        return {n: objects[n] for n in self.names} if lane else dict(objects)
                    if self.all_new:  # every output a new array, in engine order
                        return dict(zip(self.names, made))
                    new = iter(made)
                    return {n: next(new) if k == 1 else objects[n] for n, k in self.kinds}
            # No program yet, a stale one, or another call changed the context since: the
            # general path, which makes the program again.
            return self._general(host, objects, into, lane)
        finally:
            gate.token.append(True)
            if gate.waiting:
                gate.wake()

    def _general(
        self,
        host: Mapping[str, Any],
        objects: Mapping[str, Any],
        into: Mapping[str, np.ndarray],
        lane: bool,
    ) -> dict[str, Any] | None:
        """:meth:`run` step by step (the lock is held), then its program made for later runs."""
        ex = self.ex
        stream = self.stream
        ready = self._ready(stream, lane)
        if ready is None:
            return None
        api, dp = ready
        if self.host_inputs:
            self._upload(api, dp, host, stream, True)
        if not ex._graphs:
            ex._enqueue(api, stream)
        elif self.replay is None or not self.replay(stream):
            # Synchronous: no caller can be capturing the stream (DataPath.can_capture).
            ex._run(api, dp, stream, True)
            self.replay = dp.replayer(ex._state.graph_key())
        staged = self.staged
        for name, nbytes, _, _, _ in staged:
            dp.download(name, nbytes, stream)
        dp.complete(stream)
        if not self.host_inputs and not staged:  # device arrays only
            # (again after another call changed the context: rare)
            self.steady = self._device_program(api, dp, False)
        elif self.programmable:  # (again after another call changed the context: rare)
            self.program = dp.program(
                [(n, self.shapes[n], host[n].dtype) for n in self.host_inputs],
                [(n, nbytes, shape, dtype) for n, nbytes, shape, dtype, _ in staged],
                stream,
                api.enqueue,
                ex._enqueue_failed,
                ex._state.graph_key() if ex._graphs else None,
            )
            # None: these tensors have no faster way (DataPath.program), for good.
            self.programmable = self.program is not None
        if not staged:
            return {name: objects[name] for name in self.names}
        fetched = {s[0]: s for s in staged} if len(staged) > 1 else None
        result: dict[str, Any] = {}
        for name, kind in self.kinds:
            if kind == 1:
                s = fetched[name] if fetched is not None else staged[0]
                result[name] = dp.fetch(name, s[2], s[3])
                continue
            if kind == 2:
                dp.fetch_into(name, into[name])
            result[name] = objects[name]
        return result

    def run_async(self, host: Mapping[str, Any], objects: Mapping[str, Any]) -> AsyncResult | None:
        """``infer_async``'s lane: enqueue on the plan's stream and return the result, whose
        outputs are the caller's device arrays in ``objects``; None after a profile switch."""
        ex = self.ex
        stream = self.stream
        gate = ex._lock  # taken inline, not `with`: see run()
        try:
            gate.token.pop()
        except IndexError:
            gate.wait()
        try:
            dp = self._enqueue_async(host, stream, True)
            if dp is None:
                return None
            result = dp.event_result({name: objects[name] for name in self.names}, stream)
            if not self.host_inputs:  # (made again after another call changed the context)
                api = ex._res.api
                assert api is not None
                self.steady_async = self._device_program(api, dp, True)
            return result
        finally:
            gate.token.append(True)
            if gate.waiting:
                gate.wake()

    def launch(self, host: Mapping[str, Any], stream: int) -> Any:
        """Enqueue on ``stream`` without waiting; the event recorded after the work."""
        gate = self.ex._lock  # taken inline, not `with`: see run()
        try:
            gate.token.pop()
        except IndexError:
            gate.wait()
        try:
            dp = self._enqueue_async(host, stream, False)
            assert dp is not None  # only a lane gets None
            event = dp.finish(stream, None, False, record=True)
            if stream == self.stream and not self.host_inputs and not self.staged:
                api = self.ex._res.api
                assert api is not None
                self.steady_launch = self._device_program(api, dp, True, True)
            return event
        finally:
            gate.token.append(True)
            if gate.waiting:
                gate.wake()

    # --- internals ------------------------------------------------------------------------------
    def _ready(self, stream: int, lane: bool) -> tuple[TensorRTApi, DataPath] | None:
        """The lock is held: the backend and data path, with the context current on ``stream``
        and holding this plan's shapes and addresses again if another call changed them. Closed:
        ClosedError (the executor's for a lane). After a profile switch: StaleBindingError, or
        None for a lane (the caller takes the full path)."""
        ex = self.ex
        res = ex._res
        api, dp = res.api, res.data_path
        if api is None or dp is None:
            if lane:
                ex._open()  # the executor's ClosedError
            raise self._closed()
        dp.begin(stream)
        if ex._state.epoch != self.epoch:
            if ex._state.switches != self.switches:
                if lane:
                    return None
                raise self._stale()
            self._rebind(api, dp, stream)
        return api, dp

    def _enqueue_async(self, host: Mapping[str, Any], stream: int, lane: bool) -> DataPath | None:
        """Upload, then enqueue (or replay, or capture into a caller's graph) without waiting;
        the data path, or None as :meth:`_ready` says. The lock is held."""
        ready = self._ready(stream, lane)
        if ready is None:
            return None
        api, dp = ready
        if self.host_inputs:
            self._upload(api, dp, host, stream, False)
        self.ex._run(api, dp, stream, False)
        return dp

    def _device_program(
        self, api: TensorRTApi, dp: DataPath, asynchronous: bool, event: bool = False
    ) -> Any:
        """:attr:`steady` (or :attr:`steady_async`, or with ``event`` :attr:`steady_launch`)
        after a run the general way: the data path's device program for this plan's epoch,
        stream and graph, or :func:`_unready`."""
        ex = self.ex
        graph = ex._state.graph_key() if ex._graphs and not asynchronous else None
        made = dp.device_program(
            ex,
            self.epoch,
            self.stream,
            api.enqueue,
            ex._enqueue_failed,
            graph,
            self.order,
            asynchronous,
            None if asynchronous else self.fallback,
            event,
        )
        return _unready if made is None else made

    def _closed(self) -> ClosedError:
        return ClosedError(
            f"this bound call's {type(self.ex).__name__} is closed; load the engine again and bind"
        )

    def _stale(self) -> StaleBindingError:
        return StaleBindingError(
            f"this bound call was bound in optimization profile {self.k}, but the executor "
            f"switched profile since (now {self.ex._state.profile}), which made TensorRT forget "
            "its shapes and addresses; call bind() again"
        )

    def _rebind(self, api: TensorRTApi, dp: DataPath, stream: int) -> None:
        """Another call changed the context since this plan last ran: set it back."""
        self.replay = None  # an owned buffer may have moved: its graph is another one
        self.ex._apply_shapes(api, self.k, self.shapes, stream)
        self._bind_all(api, dp)

    def _bind_all(self, api: TensorRTApi, dp: DataPath) -> None:
        ex = self.ex
        for name, ptr in self.device.items():
            ex._bind(api, name, ptr)
        for name, nbytes, _, _, _ in self.staged:
            # The owned buffer may have been replaced by a bigger one since (another call).
            ex._bind(api, name, dp.output_address(name, nbytes))
        self.epoch = ex._state.epoch

    def _upload(
        self,
        api: TensorRTApi,
        dp: DataPath,
        host: Mapping[str, Any],
        stream: int,
        synchronous: bool,
    ) -> None:
        """numpy inputs: copy into pinned staging and enqueue the upload (the staging device
        buffer's address is bound again only if it changed)."""
        ex = self.ex
        for name in self.host_inputs:
            ex._bind(api, name, dp.input_address(name, host[name], stream, synchronous))
        dp.inputs_ready(stream, synchronous)
        if self.epoch != ex._state.epoch:  # a staging buffer moved: another graph
            self.replay = None
            self.epoch = ex._state.epoch


#: Whether a bound call may point its ``functools.partial`` at the device program (see
#: :class:`BoundCall`). Not on a free-threaded CPython (3.13t): there a partial's function is read
#: without a lock, so replacing it while another thread calls the old one could free that one
#: under it; a bound call then keeps its own function, which asks the program first (one frame
#: more per run).
_SWAPS: bool = getattr(sys, "_is_gil_enabled", lambda: True)()


def _unready(objects: Mapping[str, Any]) -> None:
    """:attr:`Plan.steady` until the data path made the device program (and where it makes
    none): nothing done, take :meth:`Plan.run`."""
    return None


class BoundCall(functools.partial[Mapping[str, Any]]):
    """A call fixed by :meth:`~trt_exec.executor.BaseExecutor.bind`; see the module docstring.

    ``call()`` runs it synchronously and returns its outputs by name, in engine order, as a
    read-only mapping (:class:`types.MappingProxyType`): new numpy arrays for outputs not bound
    to a caller array, the caller's arrays as given otherwise. For a call whose outputs are all
    caller device arrays, it is the same mapping on every run. ``call.launch()`` enqueues it
    without waiting and returns the CUDA event recorded after it (None in host mode).

    A :class:`functools.partial` underneath, for speed alone: calling it runs in C up to the
    repeated run's function (the data path's device program, once made), where a Python
    ``__call__`` would cost a frame and a slot lookup (~700 instructions, ``python -m
    benchmarks.instructions``). Its ``func`` and ``args`` are internals; it cannot be pickled or
    copied.
    """

    __slots__ = ("_plan", "_host", "_keep")

    _plan: Plan
    _host: dict[str, np.ndarray]
    _keep: tuple[dict[str, Any], dict[str, Any]]

    def __new__(
        cls,
        plan: Plan,
        arrays: Mapping[str, np.ndarray | DeviceArray],
        provided: Mapping[str, Provided],
    ) -> BoundCall:
        """A bound call over ``plan`` (made by :meth:`Plan.bind` from these arrays)."""
        host = {n: a for n, a in arrays.items() if isinstance(a, np.ndarray)}
        # The caller's outputs, in engine order; shared by every run of a device-only call.
        objects = MappingProxyType({n: provided[n][0] for n in plan.names if n in provided})
        into: dict[str, np.ndarray] = {}
        for staged in plan.staged:
            if staged[4]:  # a caller numpy output (a device one has an address)
                arr = provided[staged[0]][1]
                assert isinstance(arr, np.ndarray)
                into[staged[0]] = arr
        device_only = not host and not plan.staged

        def general(outputs: Mapping[str, Any]) -> Mapping[str, Any]:
            """The plan's run; then, where the data path made one, the call runs its device
            program from the next run on (which calls this again once stale)."""
            if not _SWAPS and plan.steady(outputs) is not None:  # (see _SWAPS)
                return outputs
            made = plan.run(host, outputs, into, False)
            assert made is not None  # only infer's lane gets None
            steady = plan.steady
            if _SWAPS and steady is not _unready:
                call = ref()
                if call is not None and call.func is not steady:
                    # The only way to change a partial's function: its pickle state.
                    setstate = functools.partial.__setstate__  # type: ignore[attr-defined]
                    setstate(call, (steady, call.args, None, None))
            return outputs if device_only else MappingProxyType(made)

        self = super().__new__(cls, general, objects)
        ref = weakref.ref(self)  # a weak one: the call must not keep itself alive (its arrays)
        if _SWAPS:
            plan.fallback = general
        self._plan = plan
        self._host = host
        self._keep = (dict(arrays), dict(provided))  # borrowed: alive while this call is
        return self

    def __reduce__(self) -> NoReturn:
        raise TypeError(
            "a BoundCall cannot be pickled or copied: it borrows device memory and an executor; "
            "bind again where it is needed"
        )

    def launch(self, stream: Any = None) -> Any:
        """Enqueue on ``stream`` (default: the one given to ``bind``) and return at once.

        Returns the CUDA event recorded after the work (``cuEventRecord`` on ``stream``), None
        in host mode, where the work is done on return. The event belongs to the executor and
        is recorded again by its next call: wait on it (``cuStreamWaitEvent``,
        ``cuEventSynchronize``) before that, or synchronize the stream. Every output must be
        bound to a caller device array (an output in the executor's own buffer could not be
        read); use the call itself (``call()``) for numpy outputs. An enqueue on a stream the
        caller is capturing goes into the caller's graph.
        """
        plan = self._plan
        if stream is None:
            # The device program made by an earlier launch on the bound stream (lock, checks,
            # enqueue, record: Plan.launch without its frames); None: stale, or none yet.
            event = plan.steady_launch(None)
            if event is not None:
                return event
        if plan.ex._res.api is None:
            raise plan._closed()
        if plan.staged:
            raise ArrayError(
                f"launch(): output(s) {[s[0] for s in plan.staged]!r} are not bound to a caller "
                "device array, so their results could not be read after an asynchronous launch; "
                "bind a device array for every output, or run the call synchronously (call())"
            )
        if stream is None:
            handle = plan.stream
        else:
            from .cuda.driver import stream_handle

            handle = stream_handle(stream)
        return plan.launch(self._host, handle)

    def __repr__(self) -> str:
        plan = self._plan
        shapes = ", ".join(f"{n}={s!r}" for n, s in plan.shapes.items())
        return f"<BoundCall profile={plan.k} {shapes} stream={plan.stream:#x}>"
