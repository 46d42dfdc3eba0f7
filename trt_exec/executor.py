"""The :class:`Executor` protocol and the machinery its backends share.

An executor wraps one TensorRT engine and one execution context. Everything is keyed by tensor
name; binding indices exist only inside :class:`~trt_exec.v2.V2Executor`. Metadata is read once,
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
from types import MappingProxyType, ModuleType
from typing import Any, Protocol, runtime_checkable

import numpy as np

from . import _trtlog
from ._arrays import DeviceArray, as_array, check_array
from ._memory import DataPath
from .errors import BindingError, ClosedError, ExecutionError
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
        self, inputs: Mapping[str, Any], *, profile: int | None = None
    ) -> dict[str, np.ndarray]: ...

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
        self._out_shapes: dict[str, Shape] = {}
        self._bound: dict[str, int] = {}
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
            self._activate(k)
            self._pinned = k

    def check_io(self, inputs: Sequence[str], outputs: Sequence[str]) -> None:
        """Check declared IO names against the engine; the count rule is the API's own."""
        declared = len(inputs) + len(outputs)
        if declared != self.io_count or set(inputs) != set(self._inputs) or set(outputs) != set(
            self._outputs
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
            self._apply_shapes(self._choose(checked, profile), checked)
            return dict(self._out_shapes)

    def infer(
        self, inputs: Mapping[str, Any], *, profile: int | None = None
    ) -> dict[str, np.ndarray]:
        """Run the engine synchronously: arrays in by name, numpy arrays out by name.

        The profile is ``profile`` if given, else the one fixed by :meth:`set_profile`, else the
        best fit for the input shapes. Arrays must have the engine's dtype and be C-contiguous;
        nothing is converted silently.
        """
        arrays = self._check_inputs(inputs)
        shapes = {name: arr.shape for name, arr in arrays.items()}
        with self._lock:
            self._check_open()
            self._apply_shapes(self._choose(shapes, profile), shapes)
            dp = self._dp
            for name, arr in arrays.items():
                self._bind_checked(name, dp.input_address(name, arr))
            dynamic = []
            for name, spec in self._outputs.items():
                shape = self._out_shapes[name]
                if any(d < 0 for d in shape):
                    dynamic.append(name)
                    continue
                self._bind_checked(name, dp.output_address(name, spec.nbytes(shape)))
            for name in dynamic:
                if not self._bind_allocator(name):
                    raise ExecutionError(f"TensorRT refused an output allocator for {name!r}")
            self._run(dp.stream)
            dp.synchronize()
            return {
                name: dp.fetch(
                    name,
                    self._allocated_shape(name) if name in dynamic else self._out_shapes[name],
                    spec.dtype,
                )
                for name, spec in self._outputs.items()
            }

    def execute(self, addresses: Mapping[str, int], stream: int) -> None:
        """Enqueue the engine on ``stream`` with caller-owned buffers; no allocation, no sync.

        ``addresses`` maps every IO tensor name to a device pointer. Input shapes must already be
        set with :meth:`prepare` when the engine has dynamic shapes.
        """
        unknown = [n for n in addresses if n not in self._specs]
        missing = [n for n in self._specs if n not in addresses]
        if unknown or missing:
            raise BindingError(
                f"execute(): unknown tensor(s) {unknown!r}, missing tensor(s) {missing!r}; the "
                f"engine's IO tensors are {list(self._specs)!r}"
            )
        with self._lock:
            self._check_open()
            for name, ptr in addresses.items():
                self._bind_checked(name, int(ptr))
            self._run(int(stream))

    # --- shared policy ----------------------------------------------------------------------
    def _check_open(self) -> None:
        if self._ctx is None:
            raise ClosedError(f"{type(self).__name__} is closed; load the engine again to use it")

    def _check_inputs(self, inputs: Mapping[str, Any]) -> dict[str, np.ndarray | DeviceArray]:
        if not isinstance(inputs, Mapping):
            raise BindingError(
                f"inputs must be a mapping of tensor name to array, got {type(inputs).__name__}; "
                f"expected names {list(self._inputs)!r}"
            )
        unknown = [n for n in inputs if n not in self._inputs]
        if unknown:
            outputs = [n for n in unknown if n in self._outputs]
            hint = f" ({outputs!r} are outputs)" if outputs else ""
            raise BindingError(
                f"unknown input tensor(s) {unknown!r}{hint}; the engine's inputs are "
                f"{list(self._inputs)!r}"
            )
        missing = [n for n in self._inputs if n not in inputs]
        if missing:
            raise BindingError(
                f"missing input tensor(s) {missing!r}; the engine's inputs are {list(self._inputs)!r}"
            )
        arrays: dict[str, np.ndarray | DeviceArray] = {}
        for name, spec in self._inputs.items():
            arr = as_array(name, inputs[name])
            check_array(spec, arr)
            check_shape(spec, arr.shape)
            arrays[name] = arr
        return arrays

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
        return choose_profile(self._inputs, shapes, self._num_profiles, requested)

    def _activate(self, k: int) -> None:
        if k == self._active:
            return
        with _trtlog.capture() as log:
            ok = self._switch_profile(k, self._dp.stream)
        self._shape_key = None  # TensorRT forgets input shapes when the profile changes
        self._bound.clear()
        if not ok:
            raise ExecutionError(
                f"TensorRT refused to switch to optimization profile {k}", tensorrt_log=log
            )
        self._active = k

    def _apply_shapes(self, k: int, shapes: Mapping[str, Shape]) -> None:
        key = (k, *shapes.values())
        if key == self._shape_key:
            return
        self._activate(k)
        self._shape_key = None
        for name, shape in shapes.items():
            with _trtlog.capture() as log:
                ok = self._set_input_shape(name, shape)
            if not ok:
                raise ExecutionError(
                    f"input {name!r}: TensorRT refused shape {shape!r} in profile {k}",
                    tensorrt_log=log,
                )
        self._out_shapes = {name: self._output_shape(name) for name in self._outputs}
        self._shape_key = key

    def _bind_checked(self, name: str, ptr: int) -> None:
        if self._bound.get(name) == ptr:
            return
        with _trtlog.capture() as log:
            ok = self._bind(name, ptr)
        if not ok:
            self._bound.pop(name, None)
            raise ExecutionError(
                f"TensorRT refused address {ptr:#x} for tensor {name!r}", tensorrt_log=log
            )
        self._bound[name] = ptr

    def _run(self, stream: int) -> None:
        with _trtlog.capture() as log:
            ok = self._enqueue(stream)
        if not ok:
            raise ExecutionError(
                f"TensorRT failed to enqueue the engine ({self.backend} backend, profile "
                f"{self._active})",
                tensorrt_log=log,
            )


def spec_location(location: Any) -> str:
    return "host" if getattr(location, "name", str(location)).endswith("HOST") else "device"
