"""Validating what callers pass: input and output arrays, shapes, raw addresses, the profile.

Pure policy over an engine's frozen :class:`~trt_exec.spec.TensorSpec` s; no TensorRT or CUDA
call happens here. One :class:`Arguments` per executor also remembers what it already validated
(see "remembered arrays" below), because validation is most of trt_exec's per-call cost in a hot
loop that passes the same arrays again and again.
"""

from __future__ import annotations

import weakref
from collections.abc import Mapping, Sequence
from itertools import chain as _chain
from typing import Any

import numpy as np

from . import _trtlog
from ._tokens import cai_token, token_reader
from .arrays import DeviceArray, as_array, check_array, from_cai_dict, frozen_cai, numpy_owner
from .datapath import DataPath, _address
from .errors import ArrayError, BindingError, ExecutionError
from .spec import Shape, TensorSpec, check_shape, check_values, choose_profile

__all__ = ["Arguments", "ShapeValues", "no_aliasing", "recalled"]


class ShapeValues:
    """A shape-tensor input's validated values. ``shape`` holds the *values*: it is what the
    per-call path compares and chooses the profile by, where an execution tensor has its shape.
    ``host`` is a C-contiguous copy in the engine's dtype, in host memory (TensorRT reads shape
    tensors from host memory)."""

    __slots__ = ("shape", "_spec")

    def __init__(self, spec: TensorSpec, values: Shape) -> None:
        self.shape = values
        self._spec = spec

    @property
    def host(self) -> np.ndarray:
        """A new host copy, made only when TensorRT is given new values."""
        return np.array(self.shape, dtype=self._spec.dtype).reshape(self._spec.shape)


Array = np.ndarray | DeviceArray | ShapeValues


def set_shape_values(api: Any, state: Any, spec: TensorSpec, values: Shape, k: int) -> np.ndarray:
    """Give TensorRT shape-tensor input ``spec``'s values from a new owned host copy, which is
    returned: the caller keeps it until the values change (TensorRT reads it at enqueue).
    ``api`` is the backend's TensorRTApi, ``state`` the executor's ContextState."""
    buf = ShapeValues(spec, values).host
    ptr = int(buf.ctypes.data)
    with _trtlog.capture() as log:
        ok = api.set_shape_values(spec.name, values, ptr)
    if not ok:
        state.address_refused(spec.name)
        raise ExecutionError(
            f"input {spec.name!r}: TensorRT refused shape-tensor values {values!r} in profile {k}",
            tensorrt_log=log,
        )
    state.address_bound(spec.name, ptr)
    return buf


def shape_values(spec: TensorSpec, obj: Any) -> Shape:
    """The values of shape-tensor input ``spec`` from a host array; a device array is refused:
    TensorRT reads shape tensors from host memory, and trt_exec copies nothing off a device
    silently."""
    device = None
    if hasattr(obj, "__cuda_array_interface__"):
        device = "a CUDA array"
    elif hasattr(obj, "__dlpack_device__") and not isinstance(obj, np.ndarray):
        try:
            kind = int(obj.__dlpack_device__()[0])
        except Exception:
            kind = 1
        if kind not in (1, 3):  # kDLCPU, kDLCUDAHost (pinned host memory)
            device = f"a DLPack array on device type {kind}"
    if device is not None:
        raise ArrayError(
            f"input {spec.name!r} is a shape tensor, whose values TensorRT reads from host "
            f"memory; {device} ({type(obj).__name__}) was passed. Pass the values as a host "
            "array (numpy, or e.g. tensor.cpu().numpy())"
        )
    return check_values(spec, obj)


class Arguments:
    """Validation of one engine's call arguments, with the memory of what was validated."""

    __slots__ = (
        "_inputs",
        "_outputs",
        "_specs",
        "_input_names",
        "_valid_shapes",
        "_seen_in",
        "_seen_out",
        "_choices",
        "_num_profiles",
        "_shape_inputs",
        "_alias_ok",
    )

    def __init__(
        self,
        inputs: Mapping[str, TensorSpec],
        outputs: Mapping[str, TensorSpec],
        num_profiles: int,
    ) -> None:
        self._inputs = inputs
        self._outputs = outputs
        self._specs = {**inputs, **outputs}
        self._input_names = frozenset(inputs)
        self._num_profiles = num_profiles
        # Input shapes check_shape accepted (it is pure), per input name.
        self._valid_shapes: dict[str, set[Shape]] = {name: set() for name in inputs}
        # Validated arrays of recent calls, per tensor name (see _recall).
        self._seen_in: dict[str, list[list[Any]]] = {}
        self._seen_out: dict[str, list[list[Any]]] = {}
        self._choices: dict[tuple[Any, ...], int] = {}  # (requested, *shapes) -> profile
        self._shape_inputs = frozenset(n for n, s in inputs.items() if s.is_shape_tensor)
        # The device arrays (outputs, then inputs) of the last call found free of aliasing.
        self._alias_ok: tuple[DeviceArray, ...] | None = None

    @property
    def seen_inputs(self) -> Mapping[str, list[list[Any]]]:
        """The remembered input entries ``[ref, token, array, read_token]`` per name."""
        return self._seen_in

    @property
    def seen_outputs(self) -> Mapping[str, list[list[Any]]]:
        return self._seen_out

    def forget(self) -> None:
        """Drop every remembered array (at close: nothing of the caller's is kept)."""
        self._seen_in.clear()
        self._seen_out.clear()
        self._alias_ok = None

    def inputs(self, inputs: Mapping[str, Any]) -> tuple[dict[str, Array], list[list[Any]]]:
        """The validated arrays by name (:class:`ShapeValues` for shape-tensor inputs), and the
        remembered entries this call verifies (see :func:`_recall`)."""
        if type(inputs) is not dict or inputs.keys() != self._input_names:
            _check_names(inputs, self._inputs, self._outputs, "input")
        arrays: dict[str, Array] = {}
        verify: list[list[Any]] = []
        seen = self._seen_in
        valid = self._valid_shapes
        shape_inputs = self._shape_inputs
        for name, spec in self._inputs.items():
            obj = inputs[name]
            if shape_inputs and name in shape_inputs:
                arrays[name] = ShapeValues(spec, shape_values(spec, obj))
                continue
            if type(obj) is np.ndarray:
                # numpy is checked every call, cheaply: the dtype object, the layout flag and
                # a shape already found valid for this input (check_shape is pure).
                if (
                    obj.dtype is not spec.dtype
                    or not obj.flags.c_contiguous
                    or obj.shape not in valid[name]
                ):
                    check_array(spec, obj)
                    self._remember_shape(check_shape(spec, obj.shape), name)
                arrays[name] = obj
                continue
            entry = _recall(seen.get(name), obj)
            if entry is None:
                arr, entry = _read(name, obj, "input")
                check_array(spec, arr)
                check_shape(spec, arr.shape)
                if entry is not None:
                    _remember(seen, name, entry)
            else:
                arr = entry[2]
            if entry is not None and type(arr) is DeviceArray and arr.device is None:
                verify.append(entry)
            arrays[name] = arr
        return arrays, verify

    def outputs(
        self,
        outputs: Mapping[str, Any] | None,
        verify: list[list[Any]],
        arrays: Mapping[str, Any] | None = None,
    ) -> dict[str, tuple[Any, np.ndarray | DeviceArray]]:
        """The validated caller outputs by name, as (object, array); with the call's input
        ``arrays``, outputs that alias each other or an input are refused (:func:`no_aliasing`)."""
        if outputs is None:
            return {}
        if type(outputs) is not dict or not outputs.keys() <= self._outputs.keys():
            _check_names(outputs, self._outputs, self._inputs, "output")
        checked: dict[str, tuple[Any, np.ndarray | DeviceArray]] = {}
        seen = self._seen_out
        for name, obj in outputs.items():
            if type(obj) is np.ndarray:
                flags = obj.flags
                if (
                    obj.dtype is not self._outputs[name].dtype
                    or not flags.c_contiguous
                    or not flags.writeable
                ):
                    if not flags.writeable:
                        raise ArrayError(
                            f"output {name!r}: the array is read-only; pass a writable array"
                        )
                    check_array(self._outputs[name], obj)
                checked[name] = (obj, obj)
                continue
            entry = _recall(seen.get(name), obj)
            if entry is None:
                arr, entry = _read(name, obj, "output")
                if isinstance(arr, np.ndarray):
                    if arr is not obj and not hasattr(obj, "__dlpack__"):
                        raise ArrayError(
                            f"output {name!r}: a {type(obj).__name__} cannot be written in "
                            "place; pass a numpy array or a CUDA array"
                        )
                    writable = bool(arr.flags.writeable)
                else:
                    writable = not arr.readonly
                if not writable:
                    raise ArrayError(
                        f"output {name!r}: the array is read-only; pass a writable array"
                    )
                check_array(self._outputs[name], arr)
                if entry is not None:
                    _remember(seen, name, entry)
            else:
                arr = entry[2]
            if entry is not None and type(arr) is DeviceArray and arr.device is None:
                verify.append(entry)
            checked[name] = (obj, arr)
        if checked and arrays is not None:
            key = _device_key(arrays, checked)
            # The same (frozen) device arrays as the last call that passed: the same byte ranges,
            # the same verdict. A tuple compares items by identity first: ~0.1 µs, not ~2.
            if key is None or key != self._alias_ok:
                no_aliasing(arrays, checked)
                self._alias_ok = key
        return checked

    def check_io(
        self, inputs: Sequence[str] | None, outputs: Sequence[str] | None, io_count: int
    ) -> None:
        """:meth:`~trt_exec.executor.BaseExecutor.check_io`."""
        both = inputs is not None and outputs is not None
        for kind, want, have in (
            ("inputs", inputs, self._inputs),
            ("outputs", outputs, self._outputs),
        ):
            if want is not None and (len(want) != len(have) or set(want) != set(have)):
                if both:
                    assert inputs is not None and outputs is not None
                    raise BindingError(
                        f"declared IO (inputs={list(inputs)!r}, outputs={list(outputs)!r}; "
                        f"{len(inputs) + len(outputs)} tensors) does not match the engine's "
                        f"{io_count} IO tensors (inputs={list(self._inputs)!r}, "
                        f"outputs={list(self._outputs)!r})"
                    )
                raise BindingError(
                    f"expected_{kind}={list(want)!r} does not match the engine's {kind} "
                    f"{list(have)!r} (order does not matter; each name once)"
                )

    def _remember_shape(self, shape: Shape, name: str) -> None:
        valid = self._valid_shapes[name]
        if len(valid) >= 256:
            valid.clear()
        valid.add(shape)

    @staticmethod
    def verified(entries: list[list[Any]], data_path: DataPath) -> None:
        """After a call succeeded: the data path has checked these remembered device arrays'
        device, so later calls with the same unchanged object skip the check."""
        for entry in entries:
            arr = entry[2]
            if arr.device is None:
                entry[2] = data_path.device_checked(arr)

    def shapes(self, shapes: Mapping[str, Sequence[int]]) -> dict[str, Shape]:
        unknown = [n for n in shapes if n not in self._inputs]
        missing = [n for n in self._inputs if n not in shapes]
        if unknown or missing:
            raise BindingError(
                f"shapes: {_name_problems(unknown, missing, 'input')}; the engine's inputs are "
                f"{list(self._inputs)!r}"
            )
        return {
            name: shape_values(spec, shapes[name])
            if name in self._shape_inputs
            else check_shape(spec, shapes[name])
            for name, spec in self._inputs.items()
        }

    def profile(self, shapes: Mapping[str, Shape], requested: Any) -> int:
        """The profile for these shapes: ``requested`` (validated) or the best fit."""
        if requested is not None and type(requested) is not int:
            # Not remembered: True == 1 == 1.0 as dict keys, and True and 1.0 must be refused
            # every time (np.integer requests are valid and merely not remembered).
            return choose_profile(self._inputs, shapes, self._num_profiles, requested)
        # The choice depends only on the shapes and the request, and choose_profile costs ~5 µs
        # (benchmarks/README.md): remember it. Refusals raise and are not remembered.
        key = (requested, *shapes.values())
        k = self._choices.get(key)
        if k is None:
            k = choose_profile(self._inputs, shapes, self._num_profiles, requested)
            if len(self._choices) >= 256:
                self._choices.clear()
            self._choices[key] = k
        return k

    def addresses(self, addresses: Any, stream: Any) -> int:
        """Check :meth:`~trt_exec.executor.BaseExecutor.execute`'s arguments; the stream handle.
        (``execute`` skips it when every address is already bound to exactly these plain ints:
        names and values TensorRT accepted.)"""
        if not isinstance(addresses, Mapping):
            raise BindingError(
                f"execute(): addresses must be a mapping of tensor name to device pointer, got "
                f"{type(addresses).__name__}; the engine's IO tensors are {list(self._specs)!r}"
            )
        unknown = [n for n in addresses if n not in self._specs]
        missing = [n for n in self._specs if n not in addresses]
        if unknown or missing:
            raise BindingError(
                f"execute(): {_name_problems(unknown, missing, 'tensor')}; the engine's IO "
                f"tensors are {list(self._specs)!r}"
            )
        for name, ptr in addresses.items():
            # int() would accept a one-element host array or 1.5; a pointer must be an integer.
            if (
                isinstance(ptr, bool)
                or not isinstance(ptr, (int, np.integer))
                or not 0 <= ptr < 1 << 64
            ):
                got = (
                    f"{ptr!r}"
                    if isinstance(ptr, (int, float, str, type(None)))
                    else f"a {type(ptr).__name__}"
                    + (f" of shape {tuple(ptr.shape)!r}" if hasattr(ptr, "shape") else "")
                )
                raise ArrayError(
                    f"execute(): tensor {name!r} got {got}; execute() takes device pointers "
                    "(ints in [0, 2**64), e.g. tensor.data_ptr()); pass arrays to infer() instead"
                )
        if isinstance(stream, bool) or not isinstance(stream, (int, np.integer)) or stream < 0:
            raise ArrayError(
                f"execute(): stream={stream!r:.60} is not a CUDA stream handle; pass a "
                "non-negative int (e.g. torch.cuda.current_stream().cuda_stream)"
            )
        return int(stream)


def _check_names(
    given: Any, mine: Mapping[str, TensorSpec], others: Mapping[str, TensorSpec], role: str
) -> None:
    if not isinstance(given, Mapping):
        if role == "input":
            raise BindingError(
                f"inputs must be a mapping of tensor name to array, got "
                f"{type(given).__name__}; expected names {list(mine)!r}"
            )
        raise BindingError(
            f"outputs must be a mapping of tensor name to array, got "
            f"{type(given).__name__}; the engine's outputs are {list(mine)!r}"
        )
    unknown = [n for n in given if n not in mine]
    if unknown:
        wrong = [n for n in unknown if n in others]
        hint = f" ({wrong!r} are {'outputs' if role == 'input' else 'inputs'})" if wrong else ""
        raise BindingError(
            f"unknown {role} tensor(s) {unknown!r}{hint}; the engine's {role}s are {list(mine)!r}"
        )
    if role == "input":
        missing = [n for n in mine if n not in given]
        if missing:
            raise BindingError(
                f"missing input tensor(s) {missing!r}; the engine's inputs are {list(mine)!r}"
            )


# --- remembered arrays ----------------------------------------------------------------------
# Reading and validating a __cuda_array_interface__ array (a DeviceArray, its dtype, layout and
# shape, and on the CUDA path the device of its pointer through cuPointerGetAttribute, because
# CAI carries no device ordinal) costs several µs a call: most of trt_exec's overhead in a hot
# loop that passes the same device arrays again and again. Each executor remembers, per tensor
# name, the last few such objects it validated, and accepts one again without re-validation
# only when nothing validation looked at can have changed:
#
# - It is the same live object: a weak reference to it still resolves to the very object
#   passed now (``ref() is obj``). Nothing is kept alive by this memory.
# - The dict it reports now equals (one C-level ``==``) a copy of the dict that was validated:
#   pointer, shape, typestr, strides, read-only flag, stream. The DeviceArray built from that
#   copy is reused, so the arrays used are exactly those validated. A torch tensor is compared
#   by its C-level attributes instead (``torch_token``: data_ptr, shape, stride, dtype,
#   requires_grad - every field its interface dict reports, which carries no stream): its
#   ``__cuda_array_interface__`` is a Python property that rebuilds the dict (~6 µs a call on
#   an H200 host), the attributes cost ~0.5 µs. A cupy array likewise (``_tokens.cupy_token_of``:
#   data.ptr, shape, strides, dtype and the current stream, which its dict reports).
#
# The device is remembered only after a call in which the data path checked it succeeded, and
# only with the dict that reported it. The same live object reporting the same pointer still
# refers to the same allocation: an array that owns its memory (torch, cupy) cannot have freed
# it, and a borrowed-pointer wrapper that reports memory its owner has freed is a use-after-free
# that no check here makes safe (cuPointerGetAttribute would just as well report whoever was
# given that address next). numpy arrays are not remembered: they are re-checked every call
# from their dtype object, a layout flag and a set of valid shapes, as cheaply (a weak
# reference would also stop ndarray.resize). DLPack arrays report their device themselves and
# are not remembered. Anything else - a new object, a changed interface, a mapping that builds
# its arrays anew per access - is validated in full.
_REMEMBERED = 4  # per tensor name: enough for the few buffers a loop cycles through


def _recall(entries: list[list[Any]] | None, obj: Any) -> list[Any] | None:
    """The remembered entry ``[ref, token, array, read_token]`` for ``obj`` if it still holds."""
    if not entries or obj is None:
        return None
    for entry in entries:
        if entry[0]() is obj:
            return entry if entry[3](obj) == entry[1] else None
    return None


def recalled(entries: list[list[Any]] | None, obj: Any) -> list[Any] | None:
    """The remembered entry for ``obj`` by identity alone: for a caller that knows its token was
    just compared (by :func:`_recall`, in this call's validation)."""
    for entry in entries or ():
        if entry[0]() is obj:
            return entry
    return None


def _read(name: str, obj: Any, role: str) -> tuple[np.ndarray | DeviceArray, list[Any] | None]:
    """``as_array``, plus what to remember it by (None for what is not remembered)."""
    if isinstance(obj, np.ndarray) or not hasattr(obj, "__cuda_array_interface__"):
        return as_array(name, obj, role), None
    cai = obj.__cuda_array_interface__
    if type(cai) is not dict:
        return as_array(name, obj, role), None
    frozen = frozen_cai(cai)
    # No owner: the caller's mapping holds the object for the call, and the view may be
    # remembered, which must not keep the caller's memory alive.
    arr = from_cai_dict(frozen, None, name)
    try:
        ref = weakref.ref(obj)
    except TypeError:  # no __weakref__ slot: validated every call
        return arr, None
    reader = token_reader(obj)
    token = frozen if reader is cai_token else reader(obj)
    return arr, [ref, token, arr, reader]


def _remember(seen: dict[str, list[list[Any]]], name: str, entry: list[Any]) -> None:
    # A new list, not an in-place insert: other threads may be reading the old one.
    seen[name] = [entry, *seen.get(name, ())[: _REMEMBERED - 1]]


_EMPTY = np.empty(1, np.uint8)  # a non-null address for an empty host output (0 bytes written)


def host_output(
    spec: TensorSpec, shape: Shape, provided: Mapping[str, Any]
) -> tuple[np.ndarray, int]:
    """A new numpy array for host output ``spec`` (TensorLocation.HOST: TensorRT writes it to
    host memory) and the address to bind; a caller array for it is refused."""
    if spec.name in provided:
        raise ArrayError(
            f"output {spec.name!r} lives in host memory (TensorLocation.HOST, a shape tensor); "
            "trt_exec returns it as a new numpy array: leave it out of outputs="
        )
    arr = np.empty(shape, spec.dtype)
    return arr, int((arr if arr.nbytes else _EMPTY).ctypes.data)


# --- outputs that must not alias --------------------------------------------------------------
def _span(arr: Any) -> tuple[bool, int, int] | None:
    """(in host memory?, first byte, end byte) of an array's memory; None for an empty one or
    a shape tensor's values (a private copy)."""
    if type(arr) is np.ndarray:
        nbytes = arr.nbytes
        if not nbytes:
            return None
        lo = _address(arr)  # C-contiguous (validated): exact range; ~4x cheaper than the dict
        return (True, lo, lo + nbytes)
    if isinstance(arr, ShapeValues):
        return None
    if isinstance(arr, np.ndarray):
        nbytes = int(arr.nbytes)
        lo = _address(arr) if nbytes else 0
        return (True, lo, lo + nbytes) if nbytes else None
    nbytes = arr.nbytes
    return (False, arr.ptr, arr.ptr + nbytes) if nbytes else None


def _device_key(
    arrays: Mapping[str, Any], provided: Mapping[str, tuple[Any, Any]]
) -> tuple[DeviceArray, ...] | None:
    """The call's arrays as a key for the alias verdict, when every one is a remembered-style
    DeviceArray (no owner: holding it keeps no caller memory alive); else None."""
    key: list[DeviceArray] = []
    for arr in _chain((g[1] for g in provided.values()), arrays.values()):
        if type(arr) is not DeviceArray or arr.owner is not None:
            return None
        key.append(arr)
    return tuple(key)


def _numpy_apart(arrays: Mapping[str, Any], provided: Mapping[str, tuple[Any, Any]]) -> bool:
    """True when the numpy arrays among ``arrays`` and ``provided`` provably share no memory:
    each is, or is a view of, an ndarray that owns its memory (``base`` chain ending in None),
    and no two have the same owner. Arrays over foreign buffers (bytes, mmap, memoryview, whose
    memory may alias another's) are never called apart. Attribute reads only: ~4x cheaper than
    reading every array's address."""
    owners: set[int] = set()
    for arr in _chain((g[1] for g in provided.values()), arrays.values()):
        if type(arr) is not np.ndarray:
            if isinstance(arr, np.ndarray):
                return False  # a subclass (memmap, ...): judge every array by byte ranges
            continue
        root = numpy_owner(arr)
        if root is None:
            return False  # a foreign buffer: judge by byte ranges
        key = id(root)
        if key in owners:
            return False  # views of one owner: judge by byte ranges
        owners.add(key)
    return True


def no_aliasing(arrays: Mapping[str, Any], provided: Mapping[str, tuple[Any, Any]]) -> None:
    """Refuse caller outputs that share memory with another output or with an input.

    TensorRT writes every output while it may still read the inputs, and promises neither
    in-place execution nor an order between outputs; memory that two tensors share would give
    undefined results. Overlap is judged by byte ranges (data pointer and size), which are exact
    because trt_exec takes C-contiguous arrays only. Runs on every call with ``outputs=``, so it
    is written for a handful of arrays: one pass, no per-pair allocation.

    numpy arrays that each own their memory, or are views of distinct owning arrays, cannot
    overlap (:func:`_numpy_apart`): then only device arrays need their byte ranges compared.
    """
    skip = np.ndarray if _numpy_apart(arrays, provided) else None
    outs = []
    for name, given in provided.items():
        if type(given[1]) is skip:
            continue
        span = _span(given[1])
        if span is not None:
            outs.append((name, span))
    if not outs:
        return
    checked: list[tuple[str, str, tuple[bool, int, int]]] = []
    for name, span in outs:
        host, lo, hi = span
        for other, _role, ospan in checked:
            if host is ospan[0] and lo < ospan[2] and ospan[1] < hi:
                _alias_error(other, ospan, name, "output", span)  # the earlier output first
        checked.append((name, "output", span))
    for name, arr in arrays.items():
        if type(arr) is skip:
            continue
        span = _span(arr)
        if span is None:
            continue
        host, lo, hi = span
        for other, _role, (ohost, olo, ohi) in checked[: len(outs)]:
            if host is ohost and lo < ohi and olo < hi:
                _alias_error(other, (ohost, olo, ohi), name, "input", span)


def _alias_error(
    name: str, span: tuple[bool, int, int], other: str, role: str, ospan: tuple[bool, int, int]
) -> None:
    host, lo, hi = span
    _, olo, ohi = ospan
    kind = "host" if host else "device"
    what = "the same memory as" if (lo, hi) == (olo, ohi) else "memory overlapping"
    fix = (
        "pass a separate array for each output"
        if role == "output"
        else "pass an output array that is not an input (TensorRT does not promise "
        "in-place execution)"
    )
    raise ArrayError(
        f"output {name!r} is written to {what} {role} {other!r} "
        f"({kind} bytes [{lo:#x}, {hi:#x}) and [{olo:#x}, {ohi:#x})); {fix}"
    )


def _name_problems(unknown: list[str], missing: list[str], what: str) -> str:
    """``unknown input(s) [...], missing input(s) [...]`` without the empty part."""
    parts = [f"unknown {what}(s) {unknown!r}"] if unknown else []
    return ", ".join(parts + ([f"missing {what}(s) {missing!r}"] if missing else []))
