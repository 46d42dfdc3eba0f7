"""The :class:`Executor` protocol and the machinery its backends share.

An executor wraps one TensorRT engine and one execution context. Everything is keyed by tensor
name; binding indices exist only inside :class:`~trt_exec.backends.v2.V2Executor`. Metadata is read once,
when the executor opens, into frozen :class:`~trt_exec.spec.TensorSpec` objects; the per-call
path only validates the caller's arrays, re-sets shapes when they changed, binds addresses that
changed, enqueues and copies out.

Backends implement six small primitives (``_switch_profile``, ``_set_input_shape``,
``_output_shape``, ``_bind``, ``_enqueue``, ``_bind_allocator``); the policy - validation,
profile choice, caching, error translation, ownership - lives here once.

Thread safety: an executor is safe to share between threads by design; calls that touch its
execution context are serialized by a lock (a TensorRT execution context is not thread-safe).
For parallel throughput use :class:`trt_exec.Pool`, which gives each worker its own context.
"""

from __future__ import annotations

import threading
import warnings
import weakref
from collections.abc import Mapping, Sequence
from dataclasses import replace
from types import MappingProxyType, ModuleType
from typing import Any, Protocol, runtime_checkable

import numpy as np

from . import _trtlog
from .arrays import DeviceArray, as_array, check_array, from_cai_dict, frozen_cai
from .datapath import DataPath
from .errors import (
    ArrayError,
    BindingError,
    ClosedError,
    CudaUnavailableError,
    ExecutionError,
    ShapeError,
)
from .spec import Shape, TensorSpec, check_profile_index, check_shape, choose_profile

__all__ = ["Executor", "BaseExecutor"]


@runtime_checkable
class Executor(Protocol):
    """What every backend provides. Keyed by tensor name throughout."""

    backend: str

    @property
    def inputs(self) -> Mapping[str, TensorSpec]: ...

    @property
    def outputs(self) -> Mapping[str, TensorSpec]: ...

    @property
    def num_profiles(self) -> int: ...

    @property
    def io_count(self) -> int: ...

    @property
    def closed(self) -> bool: ...

    def set_profile(self, profile: int | None) -> None: ...

    def prepare(
        self, shapes: Mapping[str, Sequence[int]], *, profile: int | None = None
    ) -> dict[str, Shape]: ...

    def infer(
        self,
        inputs: Mapping[str, Any],
        *,
        profile: int | None = None,
        outputs: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]: ...

    def infer_async(
        self,
        inputs: Mapping[str, Any],
        *,
        stream: Any = None,
        profile: int | None = None,
        outputs: Mapping[str, Any] | None = None,
    ) -> Any: ...

    def execute(self, addresses: Mapping[str, int], stream: int) -> None: ...

    def close(self) -> None: ...

    def __enter__(self) -> Executor: ...

    def __exit__(self, *exc: object) -> None: ...


class _Resources:
    """What an executor owns, released exactly once by a weakref.finalize (never by __del__)."""

    __slots__ = ("context", "engine", "runtime", "data_path", "allocators", "explicit", "label")

    def __init__(self, label: str) -> None:
        self.context: Any = None
        self.engine: Any = None
        self.runtime: Any = None
        self.data_path: DataPath | None = None
        self.allocators: dict[str, Any] = {}
        self.explicit = False
        self.label = label


def _release(res: _Resources) -> None:
    if not res.explicit:
        warnings.warn(
            f"{res.label} was garbage-collected without close(); call close() or use it as a "
            "context manager",
            ResourceWarning,
            stacklevel=2,
        )
    # TensorRT requires a context to be destroyed before its engine, and the engine before the
    # runtime that deserialized it.
    res.allocators.clear()
    res.context = None
    res.engine = None
    res.runtime = None
    if res.data_path is not None:
        res.data_path.close()
        res.data_path = None


class BaseExecutor:
    """Shared implementation of :class:`Executor`; see the module docstring."""

    backend: str = ""
    #: How the backend was chosen (set by :func:`trt_exec.load`).
    choice: Any = None

    def __init__(
        self,
        engine: Any,
        *,
        trt: ModuleType,
        data_path: DataPath,
        runtime: Any = None,
        owns_engine: bool = True,
    ) -> None:
        self._trt = trt
        self._engine = engine
        specs, num_profiles = self._read_specs(engine)
        self._specs: dict[str, TensorSpec] = {s.name: s for s in specs}
        self._inputs = MappingProxyType({s.name: s for s in specs if s.is_input})
        self._outputs = MappingProxyType({s.name: s for s in specs if not s.is_input})
        self._input_names = frozenset(self._inputs)
        # Input shapes check_shape accepted (it is pure), per input name.
        self._valid_shapes: dict[str, set[Shape]] = {name: set() for name in self._inputs}
        # Validated arrays of recent calls, per tensor name (see _recall).
        self._seen_in: dict[str, list[list[Any]]] = {}
        self._seen_out: dict[str, list[list[Any]]] = {}
        self._num_profiles = num_profiles
        self._res = _Resources(f"{type(self).__name__}({len(specs)} IO tensors)")
        self._res.engine = engine if owns_engine else None
        self._res.runtime = runtime
        self._res.data_path = data_path
        self._dp = data_path
        self._lock = threading.Lock()
        with _trtlog.capture() as log:
            context = self._create_context(engine)
        if context is None:
            raise ExecutionError("TensorRT could not create an execution context", tensorrt_log=log)
        self._ctx = context
        self._res.context = context
        self._finalizer = weakref.finalize(self, _release, self._res)
        self._pinned: int | None = None  # profile fixed by set_profile(), None = automatic
        self._active = 0  # the context's current profile
        self._shape_key: tuple[Any, ...] | None = None
        self._choices: dict[tuple[Any, ...], int] = {}  # (requested, *shapes) -> profile
        self._out_shapes: dict[str, Shape] = {}
        self._dynamic_outputs: tuple[str, ...] = ()  # outputs of _out_shapes with a -1
        self._data_dependent: set[str] = set()
        self._bound: dict[str, int] = {}
        self._graph_key: tuple[Any, ...] | None = None  # (shape key, bound addresses), cached
        self._last_apply: tuple[tuple[Any, ...], Any] | None = None  # see _enqueue_call
        self._graphs = False
        self._device_memory_size = _device_memory_size(engine)
        self._open_context()

    # --- what backends implement -------------------------------------------------------------
    def _read_specs(self, engine: Any) -> tuple[list[TensorSpec], int]:
        raise NotImplementedError

    def _create_context(self, engine: Any) -> Any:
        return engine.create_execution_context()

    def _open_context(self) -> None:
        """Backend set-up once the context exists (e.g. the V2 bindings list)."""

    def _switch_profile(self, profile: int, stream: int) -> bool:
        raise NotImplementedError

    def _set_input_shape(self, name: str, shape: Shape) -> bool:
        raise NotImplementedError

    def _output_shape(self, name: str) -> Shape:
        raise NotImplementedError

    def _bind(self, name: str, ptr: int) -> bool:
        raise NotImplementedError

    def _bind_allocator(self, name: str) -> bool:
        """Route a data-dependent output through an IOutputAllocator (V3 only)."""
        raise ExecutionError(
            f"output {self._specs[name].name!r} has a data-dependent shape, which the "
            f"{self.backend} backend cannot run; load with backend='v3'"
        )

    def _enqueue(self, stream: int) -> bool:
        raise NotImplementedError

    def _allocated_shape(self, name: str) -> Shape:
        raise NotImplementedError

    # --- public API --------------------------------------------------------------------------
    @property
    def inputs(self) -> Mapping[str, TensorSpec]:
        """Input tensors by name, in engine order."""
        return self._inputs

    @property
    def outputs(self) -> Mapping[str, TensorSpec]:
        """Output tensors by name, in engine order."""
        return self._outputs

    @property
    def num_profiles(self) -> int:
        return self._num_profiles

    @property
    def io_count(self) -> int:
        """Inputs + outputs of one profile (the same for every backend)."""
        return len(self._specs)

    @property
    def profile(self) -> int | None:
        """The profile fixed by :meth:`set_profile`, or None when chosen per call."""
        return self._pinned

    @property
    def closed(self) -> bool:
        return self._ctx is None

    @property
    def tensorrt(self) -> ModuleType:
        return self._trt

    @property
    def engine(self) -> Any:
        return self._engine

    def __repr__(self) -> str:
        state = "closed" if self.closed else "open"
        return (
            f"<{type(self).__name__} {state} inputs={list(self._inputs)} "
            f"outputs={list(self._outputs)} profiles={self._num_profiles}>"
        )

    def __enter__(self) -> BaseExecutor:
        self._check_open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Release the execution context and every buffer this executor owns. Idempotent."""
        with self._lock:
            self._ctx = None
            self._res.explicit = True
            self._finalizer()
            self._seen_in.clear()
            self._seen_out.clear()

    def set_profile(self, profile: int | None) -> None:
        """Fix the optimization profile used by later calls; ``None`` returns to automatic choice.

        The switch happens now (``set_optimization_profile_async`` on the executor's stream).
        """
        with self._lock:
            self._check_open()
            if profile is None:
                self._pinned = None
                return
            k = check_profile_index(profile, self._num_profiles)
            self._dp.begin(self._dp.stream)
            self._activate(k)
            self._pinned = k

    def check_io(self, inputs: Sequence[str], outputs: Sequence[str]) -> None:
        """Check declared IO names against the engine; the count rule is the API's own."""
        declared = len(inputs) + len(outputs)
        if (
            declared != self.io_count
            or set(inputs) != set(self._inputs)
            or set(outputs) != set(self._outputs)
        ):
            raise BindingError(
                f"declared IO (inputs={list(inputs)!r}, outputs={list(outputs)!r}; {declared} "
                f"tensors) does not match the engine's {self.io_count} IO tensors "
                f"(inputs={list(self._inputs)!r}, outputs={list(self._outputs)!r})"
            )

    def prepare(
        self, shapes: Mapping[str, Sequence[int]], *, profile: int | None = None
    ) -> dict[str, Shape]:
        """Set input shapes (choosing the profile) and return every output's shape.

        Use before :meth:`execute` to size caller-owned output buffers. Data-dependent output
        dimensions are -1.
        """
        checked = self._check_shapes(shapes)
        with self._lock:
            self._check_open()
            self._dp.begin(self._dp.stream)
            self._apply_shapes(self._choose(checked, profile), checked)
            return dict(self._out_shapes)

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
        arrays, verify = self._check_inputs(inputs)
        provided = self._check_outputs(outputs, verify)
        with self._lock:
            if self._ctx is None:
                self._check_open()
            dp = self._dp
            stream = dp.stream
            staged, shapes = self._enqueue_call(arrays, provided, profile, stream, None)
            dp.synchronize(stream)
            if verify:
                self._verified(verify)
            result: dict[str, Any] = {}
            for name, spec in self._outputs.items():
                if name in provided:
                    obj, arr = provided[name]
                    if name in staged:  # staged: a numpy array
                        dp.fetch_into(name, arr)  # type: ignore[arg-type]
                    result[name] = obj
                else:
                    result[name] = dp.fetch(name, shapes[name], spec.dtype)
            return result

    def infer_async(
        self,
        inputs: Mapping[str, Any],
        *,
        stream: Any = None,
        profile: int | None = None,
        outputs: Mapping[str, Any] | None = None,
    ) -> Any:
        """Enqueue the engine on ``stream`` and return at once: no host synchronization.

        ``stream`` is a CUDA stream (an int handle, torch/cupy/cuda.core stream) or None for the
        executor's own. Everything - uploads of numpy inputs, the profile switch, the enqueue -
        is ordered on it, after the work the caller already put there, and after this executor's
        previous call when that ran on another stream (one execution context never runs on two
        streams at once). Returns an :class:`~trt_exec.cuda.datapath.AsyncResult`: ``result.outputs``
        holds a :class:`~trt_exec.cuda.datapath.DeviceTensor` per output in per-call device memory (or
        the caller's device array from ``outputs``), and ``result.event`` is recorded after the
        work. Caller outputs must be device arrays here (a numpy output needs :meth:`infer`).
        In host mode (simulated TensorRT on the CPU) the work is done on return and outputs are
        numpy arrays.
        """
        arrays, verify = self._check_inputs(inputs)
        provided = self._check_outputs(outputs, verify)
        handle: int | None = None
        if stream is not None:
            from .cuda.datapath import stream_handle

            handle = stream_handle(stream)
        with self._lock:
            if self._ctx is None:
                self._check_open()
            dp = self._dp
            if handle is None:
                handle = dp.stream
            builder = dp.result_builder()  # type: ignore[attr-defined]
            try:
                self._enqueue_call(arrays, provided, profile, handle, builder)
                made = builder.outputs
                if provided or len(made) > 1:
                    # In engine order, the caller's own arrays among them.
                    builder.outputs = {
                        name: provided[name][0] if name in provided else made[name]
                        for name in self._outputs
                    }
                result = builder.seal(handle)
            except BaseException:
                builder.abandon()
                raise
            if verify:
                self._verified(verify)
            return result

    def _enqueue_call(
        self,
        arrays: Mapping[str, np.ndarray | DeviceArray],
        provided: Mapping[str, tuple[Any, np.ndarray | DeviceArray]],
        profile: int | None,
        stream: int,
        builder: Any,
    ) -> tuple[set[str], dict[str, Shape]]:
        """Bind, enqueue and (for host-bound outputs) download; the caller holds the lock.

        ``builder`` collects per-call outputs for infer_async (None for infer). Returns the
        outputs downloaded to host staging and every output's final shape.
        """
        dp = self._dp
        dp.begin(stream)
        shapes = {name: arr.shape for name, arr in arrays.items()}
        requested = profile if profile is not None else self._pinned
        sig = (requested, *shapes.values())
        last = self._last_apply
        # The same request and shapes as the call that left the context in its current state
        # (the same _shape_key object): nothing to choose or set. Only int/None requests,
        # because True == 1 == 1.0 and those must be refused each time.
        if (
            last is None
            or last[1] is not self._shape_key
            or last[0] != sig
            or (requested is not None and type(requested) is not int)
        ):
            self._apply_shapes(self._choose(shapes, profile), shapes, stream)
            self._last_apply = (sig, self._shape_key)
        for name, arr in arrays.items():
            self._bind_checked(name, dp.input_address(name, arr, stream))
        dp.inputs_ready(stream, builder is None)
        dynamic = self._dynamic_outputs
        out_shapes = self._out_shapes
        staged: set[str] = set()
        for name, spec in self._outputs.items():
            shape = out_shapes[name]
            if dynamic and name in dynamic:
                if name in provided:
                    raise ArrayError(
                        f"output {name!r} has a data-dependent shape {shape!r}, known only after "
                        "the run, so it cannot be written into a caller array; leave it out of "
                        "outputs="
                    )
                continue
            if name in provided:
                obj, arr = provided[name]
                if arr.shape != shape:
                    raise ShapeError(
                        f"output {name!r}: the array has shape {tuple(arr.shape)!r}, but these "
                        f"inputs produce {shape!r}; allocate it with that shape (prepare() "
                        "returns every output's shape)"
                    )
                addr = dp.output_array_address(name, arr)
                if addr is None:
                    if builder is not None:
                        raise ArrayError(
                            f"output {name!r}: infer_async writes device memory, but a host "
                            f"{type(obj).__name__} was passed; pass a CUDA array, or use "
                            "infer() for numpy outputs"
                        )
                    addr = dp.output_address(name, spec.nbytes(shape))
                    staged.add(name)
            elif builder is not None:
                addr, value = dp.async_output(  # type: ignore[attr-defined]
                    builder, name, shape, spec.dtype, stream
                )
                builder.outputs[name] = value
            else:
                addr = dp.output_address(name, spec.nbytes(shape))
                staged.add(name)
            self._bind_checked(name, addr)
        for name in dynamic:
            if not self._bind_allocator(name):
                raise ExecutionError(f"TensorRT refused an output allocator for {name!r}")
        self._run(stream, graphable=not dynamic)
        if dynamic:
            final = dict(out_shapes)
            for name in dynamic:
                final[name] = self._allocated_shape(name)
                if builder is not None:
                    builder.outputs[name] = dp.async_copy_output(  # type: ignore[attr-defined]
                        builder, name, final[name], self._outputs[name].dtype, stream
                    )
                else:
                    staged.add(name)
        else:
            final = out_shapes  # replaced, never mutated, by _apply_shapes: safe to hand out
        if builder is None:
            for name in staged:
                dp.download(name, self._outputs[name].nbytes(final[name]), stream)
        # infer() (no builder) synchronizes next: nothing to record. infer_async records the
        # result's event, which also orders this data path's next call.
        dp.finish(stream, builder, builder is None)
        return staged, final

    def execute(self, addresses: Mapping[str, int], stream: int) -> None:
        """Enqueue the engine on ``stream`` with caller-owned buffers; no allocation, no sync.

        ``addresses`` maps every IO tensor name to a device pointer. Input shapes must already be
        set with :meth:`prepare` when the engine has dynamic shapes.
        """
        if not isinstance(addresses, Mapping):
            raise BindingError(
                f"execute(): addresses must be a mapping of tensor name to device pointer, got "
                f"{type(addresses).__name__}; the engine's IO tensors are {list(self._specs)!r}"
            )
        unknown = [n for n in addresses if n not in self._specs]
        missing = [n for n in self._specs if n not in addresses]
        if unknown or missing:
            raise BindingError(
                f"execute(): unknown tensor(s) {unknown!r}, missing tensor(s) {missing!r}; the "
                f"engine's IO tensors are {list(self._specs)!r}"
            )
        for name, ptr in addresses.items():
            # int() would accept a one-element host array or 1.5; a pointer must be an integer.
            if (
                isinstance(ptr, bool)
                or not isinstance(ptr, (int, np.integer))
                or not 0 <= ptr < 1 << 64
            ):
                got = (
                    f"{ptr!r}"
                    if isinstance(ptr, (int, float, str, type(None)))
                    else f"a {type(ptr).__name__}"
                    + (f" of shape {tuple(ptr.shape)!r}" if hasattr(ptr, "shape") else "")
                )
                raise ArrayError(
                    f"execute(): tensor {name!r} got {got}; execute() takes device pointers "
                    "(ints in [0, 2**64), e.g. tensor.data_ptr()); pass arrays to infer() instead"
                )
        if isinstance(stream, bool) or not isinstance(stream, (int, np.integer)) or stream < 0:
            raise ArrayError(
                f"execute(): stream={stream!r:.60} is not a CUDA stream handle; pass a "
                "non-negative int (e.g. torch.cuda.current_stream().cuda_stream)"
            )
        with self._lock:
            self._check_open()
            self._dp.begin(int(stream))
            for name, ptr in addresses.items():
                self._bind_checked(name, int(ptr))
            self._run(int(stream), graphable=False)
            self._dp.finish(int(stream))

    # --- CUDA graphs and device memory -------------------------------------------------------
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
        from .cuda.datapath import GraphCache

        GraphCache(max_graphs, lambda _: None)  # validates max_graphs before any CUDA check
        with self._lock:
            self._check_open()
            if self._dp.kind != "cuda":
                raise CudaUnavailableError(
                    "CUDA graphs need the CUDA data path, but this executor runs in host mode "
                    "(the simulated TensorRT without its GPU mode); use real TensorRT or "
                    "trt_exec.testing.enable_gpu(trt)"
                )
            self._dp.begin(self._dp.stream)
            self._dp.enable_graphs(max_graphs)  # type: ignore[attr-defined]
            self._graphs = True

    def disable_cuda_graphs(self) -> None:
        """Stop capturing and destroy every cached graph."""
        with self._lock:
            if self._graphs and not self.closed:
                self._dp.begin(self._dp.stream)
                self._dp.disable_graphs()  # type: ignore[attr-defined]
            self._graphs = False

    @property
    def cuda_graphs(self) -> dict[str, int] | None:
        """Graph cache counters (graphs, max_graphs, hits, misses, evictions), or None if off."""
        if not self._graphs or self.closed:
            return None
        return self._dp.graphs.stats()  # type: ignore[attr-defined]

    @property
    def device_memory_size(self) -> int | None:
        """Device memory the execution context needs for activations, in bytes.

        ``engine.device_memory_size_v2`` from TensorRT 10.1, ``engine.device_memory_size`` before
        (removed in 11.0); None when the engine has neither.
        """
        return self._device_memory_size

    @property
    def device(self) -> int | None:
        """The CUDA device ordinal this executor is bound to; None in host mode."""
        return self._dp.device

    # --- shared policy ----------------------------------------------------------------------
    def _check_open(self) -> None:
        if self._ctx is None:
            raise ClosedError(f"{type(self).__name__} is closed; load the engine again to use it")

    def _check_inputs(
        self, inputs: Mapping[str, Any]
    ) -> tuple[dict[str, np.ndarray | DeviceArray], list[list[Any]]]:
        """The validated arrays by name, and the remembered entries this call verifies (see
        :func:`_recall`)."""
        if type(inputs) is not dict or inputs.keys() != self._input_names:
            self._check_names(inputs, self._inputs, self._outputs, "input")
        arrays: dict[str, np.ndarray | DeviceArray] = {}
        verify: list[list[Any]] = []
        seen = self._seen_in
        valid = self._valid_shapes
        for name, spec in self._inputs.items():
            obj = inputs[name]
            if type(obj) is np.ndarray:
                # numpy is checked every call, cheaply: the dtype object, the layout flag and
                # a shape already found valid for this input (check_shape is pure).
                if (
                    obj.dtype is not spec.dtype
                    or not obj.flags.c_contiguous
                    or obj.shape not in valid[name]
                ):
                    check_array(spec, obj)
                    self._remember_shape(check_shape(spec, obj.shape), name)
                arrays[name] = obj
                continue
            entry = _recall(seen.get(name), obj)
            if entry is None:
                arr, entry = _read(name, obj, "input")
                check_array(spec, arr)
                check_shape(spec, arr.shape)
                if entry is not None:
                    _remember(seen, name, entry)
            else:
                arr = entry[3]
            if entry is not None and type(arr) is DeviceArray and arr.device is None:
                verify.append(entry)
            arrays[name] = arr
        return arrays, verify

    @staticmethod
    def _check_names(
        given: Any, mine: Mapping[str, TensorSpec], others: Mapping[str, TensorSpec], role: str
    ) -> None:
        if not isinstance(given, Mapping):
            if role == "input":
                raise BindingError(
                    f"inputs must be a mapping of tensor name to array, got "
                    f"{type(given).__name__}; expected names {list(mine)!r}"
                )
            raise BindingError(
                f"outputs must be a mapping of tensor name to array, got "
                f"{type(given).__name__}; the engine's outputs are {list(mine)!r}"
            )
        unknown = [n for n in given if n not in mine]
        if unknown:
            wrong = [n for n in unknown if n in others]
            hint = f" ({wrong!r} are {'outputs' if role == 'input' else 'inputs'})" if wrong else ""
            raise BindingError(
                f"unknown {role} tensor(s) {unknown!r}{hint}; the engine's {role}s are "
                f"{list(mine)!r}"
            )
        if role == "input":
            missing = [n for n in mine if n not in given]
            if missing:
                raise BindingError(
                    f"missing input tensor(s) {missing!r}; the engine's inputs are {list(mine)!r}"
                )

    def _check_outputs(
        self, outputs: Mapping[str, Any] | None, verify: list[list[Any]]
    ) -> dict[str, tuple[Any, np.ndarray | DeviceArray]]:
        if outputs is None:
            return {}
        if type(outputs) is not dict or not outputs.keys() <= self._outputs.keys():
            self._check_names(outputs, self._outputs, self._inputs, "output")
        checked: dict[str, tuple[Any, np.ndarray | DeviceArray]] = {}
        seen = self._seen_out
        for name, obj in outputs.items():
            if type(obj) is np.ndarray:
                flags = obj.flags
                if (
                    obj.dtype is not self._outputs[name].dtype
                    or not flags.c_contiguous
                    or not flags.writeable
                ):
                    if not flags.writeable:
                        raise ArrayError(
                            f"output {name!r}: the array is read-only; pass a writable array"
                        )
                    check_array(self._outputs[name], obj)
                checked[name] = (obj, obj)
                continue
            entry = _recall(seen.get(name), obj)
            if entry is None:
                arr, entry = _read(name, obj, "output")
                if isinstance(arr, np.ndarray):
                    if arr is not obj and not hasattr(obj, "__dlpack__"):
                        raise ArrayError(
                            f"output {name!r}: a {type(obj).__name__} cannot be written in "
                            "place; pass a numpy array or a CUDA array"
                        )
                    writable = bool(arr.flags.writeable)
                else:
                    writable = not arr.readonly
                if not writable:
                    raise ArrayError(
                        f"output {name!r}: the array is read-only; pass a writable array"
                    )
                check_array(self._outputs[name], arr)
                if entry is not None:
                    _remember(seen, name, entry)
            else:
                arr = entry[3]
            if entry is not None and type(arr) is DeviceArray and arr.device is None:
                verify.append(entry)
            checked[name] = (obj, arr)
        return checked

    def _remember_shape(self, shape: Shape, name: str) -> None:
        valid = self._valid_shapes[name]
        if len(valid) >= 256:
            valid.clear()
        valid.add(shape)

    def _verified(self, entries: list[list[Any]]) -> None:
        """After a call succeeded: the data path has checked these remembered device arrays'
        device (cuPointerGetAttribute), so later calls with the same unchanged object skip it."""
        dp = self._dp
        if dp.kind != "cuda":
            return
        for entry in entries:
            arr = entry[3]
            if arr.device is None:
                entry[3] = replace(arr, device=dp.device)

    def _check_shapes(self, shapes: Mapping[str, Sequence[int]]) -> dict[str, Shape]:
        unknown = [n for n in shapes if n not in self._inputs]
        missing = [n for n in self._inputs if n not in shapes]
        if unknown or missing:
            raise BindingError(
                f"shapes: unknown input(s) {unknown!r}, missing input(s) {missing!r}; the "
                f"engine's inputs are {list(self._inputs)!r}"
            )
        return {name: check_shape(spec, shapes[name]) for name, spec in self._inputs.items()}

    def _choose(self, shapes: Mapping[str, Shape], profile: int | None) -> int:
        requested = profile if profile is not None else self._pinned
        if requested is not None and type(requested) is not int:
            # Not remembered: True == 1 == 1.0 as dict keys, and True and 1.0 must be refused
            # every time (np.integer requests are valid and merely not remembered).
            return choose_profile(self._inputs, shapes, self._num_profiles, requested)
        # The choice depends only on the shapes and the request, and choose_profile costs ~5 µs
        # (benchmarks/README.md): remember it. Refusals raise and are not remembered.
        key = (requested, *shapes.values())
        k = self._choices.get(key)
        if k is None:
            k = choose_profile(self._inputs, shapes, self._num_profiles, requested)
            if len(self._choices) >= 256:
                self._choices.clear()
            self._choices[key] = k
        return k

    def _activate(self, k: int, stream: int | None = None) -> None:
        if k == self._active:
            return
        with _trtlog.capture() as log:
            ok = self._switch_profile(k, self._dp.stream if stream is None else stream)
        self._shape_key = None  # TensorRT forgets input shapes when the profile changes
        self._bound.clear()
        self._graph_key = None
        if not ok:
            raise ExecutionError(
                f"TensorRT refused to switch to optimization profile {k}", tensorrt_log=log
            )
        self._active = k

    def _apply_shapes(self, k: int, shapes: Mapping[str, Shape], stream: int | None = None) -> None:
        key = (k, *shapes.values())
        if key == self._shape_key:
            return
        self._activate(k, stream)
        self._shape_key = None
        self._graph_key = None
        for name, shape in shapes.items():
            with _trtlog.capture() as log:
                ok = self._set_input_shape(name, shape)
            if not ok:
                raise ExecutionError(
                    f"input {name!r}: TensorRT refused shape {shape!r} in profile {k}",
                    tensorrt_log=log,
                )
        with _trtlog.capture() as log:
            reported = {name: self._output_shape(name) for name in self._outputs}
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
            if name in self._data_dependent or any(d < 0 for d in shape):
                self._data_dependent.add(name)
                shape = spec.shape
            out[name] = shape
        self._out_shapes = out
        self._dynamic_outputs = tuple(n for n, shape in out.items() if any(d < 0 for d in shape))
        self._shape_key = key

    def _bind_checked(self, name: str, ptr: int) -> None:
        if self._bound.get(name) == ptr:
            return
        self._graph_key = None
        with _trtlog.capture() as log:
            ok = self._bind(name, ptr)
        if not ok:
            self._bound.pop(name, None)
            raise ExecutionError(
                f"TensorRT refused address {ptr:#x} for tensor {name!r}", tensorrt_log=log
            )
        self._bound[name] = ptr

    def _run(self, stream: int, graphable: bool = True) -> None:
        dp = self._dp
        if self._graphs and graphable and dp.can_capture(stream):  # type: ignore[attr-defined]
            key = self._graph_key
            if key is None:  # reset whenever the shapes or a bound address change
                key = self._graph_key = (self._shape_key, tuple(sorted(self._bound.items())))
            dp.launch(key, self._enqueue_checked, stream)  # type: ignore[attr-defined]
        else:
            self._enqueue_checked(stream)

    def _enqueue_checked(self, stream: int) -> None:
        start = _trtlog.mark()  # a counter, not a capture: ~0.35 µs less per enqueue
        if not self._enqueue(stream):
            raise ExecutionError(
                f"TensorRT failed to enqueue the engine ({self.backend} backend, profile "
                f"{self._active})",
                tensorrt_log=_trtlog.since(start),
            )


# --- remembered arrays ----------------------------------------------------------------------
# Reading and validating a __cuda_array_interface__ array (a DeviceArray, its dtype, layout and
# shape, and on the CUDA path the device of its pointer through cuPointerGetAttribute, because
# CAI carries no device ordinal) costs several µs a call: most of trt_exec's overhead in a hot
# loop that passes the same device arrays again and again. Each executor remembers, per tensor
# name, the last few such objects it validated, and accepts one again without re-validation
# only when nothing validation looked at can have changed:
#
# - It is the same live object: a weak reference to it still resolves to the very object
#   passed now (``ref() is obj``). Nothing is kept alive by this memory.
# - The dict it reports now equals (one C-level ``==``) a copy of the dict that was validated:
#   pointer, shape, typestr, strides, read-only flag, stream. The DeviceArray built from that
#   copy is reused, so the arrays used are exactly those validated.
#
# The device is remembered only after a call in which the data path checked it succeeded, and
# only with the dict that reported it. The same live object reporting the same pointer still
# refers to the same allocation: an array that owns its memory (torch, cupy) cannot have freed
# it, and a borrowed-pointer wrapper that reports memory its owner has freed is a use-after-free
# that no check here makes safe (cuPointerGetAttribute would just as well report whoever was
# given that address next). numpy arrays are not remembered: they are re-checked every call
# from their dtype object, a layout flag and a set of valid shapes, as cheaply (a weak
# reference would also stop ndarray.resize). DLPack arrays report their device themselves and
# are not remembered. Anything else - a new object, a changed interface, a mapping that builds
# its arrays anew per access - is validated in full.
_CAI = 0
_REMEMBERED = 4  # per tensor name: enough for the few buffers a loop cycles through


def _recall(entries: list[list[Any]] | None, obj: Any) -> list[Any] | None:
    """The remembered entry ``[ref, kind, token, array]`` for ``obj`` if it still holds."""
    if not entries or obj is None:
        return None
    for entry in entries:
        if entry[0]() is obj:
            return entry if obj.__cuda_array_interface__ == entry[2] else None
    return None


def _read(name: str, obj: Any, role: str) -> tuple[np.ndarray | DeviceArray, list[Any] | None]:
    """``as_array``, plus what to remember it by (None for what is not remembered)."""
    if isinstance(obj, np.ndarray) or not hasattr(obj, "__cuda_array_interface__"):
        return as_array(name, obj, role), None
    cai = obj.__cuda_array_interface__
    if type(cai) is not dict:
        return as_array(name, obj, role), None
    token = frozen_cai(cai)
    # No owner: the caller's mapping holds the object for the call, and the view may be
    # remembered, which must not keep the caller's memory alive.
    arr = from_cai_dict(token, None)
    try:
        ref = weakref.ref(obj)
    except TypeError:  # no __weakref__ slot: validated every call
        return arr, None
    return arr, [ref, _CAI, token, arr]


def _remember(seen: dict[str, list[list[Any]]], name: str, entry: list[Any]) -> None:
    # A new list, not an in-place insert: other threads may be reading the old one.
    seen[name] = [entry, *seen.get(name, ())[: _REMEMBERED - 1]]


def _device_memory_size(engine: Any) -> int | None:
    # device_memory_size_v2 arrived in TensorRT 10.1 and device_memory_size left in 11.0:
    # whichever the engine has, read once at open.
    for attr in ("device_memory_size_v2", "device_memory_size"):
        try:
            value = getattr(engine, attr)
        except Exception:  # a binding that raises for this engine
            continue
        if value is not None:
            return int(value)
    return None


def spec_location(location: Any) -> str:
    return "host" if getattr(location, "name", str(location)).endswith("HOST") else "device"
