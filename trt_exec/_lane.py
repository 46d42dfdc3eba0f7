"""``infer``'s repeat lane: the previous call's :class:`~trt_exec.bound.Plan`, run again when the
next call repeats it.

An inference loop usually calls ``infer`` with the same device arrays (or numpy arrays of the
same shapes) again and again. After a call succeeds, the executor keeps a :class:`Lane`: the
plan of that call (profile, shapes, addresses) and what identifies its arguments. The next call
that matches it runs the plan - in effect an implicit :meth:`~trt_exec.executor.BaseExecutor.bind`
- instead of validating, choosing a profile and binding again. A call matches when, for every
tensor, what validation looked at is unchanged:

- a numpy input: any array of exactly the engine's dtype, C-contiguous, with the same shape
  (it is copied into staging, like every numpy input: its identity does not matter);
- a device input or output: the very same live object (a weak reference: the lane keeps no
  caller memory alive) reporting the same token - for torch ``data_ptr``, ``shape``,
  contiguity, ``dtype`` and ``requires_grad``, else the whole ``__cuda_array_interface__``
  dict - so the same memory, layout and dtype, whose device and aliasing were checked;
- the same input and output names, the same ``profile`` request and fixed profile.

A lane is kept from the second of two calls with the same request, stream and shapes and no
device array new to the executor (:class:`Seen` remembers the first): a caller whose shapes or
device arrays change every call builds no plan it would not use.

Everything else takes the full path: other shapes, new device arrays, numpy ``outputs=``
(their aliasing is judged per call), shape-tensor inputs and data-dependent or host outputs
(their shapes or values come per call), inputs whose producer stream the call would have to
wait on (a CAI v3 ``stream`` other than the call's, except the legacy default stream, which
the executor's own blocking stream follows by itself: cupy's default), ``Mapping`` types other
than ``dict``. A profile switch
or another call's shapes and addresses in between are handled as a bound call handles them
(set back, or the full path after a switch). Disabling or enabling CUDA graphs, and
``close()``, drop the lane.
"""

from __future__ import annotations

import weakref
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from ._arguments import recalled
from ._outputs import Provided
from ._tokens import torch_token
from .arrays import DeviceArray
from .bound import Plan

if TYPE_CHECKING:
    from .executor import BaseExecutor

__all__ = ["Lane", "Seen", "lane_after"]


#: A device array the lane checks: (name, weak reference, the token's reader and the token -
#: or for torch None and data_ptr, then shape and dtype - and whether it is an output).
Entry = tuple[str, Any, Any, Any, Any, Any, bool]


class Lane:
    """A plan and what identifies the call it came from; see the module docstring."""

    __slots__ = ("plan", "request", "numpy", "device", "outputs", "count", "stream", "key")

    def __init__(
        self,
        plan: Plan,
        request: int | None,
        numpy: tuple[tuple[str, np.dtype, tuple[int, ...], tuple[int, ...]], ...],
        device: tuple[Entry, ...],
        outputs: int,
        count: int,
        stream: int | None,
        key: tuple[Any, ...],
    ) -> None:
        self.key = key  # see Seen
        self.plan = plan
        self.stream = stream  # the stream argument (infer_async; None for the executor's own)
        self.request = request
        self.numpy = numpy
        self.device = device  # device inputs and outputs, checked in one loop
        self.outputs = outputs  # how many caller outputs
        self.count = count  # inputs

    def matches(self, inputs: Any, outputs: Any, request: Any, stream: Any = None) -> bool:
        """Whether a call with these arguments repeats the lane's call (see the module)."""
        if request is not self.request and (type(request) is not int or request != self.request):
            return False
        if stream is not self.stream and (type(stream) is not int or stream != self.stream):
            return False
        # Every name the lane knows, and no other (len): the names are the same set.
        if type(inputs) is not dict or len(inputs) != self.count:
            return False
        for name, dtype, shape, strides in self.numpy:
            a = inputs.get(name)
            # The C-contiguous strides of the shape: exact for C-contiguous arrays except over
            # dimensions of size 1, whose arrays then merely take the full path.
            if type(a) is not np.ndarray or a.dtype is not dtype or a.shape != shape:
                return False
            if a.strides != strides and not a.flags.c_contiguous:
                return False
        if outputs is None or not outputs:
            if self.outputs:
                return False
        elif type(outputs) is not dict or len(outputs) != self.outputs:
            return False
        # Each remembered device array is the very object given for its name, unchanged (torch:
        # torch_token's fields compared one by one, no tuple built: ~0.3 µs less a tensor; and
        # is_contiguous() for the strides, which validation found C-contiguous: with the same
        # shape, a contiguous tensor has the same layout, and the flag is ~0.06 µs cheaper
        # than building and comparing the stride tuple on an H200 host).
        for name, ref, read, token, shape, dtype, output in self.device:
            obj = (outputs if output else inputs).get(name)
            if obj is None or ref() is not obj:
                return False
            if read is None:
                if (
                    obj.data_ptr() != token
                    or obj.shape != shape
                    or not obj.is_contiguous()
                    or obj.dtype is not dtype
                    or obj.requires_grad
                ):
                    return False
            elif read(obj) != token:  # a cupy token, or the interface dict
                return False
        return True


class Seen(Lane):
    """A call that could have kept a lane, remembered by its request, stream and shapes only
    (a lane without a plan, which matches no call). The lane is built when the next call
    repeats those (then likely the one after too), so a caller whose shapes change every call,
    or who passes new device arrays every call, pays for no plan it would not use."""

    __slots__ = ()

    def __init__(self, key: tuple[Any, ...]) -> None:  # no super().__init__: nothing else
        self.key = key

    def matches(self, inputs: Any, outputs: Any, request: Any, stream: Any = None) -> bool:
        return False


def lane_after(
    ex: BaseExecutor,
    inputs: Mapping[str, Any],
    outputs: Mapping[str, Any] | None,
    arrays: Mapping[str, Any],
    provided: Mapping[str, Provided],
    request: Any,
    verify: list[list[Any]],
    stream: int,
    asynchronous: bool = False,
    stream_arg: Any = None,
) -> Lane | None:
    """The lane of the ``infer`` (``infer_async``: ``stream_arg`` is its ``stream``) that just
    succeeded on ``stream`` (lock held), or None when it may not have one (see the module
    docstring). Reads no array again: the remembered validation entries give the weak
    references and tokens. An ``infer_async`` lane needs a caller device array for every
    output (per-call output memory is the full path's).

    A lane is built only for a call that repeats the previous one's request, stream and shapes
    and checked no device array afresh (``verify``, from ``Arguments.inputs``: new device
    arrays); otherwise the call is remembered as :class:`Seen`, which costs a tuple."""
    if ex._state.dynamic or ex._host_outputs or ex._shape_inputs:
        return None
    if request is not None and type(request) is not int:
        return None
    if asynchronous and (
        (stream_arg is not None and type(stream_arg) is not int) or len(provided) != len(ex.outputs)
    ):
        return None
    key = (request, stream_arg, *(arr.shape for arr in arrays.values()))
    previous = ex._alane if asynchronous else ex._lane
    if verify or previous is None or previous.key != key:
        return Seen(key)
    numpy: list[tuple[str, np.dtype, tuple[int, ...], tuple[int, ...]]] = []
    device: list[Entry] = []
    dp = ex._res.data_path
    assert dp is not None  # the call that just succeeded had it
    for name, arr in arrays.items():
        if type(arr) is np.ndarray:
            numpy.append((name, arr.dtype, arr.shape, _c_strides(arr.shape, arr.itemsize)))
            continue
        if type(arr) is not DeviceArray:
            return None
        if arr.stream is not None and not dp.ordered_after(arr.stream, stream):
            return None  # the call waits on the producer's stream: the full path's work
        entry = _entry(ex._args.seen_inputs, name, inputs[name], False)
        if entry is None:
            return None
        device.append(entry)
    if provided:
        assert outputs is not None
        for name, (obj, arr) in provided.items():
            if type(arr) is not DeviceArray:
                return None
            entry = _entry(ex._args.seen_outputs, name, obj, True)
            if entry is None:
                return None
            device.append(entry)
    plan = Plan.after_call(ex, arrays, provided, stream)
    return Lane(
        plan, request, tuple(numpy), tuple(device), len(provided), len(arrays), stream_arg, key
    )


def _c_strides(shape: tuple[int, ...], itemsize: int) -> tuple[int, ...]:
    strides = []
    step = itemsize
    for n in reversed(shape):
        strides.append(step)
        step *= n
    return tuple(reversed(strides))


def _entry(seen: Mapping[str, list[list[Any]]], name: str, obj: Any, output: bool) -> Entry | None:
    entry = recalled(seen.get(name), obj)
    if entry is None:
        return None
    ref: weakref.ref[Any] = entry[0]
    token, read = entry[1], entry[3]
    if read is torch_token:  # (data_ptr, shape, stride, dtype): see torch_token
        return (name, ref, None, token[0], token[1], token[3], output)
    return (name, ref, read, token, None, None, output)
