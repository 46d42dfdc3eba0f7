"""Simulated execution: ``IOutputAllocator`` and ``IExecutionContext`` with its helpers."""

from __future__ import annotations

import math
import sys
from typing import Any

import numpy as np

from . import _releases as R
from ._base import _ALIGN, _api_error, _dims_str, _Sim
from ._plan import (
    ShapeMismatch,
)
from ._shape_layers import check_values, context_values
from ._shape_layers import set_shape_input as _set_shape_input
from ._types import as_shape
from .devices import DeviceError


class IOutputAllocatorImpl(_Sim):
    """``trt.IOutputAllocator`` (8.5+): users subclass it and call ``IOutputAllocator.__init__``.

    In 8.x the base class carries pure-virtual ``reallocate_output`` and ``notify_shape`` (they
    raise if not overridden); from 10.0 it defines no Python methods and TensorRT looks up
    ``reallocate_output_async`` (preferred) or ``reallocate_output``, and ``notify_shape``, on the
    subclass (API manifests). An exception raised by a callback is printed and counts as a
    nullptr result, as in the bindings' trampoline.
    """

    _PUBLIC = "IOutputAllocator"
    _RULES = {"reallocate_output": R.PRE10, "notify_shape": R.PRE10}

    def __init__(self) -> None:
        self._tramp_init = True

    def reallocate_output(self, tensor_name: str, memory: int, size: int, alignment: int) -> int:
        raise RuntimeError(
            'Tried to call pure virtual function "IOutputAllocator::reallocateOutput"'
        )

    def notify_shape(self, tensor_name: str, shape: Any) -> None:
        raise RuntimeError('Tried to call pure virtual function "IOutputAllocator::notifyShape"')


_EMPTY: dict[str, Any] = {}


class IExecutionContextImpl(_Sim):
    """``trt.IExecutionContext``. Setters return False and log an ERROR on bad input."""

    _PUBLIC = "IExecutionContext"
    _RULES = {
        "set_binding_shape": R.BINDINGS,
        "set_shape_input": R.BINDINGS,
        "get_binding_shape": R.BINDINGS,
        "execute_async_v2": R.BINDINGS,
        "all_shape_inputs_specified": R.PRE11,
        "set_input_shape": R.NAMED,
        "set_input_consumed_event": R.NAMED,
        "get_input_consumed_event": R.NAMED,
        "get_tensor_shape": R.NAMED,
        "set_tensor_address": R.NAMED,
        "get_tensor_address": R.NAMED,
        "execute_async_v3": R.NAMED,
        "set_output_allocator": R.NAMED,
        "get_output_allocator": R.NAMED,
        "get_max_output_size": R.NAMED,
        "get_tensor_strides": R.NAMED,
        "infer_shapes": R.NAMED,
        "set_device_memory": R.V10_1,
        "update_device_memory_size_for_shapes": R.V10,
        "set_all_tensors_debug_state": R.V10,
        "set_debug_listener": R.V10,
        "get_debug_listener": R.V10,
    }

    def __init__(self, engine: Any, needs_memory: bool) -> None:
        self._engine = engine
        self._m = engine._m
        self._plan = engine._plan
        self._logger = engine._logger
        self._profile = 0
        # allInputDimensionsSpecified is "trivially true if network has no dynamically shaped
        # input tensors" (NvInferRuntime.h): a fixed input's shape is known from the start.
        self._shapes: dict[str, tuple[int, ...]] = dict(self._m.fixed_inputs)
        self._addr: dict[str, int] = {}
        self._alloc: dict[str, Any] = {}
        self._oshapes: dict[str, tuple[int, ...]] | None = None
        self._dd_shapes: dict[str, tuple[int, ...]] = {}
        self._needs_memory = needs_memory
        self._name = ""
        self.debug_sync = False
        v = self._ctl._rel
        self._async_alloc = v.flavor == "rtx" or v.vt >= (10,)

    def _err(self, func: str, detail: str) -> bool:
        _api_error(self._ctl, self._logger, "IExecutionContext", func, detail)
        return False

    @property
    def engine(self) -> Any:
        return self._engine

    @property
    def error_recorder(self) -> Any:
        return self.__dict__.get("_recorder")

    @error_recorder.setter
    def error_recorder(self, value: Any) -> None:
        self.__dict__["_recorder"] = value

    @property
    def profiler(self) -> Any:
        return self.__dict__.get("_profiler")

    @profiler.setter
    def profiler(self, value: Any) -> None:
        self.__dict__["_profiler"] = value

    def set_input_consumed_event(self, event: int) -> bool:
        self.__dict__["_consumed"] = int(event)
        return True

    def get_input_consumed_event(self) -> int:
        return int(self.__dict__.get("_consumed", 0))

    @property
    def name(self) -> str:
        return self._name

    @name.setter
    def name(self, value: str) -> None:
        self._name = str(value)

    # -- profiles -------------------------------------------------------------------------
    def _get_profile(self) -> int:
        return self._profile

    def _set_profile_sync(self, index: int) -> None:
        self._switch("setOptimizationProfile", index)

    active_optimization_profile = property(_get_profile)

    def _switch(self, func: str, index: int) -> bool:
        n = self._m.n_prof
        if not 0 <= int(index) < n:
            return self._err(
                func,
                f"Parameter check failed, condition: profileIndex {index} "
                f">= 0 && profileIndex < {n}",
            )
        if int(index) != self._profile:
            self._profile = int(index)
            self._shapes = dict(self._m.fixed_inputs)
            self._oshapes = None
            self._dd_shapes = {}
            self.__dict__.pop("_shape_values", None)
        self._dd_shapes = {}
        return True

    def set_optimization_profile_async(self, profile_index: int, stream_handle: int) -> bool:
        """Selecting another profile forgets the input shapes set so far."""
        ctl = self._ctl
        if ctl._failures and ctl._take("set_optimization_profile_async", self._logger):
            return False
        return self._switch("setOptimizationProfileAsync", profile_index)

    # -- device memory --------------------------------------------------------------------
    def _set_device_memory(self, memory: int) -> None:
        self._needs_memory = not memory

    device_memory = property(None, _set_device_memory)

    def set_device_memory(self, memory: int, size: int) -> None:
        need = self._m.mem_sizes[self._profile]
        if size < need:
            self._err(
                "setDeviceMemoryV2", f"Parameter check failed, condition: size {size} >= {need}"
            )
            return
        self._needs_memory = not memory

    # -- debug tensors (10.0+, RTX: 10.0.1 manifest) --------------------------------------
    # TensorRT calls the listener only for tensors marked with INetworkDefinition.mark_debug at
    # build time; the simulator has no mark_debug, so its engines have no debug tensors and the
    # listener is never called.
    def set_all_tensors_debug_state(self, flag: bool) -> bool:
        """Turn the debug state of every debug tensor on or off; True."""
        self.__dict__["_debug_all"] = bool(flag)
        return True

    def set_debug_listener(self, listener: Any) -> bool:
        """Set (None: clear) the IDebugListener; True."""
        if listener is not None and not isinstance(listener, self._C["IDebugListener"]):
            raise TypeError(
                "set_debug_listener(): incompatible function arguments. The following argument "
                "types are supported:\n    1. (self: IExecutionContext, listener: IDebugListener)"
                f" -> bool\n\nInvoked with: <IExecutionContext object>, {listener!r}"
            )
        self.__dict__["_debug_listener"] = listener
        return True

    def get_debug_listener(self) -> Any:
        return self.__dict__.get("_debug_listener")

    def update_device_memory_size_for_shapes(self) -> int:
        return int(self._m.mem_sizes[self._profile])

    # -- shapes ---------------------------------------------------------------------------
    def _check_shape(self, func: str, name: str, dims: tuple[int, ...]) -> bool:
        m = self._m
        if name not in m.inputs:
            if name in m.outputs:
                return self._err(
                    func,
                    f"Parameter check failed, condition: {name} is an input "
                    f"tensor; cannot set the shape of output tensor {name}",
                )
            return self._err(
                func, f"Parameter check failed, condition: tensor {name!r} not found in engine"
            )
        engine_dims = m.shape[name]
        if len(dims) != len(engine_dims):
            return self._err(
                func,
                f"Parameter check failed, condition: engineDims.nbDims == "
                f"dimensions.nbDims. {name}: rank {len(dims)} given, expected "
                f"{len(engine_dims)}",
            )
        lo, hi = m.bounds[self._profile][name]
        for i, d in enumerate(dims):
            if d < 0:
                return self._err(
                    func,
                    f"Parameter check failed, condition: all dimensions of "
                    f"{name} are non-negative, got {_dims_str(dims)}",
                )
            if engine_dims[i] != -1 and d != engine_dims[i]:
                return self._err(
                    func,
                    f"Parameter check failed, condition: engineDims.d[{i}] "
                    f"== dims.d[{i}]. Static dimension mismatch while setting input "
                    f"shape for {name}. Set dimensions are {_dims_str(dims)}. "
                    f"Expected dimensions are {_dims_str(engine_dims)}.",
                )
            if not lo[i] <= d <= hi[i]:
                return self._err(
                    func,
                    f"Parameter check failed, condition: satisfyProfile "
                    f"Runtime dimension does not satisfy any optimization profile. "
                    f"{name}: dimension {i} is {d}, profile {self._profile} allows "
                    f"[{lo[i]}, {hi[i]}]",
                )
        return True

    def set_input_shape(self, name: str, shape: Any) -> bool:
        ctl = self._ctl
        if ctl._failures and ctl._take("set_input_shape", self._logger):
            return False
        dims = as_shape(shape)
        if not self._check_shape("setInputShape", name, dims):
            return False
        self._shapes[name] = dims
        self._oshapes = None
        self._dd_shapes = {}
        return True

    def set_shape_input(self, binding: int, shape: Any) -> bool:
        """8.x: the values of a shape-tensor input binding (``_shape_layers.set_shape_input``)."""
        return _set_shape_input(self, binding, shape)

    def set_binding_shape(self, binding: int, shape: Any) -> bool:
        """8.x: ``binding`` must be an input binding of the active profile's slots."""
        ctl = self._ctl
        if ctl._failures and ctl._take("set_binding_shape", self._logger):
            return False
        m = self._m
        binding = int(binding)
        if not 0 <= binding < len(m.binding_names):
            return self._err(
                "setBindingDimensions",
                f"Parameter check failed, condition: "
                f"bindingIndex {binding} in [0, {len(m.binding_names)})",
            )
        if binding // m.nio != self._profile:
            return self._err(
                "setBindingDimensions",
                f"Parameter check failed, condition: "
                f"binding {binding} belongs to the active profile "
                f"{self._profile} (bindings [{self._profile * m.nio}, "
                f"{(self._profile + 1) * m.nio}))",
            )
        name = m.names[binding % m.nio]
        dims = as_shape(shape)
        if not self._check_shape("setBindingDimensions", name, dims):
            return False
        self._shapes[name] = dims
        self._oshapes = None
        self._dd_shapes = {}
        return True

    def _input_shapes(self) -> dict[str, tuple[int, ...]]:
        """The shapes set, plus the shapes of inputs without a dynamic dimension, which need no
        set_input_shape ("trivially true if network has no dynamically shaped input tensors",
        allInputDimensionsSpecified, NvInferRuntime.h)."""
        m = self._m
        if len(self._shapes) == m.n_in:
            return self._shapes
        static = {n: m.shape[n] for n in m.in_names if -1 not in m.shape[n]}
        return {**static, **self._shapes}

    def _output_shapes(self) -> dict[str, tuple[int, ...]] | None:
        if self._oshapes is None:
            shapes = self._input_shapes()
            if len(shapes) != self._m.n_in:
                return None
            values = context_values(self) if self._m.shape_inputs else None
            try:
                out = self._plan.infer(shapes, values=values)
            except ShapeMismatch as exc:
                self._err("inferShapes", f"shape inference failed: {exc}")
                return None
            if values is not None:
                return dict(out)  # values are read from host memory each time: not cached
            self._oshapes = out
        return self._oshapes

    def _shape(self, name: str) -> Any:
        m = self._m
        Dims = self._C["Dims"]
        if name in m.inputs:
            return Dims(self._shapes.get(name, m.shape[name]))
        if name in self._dd_shapes:
            return Dims(self._dd_shapes[name])
        shapes = self._output_shapes()
        return Dims(shapes[name] if shapes is not None else m.shape[name])

    def get_tensor_shape(self, name: str) -> Any:
        """Inputs: -1 dims until set. Outputs: computed once every input shape is set; -1 for
        data-dependent dims (until an execution reports them)."""
        if name not in self._m.index:
            self._err("getTensorShape", f"tensor {name!r} not found")
            d = self._C["Dims"](())
            d._d = None
            return d
        return self._shape(name)

    def get_binding_shape(self, binding: int) -> Any:
        m = self._m
        if not 0 <= binding < len(m.binding_names):
            self._err("getBindingDimensions", f"bindingIndex {binding} out of range")
            d = self._C["Dims"](())
            d._d = None
            return d
        return self._shape(m.names[binding % m.nio])

    def get_tensor_strides(self, name: str) -> Any:
        shape = tuple(self._shape(name))
        strides, acc = [], 1
        for d in reversed(shape):
            strides.append(acc)
            acc *= max(d, 1)
        return self._C["Dims"](tuple(reversed(strides)))

    @property
    def all_binding_shapes_specified(self) -> bool:
        """True once every input has a shape; inputs without a dynamic dimension count from the
        start (``allInputDimensionsSpecified``, NvInferRuntime.h)."""
        return bool(len(self._input_shapes()) == self._m.n_in)

    @property
    def all_shape_inputs_specified(self) -> bool:
        return True

    def infer_shapes(self) -> list[str]:
        """Names of dynamic inputs whose shape is still unknown ([] when all are known; a fixed
        input never is missing, as ``inferShapes`` reports only unspecified inputs); RuntimeError
        ("Error while inferring shapes.") when the set shapes are inconsistent."""
        missing = [n for n in self._m.in_names if n not in self._shapes]
        if missing:
            return missing
        if self._output_shapes() is None:
            raise RuntimeError("Error while inferring shapes.")
        return []

    # -- addresses and allocators ---------------------------------------------------------
    def set_tensor_address(self, name: str, memory: int) -> bool:
        """The address must be aligned to the element size; 0 unsets it."""
        ctl = self._ctl
        if ctl._failures and ctl._take("set_tensor_address", self._logger):
            return False
        m = self._m
        if name not in m.index:
            return self._err(
                "setTensorAddress",
                f"Parameter check failed, condition: tensor {name!r} not found in engine",
            )
        memory = int(memory)
        if memory % m.np_dtype[name].itemsize:
            return self._err(
                "setTensorAddress",
                f"Parameter check failed, condition: address "
                f"{memory:#x} of {name} is aligned to its element size "
                f"{m.np_dtype[name].itemsize}",
            )
        self._addr[name] = memory
        return True

    def get_tensor_address(self, name: str) -> int:
        return self._addr.get(name, 0)

    def set_output_allocator(self, name: str, output_allocator: Any) -> bool:
        if name not in self._m.outputs:
            return self._err(
                "setOutputAllocator",
                f"Parameter check failed, condition: {name!r} is an output tensor",
            )
        if output_allocator is None:
            self._alloc.pop(name, None)
        else:
            self._alloc[name] = output_allocator
        return True

    def get_output_allocator(self, name: str) -> Any:
        return self._alloc.get(name)

    def get_max_output_size(self, name: str) -> int:
        """Upper bound in bytes of a data-dependent output over the active profile."""
        m = self._m
        if name not in m.outputs:
            self._err("getMaxOutputSize", f"{name!r} is not an output")
            return 0
        maxes = {n: b[1] for n, b in m.bounds[self._profile].items()}
        shapes = self._plan.infer(maxes, upper_bound=True)
        return int(math.prod(shapes[name]) * m.np_dtype[name].itemsize)

    # -- execution ------------------------------------------------------------------------
    def _enqueue(self, func: str, addr: dict[str, int], stream: int, use_alloc: bool) -> bool:
        m = self._m
        if self._needs_memory:
            return self._err(
                func,
                "Parameter check failed, condition: device memory was set "
                "(the context was created without device memory)",
            )
        shapes = self._input_shapes()
        values = context_values(self) if m.shape_inputs else None
        if values is not None and not check_values(self, func, values):
            return False
        for name in m.in_names:
            if name in m.shape_inputs:
                continue
            if name not in shapes:
                return self._err(
                    func,
                    f"Parameter check failed, condition: "
                    f"allInputDimensionsSpecified. Input shape of {name} is not "
                    f"specified",
                )
            if not addr.get(name) and 0 not in shapes[name]:
                return self._err(
                    func,
                    f"Parameter check failed, condition: address of input "
                    f"tensor {name} is set (non-null)",
                )
        oshapes = self._output_shapes()
        if oshapes is None:
            return False
        io: dict[str, tuple[int, tuple[int, ...], np.dtype]] = {}
        npd = m.np_dtype
        held: list[np.ndarray] = []  # the copies of shape values, alive through the run
        for name in m.in_names:
            if values is not None and name in m.shape_inputs:
                # TensorRT copies shape values when the enqueue starts (setTensorAddress docs):
                # the device reads this host copy, in host and GPU mode alike.
                copy = np.array(values[name], npd[name]).reshape(shapes[name])
                held.append(copy)
                io[name] = (copy.ctypes.data, shapes[name], npd[name])
                continue
            io[name] = (addr[name], shapes[name], npd[name])
        allocs = self._alloc if use_alloc else _EMPTY
        for name in m.out_names:
            a = addr.get(name, 0)
            s = oshapes[name]
            if name in m.dd:
                if name not in allocs and not a:
                    return self._err(
                        func,
                        f"Parameter check failed, condition: data-dependent "
                        f"output {name} has an IOutputAllocator or an address",
                    )
            elif not a and name not in allocs and 0 not in s:
                return self._err(
                    func,
                    f"Parameter check failed, condition: address of output "
                    f"tensor {name} is set (non-null)",
                )
            io[name] = (a, s, npd[name])
        notes: list[tuple[Any, str, tuple[int, ...]]] = []

        def allocate(name: str, shape: tuple[int, ...]) -> int:
            size = math.prod(shape) * npd[name].itemsize
            alloc = allocs.get(name)
            if alloc is None:
                cap = self.get_max_output_size(name)
                if size > cap:
                    raise DeviceError(f"output {name} needs {size} bytes > {cap}")
                self._dd_shapes[name] = tuple(shape)
                return io[name][0]
            ptr = _call_allocator(self, alloc, name, io[name][0], size, stream)
            if not ptr and size:
                raise DeviceError(f"IOutputAllocator for {name} returned nullptr for {size} bytes")
            notes.append((alloc, name, tuple(shape)))
            self._dd_shapes[name] = tuple(shape)
            return ptr

        # Static-shape outputs with an allocator are placed through it too.
        for name in m.out_names:
            if name not in m.dd and name in allocs:
                io[name] = (allocate(name, io[name][1]), io[name][1], npd[name])
        try:
            self._ctl.device.run(self._plan, io, stream, allocate)
        except DeviceError as exc:
            return self._err(func, f"enqueue failed: {exc}")
        for alloc, name, shape in notes:
            _notify(alloc, name, self._C["Dims"](shape))
        return True

    def execute_async_v3(self, stream_handle: int) -> bool:
        ctl = self._ctl
        if ctl._failures and ctl._take("execute_async_v3", self._logger):
            return False
        return self._enqueue("enqueueV3", self._addr, int(stream_handle), True)

    def _bindings_to_addr(self, func: str, bindings: Any) -> dict[str, int] | None:
        m = self._m
        v = self._ctl._rel
        bindings = list(bindings)
        per_io = not (v.flavor == "tensorrt" and v.vt < (10,))
        want = m.nio if per_io else len(m.binding_names)
        if len(bindings) != want:
            self._err(
                func,
                f"Parameter check failed, condition: bindings has {want} pointers "
                f"({'one per IO tensor' if per_io else 'num_bindings'}), got "
                f"{len(bindings)}",
            )
            return None
        base = 0 if per_io else self._profile * m.nio
        addr = {}
        for i, name in enumerate(m.names):
            ptr = int(bindings[base + i])
            allocated = self._async_alloc and name in self._alloc
            if (
                not ptr
                and not allocated
                and 0 not in self._known_shape(name)
                and name not in m.shape_inputs
            ):
                self._err(
                    func,
                    f"Parameter check failed, condition: bindings[{base + i}] != nullptr ({name})",
                )
                return None
            addr[name] = ptr
        return addr

    def _known_shape(self, name: str) -> tuple[int, ...]:
        if name in self._input_shapes():
            return self._input_shapes()[name]
        return (self._output_shapes() or {}).get(name, (1,))

    def execute_async_v2(
        self, bindings: Any, stream_handle: int, input_consumed: Any = None
    ) -> bool:
        """8.x: ``len(bindings) == num_bindings``; the active profile's slots are used."""
        ctl = self._ctl
        if ctl._failures and ctl._take("execute_async_v2", self._logger):
            return False
        if self._m.dd:
            return self._err("enqueueV2", "data-dependent output shapes need enqueueV3")
        addr = self._bindings_to_addr("enqueueV2", bindings)
        return addr is not None and self._enqueue("enqueueV2", addr, int(stream_handle), False)

    def execute_v2(self, bindings: Any) -> bool:
        """Synchronous. 8.x: num_bindings pointers; 10.x+: one per IO tensor, get_tensor_name
        order.

        Output allocators: through 8.6 the allocator is documented only as a "Callback from
        ExecutionContext::enqueueV3()" (NvInferRuntime.h, IOutputAllocator and
        setOutputAllocator), so ``execute_v2`` ignores it and an engine with a data-dependent
        output fails here. From 10.0 (and on TensorRT-RTX) ``execute_v2`` calls the allocators
        set with ``set_output_allocator``, the binding's pointer being the current memory: NVIDIA's
        ``samples/python/dds_faster_rcnn/infer.py`` (OSS 10.9 release, README: TensorRT >= 10.8)
        sets an allocator per output, calls ``execute_v2(allocations)`` and then reads the shapes
        and pointers the allocator was given. The 10.0-11.1 headers say nothing of executeV2 and
        allocators; the simulator applies the sample's behaviour from 10.0, with the named-tensor
        ``execute_v2``.
        """
        ctl = self._ctl
        if ctl._failures and ctl._take("execute_v2", self._logger):
            return False
        if self._m.dd and not self._async_alloc:
            return self._err("executeV2", "data-dependent output shapes need enqueueV3")
        addr = self._bindings_to_addr("executeV2", bindings)
        return addr is not None and self._enqueue("executeV2", addr, 0, self._async_alloc)


def _call_allocator(ctx: Any, alloc: Any, name: str, current: int, size: int, stream: int) -> int:
    cls = type(alloc)
    try:
        if ctx._async_alloc and hasattr(cls, "reallocate_output_async"):
            result = alloc.reallocate_output_async(name, current, size, _ALIGN, stream)
        elif hasattr(cls, "reallocate_output"):
            result = alloc.reallocate_output(name, current, size, _ALIGN)
        else:
            raise RuntimeError(
                'Tried to call pure virtual function "IOutputAllocator::reallocateOutput"'
            )
        return int(result or 0)
    except Exception as exc:  # the trampoline swallows it and TensorRT sees nullptr
        print(f"[ERROR] Exception caught in reallocate_output(): {exc}", file=sys.stderr)
        return 0


def _notify(alloc: Any, name: str, dims: Any) -> None:
    if not hasattr(type(alloc), "notify_shape"):
        return
    try:
        alloc.notify_shape(name, dims)
    except Exception as exc:
        print(f"[ERROR] Exception caught in notify_shape(): {exc}", file=sys.stderr)


_PROFILE_SETTER = property(
    IExecutionContextImpl._get_profile, IExecutionContextImpl._set_profile_sync
)


def context_profile_property(rel: R.Release) -> property:
    """active_optimization_profile: settable (deprecated) through 8.x, read-only from 10.0."""
    if rel.flavor == "tensorrt" and rel.vt < (10,):
        return _PROFILE_SETTER
    prop: property = IExecutionContextImpl.active_optimization_profile
    return prop
