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
from collections.abc import Callable, Mapping
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
    """A plan and what identifies the call it came from; see the module docstring.

    ``lane.matches(inputs, outputs, request, stream=None)`` says whether a call with these
    arguments repeats the lane's call. It is a function generated for this lane (see
    :func:`_matcher`), not a method."""

    __slots__ = ("plan", "device", "key", "matches")

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
        """``request`` and ``stream``: the call's arguments (``stream`` is infer_async's, None
        for the executor's own); ``numpy`` and ``device``: what identifies its numpy inputs and
        its device inputs and outputs; ``outputs``, ``count``: how many caller outputs and
        inputs. All of it goes into :attr:`matches`; ``device`` is also kept for introspection."""
        self.key = key  # see Seen
        self.plan = plan
        self.device = device
        self.matches: Callable[..., bool] = _matcher(request, stream, numpy, device, outputs, count)


class Seen(Lane):
    """A call that could have kept a lane, remembered by its request, stream and shapes only
    (a lane without a plan, which matches no call). The lane is built when the next call
    repeats those (then likely the one after too), so a caller whose shapes change every call,
    or who passes new device arrays every call, pays for no plan it would not use."""

    __slots__ = ()

    def __init__(self, key: tuple[Any, ...]) -> None:  # no super().__init__: nothing else
        self.key = key
        self.matches = _never


def _never(inputs: Any, outputs: Any, request: Any, stream: Any = None) -> bool:
    return False


def _matcher(
    request: int | None,
    stream: int | None,
    numpy: tuple[tuple[str, np.dtype, tuple[int, ...], tuple[int, ...]], ...],
    device: tuple[Entry, ...],
    outputs: int,
    count: int,
) -> Callable[..., bool]:
    """``matches`` for a lane: whether a call's arguments repeat the lane's call.

    Generated for the lane's own tensors, the way :mod:`dataclasses` makes ``__init__``: no
    loop, no tuple unpacking, the lane's values as the function's globals - ~1,900 instructions
    less per call than a method looping over the entries (Python 3.12, two tensors). The source
    holds only generated names and the counts; every name, token and array comes in the
    namespace, never as source text.

    What it checks (the module docstring says why): the ``request`` (profile) and ``stream``
    arguments are the lane's; ``inputs`` is a dict of as many tensors (so, with the names
    below, exactly the lane's names), ``outputs`` one of as many caller outputs, or empty or
    None when the lane has none; each numpy input an ndarray of the dtype and shape, with
    C-contiguous strides (or flags); each device array the very object remembered (a weak
    reference), reporting the same token - for torch ``data_ptr()``, ``shape``,
    ``is_contiguous()`` (validation found it C-contiguous: with the same shape, the same
    layout), ``dtype`` and ``requires_grad``, compared one by one without building a tuple.
    """
    ns: dict[str, Any] = {"dict": dict, "type": type, "len": len, "int": int}
    ns.update(ndarray=np.ndarray, request_=request, stream_=stream)
    lines = ["def matches(inputs, outputs, request, stream=None):"]
    for arg in ("request", "stream"):
        if (request if arg == "request" else stream) is None:
            lines.append(f"    if {arg} is not None:")
        else:  # an int: the same int
            lines.append(
                f"    if {arg} is not {arg}_ and (type({arg}) is not int or {arg} != {arg}_):"
            )
        lines.append("        return False")
    lines += [
        f"    if type(inputs) is not dict or len(inputs) != {int(count)}:",
        "        return False",
    ]
    if outputs:
        lines.append(f"    if type(outputs) is not dict or len(outputs) != {int(outputs)}:")
    else:
        lines.append("    if outputs is not None and outputs:")
    lines.append("        return False")
    for i, (name, dtype, shape, strides) in enumerate(numpy):
        ns.update({f"n{i}": name, f"d{i}": dtype, f"s{i}": shape, f"t{i}": strides})
        lines += [
            "    try:",  # a subscript, not .get(): ~120 instructions less (zero-cost try)
            f"        a = inputs[n{i}]",
            "    except KeyError:",
            "        return False",
            f"    if type(a) is not ndarray or a.dtype is not d{i} or a.shape != s{i}:",
            "        return False",
            # The C-contiguous strides of the shape: exact for C-contiguous arrays except over
            # dimensions of size 1, whose arrays then merely take the full path.
            f"    if a.strides != t{i} and not a.flags.c_contiguous:",
            "        return False",
        ]
    for i, (name, ref, read, token, shape, dtype, output) in enumerate(device):
        ns.update({f"m{i}": name, f"r{i}": ref, f"k{i}": read, f"p{i}": token})
        ns.update({f"h{i}": shape, f"e{i}": dtype})
        source = "outputs" if output else "inputs"
        lines += [
            "    try:",
            f"        o = {source}[m{i}]",
            "    except KeyError:",
            "        return False",
            f"    if o is None or r{i}() is not o:",  # (None: a dead reference's answer)
            "        return False",
        ]
        if read is None:  # torch: torch_token's fields
            lines.append(
                f"    if (o.data_ptr() != p{i} or o.shape != h{i} or not o.is_contiguous()"
                f" or o.dtype is not e{i} or o.requires_grad):"
            )
        else:  # a cupy token, or the interface dict
            lines.append(f"    if k{i}(o) != p{i}:")
        lines.append("        return False")
    lines.append("    return True")
    # A file name that says what the code is, in tracebacks and profiles.
    code = compile("\n".join(lines), "<trt_exec lane check>", "exec")
    exec(code, ns)  # noqa: S102 - generated from the counts above only
    made: Callable[..., bool] = ns["matches"]
    return made


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
