"""``load()``: from engine bytes, a path or an ICudaEngine to an open :class:`Executor`."""

from __future__ import annotations

import os
import stat
from collections.abc import Sequence
from types import ModuleType
from typing import Any

from . import _trtlog
from .backends.v2 import V2Executor
from .backends.v3 import V3Executor
from .datapath import make_data_path
from .discovery import find_tensorrt, module_flavor, module_for_engine, module_version
from .errors import ConfigurationError, EngineLoadError, EngineNotFoundError
from .executor import BaseExecutor
from .selection import BackendChoice, explain_backend

__all__ = ["load", "read_engine_bytes"]

_BACKENDS: dict[str, type[BaseExecutor]] = {"v2": V2Executor, "v3": V3Executor}


def _memory_limit() -> int | None:
    try:
        return int(os.sysconf("SC_PHYS_PAGES")) * int(os.sysconf("SC_PAGE_SIZE"))
    except (AttributeError, ValueError, OSError):
        return None


def _read_engine_file(engine: str | os.PathLike[str]) -> bytes:
    """A serialized engine file's bytes: a regular file only (a FIFO would block forever, a
    device such as /dev/zero never ends), no larger than this machine's memory (it could not be
    deserialized), every failure a typed error naming the path."""
    try:
        path = os.fspath(engine)
    except TypeError:
        raise EngineLoadError(f"engine={engine!r} is not a path") from None
    origin = f"engine file {path!r}"
    if not path:
        raise EngineNotFoundError("engine file '': the path is empty; give the engine's path")
    if "\0" in str(path):
        raise EngineLoadError(f"{origin} contains a NUL byte, which no file name can")
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise EngineNotFoundError(f"{origin} does not exist") from None
    except PermissionError:
        raise EngineLoadError(f"{origin} is not readable (permission denied)") from None
    except (OSError, ValueError) as exc:
        raise EngineLoadError(f"{origin} could not be read: {exc}") from None
    if stat.S_ISDIR(st.st_mode):
        raise EngineLoadError(f"{origin} is a directory, not a serialized engine")
    if not stat.S_ISREG(st.st_mode):
        raise EngineLoadError(
            f"{origin} is not a regular file (a pipe, device or socket); save the engine to a "
            "file, or pass its bytes to load()"
        )
    limit = _memory_limit()
    if limit is not None and st.st_size > limit:
        raise EngineLoadError(
            f"{origin} is {st.st_size} bytes, more than this machine's memory ({limit} bytes): "
            "it cannot be deserialized here"
        )
    try:
        # O_NONBLOCK: should the path have become a FIFO since the check, opening must not wait.
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        with os.fdopen(fd, "rb") as f:
            data = f.read(st.st_size + 1)  # bounded, even if the file grew since stat
    except PermissionError:
        raise EngineLoadError(f"{origin} is not readable (permission denied)") from None
    except IsADirectoryError:
        raise EngineLoadError(f"{origin} is a directory, not a serialized engine") from None
    except OSError as exc:
        raise EngineLoadError(f"{origin} could not be read: {exc}") from exc
    if len(data) > st.st_size:
        raise EngineLoadError(f"{origin} changed size while it was read; read it again")
    return data


def read_engine_bytes(engine: str | os.PathLike[str] | bytes | bytearray | memoryview) -> bytes:
    """The serialized engine as bytes, from bytes-like data or a file path."""
    if isinstance(engine, (bytes, bytearray, memoryview)):
        data = bytes(engine)
        origin = "engine bytes"
    elif isinstance(engine, (str, os.PathLike)):
        data = _read_engine_file(engine)
        origin = f"engine file {os.fspath(engine)!r}"
    else:
        try:
            data = bytes(memoryview(engine))
            origin = f"{type(engine).__name__} engine data"
        except TypeError:
            raise EngineLoadError(
                f"engine={type(engine).__name__!r} is not bytes, a path or an ICudaEngine"
            ) from None
    if not data:
        raise EngineLoadError(f"{origin} is empty (0 bytes); build or export the engine again")
    return data


def load(
    engine: Any,
    *,
    tensorrt: ModuleType | str | None = None,
    backend: str | None = None,
    profile: int | None = None,
    device: int | None = None,
    expected_inputs: Sequence[str] | None = None,
    expected_outputs: Sequence[str] | None = None,
    stream: Any = None,
    cuda_graphs: bool | int = False,
) -> BaseExecutor:
    """Open an executor for ``engine`` (bytes, a path, or an ``ICudaEngine``).

    The result is an :class:`~trt_exec.Executor` (use that type in your annotations). It is
    annotated with its concrete base class, ``BaseExecutor`` (of ``V2Executor`` and
    ``V3Executor``), which satisfies the protocol under ``mypy --strict`` and also gives typed
    access to what the protocol leaves out (``choice``, ``device``, ``enable_cuda_graphs``...).

    ``tensorrt`` is the module to use (default: discovered, see :func:`trt_exec.find_tensorrt`);
    ``backend`` is "v2", "v3" or None (see :func:`trt_exec.select_backend`); ``profile`` fixes an
    optimization profile (default: chosen per call from the input shapes); ``device`` is the CUDA
    ordinal. ``expected_inputs`` / ``expected_outputs``, each on its own, are checked against the
    engine's input / output names (order does not matter); leave one out to not check it.
    ``stream`` is the CUDA stream the executor uses by default (borrowed; default: one it owns).
    ``cuda_graphs`` turns on CUDA-graph replay (True for 8 cached graphs, or the cache size);
    see :meth:`~trt_exec.executor.BaseExecutor.enable_cuda_graphs`.
    """
    if not isinstance(cuda_graphs, (bool, int)) or (
        not isinstance(cuda_graphs, bool) and cuda_graphs < 1
    ):
        raise ConfigurationError(
            f"cuda_graphs={cuda_graphs!r} is not valid; pass False, True (8 graphs) or the "
            "number of graphs to cache (>= 1)"
        )
    if hasattr(engine, "create_execution_context"):
        trt = module_for_engine(engine, tensorrt)  # its own module; a different one is refused
    else:
        trt = find_tensorrt(tensorrt)
    flavor = module_flavor(trt)
    choice: BackendChoice = explain_backend(module_version(trt), backend, flavor=flavor)
    runtime = None
    if hasattr(engine, "create_execution_context"):
        cuda_engine = engine
        data_path = make_data_path(trt, device, stream)
    else:
        data = read_engine_bytes(engine)
        data_path = make_data_path(trt, device, stream)
        try:
            runtime = trt.Runtime(_trtlog.bridge_logger(trt))
            with _trtlog.capture() as log:
                cuda_engine = runtime.deserialize_cuda_engine(data)
        except BaseException:
            data_path.close()
            raise
        if cuda_engine is None:
            data_path.close()
            raise EngineLoadError(
                f"{module_flavor(trt)} {module_version(trt)} could not deserialize the engine "
                f"({len(data)} bytes): it is corrupt, truncated, or was built by another TensorRT "
                "version; rebuild it with this version",
                tensorrt_log=log,
            )
    try:
        ex = _BACKENDS[choice.backend](cuda_engine, trt=trt, data_path=data_path, runtime=runtime)
    except BaseException:
        data_path.close()
        raise
    ex.choice = choice
    try:
        if expected_inputs is not None or expected_outputs is not None:
            ex.check_io(expected_inputs, expected_outputs)
        if profile is not None:
            ex.set_profile(profile)
        if cuda_graphs:
            ex.enable_cuda_graphs(8 if cuda_graphs is True else int(cuda_graphs))
    except BaseException:
        ex.close()
        raise
    return ex
