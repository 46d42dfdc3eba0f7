"""Immutable tensor metadata and the pure shape/profile logic built on it.

Nothing here imports TensorRT or CUDA: a :class:`TensorSpec` is computed once when an executor
opens and the per-call path only reads it.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np

from .errors import ProfileError, ShapeError

__all__ = [
    "dims",
    "profile_shape",
    "Shape",
    "ProfileShape",
    "TensorSpec",
    "check_shape",
    "check_values",
    "admissible_profiles",
    "choose_profile",
]

Shape = tuple[int, ...]


class ProfileShape(NamedTuple):
    """The (min, opt, max) bounds of one input in one optimization profile."""

    min: Shape
    opt: Shape
    max: Shape

    def admits(self, shape: Shape) -> bool:
        return len(shape) == len(self.min) and all(
            lo <= d <= hi for lo, d, hi in zip(self.min, shape, self.max)
        )

    def __str__(self) -> str:
        return f"min={self.min}, opt={self.opt}, max={self.max}"


def dims(value: Iterable[Any]) -> Shape:
    """A TensorRT ``Dims`` (or any iterable of ints) as a tuple of Python ints."""
    return tuple(int(d) for d in value)


def profile_shape(bounds: Iterable[Iterable[Any]]) -> ProfileShape:
    """``[min, opt, max]`` as TensorRT returns it (``get_tensor_profile_shape`` /
    ``get_profile_shape``) as a :class:`ProfileShape`."""
    return ProfileShape(*(dims(b) for b in bounds))


@dataclass(frozen=True, slots=True)
class TensorSpec:
    """One IO tensor of an engine, identical whichever backend produced it.

    ``shape`` has -1 for dynamic dimensions (and, for outputs, for dimensions that depend on the
    data). ``profile_shapes`` has one :class:`ProfileShape` per optimization profile for inputs
    and is empty for outputs, which have no profile bounds in TensorRT. ``location`` is
    ``"device"`` or ``"host"`` (shape tensors live on the host).

    ``profile_values`` is for shape-tensor inputs (``is_shape_tensor``): per profile, the
    (min, opt, max) *values* the tensor may hold (``get_tensor_profile_values`` on TensorRT 10+,
    ``get_profile_shape_input`` on 8.x); None for every other tensor. A shape tensor's values
    are passed as a host array, and choose the profile as an execution tensor's shape does.
    """

    name: str
    is_input: bool
    dtype: np.dtype
    shape: Shape
    profile_shapes: tuple[ProfileShape, ...] = ()
    is_shape_tensor: bool = False
    location: str = "device"
    profile_values: tuple[ProfileShape, ...] | None = None

    @property
    def is_dynamic(self) -> bool:
        return any(d < 0 for d in self.shape)

    @property
    def rank(self) -> int:
        return len(self.shape)

    def nbytes(self, shape: Shape) -> int:
        return math.prod(shape) * self.dtype.itemsize  # np.prod: ~1.5 µs more


def _bounds(spec: TensorSpec) -> tuple[ProfileShape, ...]:
    """What a profile bounds for this input: its values (shape tensors) or its shape."""
    return spec.profile_values if spec.profile_values is not None else spec.profile_shapes


def _what(spec: TensorSpec) -> str:
    return "values" if spec.profile_values is not None else "shape"


def _bounds_text(spec: TensorSpec) -> str:
    return "; ".join(f"profile {k}: {ps}" for k, ps in enumerate(_bounds(spec)))


def check_values(spec: TensorSpec, values: Any) -> Shape:
    """Validate the values of shape-tensor input ``spec`` (a host array or sequence of
    integers, one per element of the tensor); return them as a tuple of ints."""
    try:
        flat = tuple(np.asarray(values).reshape(-1).tolist())
    except (TypeError, ValueError):
        flat = ()
    count = math.prod(spec.shape)
    if len(flat) != count or not all(isinstance(v, int) and not isinstance(v, bool) for v in flat):
        raise ShapeError(
            f"input {spec.name!r} is a shape tensor: its value {values!r:.80} must hold {count} "
            f"integer(s) (shape {spec.shape!r}); pass them as a host (numpy) array"
        )
    return flat


def check_shape(spec: TensorSpec, shape: Sequence[int]) -> Shape:
    """Validate ``shape`` for input ``spec`` independent of profiles; return it as a tuple."""
    try:
        dims = tuple(shape)
    except TypeError:
        dims = None
    # int() would turn True into 1 and 2.5 into 2 silently; a dimension must be an integer.
    if dims is None or not all(
        isinstance(d, (int, np.integer)) and not isinstance(d, bool) for d in dims
    ):
        raise ShapeError(
            f"input {spec.name!r}: shape {shape!r} is not a sequence of integers; pass one "
            f"integer per dimension, rank {spec.rank} {spec.shape!r}"
        )
    shape = tuple(int(d) for d in dims)
    if len(shape) != spec.rank:
        raise ShapeError(
            f"input {spec.name!r}: shape {shape!r} has rank {len(shape)}, the engine expects rank "
            f"{spec.rank} {spec.shape!r}"
        )
    for axis, (got, want) in enumerate(zip(shape, spec.shape)):
        if got < 0:
            raise ShapeError(
                f"input {spec.name!r}: dimension {axis} of shape {shape!r} is negative ({got}); "
                "dimensions must be >= 0"
            )
        if want >= 0 and got != want:
            raise ShapeError(
                f"input {spec.name!r}: dimension {axis} is static ({want}) in the engine, got "
                f"{got} in shape {shape!r}"
            )
    return shape


def admissible_profiles(
    inputs: Mapping[str, TensorSpec], shapes: Mapping[str, Shape], num_profiles: int
) -> list[int]:
    """Indices of the profiles whose bounds admit every shape in ``shapes``."""
    return [
        k
        for k in range(num_profiles)
        if all(
            not _bounds(spec) or _bounds(spec)[k].admits(shapes[name])
            for name, spec in inputs.items()
        )
    ]


def _distance(inputs: Mapping[str, TensorSpec], shapes: Mapping[str, Shape], k: int) -> int:
    return sum(
        abs(d - o)
        for name, spec in inputs.items()
        if _bounds(spec)
        for d, o in zip(shapes[name], _bounds(spec)[k].opt)
    )


def check_profile_index(profile: int, num_profiles: int) -> int:
    if isinstance(profile, bool) or not isinstance(profile, (int, np.integer)):
        raise ProfileError(f"profile={profile!r} is not an integer; use 0..{num_profiles - 1}")
    if not 0 <= profile < num_profiles:
        raise ProfileError(
            f"profile={profile!r} is out of range [0, {num_profiles - 1}]: the engine has "
            f"{num_profiles} optimization profile(s)"
        )
    return int(profile)


def choose_profile(
    inputs: Mapping[str, TensorSpec],
    shapes: Mapping[str, Shape],
    num_profiles: int,
    requested: int | None = None,
) -> int:
    """Pick the optimization profile for ``shapes`` (already rank/static checked; for a
    shape-tensor input, the entry is its values).

    With ``requested`` it is validated and returned. Otherwise the best fit is the admissible
    profile whose ``opt`` shapes are nearest (sum of absolute dimension differences), the lowest
    index on a tie. A shape that no profile admits raises :class:`ShapeError` naming the tensor,
    its shape and each profile's bounds.
    """
    if requested is not None:
        k = check_profile_index(requested, num_profiles)
        for name, spec in inputs.items():
            if _bounds(spec) and not _bounds(spec)[k].admits(shapes[name]):
                raise ShapeError(
                    f"input {name!r}: {_what(spec)} {shapes[name]!r} is outside optimization "
                    f"profile {k} ({_bounds(spec)[k]}); all bounds: {_bounds_text(spec)}. Pass a "
                    "profile that admits it, or let the profile be chosen from the shapes: "
                    "profile=None, and set_profile(None) if it was fixed with set_profile()"
                )
        return k
    candidates = admissible_profiles(inputs, shapes, num_profiles)
    if candidates:
        return min(candidates, key=lambda k: (_distance(inputs, shapes, k), k))
    for name, spec in inputs.items():
        if _bounds(spec) and not any(ps.admits(shapes[name]) for ps in _bounds(spec)):
            fix = (
                "pass values inside a profile's bounds"
                if spec.profile_values is not None
                else "reshape the input"
            )
            raise ShapeError(
                f"input {name!r}: {_what(spec)} {shapes[name]!r} is outside every optimization "
                f"profile ({_bounds_text(spec)}); {fix} or rebuild the engine with a profile "
                "that covers it"
            )
    combo = ", ".join(f"{n}={shapes[n]!r}" for n in inputs)
    raise ShapeError(
        f"no single optimization profile admits all input shapes together ({combo}); each shape "
        "fits some profile but not the same one. Bounds: "
        + " | ".join(f"{n}: {_bounds_text(s)}" for n, s in inputs.items())
    )
