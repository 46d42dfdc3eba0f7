"""Data paths: how an executor turns caller arrays into addresses TensorRT reads and writes.

An executor owns exactly one data path, made by :func:`make_data_path`. :class:`HostDataPath`
serves the simulated TensorRT in host mode, where "device" addresses are host pointers; the CUDA
data path (:class:`trt_exec.cuda.datapath.CudaDataPath`) serves real TensorRT and the simulator's
GPU mode. Buffers a data path allocates are owned by it and released by :meth:`DataPath.close`;
arrays the caller passes are borrowed.
"""

from __future__ import annotations

import ctypes
import math
from collections.abc import Callable, Hashable, Mapping, Sequence
from types import ModuleType
from typing import Any, NoReturn, Protocol

import numpy as np

from ._gate import Gate
from .arrays import DeviceArray
from .discovery import is_simulated
from .errors import ArrayError, CudaUnavailableError
from .results import AsyncResult, EventResult, ResultBuilder

__all__ = ["DataPath", "HostDataPath", "Owner", "make_data_path"]

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


class _Epoch(Protocol):
    @property
    def epoch(self) -> int: ...


class Owner(Protocol):
    """What a :meth:`DataPath.device_program` needs of the executor whose call it runs: its
    lock (a :class:`~trt_exec._gate.Gate`, taken inline; read on every run: a forked child gets
    a new one) and its context state's ``epoch``
    (:class:`~trt_exec._context_state.ContextState`)."""

    @property
    def _lock(self) -> Gate: ...

    @property
    def _state(self) -> _Epoch: ...


class DataPath(Protocol):
    """The memory operations an executor needs; one instance per executor (or pool slot).

    One call goes: :meth:`begin` on the call's stream; :meth:`input_address` per input, then
    :meth:`inputs_ready`; an address per output (:meth:`output_address` for owned buffers,
    :meth:`output_array_address` for caller arrays, :meth:`async_output` for an infer_async
    result, :meth:`allocate` from an IOutputAllocator); the enqueue (:meth:`replay`, or
    :meth:`capture` when there is no graph yet, when CUDA graphs are on and
    :meth:`can_capture`); :meth:`download` per host-bound output; :meth:`finish`; and, for
    synchronous calls, :meth:`synchronize` (or both in one: :meth:`complete`) then
    :meth:`fetch` / :meth:`fetch_into`. A call repeated as it is may be fixed into one function:
    :meth:`program` (a synchronous bound call or ``infer`` lane with numpy arrays),
    :meth:`device_program` (bound calls and both lanes on caller device arrays).
    """

    @property
    def stream(self) -> int:
        """The data path's own stream handle, used when the caller passes none."""
        ...

    @property
    def device(self) -> int | None:
        """The CUDA ordinal; None in host mode."""
        ...

    def begin(self, stream: int) -> None:
        """Start a call on ``stream`` (ordered after this data path's previous call)."""

    def input_address(
        self, name: str, array: np.ndarray | DeviceArray, stream: int, synchronous: bool = False
    ) -> int:
        """The address TensorRT reads input ``name`` from (staged or in place). ``synchronous``:
        the call synchronizes before it returns, so a host array may be read in place."""
        ...

    def ordered_after(self, producer: int, stream: int) -> bool:
        """Whether work on ``stream`` already follows a producer's work on stream ``producer``
        (a device array's CAI v3 ``stream``), so that no event wait is needed."""
        ...

    def inputs_ready(self, stream: int, synchronous: bool = False) -> None:
        """Every input is enqueued; ``synchronous``: the caller synchronizes before its next
        call."""

    def output_address(self, name: str, nbytes: int) -> int:
        """An owned buffer of at least ``nbytes`` for output ``name``, reused across calls."""
        ...

    def output_array_address(self, name: str, array: np.ndarray | DeviceArray) -> int | None:
        """The address of a caller's output array, or None when it must go through an owned
        buffer (and :meth:`download` / :meth:`fetch_into`)."""
        ...

    def allocate(self, name: str, nbytes: int) -> int:
        """An owned buffer for a data-dependent output (an IOutputAllocator's request)."""
        ...

    def result_builder(self) -> ResultBuilder:
        """A collector for one infer_async call's outputs."""
        ...

    def async_output(
        self,
        builder: ResultBuilder,
        name: str,
        shape: tuple[int, ...],
        dtype: np.dtype,
        stream: int,
    ) -> tuple[int, Any]:
        """A per-call output for infer_async: its address and the value the result holds."""
        ...

    def async_copy_output(
        self,
        builder: ResultBuilder,
        name: str,
        shape: tuple[int, ...],
        dtype: np.dtype,
        stream: int,
    ) -> Any:
        """A data-dependent output, copied from its owned buffer into a per-call one."""
        ...

    def download(self, name: str, nbytes: int, stream: int) -> None:
        """Enqueue the copy of output ``name``'s owned buffer to host staging."""

    def event_result(self, outputs: dict[str, Any], stream: int) -> AsyncResult:
        """End an asynchronous call whose outputs are all caller arrays: its result, with an
        event recorded on ``stream`` (None in host mode, where the work is done)."""
        ...

    def finish(
        self,
        stream: int,
        result: ResultBuilder | None = None,
        synchronous: bool = False,
        record: bool = False,
    ) -> Any:
        """Mark the end of this call's work on ``stream``; with ``result`` or ``record``, record
        an event after it and return it (None where there is no event)."""

    def synchronize(self, stream: int | None = None) -> None:
        """Block until ``stream`` (default: the data path's own) is done."""

    def complete(self, stream: int) -> None:
        """End a synchronous call: :meth:`finish` (nothing recorded) and :meth:`synchronize`."""

    def fetch(self, name: str, shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
        """A new numpy array with output ``name`` (after :meth:`synchronize`)."""
        ...

    def fetch_into(self, name: str, array: np.ndarray) -> None:
        """Copy output ``name`` into the caller's numpy ``array`` (after :meth:`synchronize`)."""

    def device_checked(self, array: DeviceArray) -> DeviceArray:
        """``array`` marked as checked to live on this data path's device, after a call that
        checked it succeeded (so later calls skip the check)."""
        ...

    def enable_graphs(self, max_graphs: int) -> None:
        """Start a CUDA-graph cache of ``max_graphs``; CudaUnavailableError where impossible."""

    def disable_graphs(self) -> None:
        """Destroy every cached graph and stop capturing."""

    def graph_stats(self) -> dict[str, int] | None:
        """The graph cache's counters, None when graphs are off."""
        ...

    def can_capture(self, stream: int, synchronous: bool = False) -> bool:
        """Whether an enqueue on ``stream`` can be captured into a graph now; ``synchronous``:
        the caller synchronizes ``stream`` before it returns (so no caller is capturing it)."""
        ...

    def replay(self, key: Hashable, stream: int) -> bool:
        """Launch the graph captured for ``key`` on ``stream``; False when there is none."""
        ...

    def capture(self, key: Hashable, enqueue: Callable[[int], None], stream: int) -> None:
        """Run ``enqueue`` on ``stream``, then capture it as the graph for ``key``."""
        ...

    def program(
        self,
        inputs: Sequence[tuple[str, tuple[int, ...], np.dtype]],
        outputs: Sequence[tuple[str, int, tuple[int, ...], np.dtype]],
        stream: int,
        enqueue: Callable[[int], bool],
        failed: Callable[[int], NoReturn],
        graph: Hashable | None,
    ) -> Callable[[Sequence[np.ndarray]], list[np.ndarray] | None] | None:
        """A repeated synchronous call fixed into one function (numpy ``inputs`` uploaded from
        fixed staging, TensorRT's ``enqueue`` - ``failed(start)`` raising when it returns False
        - or the graph for ``graph``, ``outputs`` downloaded into new arrays, synchronize), or
        None when there is no faster way than the general one. The function returns the new
        outputs, or None (nothing done) once it is stale."""
        ...

    def device_program(
        self,
        owner: Owner,
        epoch: int,
        stream: int,
        enqueue: Callable[[int], bool],
        failed: Callable[[int], NoReturn],
        graph: Hashable | None,
        order: tuple[str, ...] | None,
        asynchronous: bool = False,
        fallback: Callable[[Mapping[str, Any]], Any] | None = None,
        event: bool = False,
    ) -> Callable[[Any], Any] | None:
        """A repeated call on caller device arrays only, fixed into one function with its
        caller's part (``owner``'s lock held, ``owner._state.epoch == epoch`` checked): TensorRT's
        ``enqueue`` or the graph for ``graph``, then a synchronize and the outputs given as a new
        dict (in ``order`` when given) or, ``asynchronous``, :meth:`event_result` over them; None
        (nothing done) once stale. With ``fallback`` (a bound call's), it returns the mapping it
        is given itself, and ``fallback(objects)`` once stale; with ``event`` (and
        ``asynchronous``: a bound call's ``launch()``), the event :meth:`finish` records with
        ``record``. None where there is no faster way."""
        ...

    def replayer(self, key: Hashable) -> Callable[[int], bool] | None:
        """A callable that replays the graph for ``key`` on a stream, True while that graph
        exists (False once any graph was destroyed since); None when there is none."""
        ...

    def close(self) -> None:
        """Release everything this data path owns. Idempotent."""


class HostDataPath:
    """Host memory standing in for device memory (the simulator's CPU mode).

    Input arrays are used in place (zero-copy); outputs go to buffers owned here, reused across
    calls and grown only when a shape needs more; :meth:`fetch` returns a fresh copy, so a result
    handed to the caller is never overwritten by a later call. There is no stream and no graph:
    the simulated engine computes during the enqueue.
    """

    stream = 0
    device = None

    def __init__(self) -> None:
        self._outputs: dict[str, np.ndarray] = {}
        # Buffers for empty tensors (TensorRT wants a non-null address even for 0 bytes), kept
        # apart from the outputs' so that no tensor name can collide with them.
        self._empty: dict[tuple[str, str], np.ndarray] = {}
        self._inputs: dict[str, Any] = {}

    def begin(self, stream: int) -> None:
        return None

    def ordered_after(self, producer: int, stream: int) -> bool:
        return producer == stream

    def inputs_ready(self, stream: int, synchronous: bool = False) -> None:
        return None

    def _empty_address(self, role: str, name: str) -> int:
        buf = self._empty.get((role, name))
        if buf is None:
            buf = self._empty[(role, name)] = np.empty(1, np.uint8)
        return int(buf.ctypes.data)

    def input_address(
        self, name: str, array: np.ndarray | DeviceArray, stream: int = 0, synchronous: bool = False
    ) -> int:
        if isinstance(array, DeviceArray):
            raise ArrayError(
                f"input {name!r}: a CUDA device array was passed, but this executor runs on the "
                "simulated TensorRT in host mode; pass a numpy array, or use the simulator's GPU "
                "mode"
            )
        self._inputs[name] = array  # keep it alive until the next call replaces it
        return _address(array) if array.nbytes else self._empty_address("input", name)

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
            return self._empty_address("output", name)
        return _address(array)  # written in place

    def result_builder(self) -> ResultBuilder:
        return ResultBuilder(None, None)

    def async_output(
        self,
        builder: ResultBuilder,
        name: str,
        shape: tuple[int, ...],
        dtype: np.dtype,
        stream: int,
    ) -> tuple[int, np.ndarray]:
        """A fresh array for one infer_async output (host mode computes synchronously)."""
        arr = np.empty(shape, dtype)
        return (int(arr.ctypes.data) if arr.nbytes else self._empty_address("output", name)), arr

    def async_copy_output(
        self,
        builder: ResultBuilder,
        name: str,
        shape: tuple[int, ...],
        dtype: np.dtype,
        stream: int,
    ) -> np.ndarray:
        return self.fetch(name, shape, dtype)

    def download(self, name: str, nbytes: int, stream: int) -> None:
        return None

    def event_result(self, outputs: dict[str, Any], stream: int) -> AsyncResult:
        return EventResult(outputs, stream, None, None)

    def finish(
        self,
        stream: int,
        result: ResultBuilder | None = None,
        synchronous: bool = False,
        record: bool = False,
    ) -> None:
        return None

    def fetch(self, name: str, shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
        n = math.prod(shape) * dtype.itemsize
        out: np.ndarray = self._outputs[name][:n].view(dtype).reshape(shape).copy()
        return out

    def fetch_into(self, name: str, array: np.ndarray) -> None:
        if array.nbytes:
            array.reshape(-1).view(np.uint8)[...] = self._outputs[name][: array.nbytes]

    def synchronize(self, stream: int | None = None) -> None:
        return None

    def complete(self, stream: int) -> None:
        return None

    def device_checked(self, array: DeviceArray) -> DeviceArray:
        return array

    def enable_graphs(self, max_graphs: int) -> None:
        raise CudaUnavailableError(
            "CUDA graphs need the CUDA data path, but this executor runs in host mode (the "
            "simulated TensorRT without its GPU mode); use real TensorRT or "
            "trt_exec.testing.enable_gpu(trt)"
        )

    def disable_graphs(self) -> None:
        return None

    def graph_stats(self) -> dict[str, int] | None:
        return None

    def can_capture(self, stream: int, synchronous: bool = False) -> bool:
        return False

    def replay(self, key: Hashable, stream: int) -> bool:
        return False

    def capture(self, key: Hashable, enqueue: Callable[[int], None], stream: int) -> None:
        enqueue(stream)

    def replayer(self, key: Hashable) -> Callable[[int], bool] | None:
        return None

    def program(
        self,
        inputs: Sequence[tuple[str, tuple[int, ...], np.dtype]],
        outputs: Sequence[tuple[str, int, tuple[int, ...], np.dtype]],
        stream: int,
        enqueue: Callable[[int], bool],
        failed: Callable[[int], NoReturn],
        graph: Hashable | None,
    ) -> Callable[[Sequence[np.ndarray]], list[np.ndarray] | None] | None:
        return None  # inputs are read in place, outputs copied: nothing to fix

    def device_program(
        self,
        owner: Owner,
        epoch: int,
        stream: int,
        enqueue: Callable[[int], bool],
        failed: Callable[[int], NoReturn],
        graph: Hashable | None,
        order: tuple[str, ...] | None,
        asynchronous: bool = False,
        fallback: Callable[[Mapping[str, Any]], Any] | None = None,
        event: bool = False,
    ) -> Callable[[Any], Any] | None:
        return None

    def close(self) -> None:
        self._outputs.clear()
        self._empty.clear()
        self._inputs.clear()


def make_data_path(trt: ModuleType, device: int | None, stream: Any = None) -> DataPath:
    """Host memory for the simulator's host mode, CUDA memory otherwise.

    The CUDA data path is bound to ``device`` (default 0) and owns a stream unless ``stream``
    (borrowed) is given. It raises CudaUnavailableError, saying what is missing, when
    cuda-python, the driver or the GPU is. ``device`` and ``stream`` are validated in host mode
    too, so a mistake shows on the CPU as it would on the GPU.
    """
    from .cuda.driver import check_device, stream_handle

    if device is not None:
        check_device(device)
    if stream is not None:
        stream_handle(stream)
    sim = getattr(trt, "_sim", None) if is_simulated(trt) else None
    if sim is not None and not sim.gpu:
        return HostDataPath()
    from .cuda.datapath import CudaDataPath

    return CudaDataPath(device=0 if device is None else device, stream=stream)
