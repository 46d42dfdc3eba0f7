"""Validating what callers pass: input and output arrays, shapes, raw addresses, the profile.

Pure policy over an engine's frozen :class:`~trt_exec.spec.TensorSpec` s; no TensorRT or CUDA
call happens here. One :class:`Arguments` per executor also remembers what it already validated
(see "remembered arrays" below), because validation is most of trt_exec's per-call cost in a hot
loop that passes the same arrays again and again.
"""

from __future__ import annotations

import weakref
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from .arrays import DeviceArray, as_array, check_array, from_cai_dict, frozen_cai
from .datapath import DataPath
from .errors import ArrayError, BindingError
from .spec import Shape, TensorSpec, check_shape, choose_profile

__all__ = ["Arguments"]

Array = np.ndarray | DeviceArray


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

    def forget(self) -> None:
        """Drop every remembered array (at close: nothing of the caller's is kept)."""
        self._seen_in.clear()
        self._seen_out.clear()

    def inputs(
        self, inputs: Mapping[str, Any]
    ) -> tuple[dict[str, np.ndarray | DeviceArray], list[list[Any]]]:
        """The validated arrays by name, and the remembered entries this call verifies (see
        :func:`_recall`)."""
        if type(inputs) is not dict or inputs.keys() != self._input_names:
            _check_names(inputs, self._inputs, self._outputs, "input")
        arrays: dict[str, np.ndarray | DeviceArray] = {}
        verify: list[list[Any]] = []
        seen = self._seen_in
        valid = self._valid_shapes
        for name, spec in self._inputs.items():
            obj = inputs[name]
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
        self, outputs: Mapping[str, Any] | None, verify: list[list[Any]]
    ) -> dict[str, tuple[Any, np.ndarray | DeviceArray]]:
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
        return checked

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
                f"shapes: unknown input(s) {unknown!r}, missing input(s) {missing!r}; the "
                f"engine's inputs are {list(self._inputs)!r}"
            )
        return {name: check_shape(spec, shapes[name]) for name, spec in self._inputs.items()}

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
        """Check :meth:`~trt_exec.executor.BaseExecutor.execute`'s arguments; the stream handle."""
        if not isinstance(addresses, Mapping):
            raise BindingError(
                f"execute(): addresses must be a mapping of tensor name to device pointer, got "
                f"{type(addresses).__name__}; the engine's IO tensors are {list(self._specs)!r}"
            )
        unknown = [n for n in addresses if n not in self._specs]
        missing = [n for n in self._specs if n not in addresses]
        if unknown or missing:
            raise BindingError(
                f"execute(): unknown tensor(s) {unknown!r}, missing tensor(s) {missing!r}; the "
                f"engine's IO tensors are {list(self._specs)!r}"
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
#   copy is reused, so the arrays used are exactly those validated.
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
    """The remembered entry ``[ref, token, array]`` for ``obj`` if it still holds."""
    if not entries or obj is None:
        return None
    for entry in entries:
        if entry[0]() is obj:
            return entry if obj.__cuda_array_interface__ == entry[1] else None
    return None


def _read(name: str, obj: Any, role: str) -> tuple[np.ndarray | DeviceArray, list[Any] | None]:
    """``as_array``, plus what to remember it by (None for what is not remembered)."""
    if isinstance(obj, np.ndarray) or not hasattr(obj, "__cuda_array_interface__"):
        return as_array(name, obj, role), None
    cai = obj.__cuda_array_interface__
    if type(cai) is not dict:
        return as_array(name, obj, role), None
    token = frozen_cai(cai)
    # No owner: the caller's mapping holds the object for the call, and the view may be
    # remembered, which must not keep the caller's memory alive.
    arr = from_cai_dict(token, None, name)
    try:
        ref = weakref.ref(obj)
    except TypeError:  # no __weakref__ slot: validated every call
        return arr, None
    return arr, [ref, token, arr]


def _remember(seen: dict[str, list[list[Any]]], name: str, entry: list[Any]) -> None:
    # A new list, not an in-place insert: other threads may be reading the old one.
    seen[name] = [entry, *seen.get(name, ())[: _REMEMBERED - 1]]
