"""The backend contract: what one TensorRT execution API must provide to an executor.

A backend is a :class:`TensorRTApi` subclass: the only code that calls TensorRT's execution API.
It reads an engine's IO once into a frozen :class:`EngineLayout`, owns one execution context
(and whatever that API needs beside it: V2's bindings slots, V3's output allocators), and offers
one primitive per TensorRT call. Primitives report TensorRT's verdict as TensorRT does - a bool,
with the reason logged through the ILogger - and never raise for it: the policy that turns a
False into a typed error, with TensorRT's logged lines attached, lives once in
:class:`trt_exec.executor.BaseExecutor`.

Ownership: a backend holds the only strong reference to its execution context and drops it in
:meth:`TensorRTApi.close`. The executor's resource holder is the only strong reference to the
backend, so closing the executor releases the context even while the executor object itself is
still referenced (a server keeping it in a dict).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType, ModuleType
from typing import Any, ClassVar

from .. import _trtlog
from ..datapath import DataPath
from ..errors import EngineLoadError, ExecutionError
from ..spec import ProfileShape, Shape, TensorSpec, profile_shape

__all__ = [
    "EngineLayout",
    "TensorRTApi",
    "device_memory",
    "spec_location",
    "check_linear",
    "value_bounds",
]


@dataclass(frozen=True, slots=True)
class EngineLayout:
    """An engine's IO, read once when the executor opens; identical from every backend."""

    specs: tuple[TensorSpec, ...]
    num_profiles: int
    #: Activation memory one execution context needs (bytes), None when the engine cannot say.
    device_memory_size: int | None
    #: Where that came from, e.g. "ICudaEngine.device_memory_size_v2"; None with the size.
    device_memory_api: str | None = None
    #: The same per optimization profile where the release can say (TensorRT >= 10), else None.
    device_memory_per_profile: tuple[int, ...] | None = None
    inputs: Mapping[str, TensorSpec] = field(init=False)
    outputs: Mapping[str, TensorSpec] = field(init=False)

    def __post_init__(self) -> None:
        ins = {s.name: s for s in self.specs if s.is_input}
        outs = {s.name: s for s in self.specs if not s.is_input}
        object.__setattr__(self, "inputs", MappingProxyType(ins))
        object.__setattr__(self, "outputs", MappingProxyType(outs))

    @property
    def io_count(self) -> int:
        """Inputs + outputs of one profile: the named-tensor API's ``num_io_tensors``."""
        return len(self.specs)


class TensorRTApi(ABC):
    """One execution context of one engine, driven through one TensorRT execution API.

    Subclasses implement :meth:`read_layout` and every abstract primitive. The executor calls
    them with its lock held, one call at a time.
    """

    #: "v2" or "v3": the name :func:`trt_exec.select_backend` returns for this API.
    backend: ClassVar[str]
    #: Enqueue the engine on a stream with the shapes and addresses set; truthy on success.
    #: An attribute, not a method: the context's own method (or a partial of it) that each
    #: subclass sets in ``__init__``, called directly on the per-call path (one Python call
    #: fewer per run). :meth:`close` drops it with the context.
    enqueue: Callable[[int], Any]

    def __init__(self, trt: ModuleType, engine: Any, layout: EngineLayout) -> None:
        self.trt = trt
        self.layout = layout
        with _trtlog.capture() as log:
            context = engine.create_execution_context()
        if context is None:
            raise ExecutionError("TensorRT could not create an execution context", tensorrt_log=log)
        self.context: Any = context

    @classmethod
    @abstractmethod
    def read_layout(cls, trt: ModuleType, engine: Any) -> EngineLayout:
        """Read the engine's IO tensors and profiles through this API; EngineLoadError when the
        engine does not follow the API's layout rules."""

    @abstractmethod
    def switch_profile(self, profile: int, stream: int) -> bool:
        """Make ``profile`` the context's optimization profile, ordered on ``stream``.

        TensorRT forgets the input shapes (and V2 the bindings) of the previous profile.
        """

    @abstractmethod
    def set_input_shape(self, name: str, shape: Shape) -> bool:
        """Set the shape of input ``name`` in the active profile."""

    @abstractmethod
    def set_shape_values(self, name: str, values: Shape, host_ptr: int) -> bool:
        """Give shape-tensor input ``name`` its values, which are also in host memory at
        ``host_ptr`` (kept alive by the caller until the next call of this method for ``name``).
        V3 binds ``host_ptr`` (``set_tensor_address``); V2 calls ``set_shape_input``."""

    @abstractmethod
    def output_shape(self, name: str) -> Shape:
        """Output ``name``'s shape as the context infers it now; -1 for data-dependent dims."""

    @abstractmethod
    def bind(self, name: str, ptr: int) -> bool:
        """Give tensor ``name`` the address ``ptr`` (device memory, or host for host tensors)."""

    def bind_allocator(self, name: str, data_path: DataPath) -> bool:
        """Route data-dependent output ``name`` through an IOutputAllocator that allocates from
        ``data_path``. Only the named-tensor API has output allocators."""
        raise ExecutionError(
            f"output {name!r} has a data-dependent shape, which the {self.backend} backend "
            "cannot run; load with backend='v3'"
        )

    def allocated_shape(self, name: str) -> Shape:
        """The final shape TensorRT reported for data-dependent output ``name`` in the last
        enqueue (after :meth:`bind_allocator`)."""
        raise ExecutionError(f"the {self.backend} backend has no output allocators")

    def close(self) -> None:
        """Drop the execution context and everything bound to it. Idempotent."""
        self.context = None
        self.enqueue = _closed


def _closed(stream: int) -> bool:
    return False  # the executor checks for close before it enqueues: never reached


def device_memory(engine: Any, num_profiles: int) -> dict[str, Any]:
    """The context's activation memory, read once from whichever attributes the release has:
    ``device_memory_size`` (bytes), ``device_memory_api`` (its source) and
    ``device_memory_per_profile`` (bytes per profile, or None).

    ``device_memory_size_v2`` and ``get_device_memory_size_for_profile_v2`` arrived in TensorRT
    10.1; ``device_memory_size`` and ``get_device_memory_size_for_profile`` (10.0) were removed
    in 11.0 (TensorRT 11.0 release notes, "Removed APIs"). The keyword names are EngineLayout's.
    """
    size: int | None = None
    api: str | None = None
    for attr in ("device_memory_size_v2", "device_memory_size"):
        try:
            value = getattr(engine, attr)
        except Exception:  # a binding that raises for this engine
            continue
        if value is not None:
            size, api = int(value), f"ICudaEngine.{attr}"
            break
    per_profile: tuple[int, ...] | None = None
    for attr in ("get_device_memory_size_for_profile_v2", "get_device_memory_size_for_profile"):
        method = getattr(engine, attr, None)
        if method is None:
            continue
        try:
            per_profile = tuple(int(method(k)) for k in range(num_profiles))
        except Exception:
            continue
        break
    return {
        "device_memory_size": size,
        "device_memory_api": api,
        "device_memory_per_profile": per_profile,
    }


def spec_location(location: Any) -> str:
    """``TensorLocation.HOST`` -> "host", anything else -> "device"."""
    return "host" if getattr(location, "name", str(location)).endswith("HOST") else "device"


def check_linear(name: str, fmt_name: str) -> None:
    """EngineLoadError for tensor ``name`` unless its TensorFormat is LINEAR."""
    if fmt_name.split(".")[-1] != "LINEAR":
        raise EngineLoadError(
            f"tensor {name!r} has TensorFormat {fmt_name.split('.')[-1]}, not LINEAR: its memory "
            "layout is not a C-contiguous array of its shape, which trt_exec cannot pass; "
            "rebuild the engine with LINEAR IO formats (ITensor.allowed_formats = "
            "1 << int(TensorFormat.LINEAR), or trtexec --inputIOFormats/--outputIOFormats)"
        )


def value_bounds(raw: Any) -> ProfileShape:
    """``[min, opt, max]`` values as the engine returns them, as a ProfileShape of values."""
    return profile_shape(raw)
