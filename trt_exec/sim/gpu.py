"""The simulated TensorRT's GPU mode: engines run as real device work on the given stream.

>>> from trt_exec.testing import simulated_tensorrt
>>> from trt_exec.sim.gpu import enable_gpu
>>> trt = enable_gpu(simulated_tensorrt("10.16.1"))      # doctest: +SKIP

:class:`GpuDevice` is a device plug-in (see :mod:`trt_exec.sim.devices`): every
address is a CUDA device pointer, and ``run`` enqueues the network on ``stream`` without waiting
- elementwise, unary and cast layers as kernels compiled once with NVRTC (through cuda-python),
identity as ``cuMemcpyDtoDAsync``, intermediates in stream-ordered memory
(``cuMemAllocAsync``/``cuMemFreeAsync``). So asynchrony, ordering across streams and CUDA-graph
capture of an enqueue are exercised for real, and results can be compared with numpy
(``plan.evaluate``).

Two exceptions, both as in TensorRT: networks with data-dependent output shapes (``non_zero``)
synchronize the stream and compute on the host, since the size must be known to allocate (the
simulator does the same for networks with shape layers or shape-tensor IO, whose values are read
from host memory and whose host outputs are written there); and
stream 0 (``execute_v2``, synchronous in TensorRT) is synchronized before ``run`` returns.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Mapping
from typing import Any

import numpy as np

from ..errors import TrtExecError
from ._plan import NP_DTYPES, Plan
from ._shape_eval import SHAPE_KINDS
from .devices import Allocate, DeviceError, IOBinding, host_array

__all__ = ["GpuDevice", "enable_gpu", "kernel_source"]

_THREADS = 256
_MAX_BLOCKS = 4096

# numpy dtype -> (storage C type, compute C type)
_CTYPES: dict[str, tuple[str, str]] = {
    "float32": ("float", "float"),
    "float16": ("unsigned short", "float"),  # converted with cvt.f32.f16 / cvt.rn.f16.f32
    "int8": ("signed char", "int"),
    "uint8": ("unsigned char", "unsigned int"),
    "int32": ("int", "int"),
    "int64": ("long long", "long long"),
    "bool": ("unsigned char", "bool"),
}

_PRELUDE = r"""
__device__ __forceinline__ float h2f(unsigned short h) {
    float f; asm("cvt.f32.f16 %0, %1;" : "=f"(f) : "h"(h)); return f; }
__device__ __forceinline__ unsigned short f2h(float f) {
    unsigned short h; asm("cvt.rn.f16.f32 %0, %1;" : "=h"(h) : "f"(f)); return h; }
"""

_EW = {  # ElementWiseOperation name -> expression over x, y (compute type)
    "SUM": "x + y",
    "PROD": "x * y",
    "MAX": "(x != x) ? x : ((y != y) ? y : (x > y ? x : y))",
    "MIN": "(x != x) ? x : ((y != y) ? y : (x < y ? x : y))",
    "SUB": "x - y",
    "POW": "powf(x, y)",
    "AND": "x && y",
    "OR": "x || y",
    "XOR": "x != y",
    "EQUAL": "x == y",
    "GREATER": "x > y",
    "LESS": "x < y",
}
_EW_FLOAT = {"DIV": "x / y", "FLOOR_DIV": "floorf(x / y)"}
_EW_INT = {
    # C++ division truncates (TensorRT's and the simulator's rule); floor division rounds down.
    "DIV": "(y == 0) ? 0 : x / y",
    "FLOOR_DIV": "(y == 0) ? 0 : (x / y - ((x % y != 0) && ((x < 0) != (y < 0))))",
}
_UN_FLOAT = {
    "EXP": "expf(x)",
    "LOG": "logf(x)",
    "SQRT": "sqrtf(x)",
    "RECIP": "1.0f / x",
    "ABS": "fabsf(x)",
    "NEG": "-x",
    "SIN": "sinf(x)",
    "COS": "cosf(x)",
    "TAN": "tanf(x)",
    "SINH": "sinhf(x)",
    "COSH": "coshf(x)",
    "ASIN": "asinf(x)",
    "ACOS": "acosf(x)",
    "ATAN": "atanf(x)",
    "ASINH": "asinhf(x)",
    "ACOSH": "acoshf(x)",
    "ATANH": "atanhf(x)",
    "CEIL": "ceilf(x)",
    "FLOOR": "floorf(x)",
    "ERF": "erff(x)",
    "SIGN": "(x > 0) ? 1.0f : ((x < 0) ? -1.0f : x)",
    "ROUND": "rintf(x)",
    "ISINF": "(x == x) && ((x - x) != (x - x))",
    "ISNAN": "x != x",
}
_UN_INT = {"ABS": "(x < 0) ? -x : x", "NEG": "-x", "SIGN": "(x > 0) - (x < 0)"}
_UN_BOOL = {"NOT": "!x"}


def _load(expr: str, dtype: np.dtype) -> str:
    if dtype.name == "float16":
        return f"h2f({expr})"
    if dtype.name == "bool":
        return f"({expr} != 0)"
    return f"({_CTYPES[dtype.name][1]})({expr})"


def _store(expr: str, dtype: np.dtype) -> str:
    if dtype.name == "float16":
        return f"f2h((float)({expr}))"
    if dtype.name == "bool":
        return f"(unsigned char)(({expr}) != 0)"
    return f"({_CTYPES[dtype.name][0]})({expr})"


def _expression(kind: str, op: str, dtype: np.dtype) -> str:
    is_float = dtype.kind == "f"
    if kind in ("identity", "cast"):
        return "x"
    if kind == "elementwise":
        expr = _EW.get(op) or (_EW_FLOAT if is_float else _EW_INT).get(op)
    elif kind == "unary":
        table = _UN_FLOAT if is_float else _UN_BOOL if dtype.name == "bool" else _UN_INT
        expr = table.get(op)
    else:
        expr = None
    if expr is None:
        raise DeviceError(f"the GPU device has no kernel for {kind} {op} on {dtype.name}")
    return expr


def kernel_source(
    kind: str, op: str, in_dtypes: tuple[np.dtype, ...], out_dtype: np.dtype, rank: int
) -> str:
    """CUDA C++ for one layer: a grid-stride loop over the output, broadcasting each input by
    per-dimension element strides (0 on broadcast dimensions). Pure; exposed for tests."""
    names = "ab"[: len(in_dtypes)]
    expr = _expression(kind, op, in_dtypes[0])
    params = [f"{_CTYPES[out_dtype.name][0]}* __restrict__ out"]
    params += [f"const {_CTYPES[dt.name][0]}* __restrict__ {n}" for n, dt in zip(names, in_dtypes)]
    params.append("long long n")
    params += [f"long long d{i}" for i in range(rank)]
    params += [f"long long {n}s{i}" for n in names for i in range(rank)]
    body = ["long long r = i, c;"] + [f"long long i{n} = 0;" for n in names]
    for i in reversed(range(rank)):
        body.append(f"c = r % d{i}; r /= d{i};")
        body += [f"i{n} += c * {n}s{i};" for n in names]
    x = _load("a[ia]", in_dtypes[0])
    body.append(f"auto x = {x};")
    if len(names) == 2:
        body.append(f"auto y = {_load('b[ib]', in_dtypes[1])};")
    body.append(f"out[i] = {_store(expr, out_dtype)};")
    inner = "\n        ".join(body)
    return (
        _PRELUDE
        + f'extern "C" __global__ void k({", ".join(params)}) {{\n'
        + "    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < n;\n"
        + "         i += (long long)gridDim.x * blockDim.x) {\n"
        + f"        {inner}\n    }}\n}}\n"
    )


def _strides(shape: tuple[int, ...], out: tuple[int, ...]) -> list[int]:
    """Element strides of a C-contiguous ``shape`` broadcast to ``out`` (0 where broadcast)."""
    strides = [0] * len(shape)
    acc = 1
    for i in reversed(range(len(shape))):
        strides[i] = 0 if shape[i] == 1 and out[i] != 1 else acc
        acc *= shape[i]
    return strides


class GpuDevice:
    """Runs simulated engines on CUDA device ``device`` (see the module docstring)."""

    def __init__(self, device: int = 0) -> None:
        self.device = device
        self._kernels: dict[tuple[Any, ...], Any] = {}
        self._lock = threading.Lock()
        self.launches = 0  # kernels and copies enqueued (for tests)
        self.host_fallbacks = 0

    # -- compilation --------------------------------------------------------------------------
    def _arch(self) -> str:
        from ..cuda.driver import check, driver

        drv = driver()
        dev = check("cuDeviceGet", drv.cuDeviceGet(self.device))
        attr = drv.CUdevice_attribute
        major = check(
            "cuDeviceGetAttribute",
            drv.cuDeviceGetAttribute(attr.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, dev),
        )
        minor = check(
            "cuDeviceGetAttribute",
            drv.cuDeviceGetAttribute(attr.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, dev),
        )
        return f"sm_{major}{minor}"

    def _kernel(self, key: tuple[Any, ...]) -> Any:
        fn = self._kernels.get(key)
        if fn is not None:
            return fn
        with self._lock:
            fn = self._kernels.get(key)
            if fn is None:
                fn = self._compile(kernel_source(*key))
                self._kernels[key] = fn
        return fn

    def _compile(self, source: str) -> Any:
        from ..cuda.driver import check, driver

        try:
            from cuda.bindings import nvrtc
        except ImportError as exc:
            raise DeviceError(
                f"the GPU device needs cuda-python's NVRTC bindings ({exc})"
            ) from None

        def ok(call: str, result: Any) -> Any:
            if int(result[0]) != 0:
                raise DeviceError(f"{call} failed with {getattr(result[0], 'name', result[0])}")
            return result[1] if len(result) == 2 else None

        prog = ok(
            "nvrtcCreateProgram",
            nvrtc.nvrtcCreateProgram(source.encode(), b"simtrt_layer.cu", 0, [], []),
        )
        try:
            opts = [f"--gpu-architecture={self._arch()}".encode(), b"--std=c++17"]
            err = nvrtc.nvrtcCompileProgram(prog, len(opts), opts)[0]
            if int(err) != 0:
                size = ok("nvrtcGetProgramLogSize", nvrtc.nvrtcGetProgramLogSize(prog))
                log = b" " * size
                nvrtc.nvrtcGetProgramLog(prog, log)
                raise DeviceError(
                    f"NVRTC could not compile a layer kernel: "
                    f"{log.decode(errors='replace')}\n{source}"
                )
            size = ok("nvrtcGetCUBINSize", nvrtc.nvrtcGetCUBINSize(prog))
            cubin = b" " * size
            ok("nvrtcGetCUBIN", nvrtc.nvrtcGetCUBIN(prog, cubin))
        finally:
            nvrtc.nvrtcDestroyProgram(prog)
        drv = driver()
        module = check("cuModuleLoadData", drv.cuModuleLoadData(cubin))
        return check("cuModuleGetFunction", drv.cuModuleGetFunction(module, b"k"))

    # -- the plug-in ------------------------------------------------------------------------
    def run(self, plan: Plan, io: Mapping[str, IOBinding], stream: int, allocate: Allocate) -> None:
        from ..cuda.driver import check, context_for, driver

        try:
            drv = driver()
            context_for(self.device)
            if plan.data_dependent or plan.shape_inputs or plan.host_outputs or _shape_layers(plan):
                self._run_on_host(plan, io, stream, allocate)
                return
            self._run_on_device(drv, plan, io, stream)
            if stream == 0:
                check("cuStreamSynchronize", drv.cuStreamSynchronize(0))
        except TrtExecError as exc:
            raise DeviceError(str(exc)) from exc

    def _run_on_device(
        self, drv: Any, plan: Plan, io: Mapping[str, IOBinding], stream: int
    ) -> None:
        from ..cuda.driver import check

        values: dict[str, IOBinding] = {t.name: io[t.name] for t in plan.inputs}
        outputs = {t.name for t in plan.outputs}
        temps: list[int] = []
        try:
            for layer in plan.layers:
                args = [values[i] for i in layer.inputs]
                shape = layer.out_shape([a[1] for a in args])
                dtype = NP_DTYPES[layer.dtype]
                if layer.output in outputs:
                    ptr, want, _ = io[layer.output]
                    if tuple(want) != tuple(shape):
                        raise DeviceError(f"{layer.output}: shape {shape} != bound {want}")
                else:
                    nbytes = max(math.prod(shape) * dtype.itemsize, 1)
                    ptr = int(check("cuMemAllocAsync", drv.cuMemAllocAsync(nbytes, stream)))
                    temps.append(ptr)
                self._layer(drv, layer.kind, layer.op, args, (ptr, shape, dtype), stream)
                values[layer.output] = (ptr, shape, dtype)
            for t in plan.outputs:  # a network output that is an input, unchanged
                if t.name in values and t.name in io and values[t.name][0] != io[t.name][0]:
                    src, shape, dtype = values[t.name]
                    n = math.prod(shape) * dtype.itemsize
                    if n:
                        check(
                            "cuMemcpyDtoDAsync",
                            drv.cuMemcpyDtoDAsync(io[t.name][0], src, n, stream),
                        )
        finally:
            for ptr in temps:
                drv.cuMemFreeAsync(ptr, stream)

    def _layer(
        self,
        drv: Any,
        kind: str,
        op_value: int,
        args: list[IOBinding],
        out: IOBinding,
        stream: int,
    ) -> None:
        from ..cuda.driver import check
        from ._plan import EW_NAMES, UN_NAMES

        ptr, shape, dtype = out
        n = math.prod(shape)
        if n == 0:
            return
        if kind in ("identity", "cast") and args[0][2] == dtype:
            check(
                "cuMemcpyDtoDAsync",
                drv.cuMemcpyDtoDAsync(ptr, args[0][0], n * dtype.itemsize, stream),
            )
            self.launches += 1
            return
        op = (
            EW_NAMES[op_value]
            if kind == "elementwise"
            else UN_NAMES[op_value]
            if kind == "unary"
            else ""
        )
        if kind not in ("identity", "cast", "elementwise", "unary"):
            raise DeviceError(f"the GPU device cannot run a {kind} layer")
        rank = len(shape)
        fn = self._kernel((kind, op, tuple(a[2] for a in args), dtype, rank))
        values = [ptr, *(a[0] for a in args), n, *shape]
        for a in args:
            values += _strides(tuple(a[1]), tuple(shape))
        packed = np.array(values, dtype=np.uint64)
        params = np.arange(len(values), dtype=np.uint64) * 8 + np.uint64(packed.ctypes.data)
        blocks = min((n + _THREADS - 1) // _THREADS, _MAX_BLOCKS)
        check(
            "cuLaunchKernel",
            drv.cuLaunchKernel(fn, blocks, 1, 1, _THREADS, 1, 1, 0, stream, params.ctypes.data, 0),
        )
        self.launches += 1

    def _run_on_host(
        self, plan: Plan, io: Mapping[str, IOBinding], stream: int, allocate: Allocate
    ) -> None:
        # The size of a data-dependent output is known only from the values: wait for the
        # inputs, compute on the host, then allocate and upload (TensorRT synchronizes too).
        from ..cuda.driver import check, driver

        drv = driver()
        self.host_fallbacks += 1
        check("cuStreamSynchronize", drv.cuStreamSynchronize(stream))
        arrays = {}
        for t in plan.inputs:
            ptr, shape, dtype = io[t.name]
            if t.name in plan.shape_inputs:  # host memory (TensorLocation.HOST)
                arrays[t.name] = host_array(ptr, shape, dtype).copy()
                continue
            arr = np.empty(shape, dtype)
            if arr.nbytes:
                check("cuMemcpyDtoH", drv.cuMemcpyDtoH(arr.ctypes.data, ptr, arr.nbytes))
            arrays[t.name] = arr
        for name, value in plan.evaluate(arrays).items():
            value = np.ascontiguousarray(value)
            ptr, shape, dtype = io[name]
            if name in plan.data_dependent:
                ptr = allocate(name, value.shape)
            elif value.shape != tuple(shape):
                raise DeviceError(f"{name}: computed shape {value.shape} != expected {shape}")
            if name in plan.host_outputs:  # TensorLocation.HOST: written to host memory
                host_array(ptr, tuple(shape), dtype)[...] = value
                continue
            if value.nbytes:
                check("cuMemcpyHtoD", drv.cuMemcpyHtoD(ptr, value.ctypes.data, value.nbytes))


def _shape_layers(plan: Plan) -> bool:
    """Shape layers run on the host: their shapes come from host values (a reshape alone would be
    a device copy, but the simulator keeps one path for them)."""
    return any(la.kind in SHAPE_KINDS for la in plan.layers)


def enable_gpu(trt: Any, device: int = 0) -> Any:
    """Switch a simulated TensorRT module to GPU mode on CUDA ``device``; returns it.

    Sets ``trt._sim.device = GpuDevice(device)`` and ``trt._sim.gpu = True``, so
    :func:`trt_exec.load` gives executors the CUDA data path. Raises
    :class:`~trt_exec.errors.CudaUnavailableError` now if there is no usable GPU.
    """
    from ..cuda.driver import check_device, context_for

    sim = getattr(trt, "_sim", None)
    if sim is None:
        raise TypeError(f"{trt!r} is not a simulated TensorRT module (it has no _sim control)")
    context_for(check_device(device))
    sim.device = GpuDevice(device)
    sim.gpu = True
    return trt
