""":class:`BoundCall`: one call's arrays, shapes and profile fixed once, run again and again.

:meth:`~trt_exec.executor.BaseExecutor.bind` validates the arrays, chooses the profile, sets the
shapes and binds every address once. Running the call then does only what must happen per run:
check that the execution context still holds what was bound (one integer compare, see
:attr:`~trt_exec._context_state.ContextState.epoch`), copy numpy inputs into pinned staging and
upload them, enqueue (or replay the CUDA graph), download numpy outputs, and for :meth:`__call__`
synchronize.

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
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from ._arguments import ShapeValues
from ._outputs import Provided, check_provided_shape
from .arrays import DeviceArray
from .backends.base import TensorRTApi
from .datapath import DataPath
from .errors import ArrayError, ClosedError, StaleBindingError

if TYPE_CHECKING:
    from .executor import BaseExecutor

__all__ = ["BoundCall", "bind_call"]


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
        call = BoundCall(
            ex, api, dp, arrays, provided, profile, dp.stream if handle is None else handle
        )
        if verify:
            ex._args.verified(verify, dp)
        return call


class BoundCall:
    """A call fixed by :meth:`~trt_exec.executor.BaseExecutor.bind`; see the module docstring.

    ``call()`` runs it synchronously and returns the outputs by name (numpy arrays for outputs
    not bound to a caller array, the caller's arrays as given otherwise). ``call.launch()``
    enqueues it without waiting and returns the CUDA event recorded after it (None in host
    mode).
    """

    __slots__ = (
        "_ex",
        "_stream",
        "_k",
        "_shapes",
        "_switches",
        "_epoch",
        "_device",
        "_host_inputs",
        "_staged",
        "_result",
        "_keep",
    )

    def __init__(
        self,
        ex: BaseExecutor,
        api: TensorRTApi,
        dp: DataPath,
        arrays: Mapping[str, np.ndarray | DeviceArray],
        provided: Mapping[str, Provided],
        profile: int | None,
        stream: int,
    ) -> None:
        """Set shapes and addresses now; the executor's lock is held."""
        state = ex._state
        self._ex = ex
        self._stream = stream
        self._shapes = {name: arr.shape for name, arr in arrays.items()}
        requested = profile if profile is not None else ex._fixed_profile
        dp.begin(stream)
        self._k = ex._args.profile(self._shapes, requested)
        ex._apply_shapes(api, self._k, self._shapes, stream)
        if state.dynamic:
            raise ArrayError(
                f"bind(): output(s) {list(state.dynamic)!r} have data-dependent shapes, known "
                "only after each run, so they cannot be bound; use infer() for this engine"
            )
        self._switches = state.switches
        # Device addresses fixed for the life of this call: caller device arrays (and caller
        # numpy outputs in host mode, written in place).
        self._device: dict[str, int] = {}
        self._host_inputs: list[tuple[str, np.ndarray]] = []
        for name, arr in arrays.items():
            if isinstance(arr, np.ndarray):
                self._host_inputs.append((name, arr))
            else:
                self._device[name] = dp.input_address(name, arr, stream)
        # Outputs through an owned buffer: (name, nbytes, shape, dtype, caller numpy or None).
        self._staged: list[tuple[str, int, tuple[int, ...], np.dtype, np.ndarray | None]] = []
        self._result: dict[str, Any] = {}
        for name, spec in ex._outputs.items():
            shape = state.out_shapes[name]
            given = provided.get(name)
            if given is not None:
                check_provided_shape(name, given[1], shape)
                addr = dp.output_array_address(name, given[1])
                self._result[name] = given[0]
                if addr is not None:
                    self._device[name] = addr
                    continue
            host = given[1] if given is not None else None
            assert host is None or isinstance(host, np.ndarray)  # a device array has an address
            self._staged.append((name, spec.nbytes(shape), shape, spec.dtype, host))
            self._result.setdefault(name, None)
        self._keep = (dict(arrays), dict(provided))  # borrowed: alive while this call is
        self._bind_all(api, dp)

    # --- the runs -------------------------------------------------------------------------------
    def __call__(self) -> dict[str, Any]:
        """Run synchronously; every output by name, in engine order."""
        ex = self._ex
        stream = self._stream
        with ex._lock:
            # _begin and _run, inlined: this is the path a hot loop takes (~0.3 µs less).
            res = ex._res
            api, dp = res.api, res.data_path
            if api is None or dp is None:
                api, dp = self._open()  # raises ClosedError
            dp.begin(stream)
            if ex._state.epoch != self._epoch:
                self._rebind(api, dp, stream)
            if self._host_inputs:
                self._upload(api, dp, stream, True)
            ex._run(api, dp, stream)
            staged = self._staged
            for name, nbytes, _, _, _ in staged:
                dp.download(name, nbytes, stream)
            dp.finish(stream, None, True)
            dp.synchronize(stream)
            result = dict(self._result)
            for name, _, shape, dtype, arr in staged:
                if arr is None:
                    result[name] = dp.fetch(name, shape, dtype)
                else:
                    dp.fetch_into(name, arr)
            return result

    def launch(self, stream: Any = None) -> Any:
        """Enqueue on ``stream`` (default: the one given to ``bind``) and return at once.

        Returns the CUDA event recorded after the work (``cuEventRecord`` on ``stream``), None
        in host mode, where the work is done on return. The event belongs to the executor and
        is recorded again by its next call: wait on it (``cuStreamWaitEvent``,
        ``cuEventSynchronize``) before that, or synchronize the stream. Every output must be
        bound to a caller device array (an output in the executor's own buffer could not be
        read); use the call itself (``call()``) for numpy outputs.
        """
        self._open()
        if self._staged:
            raise ArrayError(
                f"launch(): output(s) {[s[0] for s in self._staged]!r} are not bound to a caller "
                "device array, so their results could not be read after an asynchronous launch; "
                "bind a device array for every output, or run the call synchronously (call())"
            )
        if stream is None:
            handle = self._stream
        else:
            from .cuda.driver import stream_handle

            handle = stream_handle(stream)
        ex = self._ex
        with ex._lock:
            api, dp = self._begin(handle)
            self._run(api, dp, handle, False)
            return dp.finish(handle, None, False, record=True)

    # --- internals ------------------------------------------------------------------------------
    def _open(self) -> tuple[TensorRTApi, DataPath]:
        res = self._ex._res
        api, dp = res.api, res.data_path
        if api is None or dp is None:
            raise ClosedError(
                f"this bound call's {type(self._ex).__name__} is closed; load the engine again "
                "and bind"
            )
        return api, dp

    def _begin(self, stream: int) -> tuple[TensorRTApi, DataPath]:
        ex = self._ex
        api, dp = self._open()
        dp.begin(stream)
        if ex._state.epoch != self._epoch:
            self._rebind(api, dp, stream)
        return api, dp

    def _rebind(self, api: TensorRTApi, dp: DataPath, stream: int) -> None:
        """Another call changed the context since this one last ran: set it back."""
        ex = self._ex
        state = ex._state
        if state.switches != self._switches:
            raise StaleBindingError(
                f"this bound call was bound in optimization profile {self._k}, but the executor "
                f"switched profile since (now {state.profile}), which made TensorRT forget its "
                "shapes and addresses; call bind() again"
            )
        ex._apply_shapes(api, self._k, self._shapes, stream)
        self._bind_all(api, dp)

    def _bind_all(self, api: TensorRTApi, dp: DataPath) -> None:
        ex = self._ex
        for name, ptr in self._device.items():
            ex._bind(api, name, ptr)
        for name, nbytes, _, _, _ in self._staged:
            # The owned buffer may have been replaced by a bigger one since (another call).
            ex._bind(api, name, dp.output_address(name, nbytes))
        self._epoch = ex._state.epoch

    def _run(self, api: TensorRTApi, dp: DataPath, stream: int, synchronous: bool) -> None:
        if self._host_inputs:
            self._upload(api, dp, stream, synchronous)
        self._ex._run(api, dp, stream)

    def _upload(self, api: TensorRTApi, dp: DataPath, stream: int, synchronous: bool) -> None:
        """numpy inputs: copy into pinned staging and enqueue the upload (the staging device
        buffer's address is bound again only if it changed)."""
        ex = self._ex
        for name, arr in self._host_inputs:
            ex._bind(api, name, dp.input_address(name, arr, stream))
        dp.inputs_ready(stream, synchronous)
        self._epoch = ex._state.epoch

    def __repr__(self) -> str:
        shapes = ", ".join(f"{n}={s!r}" for n, s in self._shapes.items())
        return f"<BoundCall profile={self._k} {shapes} stream={self._stream:#x}>"
