"""Data paths: how an executor turns caller arrays into addresses TensorRT reads and writes.

An executor owns exactly one data path. :class:`HostDataPath` serves the simulated TensorRT in
host mode, where "device" addresses are host pointers; the CUDA data path (:mod:`trt_exec._cuda`)
serves real TensorRT and the simulator's GPU mode. Buffers the data path allocates are owned by
it and released by :meth:`DataPath.close`; arrays the caller passes are borrowed.
"""

from __future__ import annotations

from typing import Any, Protocol

import numpy as np

from ._arrays import DeviceArray
from .errors import ArrayError

__all__ = ["DataPath", "HostDataPath"]


class DataPath(Protocol):
    """The memory operations an executor needs; one instance per executor (or pool slot)."""

    kind: str  # "host" or "cuda"
    stream: int  # the stream handle passed to TensorRT's enqueue

    def input_address(self, name: str, array: np.ndarray | DeviceArray) -> int: ...

    def output_address(self, name: str, nbytes: int) -> int: ...

    def fetch(self, name: str, shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray: ...

    def allocate(self, name: str, nbytes: int) -> int: ...

    def synchronize(self) -> None: ...

    def close(self) -> None: ...


class HostDataPath:
    """Host memory standing in for device memory (the simulator's CPU mode).

    Input arrays are used in place (zero-copy); outputs go to buffers owned here, reused across
    calls and grown only when a shape needs more; :meth:`fetch` returns a fresh copy, so a result
    handed to the caller is never overwritten by a later call.
    """

    kind = "host"
    stream = 0

    def __init__(self) -> None:
        self._outputs: dict[str, np.ndarray] = {}
        self._inputs: dict[str, Any] = {}

    def input_address(self, name: str, array: np.ndarray | DeviceArray) -> int:
        if isinstance(array, DeviceArray):
            raise ArrayError(
                f"input {name!r}: a CUDA device array was passed, but this executor runs on the "
                "simulated TensorRT in host mode; pass a numpy array, or use the simulator's GPU mode"
            )
        self._inputs[name] = array  # keep it alive until the next call replaces it
        return int(array.ctypes.data) if array.nbytes else self.allocate(name + "#in", 1)

    def allocate(self, name: str, nbytes: int) -> int:
        buf = self._outputs.get(name)
        if buf is None or buf.nbytes < nbytes:
            buf = np.empty(max(nbytes, 1), dtype=np.uint8)
            self._outputs[name] = buf
        return int(buf.ctypes.data)

    def output_address(self, name: str, nbytes: int) -> int:
        return self.allocate(name, nbytes)

    def fetch(self, name: str, shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
        n = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
        return self._outputs[name][:n].view(dtype).reshape(shape).copy()

    def synchronize(self) -> None:
        return None

    def close(self) -> None:
        self._outputs.clear()
        self._inputs.clear()
