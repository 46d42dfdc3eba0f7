"""Where simulated engines run: the device plug-in contract and the two built-in devices.

The simulated execution context validates every call exactly as TensorRT would (shapes, addresses,
profile), then hands the work to ``mod._sim.device``. A device is any object with::

    run(plan, io, stream, allocate) -> None

- ``plan``: the engine's :class:`~trt_exec.sim._plan.Plan`. ``plan.evaluate(arrays)``
  computes every output with numpy; ``plan.data_dependent`` names the outputs whose shape is only
  known after running.
- ``io``: ``{tensor_name: (address, shape, numpy_dtype)}`` for every IO tensor. Input and
  static-shape output shapes are concrete. A data-dependent output's shape holds -1 where the
  size is unknown, and its address may be 0.
- ``stream``: the stream handle (an int) given to ``execute_async_v*``; 0 for ``execute_v2``.
- ``allocate(name, shape) -> address``: call it once per data-dependent output once the real shape
  is known; it goes through the user's IOutputAllocator (``reallocate_output[_async]`` then
  ``notify_shape``) and returns where to write. It raises :class:`DeviceError` when the allocator
  refuses.

Raise :class:`DeviceError` to make the execute call return False with the message logged as an
ERROR, as a failed enqueue in TensorRT does.
"""

from __future__ import annotations

import ctypes
import math
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Protocol

import numpy as np

if TYPE_CHECKING:
    from ._plan import Plan

__all__ = ["Device", "DeviceError", "HostDevice", "NullDevice", "IOBinding", "Allocate"]

IOBinding = tuple[int, tuple[int, ...], np.dtype]
Allocate = Callable[[str, tuple[int, ...]], int]


class DeviceError(RuntimeError):
    """Raised by a device when the work cannot run; execute_* then returns False and logs it."""


class Device(Protocol):
    """The plug-in contract (see the module docstring)."""

    def run(
        self, plan: Plan, io: Mapping[str, IOBinding], stream: int, allocate: Allocate
    ) -> None: ...


def host_array(address: int, shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
    """A writable numpy view of ``prod(shape)`` elements of host memory at ``address``."""
    count = math.prod(shape)
    if count == 0:
        return np.empty(shape, dtype)
    buf = (ctypes.c_char * (count * dtype.itemsize)).from_address(address)
    out: np.ndarray = np.frombuffer(buf, dtype=dtype, count=count).reshape(shape)  # type: ignore[call-overload]
    return out


class HostDevice:
    """Treats every address as a HOST pointer and computes results with numpy (the default).

    Streams are ignored: the work is done before ``execute_async_*`` returns.
    """

    def run(self, plan: Plan, io: Mapping[str, IOBinding], stream: int, allocate: Allocate) -> None:
        arrays = {}
        for t in plan.inputs:
            ptr, shape, dtype = io[t.name]
            arrays[t.name] = host_array(ptr, shape, dtype)
        results = plan.evaluate(arrays)
        dd = plan.data_dependent
        for name, value in results.items():
            ptr, shape, dtype = io[name]
            if name in dd:
                shape = value.shape
                ptr = allocate(name, shape)
            elif value.shape != shape:
                raise DeviceError(f"{name}: computed shape {value.shape} != expected {shape}")
            host_array(ptr, shape, dtype)[...] = value


class NullDevice:
    """Validates like the real thing but computes nothing (for benchmarks of host overhead).

    Data-dependent outputs are reported as having zero elements in their unknown dimensions.
    """

    def run(self, plan: Plan, io: Mapping[str, IOBinding], stream: int, allocate: Allocate) -> None:
        for name in plan.data_dependent:
            shape = io[name][1]
            allocate(name, tuple(0 if d < 0 else d for d in shape))
