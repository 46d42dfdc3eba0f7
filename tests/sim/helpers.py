"""Helpers for the simulator's own tests."""

from __future__ import annotations

from typing import Any

import numpy as np

from trt_exec.testing import build_engine, simulated_tensorrt
from trt_exec.testing.matrix import releases_with
from trt_exec.testing.network import DEMO_NETWORK, NetworkSpec

# The releases with the named-tensor API (V3) and with the bindings API (V2).
NAMED_VERSIONS = releases_with("v3")
BINDING_VERSIONS = releases_with("v2")


def make_logger(trt: Any) -> Any:
    """An ILogger subclass instance that keeps (severity, msg) pairs in ``.records``."""

    class Capture(trt.ILogger):  # type: ignore[misc]
        def __init__(self) -> None:
            trt.ILogger.__init__(self)
            self.records: list[tuple[int, str]] = []

        def log(self, severity: Any, msg: str) -> None:
            self.records.append((int(severity), msg))

        @property
        def errors(self) -> list[str]:
            return [m for s, m in self.records if s <= 1]

    return Capture()


class Harness:
    """A simulated module, a capturing logger, and an engine of ``spec``."""

    def __init__(self, version: str, spec: NetworkSpec = DEMO_NETWORK, **kw: Any) -> None:
        self.trt = simulated_tensorrt(version, **kw)
        self.logger = make_logger(self.trt)
        self.spec = spec
        self.blob = build_engine(self.trt, spec)
        self.runtime = self.trt.Runtime(self.logger)
        self.engine = self.runtime.deserialize_cuda_engine(self.blob)
        assert self.engine is not None

    @property
    def errors(self) -> list[str]:
        return self.logger.errors


def run_v3(
    trt: Any, engine: Any, ctx: Any, arrays: dict[str, np.ndarray], out_dtypes: dict[str, np.dtype]
) -> dict[str, np.ndarray]:
    """Run with the named-tensor API; data-dependent outputs go through an IOutputAllocator."""
    keep: list[np.ndarray] = []
    results: dict[str, np.ndarray] = {}

    class Alloc(trt.IOutputAllocator):  # type: ignore[misc]
        def __init__(self) -> None:
            trt.IOutputAllocator.__init__(self)
            self.shapes: dict[str, tuple[int, ...]] = {}
            self.buffers: dict[str, np.ndarray] = {}

        def reallocate_output(self, name: str, memory: int, size: int, alignment: int) -> int:
            buf = np.zeros(max(size, 1), np.uint8)
            self.buffers[name] = buf
            return int(buf.ctypes.data)

        def notify_shape(self, name: str, shape: Any) -> None:
            self.shapes[name] = tuple(shape)

    alloc = Alloc()
    for name, a in arrays.items():
        assert ctx.set_input_shape(name, a.shape)
        assert ctx.set_tensor_address(name, a.ctypes.data)
        keep.append(a)
    for i in range(engine.num_io_tensors):
        name = engine.get_tensor_name(i)
        if engine.get_tensor_mode(name) != trt.TensorIOMode.OUTPUT:
            continue
        shape = tuple(ctx.get_tensor_shape(name))
        if -1 in shape:
            assert ctx.set_output_allocator(name, alloc)
        else:
            out = np.zeros(shape, out_dtypes[name])
            results[name] = out
            assert ctx.set_tensor_address(name, out.ctypes.data)
    assert ctx.execute_async_v3(0)
    for name, shape in alloc.shapes.items():
        n = int(np.prod(shape))
        results[name] = (
            alloc.buffers[name][: n * out_dtypes[name].itemsize]
            .view(out_dtypes[name])
            .reshape(shape)
            .copy()
        )
    return results
