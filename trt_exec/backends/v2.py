"""The bindings backend: TensorRT up to 8.6 (deprecated in 8.5, removed in 10.0).

With P optimization profiles an engine has ``num_bindings = IO × P`` bindings; binding
``k × IO + i`` is tensor ``i`` in profile ``k``, and names in profile ``k > 0`` carry the suffix
``" [profile k]"`` (TensorRT 8.x developer guide, "Binding indices for optimization profiles").
``execute_async_v2`` takes a list of ``num_bindings`` pointers in which only the active profile's
slots are read; the others are left 0. A wrong offset is the "misaligned address" of
NVIDIA/TensorRT #1591. Nothing outside this module knows binding indices.
"""

from __future__ import annotations

from typing import Any

from .._dtypes import to_numpy
from ..errors import EngineLoadError
from ..executor import BaseExecutor, spec_location
from ..spec import ProfileShape, Shape, TensorSpec, dims, profile_shape

__all__ = ["V2Executor", "strip_profile_suffix"]


def strip_profile_suffix(name: str, profile: int) -> str:
    """``"x [profile 2]"`` -> ``"x"`` for profile 2; names in profile 0 carry no suffix."""
    suffix = f" [profile {profile}]"
    if profile and name.endswith(suffix):
        return name[: -len(suffix)]
    return name


class V2Executor(BaseExecutor):
    """Executor over TensorRT's bindings API (``execute_async_v2``)."""

    backend = "v2"

    def _read_specs(self, engine: Any) -> tuple[list[TensorSpec], int]:
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
        self._index: dict[str, int] = {}
        for i in range(io):
            name = engine.get_binding_name(i)
            is_input = bool(engine.binding_is_input(i))
            profiles: tuple[ProfileShape, ...] = ()
            if is_input:
                profiles = tuple(
                    profile_shape(engine.get_profile_shape(k, i)) for k in range(num_profiles)
                )
            self._index[name] = i
            specs.append(
                TensorSpec(
                    name=name,
                    is_input=is_input,
                    dtype=to_numpy(engine.get_binding_dtype(i), name),
                    shape=dims(engine.get_binding_shape(i)),
                    profile_shapes=profiles,
                    is_shape_tensor=bool(engine.is_shape_binding(i)),
                    location=spec_location(engine.get_location(i)),
                )
            )
        self._io = io
        self._num_bindings = num_bindings
        return specs, num_profiles

    def _open_context(self) -> None:
        self._slots = [0] * self._num_bindings
        ctx = self._ctx
        # set_optimization_profile_async arrived in TensorRT 7.2; before it the property setter
        # (deprecated since) was the only way. Chosen once here, not per call.
        if hasattr(ctx, "set_optimization_profile_async"):
            self._switch = lambda k, stream: ctx.set_optimization_profile_async(k, stream)
        else:

            def _set(k: int, stream: int) -> bool:
                ctx.active_optimization_profile = k
                return True

            self._switch = _set

    @property
    def num_bindings(self) -> int:
        """``io_count × num_profiles``, the bindings API's count."""
        return self._num_bindings

    def binding_index(self, name: str, profile: int | None = None) -> int:
        """The binding index of tensor ``name`` in ``profile`` (default: the active one)."""
        k = self._active if profile is None else profile
        return k * self._io + self._index[name]

    def _switch_profile(self, profile: int, stream: int) -> bool:
        old = self._active * self._io
        self._slots[old : old + self._io] = [0] * self._io
        return bool(self._switch(profile, stream))

    def _set_input_shape(self, name: str, shape: Shape) -> bool:
        return bool(self._ctx.set_binding_shape(self.binding_index(name), shape))

    def _output_shape(self, name: str) -> Shape:
        return dims(self._ctx.get_binding_shape(self.binding_index(name)))

    def _bind(self, name: str, ptr: int) -> bool:
        self._slots[self.binding_index(name)] = ptr
        return True

    def _enqueue(self, stream: int) -> bool:
        return bool(self._ctx.execute_async_v2(self._slots, stream))
