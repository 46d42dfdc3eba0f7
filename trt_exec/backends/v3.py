"""The named-tensor backend: TensorRT 8.5+, 10.x, 11.x and TensorRT-RTX.

Uses ``num_io_tensors``, ``get_tensor_*``, ``get_tensor_profile_shape``, ``set_input_shape``,
``set_tensor_address`` and ``execute_async_v3`` (added in TensorRT 8.5). Outputs whose shape
depends on the data go through an ``IOutputAllocator``: TensorRT 10.0+ calls
``reallocate_output_async``, 8.5/8.6 call ``reallocate_output``; both are implemented.
"""

from __future__ import annotations

import os
import threading
import weakref
from types import ModuleType
from typing import Any

from .._dtypes import to_numpy
from ..datapath import DataPath
from ..executor import BaseExecutor
from ..spec import ProfileShape, Shape, TensorSpec, dims, profile_shape
from .base import (
    EngineLayout,
    TensorRTApi,
    check_linear,
    device_memory,
    spec_location,
    value_bounds,
)

__all__ = ["NamedTensorApi", "V3Executor"]

_allocator_classes: weakref.WeakKeyDictionary[ModuleType, type] = weakref.WeakKeyDictionary()
_lock = threading.Lock()


def _new_lock_in_child() -> None:
    # A fork while another thread held the lock would leave the child's copy held for ever:
    # the child gets a fresh one (the parent's threads do not exist there).
    global _lock
    _lock = threading.Lock()


os.register_at_fork(after_in_child=_new_lock_in_child)


def _allocator_class(trt: ModuleType) -> type:
    """An ``IOutputAllocator`` subclass for ``trt`` (made once per module: the base class is the
    module's own)."""
    with _lock:
        cls = _allocator_classes.get(trt)
        if cls is None:
            base = trt.IOutputAllocator

            def __init__(self: Any, data_path: DataPath) -> None:
                base.__init__(self)
                self.data_path = data_path
                self.shapes = {}

            def reallocate_output(
                self: Any, tensor_name: str, memory: int, size: int, alignment: int
            ) -> int:
                return int(self.data_path.allocate(tensor_name, int(size)))

            def reallocate_output_async(
                self: Any, tensor_name: str, memory: int, size: int, alignment: int, stream: int
            ) -> int:
                return int(self.data_path.allocate(tensor_name, int(size)))

            def notify_shape(self: Any, tensor_name: str, shape: Any) -> None:
                self.shapes[tensor_name] = dims(shape)

            cls = type(
                "TrtExecOutputAllocator",
                (base,),
                {
                    "__init__": __init__,
                    "reallocate_output": reallocate_output,
                    "reallocate_output_async": reallocate_output_async,
                    "notify_shape": notify_shape,
                },
            )
            _allocator_classes[trt] = cls
    return cls


class NamedTensorApi(TensorRTApi):
    """``set_input_shape``, ``set_tensor_address``, output allocators and ``execute_async_v3``."""

    backend = "v3"

    def __init__(self, trt: ModuleType, engine: Any, layout: EngineLayout) -> None:
        super().__init__(trt, engine, layout)
        self._allocators: dict[str, Any] = {}
        self.enqueue = self.context.execute_async_v3

    @classmethod
    def read_layout(cls, trt: ModuleType, engine: Any) -> EngineLayout:
        num_profiles = int(engine.num_optimization_profiles)
        specs = []
        for i in range(int(engine.num_io_tensors)):
            name = engine.get_tensor_name(i)
            is_input = engine.get_tensor_mode(name) == trt.TensorIOMode.INPUT
            check_linear(name, str(getattr(engine.get_tensor_format(name), "name", "LINEAR")))
            is_shape = bool(engine.is_shape_inference_io(name))
            profiles: tuple[ProfileShape, ...] = ()
            values: tuple[ProfileShape, ...] | None = None
            if is_input:
                profiles = tuple(
                    profile_shape(engine.get_tensor_profile_shape(name, k))
                    for k in range(num_profiles)
                )
                if is_shape:
                    values = tuple(_profile_values(engine, k, name) for k in range(num_profiles))
            specs.append(
                TensorSpec(
                    name=name,
                    is_input=is_input,
                    dtype=to_numpy(engine.get_tensor_dtype(name), name),
                    shape=dims(engine.get_tensor_shape(name)),
                    profile_shapes=profiles,
                    is_shape_tensor=is_shape,
                    location=spec_location(engine.get_tensor_location(name)),
                    profile_values=values,
                )
            )
        return EngineLayout(
            specs=tuple(specs),
            num_profiles=num_profiles,
            **device_memory(engine, num_profiles),
        )

    def switch_profile(self, profile: int, stream: int) -> bool:
        return bool(self.context.set_optimization_profile_async(profile, stream))

    def set_input_shape(self, name: str, shape: Shape) -> bool:
        return bool(self.context.set_input_shape(name, shape))

    def set_shape_values(self, name: str, values: Shape, host_ptr: int) -> bool:
        # The named-tensor API reads a shape tensor's values from the host address it is given
        # ("If the TensorLocation of the tensor is kHOST, the pointer must point to a host
        # buffer", IExecutionContext::setTensorAddress, 8.5 to 10.x), copying them at enqueue.
        return bool(self.context.set_tensor_address(name, host_ptr))

    def output_shape(self, name: str) -> Shape:
        return dims(self.context.get_tensor_shape(name))

    def bind(self, name: str, ptr: int) -> bool:
        return bool(self.context.set_tensor_address(name, ptr))

    def bind_allocator(self, name: str, data_path: DataPath) -> bool:
        alloc = self._allocators.get(name)
        if alloc is None:
            alloc = _allocator_class(self.trt)(data_path)
            if not self.context.set_output_allocator(name, alloc):
                return False
            self._allocators[name] = alloc
        alloc.shapes.pop(name, None)
        return True

    def allocated_shape(self, name: str) -> Shape:
        return self._allocators[name].shapes[name]  # type: ignore[no-any-return]

    def close(self) -> None:
        # TensorRT requires the context to go before the allocators it calls.
        super().close()
        self._allocators.clear()


class V3Executor(BaseExecutor):
    """Executor over TensorRT's named-tensor API (``execute_async_v3``)."""

    backend = "v3"
    api_class = NamedTensorApi


def _profile_values(engine: Any, profile: int, name: str) -> ProfileShape:
    """A shape-tensor input's [min, opt, max] values in ``profile``: ``get_tensor_profile_values``
    from TensorRT 10.0 (its binding names the parameters the wrong way round, ``name: int,
    profile_index: str`` in every manifest from 10.0.1: pass them by position); 8.5/8.6 have
    only the bindings-era ``get_profile_shape_input(profile_index, binding)``, which takes a
    name too (8.6.1 manifest)."""
    if hasattr(engine, "get_tensor_profile_values"):
        return value_bounds(engine.get_tensor_profile_values(profile, name))
    return value_bounds(engine.get_profile_shape_input(profile, name))
