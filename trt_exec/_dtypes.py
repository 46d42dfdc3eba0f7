"""TensorRT DataType <-> numpy dtype, by enum member name (stable across every release)."""

from __future__ import annotations

from typing import Any

import numpy as np

from .errors import DTypeError

_BY_NAME: dict[str, np.dtype] = {
    "FLOAT": np.dtype(np.float32),
    "HALF": np.dtype(np.float16),
    "INT8": np.dtype(np.int8),
    "INT32": np.dtype(np.int32),
    "INT64": np.dtype(np.int64),
    "BOOL": np.dtype(np.bool_),
    "UINT8": np.dtype(np.uint8),
    "DOUBLE": np.dtype(np.float64),
}


def _bfloat16() -> np.dtype | None:
    try:
        import ml_dtypes
    except ImportError:
        return None
    dtype: np.dtype = np.dtype(ml_dtypes.bfloat16)
    return dtype


def to_numpy(trt_dtype: Any, tensor: str) -> np.dtype:
    """The numpy dtype of a TensorRT ``DataType`` member; raise DTypeError if numpy has none."""
    name = getattr(trt_dtype, "name", str(trt_dtype)).split(".")[-1]
    dt = _BY_NAME.get(name)
    if dt is None and name == "BF16":
        dt = _bfloat16()
        if dt is None:
            raise DTypeError(f"tensor {tensor!r} is BF16; install ml_dtypes for a numpy bfloat16")
    if dt is None:
        raise DTypeError(
            f"tensor {tensor!r} has TensorRT dtype {name!r}, which has no numpy equivalent; "
            f"supported: {', '.join(sorted(_BY_NAME))}, BF16 (with ml_dtypes)"
        )
    return dt
