"""The :class:`Executor` protocol and :class:`BaseExecutor`, the policy every backend shares.

An executor wraps one TensorRT engine and one execution context. Everything is keyed by tensor
name; binding indices exist only inside :mod:`trt_exec.backends.v2`. Metadata is read once, when
the executor opens, into a frozen :class:`~trt_exec.backends.base.EngineLayout`; the per-call
path (:meth:`BaseExecutor._call`) validates the caller's arrays, re-sets shapes when they
changed, binds addresses that changed, enqueues and hands the outputs to an output policy.

Layers: the executor owns policy (validation, profile choice, error translation, locking,
lifecycle); a backend (:class:`~trt_exec.backends.base.TensorRTApi`) is the only code that calls
TensorRT's execution API; a data path (:class:`~trt_exec.datapath.DataPath`) is the only code
that touches memory.

Ownership: one holder (:class:`~trt_exec._resources.Resources`), released exactly once by
``weakref.finalize``, holds the only strong references to the runtime, engine, backend (and
through it the execution context) and data path. :meth:`BaseExecutor.close` releases them all
at once, in TensorRT's order, even while the executor object is still referenced.

Thread safety: an executor is safe to share between threads; calls that touch its execution
context are serialized by a lock (a TensorRT execution context is not thread-safe). For parallel
throughput use :class:`trt_exec.Pool`, which gives each worker its own context.
"""

from __future__ import annotations

import weakref
from collections.abc import Mapping, Sequence
from types import MappingProxyType, ModuleType
from typing import Any, ClassVar, NoReturn

import numpy as np

from . import _fork, _trtlog
from ._arguments import Arguments, Array, host_output, set_shape_values
from ._context_state import ContextState
from ._gate import Gate
from ._lane import Lane, lane_after
from ._outputs import AsyncOutputs, Provided, SyncOutputs, refuse_data_dependent
from ._resources import Resources, release
from .backends.base import EngineLayout, TensorRTApi
from .bound import BoundCall, bind_call
from .datapath import DataPath
from .errors import ClosedError, ExecutionError, ShapeError
from .protocol import Executor
from .results import AsyncResult
from .selection import BackendChoice
from .spec import Shape, TensorSpec, check_profile_index

__all__ = ["BaseExecutor", "Executor"]

_NONE: Mapping[str, Any] = MappingProxyType({})
_ERRORS = _trtlog.errors


class BaseExecutor(_fork.NotCopyable):
    """The shared implementation of :class:`Executor`; a backend subclass names its
    :class:`~trt_exec.backends.base.TensorRTApi` in ``api_class``. Not copyable or picklable
    (TypeError); after ``os.fork()`` the child's inherited copy raises ClosedError (:mod:`._fork`).
    """

    backend: ClassVar[str] = ""
    api_class: ClassVar[type[TensorRTApi]]
    #: How the backend was chosen (set by :func:`trt_exec.load`; "class" when constructed
    #: directly).
    choice: BackendChoice

    def __init__(
        self,
        engine: Any,
        *,
        trt: ModuleType,
        data_path: DataPath,
        runtime: Any = None,
    ) -> None:
        layout = self.api_class.read_layout(trt, engine)
        self.choice = BackendChoice(
            self.backend, "class", f"{type(self).__name__} was constructed directly"
        )
        self._layout = layout
        self._trt = trt
        self._inputs = layout.inputs
        self._outputs = layout.outputs
        self._args = Arguments(layout.inputs, layout.outputs, layout.num_profiles)
        self._state = ContextState()
        device_outputs = {n: sp for n, sp in layout.outputs.items() if sp.location != "host"}
        self._sync = SyncOutputs(device_outputs)
        self._async = AsyncOutputs(device_outputs)
        self._fixed_profile: int | None = None  # set_profile(); None = chosen per call
        # Static inputs need no shape call ("trivially true", allInputDimensionsSpecified).
        self._static = frozenset(n for n, sp in layout.inputs.items() if not sp.is_dynamic)
        self._shape_inputs = frozenset(n for n, sp in layout.inputs.items() if sp.is_shape_tensor)
        self._host_outputs = tuple(n for n, sp in layout.outputs.items() if sp.location == "host")
        self._shape_host: dict[str, Any] = {}  # host copies of the values TensorRT holds
        self._graphs = False
        self._lane: Lane | None = None  # infer's repeat lane (trt_exec._lane)
        self._alane: Lane | None = None  # infer_async's
        self._lock = Gate()  # see trt_exec._gate: a lock for the per-call paths
        res = Resources(f"{type(self).__name__}({layout.io_count} IO tensors)")
        res.engine = engine
        res.runtime = runtime
        res.data_path = data_path
        res.api = self.api_class(trt, engine, layout)
        self._res = res
        self._finalizer = weakref.finalize(self, release, res)
        _fork.track(self)

    def _after_fork_in_child(self, parent: int) -> None:
        res = self._res
        self._lock = Gate()  # a parent thread may have held it at the fork
        self._finalizer.detach()  # the parent's CUDA state must not be released from here
        _fork.park(res.api, res.engine, res.runtime, res.data_path)
        res.api = res.engine = res.runtime = res.data_path = None
        res.forked_from = parent
        self._state.invalidate()  # a bound call's program must not run the parent's CUDA work

    # --- metadata ----------------------------------------------------------------------------
    @property
    def inputs(self) -> Mapping[str, TensorSpec]:
        """Input tensors by name, in engine order."""
        return self._inputs

    @property
    def outputs(self) -> Mapping[str, TensorSpec]:
        """Output tensors by name, in engine order."""
        return self._outputs

    @property
    def layout(self) -> EngineLayout:
        """The engine's IO as read at open (frozen)."""
        return self._layout

    @property
    def num_profiles(self) -> int:
        return self._layout.num_profiles

    @property
    def io_count(self) -> int:
        """Inputs + outputs of one profile (the same for every backend)."""
        return self._layout.io_count

    @property
    def profile(self) -> int | None:
        """The profile fixed by :meth:`set_profile`, or None when chosen per call."""
        return self._fixed_profile

    @property
    def active_profile(self) -> int:
        """The profile the execution context is in: the one the last call used (0 at first)."""
        return self._state.profile

    @property
    def closed(self) -> bool:
        return self._res.api is None

    @property
    def tensorrt(self) -> ModuleType:
        """The TensorRT module this executor runs on."""
        return self._trt

    @property
    def engine(self) -> Any:
        """The ``ICudaEngine``; None once closed."""
        return self._res.engine

    @property
    def device(self) -> int | None:
        """The CUDA device ordinal this executor is bound to; None in host mode or closed."""
        dp = self._res.data_path
        return None if dp is None else dp.device

    @property
    def device_memory_size(self) -> int | None:
        """Device memory the execution context needs for activations, in bytes.

        ``engine.device_memory_size_v2`` from TensorRT 10.1, ``engine.device_memory_size`` before
        (removed in 11.0); None when the engine has neither.
        """
        return self._layout.device_memory_size

    def __repr__(self) -> str:
        state = "closed" if self.closed else "open"
        return (
            f"<{type(self).__name__} {state} inputs={list(self._inputs)} "
            f"outputs={list(self._outputs)} profiles={self.num_profiles}>"
        )

    # --- lifecycle ---------------------------------------------------------------------------
    def __enter__(self) -> BaseExecutor:
        self._open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Release the execution context, the engine and every buffer this executor owns, now,
        even while the executor object is still referenced. Idempotent."""
        with self._lock:
            self._res.explicit = True
            self._finalizer()
            self._args.forget()
            self._lane = self._alane = None

    def _open(self) -> tuple[TensorRTApi, DataPath]:
        res = self._res
        api, dp = res.api, res.data_path
        if api is None or dp is None:
            if res.forked_from is not None:
                raise _fork.inherited_error(type(self).__name__, res.forked_from)
            raise ClosedError(f"{type(self).__name__} is closed; load the engine again to use it")
        return api, dp

    # --- public calls ------------------------------------------------------------------------
    def set_profile(self, profile: int | None) -> None:
        """Fix the optimization profile used by later calls; ``None`` returns to automatic choice.

        The switch happens now (``set_optimization_profile_async`` on the executor's stream).
        """
        with self._lock:
            api, dp = self._open()
            if profile is None:
                self._fixed_profile = None
                return
            k = check_profile_index(profile, self.num_profiles)
            dp.begin(dp.stream)
            self._activate(api, k, dp.stream)
            self._fixed_profile = k

    def check_io(
        self, inputs: Sequence[str] | None = None, outputs: Sequence[str] | None = None
    ) -> None:
        """Check declared IO names against the engine: ``inputs`` and ``outputs`` each on its own
        (None: not checked); with both, the API's own count rule (inputs + outputs == IO)."""
        self._args.check_io(inputs, outputs, self.io_count)

    def prepare(
        self, shapes: Mapping[str, Sequence[int]], *, profile: int | None = None
    ) -> dict[str, Shape]:
        """Set input shapes (choosing the profile) and return every output's shape.

        Use before :meth:`execute` to size caller-owned output buffers. Data-dependent output
        dimensions are -1.
        """
        checked = self._args.shapes(shapes)
        with self._lock:
            api, dp = self._open()
            dp.begin(dp.stream)
            requested = profile if profile is not None else self._fixed_profile
            self._apply_shapes(api, self._args.profile(checked, requested), checked, dp.stream)
            return dict(self._state.out_shapes)

    def infer(
        self,
        inputs: Mapping[str, Any],
        *,
        profile: int | None = None,
        outputs: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Run the engine synchronously: arrays in by name, arrays out by name.

        Inputs may be numpy arrays (uploaded through pinned staging) or device arrays with
        ``__cuda_array_interface__`` / ``__dlpack__`` (torch, cupy, cuda.core; used in place).
        Outputs are new numpy arrays, except those named in ``outputs``: caller arrays (numpy or
        device) of exactly the output's dtype and shape, C-contiguous and writable, which are
        written in place and returned as given. One synchronize per call.

        The profile is ``profile`` if given, else the one fixed by :meth:`set_profile`, else the
        best fit for the input shapes. Arrays must have the engine's dtype and be C-contiguous;
        nothing is converted or copied silently.
        """
        lane = self._lane
        req = profile if profile is not None else self._fixed_profile  # the profile requested
        if lane is not None and lane.matches(inputs, outputs, req):
            plan = lane.plan
            # None: no device program (yet), or a stale one; then the plan's run.
            out: dict[str, Any] | None = plan.steady(outputs)
            if out is None:
                out = plan.run(inputs, outputs or _NONE, _NONE, True)
            if out is not None:  # None: a profile switch since; the full path below
                return out
        arrays, verify = self._args.inputs(inputs)
        provided = self._args.outputs(outputs, verify, arrays)
        with self._lock:
            res = self._res  # _open(), inlined on the two hot entry points
            api, dp = res.api, res.data_path
            if api is None or dp is None:
                api, dp = self._open()  # raises ClosedError
            stream = dp.stream
            outs = self._sync
            host: dict[str, Any] = {}
            final = self._call(api, dp, arrays, provided, profile, stream, outs, host)
            dp.synchronize(stream)
            if verify:
                self._args.verified(verify, dp)
            result = outs.collect(dp, provided, final)
            if host:
                result.update(host)
            self._lane = lane_after(self, inputs, outputs, arrays, provided, req, verify, stream)
            return result

    def infer_async(
        self,
        inputs: Mapping[str, Any],
        *,
        stream: Any = None,
        profile: int | None = None,
        outputs: Mapping[str, Any] | None = None,
    ) -> AsyncResult:
        """Enqueue the engine on ``stream`` and return at once: no host synchronization.

        ``stream`` is a CUDA stream (an int handle, torch/cupy/cuda.core stream) or None for the
        executor's own. Everything - uploads of numpy inputs, the profile switch, the enqueue -
        is ordered on it, after the work the caller already put there, and after this executor's
        previous call when that ran on another stream (one execution context never runs on two
        streams at once). Returns an :class:`~trt_exec.results.AsyncResult`: ``result.outputs``
        holds a :class:`~trt_exec.results.DeviceTensor` per output in per-call device memory (or
        the caller's device array from ``outputs``), and ``result.event`` is recorded after the
        work. Caller outputs must be device arrays here (a numpy output needs :meth:`infer`).
        In host mode (simulated TensorRT on the CPU) the work is done on return and outputs are
        numpy arrays.
        """
        lane = self._alane
        request = profile if profile is not None else self._fixed_profile
        if lane is not None and lane.matches(inputs, outputs, request, stream):
            out: AsyncResult | None = lane.plan.steady_async(outputs)  # as in infer()
            if out is None:
                out = lane.plan.run_async(inputs, outputs or _NONE)
            if out is not None:  # None: a profile switch since; the full path below
                return out
        arrays, verify = self._args.inputs(inputs)
        provided = self._args.outputs(outputs, verify, arrays)
        handle: int | None = None
        if stream is not None:
            from .cuda.driver import stream_handle

            handle = stream_handle(stream)
        with self._lock:
            res = self._res
            api, dp = res.api, res.data_path
            if api is None or dp is None:
                api, dp = self._open()  # raises ClosedError
            if handle is None:
                handle = dp.stream
            outs = self._async
            host: dict[str, Any] = {}
            try:
                self._call(api, dp, arrays, provided, profile, handle, outs, host)
            except BaseException:
                if outs.builder is not None:
                    outs.take().abandon()
                raise
            result = outs.take().seal(handle)
            if host:  # host outputs: numpy in every mode, complete once result.event is
                result.outputs.update(host)
            self._alane = lane_after(
                self, inputs, outputs, arrays, provided, request, verify, handle, True, stream
            )
            if verify:
                self._args.verified(verify, dp)
            return result

    async def ainfer(
        self,
        inputs: Mapping[str, Any],
        *,
        profile: int | None = None,
        outputs: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """:meth:`infer` for asyncio: the same result, without blocking the event loop while the
        GPU works and without a thread per call. The lock is held for the enqueue only (by
        :meth:`infer_async`), never across an ``await``: concurrent awaits run in the order made,
        and a cancelled task leaves the executor consistent (see ``AsyncResult.to_host``). In
        host mode (the simulated TensorRT on the CPU) the result is ready at once."""
        if self.device is None:  # host mode (or closed: infer raises ClosedError)
            return self.infer(inputs, profile=profile, outputs=outputs)
        host = {n: a for n, a in (outputs or {}).items() if isinstance(a, np.ndarray)}
        device = {n: a for n, a in (outputs or {}).items() if n not in host}
        self._args.outputs(host, [])  # infer's checks of numpy outputs, before any work
        result = self.infer_async(inputs, profile=profile, outputs=device or None)
        return await result.to_host(host)

    def bind(
        self,
        inputs: Mapping[str, Any],
        outputs: Mapping[str, Any] | None = None,
        *,
        stream: Any = None,
        profile: int | None = None,
    ) -> BoundCall:
        """Fix a call's arrays (borrowed), shapes and profile once; ``call()`` then runs it
        synchronously and ``call.launch(stream=None)`` enqueues it and returns its CUDA event.
        See :mod:`trt_exec.bound`."""
        return bind_call(self, inputs, outputs, stream, profile)

    def execute(self, addresses: Mapping[str, int], stream: int) -> None:
        """Enqueue the engine on ``stream`` with caller-owned buffers; no allocation, no sync.

        ``addresses`` maps every IO tensor name to a device pointer. Input shapes must already be
        set with :meth:`prepare` when the engine has dynamic shapes.
        """
        gate = self._lock  # taken inline, not `with`: ~0.15 µs less per call (see Gate)
        try:
            gate.token.pop()
        except IndexError:
            gate.wait()
        try:
            bound = self._state.bound
            # Every IO tensor already bound to exactly these plain ints (one C-level compare):
            # valid names and pointers, nothing to bind. Else check them, then bind what changed.
            # The types first: an array's == is elementwise, a float or a bool may equal an int.
            # (A loop: ~2,000 instructions less per call than list(map(type, ...)) == a list.)
            fresh = True
            if type(addresses) is dict and type(stream) is int and stream >= 0:
                for ptr in addresses.values():
                    if type(ptr) is not int:
                        break
                else:
                    fresh = addresses != bound
            handle = self._args.addresses(addresses, stream) if fresh else stream
            res = self._res
            api, dp = res.api, res.data_path
            if api is None or dp is None:
                api, dp = self._open()  # raises ClosedError
            dp.begin(handle)
            if fresh:
                for name, ptr in addresses.items():
                    if bound.get(name) != ptr:
                        self._bind(api, name, int(ptr))
            start = _ERRORS.count  # _enqueue, inlined: one frame less
            if not api.enqueue(handle):
                self._enqueue_failed(start)
            dp.finish(handle)
        finally:
            gate.token.append(True)
            if gate.waiting:
                gate.wake()

    # --- the per-call path -------------------------------------------------------------------
    def _call(
        self,
        api: TensorRTApi,
        dp: DataPath,
        arrays: Mapping[str, Array],
        provided: Mapping[str, Provided],
        profile: int | None,
        stream: int,
        outs: SyncOutputs | AsyncOutputs,
        host: dict[str, Any],
    ) -> Mapping[str, Shape]:
        """Shapes, bindings, enqueue; every output's final shape. Lock held. Fills ``host``."""
        state = self._state
        dp.begin(stream)
        outs.start(dp)
        shapes = {name: arr.shape for name, arr in arrays.items()}
        requested = profile if profile is not None else self._fixed_profile
        signature = (requested, *shapes.values())
        # Only int/None requests may take the shortcut: True == 1 == 1.0, and True and 1.0 must
        # be refused every time.
        if not state.request_applied(signature) or (
            requested is not None and type(requested) is not int
        ):
            self._apply_shapes(api, self._args.profile(shapes, requested), shapes, stream)
            state.remember_request(signature)
        shape_inputs = self._shape_inputs
        for name, arr in arrays.items():
            if shape_inputs and name in shape_inputs:
                continue  # its values went to TensorRT with the shapes (_apply_shapes)
            addr = dp.input_address(name, arr, stream, outs.synchronous)  # type: ignore[arg-type]
            self._bind(api, name, addr)
        dp.inputs_ready(stream, outs.synchronous)
        out_shapes, dynamic = state.out_shapes, state.dynamic
        host_outputs = self._host_outputs
        for name in self._outputs:
            if host_outputs and name in host_outputs:
                host[name], ptr = host_output(self._outputs[name], out_shapes[name], provided)
                self._bind(api, name, ptr)
                continue
            given = provided.get(name)
            if dynamic and name in dynamic:
                if given is not None:
                    refuse_data_dependent(name, out_shapes[name])
                if not api.bind_allocator(name, dp):
                    raise ExecutionError(f"TensorRT refused an output allocator for {name!r}")
                continue
            self._bind(api, name, outs.address(dp, name, out_shapes[name], given, stream))
        if dynamic:
            self._enqueue(api, stream)
            final = dict(out_shapes)
            for name in dynamic:
                final[name] = api.allocated_shape(name)
                outs.data_dependent(dp, name, final[name], stream)
        else:
            self._run(api, dp, stream, outs.synchronous)
            final = out_shapes
        outs.after_enqueue(dp, final, stream)
        dp.finish(stream, outs.builder, outs.synchronous)
        return final

    def _activate(self, api: TensorRTApi, k: int, stream: int) -> None:
        state = self._state
        if k == state.profile:
            return
        with _trtlog.capture() as log:
            ok = api.switch_profile(k, stream)
        if not ok:
            # TensorRT may have reset shapes and bindings before it refused: forget them too.
            state.profile_switched(state.profile)
            raise ExecutionError(
                f"TensorRT refused to switch to optimization profile {k}", tensorrt_log=log
            )
        state.profile_switched(k)

    def _apply_shapes(
        self, api: TensorRTApi, k: int, shapes: Mapping[str, Shape], stream: int
    ) -> None:
        state = self._state
        key = (k, *shapes.values())
        if key == state.shape_key:
            return
        self._activate(api, k, stream)
        state.shapes_changing()
        static, shape_inputs = self._static, self._shape_inputs
        for name, shape in shapes.items():
            if shape_inputs and name in shape_inputs:
                self._set_values(api, name, shape, k)
                continue
            if name in static:
                continue
            with _trtlog.capture() as log:
                ok = api.set_input_shape(name, shape)
            if not ok:
                raise ExecutionError(
                    f"input {name!r}: TensorRT refused shape {shape!r} in profile {k}",
                    tensorrt_log=log,
                )
        with _trtlog.capture() as log:
            reported = {name: api.output_shape(name) for name in self._outputs}
        if log:
            # Shape inference failed (e.g. dimensions that do not broadcast): the -1s reported
            # now say nothing about the data, so nothing is remembered as data-dependent.
            combo = ", ".join(f"{n}={s!r}" for n, s in shapes.items())
            raise ShapeError(
                f"TensorRT could not infer the output shapes from input shapes {combo} in "
                f"profile {k}: the inputs do not fit together; pass shapes the network accepts "
                "together (e.g. equal or broadcastable dimensions)",
                tensorrt_log=log,
            )
        out: dict[str, Shape] = {}
        for name, spec in self._outputs.items():
            shape = reported[name]
            # An output whose shape is still unknown once every input shape is set depends on
            # the data. Remember that: a context may report the previous run's shape for it.
            if name in state.data_dependent or any(d < 0 for d in shape):
                state.data_dependent.add(name)
                shape = spec.shape
            out[name] = shape
        state.shapes_set(key, out)

    def _set_values(self, api: TensorRTApi, name: str, values: Shape, k: int) -> None:
        """Shape-tensor values from an owned host copy, kept until they change."""
        self._shape_host[name] = set_shape_values(api, self._state, self._inputs[name], values, k)

    def _bind(self, api: TensorRTApi, name: str, ptr: int) -> None:
        state = self._state
        if state.bound.get(name) == ptr:  # the address TensorRT already has
            return
        start = _ERRORS.count  # a counter, not a capture: ~0.35 µs less per bind
        if not api.bind(name, ptr):
            state.address_refused(name)
            raise ExecutionError(
                f"TensorRT refused address {ptr:#x} for tensor {name!r}",
                tensorrt_log=_trtlog.since(start),
            )
        state.address_bound(name, ptr)

    def _run(self, api: TensorRTApi, dp: DataPath, stream: int, synchronous: bool) -> None:
        """The enqueue, or with CUDA graphs on, the replay of its graph (captured on a miss)."""
        if self._graphs and dp.can_capture(stream, synchronous):
            key = self._state.graph_key()
            if not dp.replay(key, stream):
                dp.capture(key, lambda s: self._enqueue(api, s), stream)
        else:
            self._enqueue(api, stream)

    def _enqueue(self, api: TensorRTApi, stream: int) -> None:
        start = _ERRORS.count  # a counter, not a capture: ~0.35 µs less per enqueue
        if not api.enqueue(stream):
            self._enqueue_failed(start)

    def _enqueue_failed(self, start: int) -> NoReturn:
        """TensorRT refused the enqueue: the error, with the ERROR lines logged since ``start``."""
        raise ExecutionError(
            f"TensorRT failed to enqueue the engine ({self.backend} backend, profile "
            f"{self._state.profile})",
            tensorrt_log=_trtlog.since(start),
        )

    # --- CUDA graphs -------------------------------------------------------------------------
    def enable_cuda_graphs(self, max_graphs: int = 8) -> None:
        """Capture each enqueue into a CUDA graph and replay it on later calls. Opt-in.

        A graph is captured once per signature - profile, input shapes and every bound address -
        and replayed while the signature repeats; a new shape or address is a new capture (the
        first call with it runs normally: TensorRT needs one enqueue after a shape change). At
        most ``max_graphs`` graphs are kept, the least recently used destroyed first. Calls on
        the legacy default stream (handle 0), calls with data-dependent outputs and
        :meth:`execute` are not captured; an enqueue on a stream the caller is already capturing
        goes into the caller's graph instead.
        """
        from .cuda.graphs import GraphCache

        GraphCache(max_graphs, lambda _: None)  # validates max_graphs before any CUDA check
        with self._lock:
            _, dp = self._open()
            dp.begin(dp.stream)
            dp.enable_graphs(max_graphs)
            self._graphs = True
            self._lane = self._alane = None

    def disable_cuda_graphs(self) -> None:
        """Stop capturing and destroy every cached graph."""
        with self._lock:
            dp = self._res.data_path
            if self._graphs and dp is not None:
                dp.begin(dp.stream)
                dp.disable_graphs()
            self._graphs = False
            self._lane = self._alane = None

    @property
    def cuda_graphs(self) -> dict[str, int] | None:
        """Graph cache counters (graphs, max_graphs, hits, misses, evictions), or None if off."""
        dp = self._res.data_path
        if not self._graphs or dp is None:
            return None
        return dp.graph_stats()
