"""Where a call's outputs go: the two output policies.

- :class:`SyncOutputs` (``infer``): outputs are written to buffers the data path owns (or to the
  caller's arrays), downloaded to host staging after the enqueue and returned as numpy arrays
  after the one synchronize.
- :class:`AsyncOutputs` (``infer_async``): every output gets per-call device memory (or is the
  caller's device array), collected into an :class:`~trt_exec.results.AsyncResult`; nothing
  waits.

Each executor has one of each, used under its lock; neither holds the data path between calls.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from .arrays import DeviceArray
from .datapath import DataPath
from .errors import ArrayError, ShapeError
from .results import ResultBuilder
from .spec import Shape, TensorSpec

__all__ = ["AsyncOutputs", "Provided", "SyncOutputs"]

#: A caller's output: (the object passed, the array view validated from it).
Provided = tuple[Any, np.ndarray | DeviceArray]


def check_provided_shape(name: str, arr: np.ndarray | DeviceArray, shape: Shape) -> None:
    """ShapeError when a caller's output array does not have the shape these inputs produce."""
    if arr.shape != shape:
        raise ShapeError(
            f"output {name!r}: the array has shape {tuple(arr.shape)!r}, but these inputs "
            f"produce {shape!r}; allocate it with that shape (prepare() returns every output's "
            "shape)"
        )


def refuse_data_dependent(name: str, shape: Shape) -> None:
    raise ArrayError(
        f"output {name!r} has a data-dependent shape {shape!r}, known only after the run, so it "
        "cannot be written into a caller array; leave it out of outputs="
    )


class SyncOutputs:
    """``infer``: owned buffers and host staging, fetched after the synchronize."""

    synchronous = True
    __slots__ = ("_outputs", "staged")

    def __init__(self, outputs: Mapping[str, TensorSpec]) -> None:
        self._outputs = outputs
        # Outputs to download and fetch from owned buffers, with their byte counts (computed
        # once per call; -1 for a data-dependent output, sized from its final shape).
        self.staged: dict[str, int] = {}

    def start(self, data_path: DataPath) -> None:
        self.staged.clear()

    builder = None  # no per-call result collector (a class attribute: read once per call)

    def address(
        self,
        dp: DataPath,
        name: str,
        shape: Shape,
        provided: Provided | None,
        stream: int,
    ) -> int:
        if provided is not None:
            arr = provided[1]
            if arr.shape != shape:  # checked inline: the call only on a mismatch
                check_provided_shape(name, arr, shape)
            addr = dp.output_array_address(name, arr)
            if addr is not None:
                return addr
        # A numpy output (or none given) goes through an owned buffer and staging.
        nbytes = self.staged[name] = self._outputs[name].nbytes(shape)
        return dp.output_address(name, nbytes)

    def data_dependent(self, dp: DataPath, name: str, shape: Shape, stream: int) -> None:
        self.staged[name] = -1  # in the allocator's owned buffer

    def after_enqueue(self, dp: DataPath, final: Mapping[str, Shape], stream: int) -> None:
        for name, nbytes in self.staged.items():
            if nbytes < 0:
                nbytes = self._outputs[name].nbytes(final[name])
            dp.download(name, nbytes, stream)

    def collect(
        self, dp: DataPath, provided: Mapping[str, Provided], final: Mapping[str, Shape]
    ) -> dict[str, Any]:
        """After the synchronize: every output by name, in engine order."""
        result: dict[str, Any] = {}
        staged = self.staged
        for name, spec in self._outputs.items():
            given = provided.get(name)
            if given is None:
                result[name] = dp.fetch(name, final[name], spec.dtype)
                continue
            obj, arr = given
            if name in staged:  # a numpy array, written through staging
                dp.fetch_into(name, arr)  # type: ignore[arg-type]
            result[name] = obj
        return result


class AsyncOutputs:
    """``infer_async``: per-call device outputs collected into an AsyncResult."""

    synchronous = False
    __slots__ = ("_outputs", "builder", "_late")

    def __init__(self, outputs: Mapping[str, TensorSpec]) -> None:
        self._outputs = outputs
        self.builder: ResultBuilder | None = None
        self._late = False  # a data-dependent output was added after the others

    def start(self, data_path: DataPath) -> None:
        self.builder = data_path.result_builder()
        self._late = False

    def address(
        self,
        dp: DataPath,
        name: str,
        shape: Shape,
        provided: Provided | None,
        stream: int,
    ) -> int:
        builder = self.builder
        assert builder is not None
        if provided is not None:
            obj, arr = provided
            if arr.shape != shape:  # checked inline: the call only on a mismatch
                check_provided_shape(name, arr, shape)
            addr = dp.output_array_address(name, arr)
            if addr is None:
                raise ArrayError(
                    f"output {name!r}: infer_async writes device memory, but a host "
                    f"{type(obj).__name__} was passed; pass a CUDA array, or use infer() for "
                    "numpy outputs"
                )
            builder.outputs[name] = obj
            return addr
        addr, value = dp.async_output(builder, name, shape, self._outputs[name].dtype, stream)
        builder.outputs[name] = value
        return addr

    def data_dependent(self, dp: DataPath, name: str, shape: Shape, stream: int) -> None:
        builder = self.builder
        self._late = True
        assert builder is not None
        builder.outputs[name] = dp.async_copy_output(
            builder, name, shape, self._outputs[name].dtype, stream
        )

    def after_enqueue(self, dp: DataPath, final: Mapping[str, Shape], stream: int) -> None:
        builder = self.builder
        assert builder is not None
        made = builder.outputs
        if self._late:  # back in engine order (the others were added in it)
            builder.outputs = {name: made[name] for name in self._outputs}

    def take(self) -> ResultBuilder:
        builder = self.builder
        assert builder is not None
        self.builder = None
        return builder
