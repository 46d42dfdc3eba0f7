"""Classifying the arrays callers pass: host (numpy, buffer protocol, CPU DLPack) or device
(``__cuda_array_interface__``, CUDA DLPack). Pure: no CUDA calls happen here."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .errors import ArrayError, CudaUnavailableError, DTypeError
from .spec import TensorSpec

__all__ = [
    "numpy_owner",
    "DeviceArray",
    "as_array",
    "check_array",
    "dlpack_device_array",
    "from_cai_dict",
    "frozen_cai",
]

# DLPack device types (dlpack.h): kDLCPU=1, kDLCUDA=2, kDLCUDAHost=3, kDLCUDAManaged=13.
_DL_CPU, _DL_CUDA, _DL_CUDA_HOST, _DL_CUDA_MANAGED = 1, 2, 3, 13
# The DLPack stream value for CUDA's legacy default stream (the DLPack spec, __dlpack__).
_DL_STREAM_LEGACY = 1


@dataclass(frozen=True, slots=True)
class DeviceArray:
    """A borrowed view of caller-owned device memory. trt_exec never frees it."""

    ptr: int
    shape: tuple[int, ...]
    dtype: np.dtype
    strides: tuple[int, ...] | None  # in bytes; None means C-contiguous
    device: int | None  # CUDA ordinal when known
    owner: Any  # keeps the caller's object alive for as long as the view is used
    stream: int | None = None  # CAI v3 producer stream: the consumer waits on it before reading
    readonly: bool = False
    #: Bytes the view spans (C-contiguous), computed once: the per-call alias check reads it.
    nbytes: int = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "nbytes", math.prod(self.shape) * self.dtype.itemsize)

    @property
    def c_contiguous(self) -> bool:
        if self.strides is None:
            return True
        expected = self.dtype.itemsize
        for dim, stride in zip(reversed(self.shape), reversed(self.strides)):
            if dim != 1 and stride != expected:
                return False
            expected *= dim
        return True


def numpy_owner(array: np.ndarray) -> np.ndarray | None:
    """The ndarray that owns ``array``'s memory: itself, or the end of its ``base`` chain; None
    when the chain ends in something else (bytes, mmap, a foreign buffer), whose owner decides
    when that memory goes and whether other objects share it."""
    root = array
    while True:
        base = root.base
        if base is None:
            return root
        if not isinstance(base, np.ndarray):
            return None
        root = base


def _from_cai(name: str, obj: Any) -> DeviceArray:
    return from_cai_dict(obj.__cuda_array_interface__, obj, name)


def _is_int(v: Any) -> bool:
    return isinstance(v, (int, np.integer)) and not isinstance(v, bool)


def from_cai_dict(cai: Any, owner: Any, name: str = "") -> DeviceArray:
    """The :class:`DeviceArray` a ``__cuda_array_interface__`` dict describes. Every field the
    CUDA Array Interface (v3) defines is checked - shape, typestr, data, strides, stream, mask -
    so a malformed producer gets an :class:`~trt_exec.errors.ArrayError`, not a raw error."""
    what = f"tensor {name!r}: " if name else ""
    producer = type(owner).__name__ if owner is not None else "the array"

    def bad(field: str, value: Any, allowed: str) -> ArrayError:
        return ArrayError(
            f"{what}__cuda_array_interface__ of {producer} is malformed: {field}={value!r}; "
            f"{allowed} (the CUDA Array Interface, version 3)"
        )

    if not isinstance(cai, dict):
        raise bad("the interface", cai, "it must be a dict")
    shape = cai.get("shape")
    if not isinstance(shape, (tuple, list)) or not all(_is_int(d) and d >= 0 for d in shape):
        raise bad("shape", shape, "it must be a tuple of integers >= 0")
    typestr = cai.get("typestr")
    try:
        dtype = np.dtype(typestr) if isinstance(typestr, str) else None
    except (TypeError, ValueError):
        dtype = None
    if dtype is None or dtype.hasobject:
        raise bad("typestr", typestr, "it must be a numpy type string such as '<f4'")
    data = cai.get("data")
    if (
        not isinstance(data, (tuple, list))
        or len(data) != 2
        or not _is_int(data[0])
        or data[0] < 0
        or not isinstance(data[1], (bool, np.bool_))
    ):
        raise bad("data", data, "it must be (pointer: int >= 0, read_only: bool)")
    strides = cai.get("strides")
    if strides is not None and (
        not isinstance(strides, (tuple, list))
        or len(strides) != len(shape)
        or not all(_is_int(st) for st in strides)
    ):
        raise bad("strides", strides, f"it must be None or {len(shape)} integers (bytes)")
    stream = cai.get("stream")
    if stream is not None and not _is_int(stream):
        raise bad("stream", stream, "it must be None or an integer stream handle")
    if cai.get("mask") is not None:
        raise bad("mask", cai["mask"], "masked arrays are not supported; it must be None")
    return DeviceArray(
        ptr=int(data[0]),
        shape=tuple(int(d) for d in shape),
        dtype=dtype,
        strides=tuple(int(st) for st in strides) if strides is not None else None,
        device=None,
        owner=owner,
        stream=int(stream) if stream is not None else None,
        readonly=bool(data[1]),
    )


def frozen_cai(cai: dict[str, Any]) -> dict[str, Any]:
    """A copy of a ``__cuda_array_interface__`` dict that later mutation of the producer's own
    lists (e.g. a ``shape`` list it reuses) cannot change; compared with ``==`` to the dict the
    object reports on a later call (one C-level comparison of every field)."""
    return {k: (v[:] if type(v) is list else v) for k, v in cai.items()}


def as_array(name: str, obj: Any, role: str = "input") -> np.ndarray | DeviceArray:
    """Return a numpy array (host memory) or a :class:`DeviceArray` view for ``obj``.

    ``role`` ("input" or "output") only words the error messages.
    """
    if isinstance(obj, np.ndarray):
        return obj
    if hasattr(obj, "__cuda_array_interface__"):
        return _from_cai(name, obj)
    if hasattr(obj, "__dlpack_device__"):
        dev_type, dev_id = obj.__dlpack_device__()
        if int(dev_type) in (_DL_CPU, _DL_CUDA_HOST):
            return np.from_dlpack(obj)
        if int(dev_type) in (_DL_CUDA, _DL_CUDA_MANAGED):
            return dlpack_device_array(obj, int(dev_id))
        raise ArrayError(
            f"{role} {name!r}: DLPack device type {int(dev_type)} is neither CPU nor CUDA; pass a "
            "numpy array or a CUDA array"
        )
    if hasattr(obj, "__array_interface__") or hasattr(obj, "__array__"):
        return np.asarray(obj)
    raise ArrayError(
        f"tensor {name!r}: {type(obj).__name__} is not an array; pass a numpy array or an object "
        "with __cuda_array_interface__ or __dlpack__"
    )


def check_array(spec: TensorSpec, arr: np.ndarray | DeviceArray) -> None:
    """Refuse a wrong dtype or a non-contiguous layout; never convert silently."""
    if arr.dtype != spec.dtype:
        # '>f4' and '<f4' share the name 'float32': show the byte order when only it differs.
        same = arr.dtype.name == spec.dtype.name
        got, want = (arr.dtype.str, spec.dtype.str) if same else (arr.dtype.name, spec.dtype.name)
        raise DTypeError(
            f"tensor {spec.name!r}: dtype {got!r} does not match the engine's {want!r}"
            f"{' (byte order differs)' if same else ''}; convert it first, e.g. "
            f"x.astype({spec.dtype.name!r})"
        )
    contiguous = arr.flags.c_contiguous if isinstance(arr, np.ndarray) else arr.c_contiguous
    if not contiguous:
        raise ArrayError(
            f"tensor {spec.name!r}: the array is not C-contiguous (strides "
            f"{tuple(arr.strides) if arr.strides is not None else None!r}); pass a contiguous "
            "copy, e.g. numpy.ascontiguousarray(x) or x.contiguous()"
        )


def dlpack_device_array(obj: Any, device_id: int) -> DeviceArray:
    """A borrowed :class:`DeviceArray` over a CUDA DLPack tensor, via cuda.core's view.

    The producer is asked to make the data ready on the legacy default stream (DLPack stream 1),
    which the executor's own (blocking) stream orders after.
    """
    try:
        from cuda.core.utils import StridedMemoryView
    except ImportError as exc:
        raise CudaUnavailableError(
            f"reading a CUDA DLPack array needs cuda-python's cuda.core ({exc}); install it "
            "with `pip install cuda-python`"
        ) from None
    # cuda.core >= 0.5 has from_dlpack and deprecates construction from the object itself.
    make = getattr(StridedMemoryView, "from_dlpack", StridedMemoryView)
    try:
        view = make(obj, stream_ptr=_DL_STREAM_LEGACY)
    except (TypeError, BufferError):
        view = make(obj, stream_ptr=-1)  # producers that take no stream
    dtype = np.dtype(view.dtype)
    strides = view.strides  # in elements; None when C-contiguous
    return DeviceArray(
        ptr=int(view.ptr),
        shape=tuple(int(d) for d in view.shape),
        dtype=dtype,
        strides=None if strides is None else tuple(int(s) * dtype.itemsize for s in strides),
        device=int(view.device_id) if view.device_id is not None else device_id,
        owner=view,
        readonly=bool(view.readonly),
    )
