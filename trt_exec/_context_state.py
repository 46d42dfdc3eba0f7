"""What an execution context holds now, and the rules that make the executor forget it.

TensorRT keeps the active profile, the input shapes and the tensor addresses inside the
execution context. Setting them again costs TensorRT calls (and, for V2, a profile switch forgets
them), so the executor remembers what it last set and skips what has not changed. Every rule for
when that memory stops being true is written here, once:

- a profile switch forgets the input shapes and every bound address (TensorRT's
  ``set_optimization_profile_async`` resets them: "binding dimensions ... are reset", 8.x/10.x
  ``IExecutionContext`` docs);
- setting shapes forgets the output shapes until TensorRT reports them again;
- a new shape or address makes a new CUDA-graph signature.

The state holds plain Python values only - never a TensorRT or CUDA object - so it cannot keep
anything alive after the executor closes.
"""

from __future__ import annotations

from typing import Any

from .spec import Shape

__all__ = ["ContextState"]


class ContextState:
    """The execution context's profile, shapes and bound addresses, as last set by trt_exec."""

    __slots__ = (
        "profile",
        "shape_key",
        "out_shapes",
        "dynamic",
        "data_dependent",
        "bound",
        "_graph_key",
        "_request",
        "epoch",
        "switches",
    )

    def __init__(self) -> None:
        #: The context's optimization profile (a new context starts in profile 0).
        self.profile = 0
        #: ``(profile, *input shapes)`` the context holds, None when not (fully) set.
        self.shape_key: tuple[Any, ...] | None = None
        #: Every output's shape for ``shape_key``; -1 for data-dependent dimensions. Replaced,
        #: never mutated, so a call may hand it out.
        self.out_shapes: dict[str, Shape] = {}
        #: The outputs of ``out_shapes`` with a -1: they go through an output allocator.
        self.dynamic: tuple[str, ...] = ()
        #: Outputs found to depend on the data, for good: a context may later report the
        #: previous run's shape for them, which says nothing about the next run.
        self.data_dependent: set[str] = set()
        #: Tensor name -> the address TensorRT has for it.
        self.bound: dict[str, int] = {}
        self._graph_key: tuple[Any, ...] | None = None
        self._request: tuple[tuple[Any, ...], tuple[Any, ...] | None] | None = None
        #: Bumped by every change below: a holder of an older epoch (a bound call) must check
        #: the profile, shapes and addresses again before it runs.
        self.epoch = 0
        #: Profile switches so far: a bound call refuses to run once this moved.
        self.switches = 0

    # --- the rules --------------------------------------------------------------------------
    def profile_switched(self, profile: int) -> None:
        """TensorRT forgets the shapes and addresses when the profile changes."""
        self.profile = profile
        self.shape_key = None
        self.bound.clear()
        self._graph_key = None
        self.epoch += 1
        self.switches += 1

    def shapes_changing(self) -> None:
        """Shapes are being set: until :meth:`shapes_set`, the context's shapes are unknown."""
        self.shape_key = None
        self._graph_key = None
        self.epoch += 1

    def shapes_set(self, key: tuple[Any, ...], out_shapes: dict[str, Shape]) -> None:
        self.out_shapes = out_shapes
        self.dynamic = tuple(n for n, shape in out_shapes.items() if any(d < 0 for d in shape))
        self.shape_key = key
        self.epoch += 1

    def address_bound(self, name: str, ptr: int) -> None:
        self.bound[name] = ptr
        self._graph_key = None
        self.epoch += 1

    def address_refused(self, name: str) -> None:
        """TensorRT refused an address: what it holds for ``name`` is unknown."""
        self.bound.pop(name, None)
        self._graph_key = None
        self.epoch += 1

    def invalidate(self) -> None:
        """The executor lost its context (a forked child's copy): holders of an older epoch
        must check again, and find it gone."""
        self._graph_key = None
        self.epoch += 1

    def graph_key(self) -> tuple[Any, ...]:
        """The CUDA-graph signature: shapes and every bound address (cached until they change)."""
        key = self._graph_key
        if key is None:
            key = self._graph_key = (self.shape_key, tuple(sorted(self.bound.items())))
        return key

    # --- the per-call shortcut --------------------------------------------------------------
    def request_applied(self, signature: tuple[Any, ...]) -> bool:
        """True when the call that left the context as it is had this (request, shapes)
        signature: nothing to choose or set. Compared with the very ``shape_key`` object that
        call left, so any change since (a profile switch, shapes set by ``prepare``) misses."""
        last = self._request
        return last is not None and last[1] is self.shape_key and last[0] == signature

    def remember_request(self, signature: tuple[Any, ...]) -> None:
        self._request = (signature, self.shape_key)
