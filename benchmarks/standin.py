"""A light GPU stand-in engine: the simulator's identity network whose enqueue is one copy.

The simulator's GPU mode (:class:`trt_exec.sim.gpu.GpuDevice`) spends about 15 µs of Python per
``execute_async_v3`` (validation, the plan walk, the device plug-in). That cost sits inside
every contender and hides the overhead being measured, so :func:`install` replaces three methods
of one simulated module's ``IExecutionContext`` class (the class is per module: other modules are
untouched) with what a tiny real engine costs on the host:

- ``execute_async_v3(stream)``: one ``cuMemcpyDtoDAsync`` of ``x`` into ``y`` (the identity the
  benchmark network computes) and ``return True``. An ``IOutputAllocator`` set for ``y`` (as
  Polygraphy sets for every output) is asked for the memory and told the shape, as TensorRT does
  (``IOutputAllocator`` docs: ``reallocateOutputAsync`` then ``notifyShape``).
- ``set_tensor_address(name, ptr)``: records the address (no validation).
- ``set_input_shape(name, shape)``: a repeated tuple shape returns at once; anything else goes to
  the simulator's own method (validation, output-shape inference).

This is a benchmark fixture, not a TensorRT model: nothing here claims real TensorRT's timing.
The simulator's own GPU mode stays available (``python -m benchmarks --mode gpu``).
"""

from __future__ import annotations

import math
from typing import Any

__all__ = ["install"]


def install(trt: Any, src: str = "x", dst: str = "y", itemsize: int = 4) -> Any:
    """Make ``trt``'s execution contexts enqueue ``dst = src`` as one device-to-device copy."""
    from trt_exec.cuda.driver import driver

    copy = driver().cuMemcpyDtoDAsync
    cls = trt.IExecutionContext
    sim_set_shape = cls.set_input_shape
    dims = trt.Dims
    prod = math.prod

    def set_tensor_address(self: Any, name: str, memory: int) -> bool:
        self._addr[name] = memory
        return True

    def set_input_shape(self: Any, name: str, shape: Any) -> bool:
        if type(shape) is tuple and self._shapes.get(name) == shape:
            return True
        return bool(sim_set_shape(self, name, shape))

    def execute_async_v3(self: Any, stream_handle: int) -> bool:
        shape = self._shapes[src]
        n = prod(shape) * itemsize
        a = self._addr
        out = a.get(dst)
        alloc = self._alloc.get(dst)
        if alloc is not None:
            out = alloc.reallocate_output_async(dst, out or 0, n, 256, stream_handle)
            alloc.notify_shape(dst, dims(shape))
        return not copy(out, a[src], n, stream_handle)[0]

    cls.set_tensor_address = set_tensor_address
    cls.set_input_shape = set_input_shape
    cls.execute_async_v3 = execute_async_v3
    return trt
