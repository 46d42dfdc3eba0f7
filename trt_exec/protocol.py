"""The :class:`Executor` protocol: what every backend provides, keyed by tensor name.

:class:`trt_exec.executor.BaseExecutor` implements it; :func:`trt_exec.load` returns one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol, TypeVar, runtime_checkable

from .results import AsyncResult
from .spec import Shape, TensorSpec

__all__ = ["Executor"]

_E = TypeVar("_E", bound="Executor")


@runtime_checkable
class Executor(Protocol):
    """What every backend provides. Keyed by tensor name throughout.

    Obtain one with :func:`trt_exec.load`; use it as a context manager or call :meth:`close`.
    """

    @property
    def backend(self) -> str:
        """ "v2" (bindings API) or "v3" (named-tensor API)."""
        ...

    @property
    def inputs(self) -> Mapping[str, TensorSpec]:
        """Input tensors by name, in engine order."""
        ...

    @property
    def outputs(self) -> Mapping[str, TensorSpec]:
        """Output tensors by name, in engine order."""
        ...

    @property
    def num_profiles(self) -> int:
        """The engine's optimization profiles."""
        ...

    @property
    def io_count(self) -> int:
        """Inputs + outputs of one profile, whatever the backend (``num_io_tensors``)."""
        ...

    @property
    def profile(self) -> int | None:
        """The profile fixed by :meth:`set_profile`, or None when chosen per call."""
        ...

    @property
    def active_profile(self) -> int:
        """The profile the execution context is in: the one the last call used."""
        ...

    @property
    def closed(self) -> bool:
        """True once :meth:`close` ran; every later call raises ClosedError."""
        ...

    def set_profile(self, profile: int | None) -> None:
        """Fix the optimization profile for later calls; None returns to choosing per call."""

    def prepare(
        self, shapes: Mapping[str, Sequence[int]], *, profile: int | None = None
    ) -> dict[str, Shape]:
        """Set the input shapes (choosing the profile) and return every output's shape."""
        ...

    def infer(
        self,
        inputs: Mapping[str, Any],
        *,
        profile: int | None = None,
        outputs: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Run synchronously: arrays in by name, arrays out by name."""
        ...

    def infer_async(
        self,
        inputs: Mapping[str, Any],
        *,
        stream: Any = None,
        profile: int | None = None,
        outputs: Mapping[str, Any] | None = None,
    ) -> AsyncResult:
        """Enqueue on ``stream`` and return an :class:`~trt_exec.results.AsyncResult` at once."""
        ...

    async def ainfer(
        self,
        inputs: Mapping[str, Any],
        *,
        profile: int | None = None,
        outputs: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """:meth:`infer` for asyncio, without blocking the event loop while the GPU works."""
        ...

    def execute(self, addresses: Mapping[str, int], stream: int) -> None:
        """Enqueue with caller-owned device pointers; no allocation, no synchronization."""

    def close(self) -> None:
        """Release the execution context, the engine and every owned buffer. Idempotent."""

    def __enter__(self: _E) -> _E:
        """Open (idempotent) and return the executor itself; ``__exit__`` closes it."""
        ...

    def __exit__(self, *exc: object) -> None: ...
