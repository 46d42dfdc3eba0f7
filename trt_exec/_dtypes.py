"""TensorRT DataType <-> numpy dtype, by enum member name (stable across every release).

Every DataType member of the releases trt_exec supports (8.x: FLOAT, HALF, INT8, INT32, BOOL,
UINT8, FP8; 10.x adds BF16, INT64, INT4; 10.8+/11.x and TensorRT-RTX add FP4 and E8M0 - the API
manifests in ``tests/data/manifests``) either maps to a numpy dtype or is refused with a
:class:`~trt_exec.errors.DTypeError` that says what to do:

- numpy has FLOAT, HALF, INT8, INT32, INT64, BOOL, UINT8 (and DOUBLE, for completeness).
- BF16, FP8 (E4M3: TensorRT's FP8 is ``float8_e4m3fn``, "FP8 E4M3", DataType docs) and E8M0
  (``float8_e8m0fnu``) come from ``ml_dtypes``, the optional extra ``trt-exec[ml-dtypes]``.
- INT4 and FP4 are packed two elements per byte (DataType docs: "4-bit ... packed"); numpy and
  ml_dtypes hold one element per byte, so an array of either would have the wrong size.
  They are refused.
"""

from __future__ import annotations

import importlib
from typing import Any

import numpy as np

from .errors import DTypeError

__all__ = ["to_numpy", "NUMPY", "ML_DTYPES", "PACKED"]

#: DataType name -> numpy dtype, for the types numpy has.
NUMPY: dict[str, np.dtype] = {
    "FLOAT": np.dtype(np.float32),
    "HALF": np.dtype(np.float16),
    "INT8": np.dtype(np.int8),
    "INT32": np.dtype(np.int32),
    "INT64": np.dtype(np.int64),
    "BOOL": np.dtype(np.bool_),
    "UINT8": np.dtype(np.uint8),
    "DOUBLE": np.dtype(np.float64),
}
#: DataType name -> the ml_dtypes attribute that is its numpy dtype.
ML_DTYPES: dict[str, str] = {"BF16": "bfloat16", "FP8": "float8_e4m3fn", "E8M0": "float8_e8m0fnu"}
#: Packed sub-byte types: two elements per byte.
PACKED = frozenset({"INT4", "FP4"})


def _ml_dtype(name: str, tensor: str) -> np.dtype:
    attr = ML_DTYPES[name]
    try:
        module = importlib.import_module("ml_dtypes")
    except ImportError:
        raise DTypeError(
            f"tensor {tensor!r} has TensorRT dtype {name}, which numpy represents only through "
            f"ml_dtypes ({attr}); install it: pip install 'trt-exec[ml-dtypes]'"
        ) from None
    scalar = getattr(module, attr, None)
    if scalar is None:
        raise DTypeError(
            f"tensor {tensor!r} has TensorRT dtype {name}; the installed ml_dtypes "
            f"{getattr(module, '__version__', '?')} has no {attr}: upgrade it "
            "(pip install -U 'ml_dtypes>=0.5')"
        )
    dtype: np.dtype = np.dtype(scalar)
    return dtype


def to_numpy(trt_dtype: Any, tensor: str) -> np.dtype:
    """The numpy dtype of a TensorRT ``DataType`` member; raise DTypeError if there is none."""
    name = getattr(trt_dtype, "name", str(trt_dtype)).split(".")[-1]
    dt = NUMPY.get(name)
    if dt is not None:
        return dt
    if name in ML_DTYPES:
        return _ml_dtype(name, tensor)
    if name in PACKED:
        raise DTypeError(
            f"tensor {tensor!r} has TensorRT dtype {name}, packed two elements per byte, which "
            "numpy cannot hold; trt_exec does not run packed IO tensors: rebuild the engine with "
            "that tensor as INT8/HALF/FLOAT IO and the conversion inside the network (a cast or "
            "quantize layer)"
        )
    raise DTypeError(
        f"tensor {tensor!r} has TensorRT dtype {name!r}, which has no numpy equivalent; "
        f"supported: {', '.join(sorted(NUMPY))}, and {', '.join(sorted(ML_DTYPES))} with "
        "ml_dtypes"
    )
