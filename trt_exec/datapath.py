"""Data paths: how an executor turns caller arrays into addresses TensorRT reads and writes.

An executor owns exactly one data path. :class:`HostDataPath` serves the simulated TensorRT in
host mode, where "device" addresses are host pointers; the CUDA data path (:mod:`trt_exec.cuda.datapath`)
serves real TensorRT and the simulator's GPU mode. Buffers the data path allocates are owned by
it and released by :meth:`DataPath.close`; arrays the caller passes are borrowed.
"""

from __future__ import annotations

import ctypes
import math
from typing import Any, Protocol

import numpy as np

from .arrays import DeviceArray
from .errors import ArrayError

__all__ = ["DataPath", "HostDataPath"]

_ResultBuilder: Any = None
_from_buffer = ctypes.c_char.from_buffer
_addressof = ctypes.addressof


def _address(array: np.ndarray) -> int:
    """The address of a C-contiguous array's first byte.

    Through the buffer protocol (~0.25 µs) where it applies, a writable non-empty array; else
    ``array.ctypes.data`` (~1 µs: it builds a ctypes helper object per call).
    """
    if array.flags.writeable and array.nbytes:
        return _addressof(_from_buffer(array))  # type: ignore[arg-type]
    return int(array.ctypes.data)


class DataPath(Protocol):
    """The memory operations an executor needs; one instance per executor (or pool slot).

    One call goes: :meth:`begin` on the call's stream; :meth:`input_address` per input, then
    :meth:`inputs_ready`; an address per output (:meth:`output_address` for owned buffers,
    :meth:`output_array_address` for caller arrays, :meth:`allocate` from an IOutputAllocator);
    the enqueue; :meth:`download` per host-bound output; :meth:`finish`; and, for synchronous
    calls, :meth:`synchronize` then :meth:`fetch` / :meth:`fetch_into`.
    """

    kind: str  # "host" or "cuda"

    @property
    def stream(self) -> int:
        """The data path's own stream handle, used when the caller passes none."""
        ...

    @property
    def device(self) -> int | None:
        """The CUDA ordinal; None in host mode."""
        ...

    def begin(self, stream: int) -> None: ...

    def input_address(self, name: str, array: np.ndarray | DeviceArray, stream: int) -> int: ...

    def inputs_ready(self, stream: int, synchronous: bool = False) -> None: ...

    def output_address(self, name: str, nbytes: int) -> int: ...

    def output_array_address(self, name: str, array: np.ndarray | DeviceArray) -> int | None: ...

    def allocate(self, name: str, nbytes: int) -> int: ...

    def download(self, name: str, nbytes: int, stream: int) -> None: ...

    def fetch(self, name: str, shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray: ...

    def fetch_into(self, name: str, array: np.ndarray) -> None: ...

    def finish(self, stream: int, result: Any = None, synchronous: bool = False) -> Any: ...

    def synchronize(self, stream: int | None = None) -> None: ...

    def close(self) -> None: ...


class HostDataPath:
    """Host memory standing in for device memory (the simulator's CPU mode).

    Input arrays are used in place (zero-copy); outputs go to buffers owned here, reused across
    calls and grown only when a shape needs more; :meth:`fetch` returns a fresh copy, so a result
    handed to the caller is never overwritten by a later call.
    """

    kind = "host"
    stream = 0
    device = None

    def __init__(self) -> None:
        self._outputs: dict[str, np.ndarray] = {}
        self._inputs: dict[str, Any] = {}

    def begin(self, stream: int) -> None:
        return None

    def inputs_ready(self, stream: int, synchronous: bool = False) -> None:
        return None

    def input_address(self, name: str, array: np.ndarray | DeviceArray, stream: int = 0) -> int:
        if isinstance(array, DeviceArray):
            raise ArrayError(
                f"input {name!r}: a CUDA device array was passed, but this executor runs on the "
                "simulated TensorRT in host mode; pass a numpy array, or use the simulator's GPU "
                "mode"
            )
        self._inputs[name] = array  # keep it alive until the next call replaces it
        return _address(array) if array.nbytes else self.allocate(name + "#in", 1)

    def allocate(self, name: str, nbytes: int) -> int:
        buf = self._outputs.get(name)
        if buf is None or buf.nbytes < nbytes:
            buf = np.empty(max(nbytes, 1), dtype=np.uint8)
            self._outputs[name] = buf
        return int(buf.ctypes.data)

    def output_address(self, name: str, nbytes: int) -> int:
        return self.allocate(name, nbytes)

    def output_array_address(self, name: str, array: np.ndarray | DeviceArray) -> int | None:
        if isinstance(array, DeviceArray):
            raise ArrayError(
                f"output {name!r}: a CUDA device array was passed, but this executor runs on the "
                "simulated TensorRT in host mode; pass a numpy array, or use the simulator's GPU "
                "mode"
            )
        if array.nbytes == 0:
            return self.allocate(name + "#out", 1)
        return _address(array)  # written in place

    def async_output(
        self, builder: Any, name: str, shape: tuple[int, ...], dtype: np.dtype, stream: int
    ) -> tuple[int, np.ndarray]:
        """A fresh array for one infer_async output (host mode computes synchronously)."""
        arr = np.empty(shape, dtype)
        return (int(arr.ctypes.data) if arr.nbytes else self.allocate(name + "#out", 1)), arr

    def async_copy_output(
        self, builder: Any, name: str, shape: tuple[int, ...], dtype: np.dtype, stream: int
    ) -> np.ndarray:
        return self.fetch(name, shape, dtype)

    def result_builder(self) -> Any:
        global _ResultBuilder
        # Imported at first use, not per call (an import statement costs ~1 µs even when the
        # module is loaded); _cuda is pure at import, it only loads cuda-python when used.
        if _ResultBuilder is None:
            from .cuda.datapath import ResultBuilder

            _ResultBuilder = ResultBuilder
        return _ResultBuilder(None, None)

    def download(self, name: str, nbytes: int, stream: int) -> None:
        return None

    def finish(self, stream: int, result: Any = None, synchronous: bool = False) -> None:
        return None

    def fetch(self, name: str, shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
        n = math.prod(shape) * dtype.itemsize
        return self._outputs[name][:n].view(dtype).reshape(shape).copy()

    def fetch_into(self, name: str, array: np.ndarray) -> None:
        if array.nbytes:
            array.reshape(-1).view(np.uint8)[...] = self._outputs[name][: array.nbytes]

    def synchronize(self, stream: int | None = None) -> None:
        return None

    def close(self) -> None:
        self._outputs.clear()
        self._inputs.clear()
