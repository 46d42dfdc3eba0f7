"""Enums and Dims with the semantics of TensorRT's pybind11 types."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from ._plan import NP_DTYPES


class EnumBase:
    """A pybind11 ``py::enum_`` member: ``.name``, ``.value``, ``int()``, hashable.

    Members of a non-arithmetic enum equal only members of the same enum (pybind11's strict
    comparison); those of an arithmetic enum (``py::arithmetic``) also equal ints and order.
    """

    __slots__ = ("name", "value")
    name: str
    value: int
    _arith = False
    __members__: dict[str, Any] = {}

    def __new__(cls, value: int = 0) -> Any:
        for m in cls._by_value.get(int(value), ()):  # type: ignore[attr-defined]
            return m
        raise ValueError(f"{value!r} is not a valid {cls.__name__}")

    def __int__(self) -> int:
        return int(self.value)

    __index__ = __int__

    def __hash__(self) -> int:
        return hash(self.value)

    def __eq__(self, other: object) -> bool:
        if type(other) is type(self):
            return bool(self.value == other.value)
        if self._arith and isinstance(other, int) and not isinstance(other, EnumBase):
            return bool(self.value == other)
        return False

    def __ne__(self, other: object) -> bool:
        return not self.__eq__(other)

    def _cmp(self, other: Any) -> int:
        if not self._arith or not isinstance(other, (int, type(self))):
            raise TypeError(
                f"'<' not supported between {type(self).__name__} and {type(other).__name__}"
            )
        return int(other)

    def __lt__(self, other: Any) -> bool:
        return bool(self.value < self._cmp(other))

    def __le__(self, other: Any) -> bool:
        return bool(self.value <= self._cmp(other))

    def __gt__(self, other: Any) -> bool:
        return bool(self.value > self._cmp(other))

    def __ge__(self, other: Any) -> bool:
        return bool(self.value >= self._cmp(other))

    def __repr__(self) -> str:
        return f"<{type(self).__name__}.{self.name}: {self.value}>"

    def __str__(self) -> str:
        return f"{type(self).__name__}.{self.name}"

    def __reduce__(self) -> Any:
        return (type(self), (self.value,))


def make_enum(
    name: str, members: list[tuple[str, int]], arithmetic: bool, meta: type, extra: dict[str, Any]
) -> type:
    ns: dict[str, Any] = {"__slots__": (), "_arith": arithmetic, "__module__": "tensorrt"}
    ns.update(extra)
    cls = meta(name, (EnumBase,), ns)
    by_value: dict[int, list[Any]] = {}
    table: dict[str, Any] = {}
    for mname, value in members:
        m = object.__new__(cls)
        object.__setattr__(m, "name", mname)
        object.__setattr__(m, "value", value)
        type.__setattr__(cls, mname, m)
        by_value.setdefault(value, []).append(m)
        table[mname] = m
    type.__setattr__(cls, "_by_value", by_value)
    type.__setattr__(cls, "__members__", table)
    made: type = cls
    return made


def _dtype_itemsize(self: Any) -> float | None:
    """Bytes per element. The 4-bit types have 0.5 and E8M0 None (observed on the real 10.16.1
    and 11.4.0 binding wheels: ``DataType.INT4.itemsize == 0.5``, ``DataType.E8M0.itemsize is
    None``; tests/fidelity/test_diff_bindings.py)."""
    np_dtype = NP_DTYPES.get(self.value)
    if np_dtype is not None:
        return int(np_dtype.itemsize)
    if self.name in ("INT4", "FP4"):
        return 0.5
    if self.name == "E8M0":
        return None
    return {6: 1, 7: 2}.get(self.value, 1)  # FP8, BF16


DATATYPE_EXTRA = {"itemsize": property(_dtype_itemsize)}


class DimsBase:
    """``trt.Dims``: a sequence of ints with len/indexing/iteration, == to tuples/lists/Dims.

    Not a tuple (``isinstance(d, tuple)`` is False, as for the real pybind11 class) and not
    hashable. ``Dims`` with ``nbDims == -1`` (what TensorRT returns on error) raise ValueError on
    ``len()``, as the real binding does.
    """

    __slots__ = ("_d",)
    MAX_DIMS = 8
    __hash__ = None  # type: ignore[assignment]

    def __init__(self, shape: Iterable[int] = ()) -> None:
        d = tuple(int(x) for x in shape)
        if len(d) > 8:
            raise ValueError(f"Dims can have at most 8 dimensions, got {len(d)}")
        self._d: tuple[int, ...] | None = d

    def __len__(self) -> int:
        if self._d is None:
            raise ValueError("__len__() should return >= 0")
        return len(self._d)

    def __getitem__(self, i: Any) -> Any:
        d = self._d or ()
        if isinstance(i, slice):
            return d[i]  # the bindings return a tuple for a slice
        if not isinstance(i, int):
            raise TypeError("Dims indices must be integers")
        if not -len(d) <= i < len(d):
            raise IndexError(f"Out of bounds (index {i} in Dims of {len(d)})")
        return d[i]

    def __setitem__(self, i: int, v: int) -> None:
        d = list(self._d or ())
        if not -len(d) <= i < len(d):
            raise IndexError(f"Out of bounds (index {i} in Dims of {len(d)})")
        d[i] = int(v)
        self._d = tuple(d)

    def __iter__(self) -> Any:
        if self._d is None:
            raise ValueError("__len__() should return >= 0")
        return iter(self._d)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, DimsBase):
            # The bindings define __eq__ against a tuple only: Dims == Dims raises TypeError
            # (observed on the real 8.6.1 to 11.4.0 wheels and TensorRT-RTX 1.7.1).
            raise TypeError(
                "__eq__(): incompatible function arguments. The following argument types are "
                f"supported:\n    1. (self: Dims, other: tuple) -> bool\n\nInvoked with: {self!r}, "
                f"{other!r}"
            )
        if isinstance(other, (tuple, list)):
            return self._d == tuple(other)
        return NotImplemented

    def __ne__(self, other: object) -> bool:
        r = self.__eq__(other)
        return r if r is NotImplemented else not r

    def __repr__(self) -> str:
        if self._d is None:
            return "(-1 dims)"
        return "(" + ", ".join(map(str, self._d)) + ")"

    __str__ = __repr__

    def __reduce__(self) -> Any:
        return (type(self), (self._d or (),))


def as_shape(shape: Any) -> tuple[int, ...]:
    """Shape argument (tuple/list/Dims/ndarray) -> tuple; TypeError like pybind on others."""
    if isinstance(shape, DimsBase):
        return shape._d or ()
    if isinstance(shape, (tuple, list, np.ndarray)):
        try:
            return tuple(int(x) for x in shape)
        except (TypeError, ValueError):
            pass
    raise TypeError(
        f"incompatible function arguments: expected a shape (Dims, tuple or list of "
        f"int), got {shape!r}"
    )


def fixed_rank_dims(rank: int) -> dict[str, Any]:
    """Namespace of ``Dims2``/``Dims3``/``Dims4``/``DimsHW``: built from ``rank`` ints or a
    sequence of ``rank`` ints."""

    def __init__(self: DimsBase, *args: Any) -> None:
        if not args:
            DimsBase.__init__(self, (0,) * rank)
            return
        shape = args[0] if len(args) == 1 else args
        if isinstance(shape, int) or len(tuple(shape)) != rank:
            raise TypeError(
                f"__init__(): incompatible constructor arguments; expected {rank} "
                f"ints or a sequence of {rank} ints, got {args!r}"
            )
        DimsBase.__init__(self, shape)

    return {"__init__": __init__, "__slots__": ()}


class PermutationBase:
    """``trt.Permutation``: always ``Dims.MAX_DIMS`` (8) entries, the given order followed by
    zeros; len, indexing (IndexError past 8) and assignment (observed on the real binding wheels,
    8.6.1 to 11.4.0, and TensorRT-RTX 1.7.1: ``tuple(Permutation([1, 0]))`` is
    ``(1, 0, 0, 0, 0, 0, 0, 0)``)."""

    __slots__ = ("_p",)

    def __init__(self, order: Iterable[int] = ()) -> None:
        p = [int(x) for x in order]
        if len(p) > 8:
            raise ValueError(f"Permutation can have at most 8 entries, got {len(p)}")
        self._p = p + [0] * (8 - len(p))

    def __len__(self) -> int:
        return 8

    def __getitem__(self, i: int) -> int:
        if not -8 <= i < 8:
            raise IndexError(f"Out of bounds (index {i} in Permutation of 8)")
        return self._p[i]

    def __setitem__(self, i: int, v: int) -> None:
        if not -8 <= i < 8:
            raise IndexError(f"Out of bounds (index {i} in Permutation of 8)")
        self._p[i] = int(v)


class WeightsBase:
    """``trt.Weights``: ``Weights()`` is empty FLOAT; ``Weights(array)`` wraps a numpy array,
    with ``size``, ``nbytes``, ``dtype``, ``len`` and ``numpy()`` (observed on the real binding
    wheels, 8.6.1 to 11.4.0, and TensorRT-RTX 1.7.1)."""

    __slots__ = ("_a", "_dtype")
    _C: Any

    def __init__(self, a: Any = None) -> None:
        dt = type(self)._C["DataType"]
        if a is None:
            self._a = np.zeros(0, np.float32)
            self._dtype = dt.FLOAT
            return
        if isinstance(a, dt):
            self._a = np.zeros(0, np.float32)
            self._dtype = a
            return
        arr = np.ascontiguousarray(a)
        for value, np_dtype in NP_DTYPES.items():
            if np_dtype == arr.dtype:
                self._a, self._dtype = arr, dt(value)
                return
        raise TypeError(f"Weights(): unsupported numpy dtype {arr.dtype}")

    @property
    def size(self) -> int:
        return int(self._a.size)

    @property
    def nbytes(self) -> int:
        return int(self._a.nbytes)

    @property
    def dtype(self) -> Any:
        return self._dtype

    def __len__(self) -> int:
        return int(self._a.size)

    def numpy(self) -> Any:
        return self._a
