"""How a remembered device array is recognised again: its *token*, read cheaply per call and
compared with the one read when it was validated (see ``_arguments``' memo and ``_lane``).

A torch tensor's and a cupy array's C-level attributes, or else the array's whole
``__cuda_array_interface__`` dict. Pure: torch and cupy are looked up only if the caller
already imported them.
"""

from __future__ import annotations

import sys
from typing import Any

__all__ = ["cai_token", "cupy_token_of", "token_reader", "torch_token"]


def cai_token(obj: Any) -> Any:
    return obj.__cuda_array_interface__


def torch_token(obj: Any) -> Any:
    # torch.Tensor.__cuda_array_interface__ is a Python property that builds a dict and a
    # typestr (~6 µs on an H200 host, benchmarks/README.md); these are C-level attributes
    # (~0.5 µs together) and cover every field of that dict: the pointer, shape, strides and
    # dtype. requires_grad is there because the interface refuses such a tensor.
    return (obj.data_ptr(), obj.shape, obj.stride(), obj.dtype, obj.requires_grad)


_cupy_tokens: dict[int, Any] = {}  # id(cupy module) -> its cupy_token


def cupy_token_of(cupy: Any) -> Any:
    """``cupy_token`` for this cupy module: a cupy array's C-level attributes - the pointer,
    shape, strides and dtype - and cupy's current stream, which its interface dict reports as
    the producer stream (CAI v3 ``stream``, read at each access): the same current stream means
    the same ``stream`` field. Several times cheaper than the dict, which cupy builds on every
    access (H200 host: ``infer`` with cupy arrays in and out +3.49 -> +2.78 µs over the raw
    call, ``benchmarks/README.md``)."""
    token = _cupy_tokens.get(id(cupy))
    if token is None:
        current = cupy.cuda.get_current_stream

        def token(obj: Any) -> Any:
            return (obj.data.ptr, obj.shape, obj.strides, obj.dtype, current().ptr)

        _cupy_tokens[id(cupy)] = token
    return token


def token_reader(obj: Any) -> Any:
    """How to read ``obj``'s token: C-level attributes for a torch tensor or a cupy array, else
    its interface dict. torch and cupy are looked up only if the caller already imported them."""
    torch = sys.modules.get("torch")
    tensor = getattr(torch, "Tensor", None) if torch is not None else None
    if tensor is not None and isinstance(obj, tensor) and hasattr(obj, "data_ptr"):
        return torch_token
    cupy = sys.modules.get("cupy")
    ndarray = getattr(cupy, "ndarray", None) if cupy is not None else None
    if ndarray is not None and isinstance(obj, ndarray) and hasattr(cupy, "cuda"):
        return cupy_token_of(cupy)
    return cai_token
