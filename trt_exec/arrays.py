"""Classifying the arrays callers pass: host (numpy, buffer protocol, CPU DLPack) or device
(``__cuda_array_interface__``, CUDA DLPack). Pure: no CUDA calls happen here."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .errors import ArrayError, CudaUnavailableError, DTypeError
from .spec import TensorSpec

__all__ = [
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


def _from_cai(obj: Any) -> DeviceArray:
    return from_cai_dict(obj.__cuda_array_interface__, obj)


def from_cai_dict(cai: Any, owner: Any) -> DeviceArray:
    """The :class:`DeviceArray` a ``__cuda_array_interface__`` dict describes."""
    shape = tuple(int(d) for d in cai["shape"])
    strides = cai.get("strides")
    stream = cai.get("stream")
    return DeviceArray(
        ptr=int(cai["data"][0]),
        shape=shape,
        dtype=np.dtype(cai["typestr"]),
        strides=tuple(int(s) for s in strides) if strides is not None else None,
        device=None,
        owner=owner,
        stream=int(stream) if stream is not None else None,
        readonly=bool(cai["data"][1]),
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
        return _from_cai(obj)
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
