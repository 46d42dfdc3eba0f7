"""A pool of execution contexts, on one GPU or several, for serving concurrent requests.

One :class:`~trt_exec.executor.BaseExecutor` serializes its calls (a TensorRT execution context
is not thread-safe). A :class:`Pool` opens ``size`` executors ("workers"), each with its own
execution context, stream and buffers, and lends a free one to each call
(:class:`~trt_exec.aio.Dispatcher`): :meth:`Pool.infer` blocks the calling thread while all are
busy, :meth:`Pool.ainfer` waits without blocking the event loop.

Across GPUs (``devices=[0, 1]`` or ``"all"``) workers are placed round-robin; each device gets its
own deserialized engine (an ``ICudaEngine`` belongs to the device it was deserialized on), shared
by the workers on that device. A call goes to the least busy device.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Mapping, Sequence
from typing import Any

from . import _fork
from ._callsite import CallSite, user_call_site, warn_at
from .aio import Dispatcher
from .discovery import find_tensorrt, is_simulated
from .errors import ClosedError, ConfigurationError, CudaUnavailableError, TrtExecError
from .executor import BaseExecutor
from .loading import load, read_engine_bytes
from .spec import TensorSpec

__all__ = ["Pool", "visible_device_count"]


def visible_device_count() -> int:
    """The number of CUDA devices visible to this process (``cuDeviceGetCount``);
    CudaUnavailableError, saying what is missing, without a driver or a GPU."""
    from .cuda.driver import check, driver

    return int(check("cuDeviceGetCount", driver().cuDeviceGetCount()))


def _release_pool(executors: list[BaseExecutor], site: CallSite | None) -> None:
    warn_at(
        f"Pool of {len(executors)} contexts opened at {site} was garbage-collected without "
        "close(); call close() or use it as a context manager",
        ResourceWarning,
        site,
    )
    for ex in reversed(executors):
        ex.close()


def _on_device(exc: TrtExecError, device: int | None) -> TrtExecError:
    """The same error, its message naming the device the worker lives on."""
    named = type(exc)(f"device {device}: {exc.message}", tensorrt_log=exc.tensorrt_log)
    named.__cause__ = exc
    return named


def _placement(devices: Any, size: int, trt: Any) -> list[int]:
    """The device of each worker: ``devices`` validated, then round-robin over ``size``."""
    from .cuda.driver import check_device

    sim = getattr(trt, "_sim", None) if is_simulated(trt) else None
    host = sim is not None and not sim.gpu
    try:
        count: int | None = visible_device_count()
    except CudaUnavailableError:
        if not host:
            raise
        count = None  # the simulator's host mode: devices are labels, validated but not counted
    if isinstance(devices, str):
        if devices != "all":
            raise ConfigurationError(
                f"Pool: devices={devices!r} is not valid; pass 'all', a list of CUDA device "
                "ordinals (e.g. [0, 1]) or None (one device, load()'s device=)"
            )
        ordinals = list(range(count if count is not None else 1))
    else:
        try:
            ordinals = [check_device(d) for d in devices]
        except TypeError:
            raise ConfigurationError(
                f"Pool: devices={devices!r} is not valid; pass 'all', a list of CUDA device "
                "ordinals (e.g. [0, 1]) or None"
            ) from None
        if not ordinals or len(set(ordinals)) != len(ordinals):
            raise ConfigurationError(
                f"Pool: devices={devices!r} must name at least one device, each once"
            )
        for d in ordinals:
            if count is not None and d >= count:
                raise CudaUnavailableError(
                    f"Pool: device {d} is out of range: {count} CUDA device(s) visible "
                    f"(ordinals 0..{count - 1}); pass ordinals in range or devices='all' "
                    "(CUDA_VISIBLE_DEVICES renumbers them)"
                )
    if size < len(ordinals):
        raise ConfigurationError(
            f"Pool: size={size!r} leaves devices without a worker (devices={ordinals!r}); pass "
            f"size >= {len(ordinals)}"
        )
    return [ordinals[i % len(ordinals)] for i in range(size)]


class Pool(_fork.NotCopyable):
    """``size`` executors over one engine, on one GPU or several. Thread-safe and asyncio-ready.

    Arguments other than ``size`` and ``devices`` are those of :func:`trt_exec.load`.

    ``devices``: None (default) puts every worker where ``load(device=...)`` would (one GPU, one
    deserialized engine shared by all workers: the single-GPU behaviour). A list of CUDA ordinals
    or ``"all"`` places workers round-robin over those devices, with one engine deserialized per
    device; :attr:`devices` says where each worker lives and errors name the device. In the
    simulator's host mode the ordinals are validated (and counted against the visible GPUs when
    CUDA is usable) but all work runs on the CPU.

    Close it (or use it as a context manager) to release every context: :meth:`close` waits for
    the call in progress on each executor, and later calls raise
    :class:`~trt_exec.errors.ClosedError`. A pool collected without :meth:`close` releases its
    contexts and warns once (``ResourceWarning``).
    """

    def __init__(
        self,
        engine: Any,
        size: int = 4,
        *,
        devices: Sequence[int] | str | None = None,
        **load_kwargs: Any,
    ) -> None:
        if isinstance(size, bool) or not isinstance(size, int) or size < 1:
            raise ConfigurationError(f"Pool: size={size!r} is not valid; pass an integer >= 1")
        if devices is not None and load_kwargs.get("device") is not None:
            raise ConfigurationError(
                f"Pool: pass devices={devices!r} or device={load_kwargs['device']!r}, not both"
            )
        placed: list[int | None]
        if devices is None:
            placed = [load_kwargs.pop("device", None)] * size
            source = engine
        else:
            load_kwargs.pop("device", None)
            trt = find_tensorrt(load_kwargs.get("tensorrt"))
            load_kwargs["tensorrt"] = trt
            placed = list(_placement(devices, size, trt))
            if len(set(placed)) > 1 and hasattr(engine, "create_execution_context"):
                # An ICudaEngine lives on one device: the others deserialize its bytes.
                source = bytes(memoryview(engine.serialize()))
            else:
                source = (
                    engine
                    if hasattr(engine, "create_execution_context")
                    else read_engine_bytes(engine)  # read once, deserialized per device
                )
        self._named = devices is not None
        self._executors: list[BaseExecutor] = []
        owners: dict[int | None, BaseExecutor] = {}
        try:
            for d in placed:
                owner = owners.get(d)
                try:
                    ex = load(source if owner is None else owner.engine, device=d, **load_kwargs)
                except TrtExecError as exc:
                    raise (_on_device(exc, d) if self._named else exc) from exc
                owners.setdefault(d, ex)
                # Every worker on the first worker's TensorRT module and backend.
                load_kwargs.update(tensorrt=ex.tensorrt, backend=ex.backend)
                self._executors.append(ex)
        except BaseException:
            for ex in reversed(self._executors):
                ex.close()
            raise
        self._devices = tuple(placed) if self._named else tuple(e.device for e in self._executors)
        self._dispatch: Dispatcher[BaseExecutor] = Dispatcher(self._executors, placed)
        self._closed = False
        self._lock = threading.Lock()
        self._finalizer = weakref.finalize(self, _release_pool, self._executors, user_call_site())
        self._forked_from: int | None = None
        _fork.track(self)

    def _after_fork_in_child(self, parent: int) -> None:
        # The executors park their own resources; the queue may hold none of them (all
        # borrowed at the fork), so a call must not wait on it.
        self._forked_from = parent
        self._lock = threading.Lock()
        self._finalizer.detach()

    # --- metadata ----------------------------------------------------------------------------
    @property
    def size(self) -> int:
        return len(self._executors)

    @property
    def executors(self) -> tuple[BaseExecutor, ...]:
        return tuple(self._executors)

    @property
    def devices(self) -> tuple[int | None, ...]:
        """The device of each worker, in :attr:`executors` order (None: ``load()``'s default
        device, or the simulator's host mode when no ``devices`` were given)."""
        return self._devices

    @property
    def inputs(self) -> Mapping[str, TensorSpec]:
        """Input tensors by name, in engine order (the same for every worker)."""
        return self._executors[0].inputs

    @property
    def outputs(self) -> Mapping[str, TensorSpec]:
        """Output tensors by name, in engine order (the same for every worker)."""
        return self._executors[0].outputs

    @property
    def closed(self) -> bool:
        return self._closed

    def __repr__(self) -> str:
        state = "closed" if self._closed else "open"
        return (
            f"<Pool {state} size={self.size} devices={list(self._devices)} "
            f"inputs={list(self.inputs)} outputs={list(self.outputs)}>"
        )

    # --- calls -------------------------------------------------------------------------------
    def _check_open(self) -> None:
        if self._closed or self._forked_from is not None:
            if self._forked_from is not None:
                raise _fork.inherited_error("Pool", self._forked_from)
            raise ClosedError("Pool is closed; create a new one")

    def infer(
        self,
        inputs: Mapping[str, Any],
        *,
        profile: int | None = None,
        outputs: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Run ``inputs`` on a free worker, blocking while all are busy (see
        :meth:`BaseExecutor.infer <trt_exec.executor.BaseExecutor.infer>`)."""
        self._check_open()
        i, ex = self._dispatch.acquire()
        try:
            return ex.infer(inputs, profile=profile, outputs=outputs)
        except TrtExecError as exc:
            if not self._named:
                raise
            raise _on_device(exc, self._devices[i]) from exc
        finally:
            self._dispatch.release(i)

    async def ainfer(
        self,
        inputs: Mapping[str, Any],
        *,
        profile: int | None = None,
        outputs: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """:meth:`infer` for asyncio: waits for a free worker, and for the GPU, without blocking
        the event loop (see :meth:`BaseExecutor.ainfer
        <trt_exec.executor.BaseExecutor.ainfer>`)."""
        self._check_open()
        i, ex = await self._dispatch.aacquire()
        try:
            return await ex.ainfer(inputs, profile=profile, outputs=outputs)
        except TrtExecError as exc:
            if not self._named:
                raise
            raise _on_device(exc, self._devices[i]) from exc
        finally:
            self._dispatch.release(i)

    def close(self) -> None:
        """Close every executor; each device's engine owner (the first on it) last.
        Idempotent."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
        self._finalizer.detach()
        for ex in reversed(self._executors):
            ex.close()

    def __enter__(self) -> Pool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
