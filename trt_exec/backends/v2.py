"""The bindings backend: TensorRT up to 8.6 (deprecated in 8.5, removed in 10.0).

With P optimization profiles an engine has ``num_bindings = IO × P`` bindings; binding
``k × IO + i`` is tensor ``i`` in profile ``k``, and names in profile ``k > 0`` carry the suffix
``" [profile k]"`` (TensorRT 8.x developer guide, "Binding indices for optimization profiles").
``execute_async_v2`` takes a list of ``num_bindings`` pointers in which only the active profile's
slots are read; the others are left 0. A wrong offset is the "misaligned address" of
NVIDIA/TensorRT #1591. Nothing outside this module knows binding indices.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType, ModuleType
from typing import Any

from .._dtypes import to_numpy
from ..errors import BindingError, EngineLoadError
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

__all__ = ["BindingsApi", "BindingsLayout", "V2Executor", "strip_profile_suffix"]


def strip_profile_suffix(name: str, profile: int) -> str:
    """``"x [profile 2]"`` -> ``"x"`` for profile 2; names in profile 0 carry no suffix."""
    suffix = f" [profile {profile}]"
    if profile and name.endswith(suffix):
        return name[: -len(suffix)]
    return name


@dataclass(frozen=True, slots=True)
class BindingsLayout(EngineLayout):
    """:class:`EngineLayout` plus the bindings API's indexing."""

    num_bindings: int = 0
    #: Tensor name -> its binding index in profile 0.
    index: Mapping[str, int] = field(default_factory=lambda: MappingProxyType({}))

    def binding_index(self, name: str, profile: int) -> int:
        """``profile × IO + i`` for tensor ``name``."""
        return profile * self.io_count + self.index[name]


class BindingsApi(TensorRTApi):
    """``set_binding_shape``, a pointer slot per binding and ``execute_async_v2``."""

    backend = "v2"
    layout: BindingsLayout

    def __init__(self, trt: ModuleType, engine: Any, layout: EngineLayout) -> None:
        super().__init__(trt, engine, layout)
        self._slots = [0] * self.layout.num_bindings
        self._profile = 0
        # execute_async_v2 reads the slots list, which is only ever changed in place.
        self.enqueue = functools.partial(self.context.execute_async_v2, self._slots)

    @classmethod
    def read_layout(cls, trt: ModuleType, engine: Any) -> BindingsLayout:
        num_profiles = int(engine.num_optimization_profiles)
        num_bindings = int(engine.num_bindings)
        if num_profiles < 1 or num_bindings % num_profiles:
            raise EngineLoadError(
                f"engine reports num_bindings={num_bindings} with {num_profiles} optimization "
                "profiles; the bindings API requires num_bindings = IO tensors × profiles"
            )
        io = num_bindings // num_profiles
        for k in range(1, num_profiles):
            for i in range(io):
                name = engine.get_binding_name(k * io + i)
                if strip_profile_suffix(name, k) == name:
                    raise EngineLoadError(
                        f"binding {k * io + i} is named {name!r}, expected the suffix "
                        f"' [profile {k}]'; the engine's binding layout is not IO × profiles"
                    )
        specs = []
        index: dict[str, int] = {}
        for i in range(io):
            name = engine.get_binding_name(i)
            is_input = bool(engine.binding_is_input(i))
            if hasattr(engine, "get_binding_format"):
                check_linear(name, str(getattr(engine.get_binding_format(i), "name", "LINEAR")))
            is_shape = bool(engine.is_shape_binding(i))
            profiles: tuple[ProfileShape, ...] = ()
            values: tuple[ProfileShape, ...] | None = None
            if is_input:
                profiles = tuple(
                    profile_shape(engine.get_profile_shape(k, i)) for k in range(num_profiles)
                )
                if is_shape:
                    # getProfileShapeValues: the (min, opt, max) values of a shape binding.
                    values = tuple(
                        value_bounds(engine.get_profile_shape_input(k, i))
                        for k in range(num_profiles)
                    )
            index[name] = i
            specs.append(
                TensorSpec(
                    name=name,
                    is_input=is_input,
                    dtype=to_numpy(engine.get_binding_dtype(i), name),
                    shape=dims(engine.get_binding_shape(i)),
                    profile_shapes=profiles,
                    is_shape_tensor=is_shape,
                    location=spec_location(engine.get_location(i)),
                    profile_values=values,
                )
            )
        return BindingsLayout(
            specs=tuple(specs),
            num_profiles=num_profiles,
            **device_memory(engine, num_profiles),
            num_bindings=num_bindings,
            index=MappingProxyType(index),
        )

    def switch_profile(self, profile: int, stream: int) -> bool:
        io = self.layout.io_count
        old = self._profile * io
        self._slots[old : old + io] = [0] * io
        ok = bool(self.context.set_optimization_profile_async(profile, stream))
        if ok:
            self._profile = profile
        return ok

    def set_input_shape(self, name: str, shape: Shape) -> bool:
        index = self.layout.binding_index(name, self._profile)
        return bool(self.context.set_binding_shape(index, shape))

    def set_shape_values(self, name: str, values: Shape, host_ptr: int) -> bool:
        # The bindings API takes a shape tensor's values through set_shape_input
        # (setInputShapeBinding, 8.x). Its slot in the bindings array gets the host copy of the
        # values: the values live in host memory, never on the device.
        index = self.layout.binding_index(name, self._profile)
        if not self.context.set_shape_input(index, list(values)):
            return False
        self._slots[index] = host_ptr
        return True

    def output_shape(self, name: str) -> Shape:
        return dims(self.context.get_binding_shape(self.layout.binding_index(name, self._profile)))

    def bind(self, name: str, ptr: int) -> bool:
        self._slots[self.layout.binding_index(name, self._profile)] = ptr
        return True

    def close(self) -> None:
        super().close()
        self._slots = []


class V2Executor(BaseExecutor):
    """Executor over TensorRT's bindings API (``execute_async_v2``)."""

    backend = "v2"
    api_class = BindingsApi
    _layout: BindingsLayout

    @property
    def num_bindings(self) -> int:
        """``io_count × num_profiles``, the bindings API's count."""
        return self._layout.num_bindings

    def binding_index(self, name: str, profile: int | None = None) -> int:
        """The binding index of tensor ``name`` in ``profile`` (default: the active one)."""
        if name not in self._layout.index:
            raise BindingError(
                f"unknown tensor {name!r}; the engine's IO tensors are {list(self._layout.index)!r}"
            )
        k = self.active_profile if profile is None else profile
        return self._layout.binding_index(name, k)
