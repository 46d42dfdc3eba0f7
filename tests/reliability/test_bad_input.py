"""Bad input, one test per case: the exact trt_exec error class, a message that names the subject
(tensor, engine, variable), shows the bad value and says what is allowed, TensorRT's logged reason
attached where TensorRT gave one; and afterwards the same executor still returns exact results.

Executor cases run on every backend (8.6.1 v2 and v3, 10.16.1 v3, 11.4.0 v3); load and selection
cases run once, against the 10.16.1 simulator, with a live executor checked afterwards.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

import trt_exec
from trt_exec import errors as E
from trt_exec.backends.v3 import V3Executor
from trt_exec.datapath import HostDataPath
from trt_exec.pool import Pool
from trt_exec.testing import DEMO_NETWORK, build_engine

from ..helpers import demo_inputs
from .helpers import (
    TARGET_IDS,
    TARGETS,
    assert_log_capture_closed,
    assert_still_works,
    open_executor,
    plan,
    sim,
)


@dataclass(frozen=True)
class Case:
    id: str
    call: Callable[[Any], Any]
    error: type[E.TrtExecError]
    # Substrings of the message: the subject, the bad value, what is allowed. "{cls}" is the
    # executor's class name, "{release}" the simulated release.
    must: tuple[str, ...]
    log: str | None = None  # a substring of one attached TensorRT log line
    closes: bool = False  # the case closes the executor; check ClosedError afterwards instead


class FakeCudaArray:
    """Device memory as far as trt_exec can tell: only __cuda_array_interface__ (v3)."""

    def __init__(self, shape: tuple[int, ...] = (2, 4), typestr: str = "<f4") -> None:
        self.__cuda_array_interface__ = {
            "shape": shape,
            "typestr": typestr,
            "data": (0x7F0000001000, False),
            "strides": None,
            "version": 3,
        }


def _x(c: Any, **over: Any) -> dict:
    return {**c.arrays, **over}


def _noncontiguous() -> np.ndarray:
    return np.zeros((2, 8), np.float32)[:, ::2]


def _addresses(**over: Any) -> dict:
    # Aligned, non-null host addresses: only the overridden one is bad.
    buf = np.zeros(64, np.float32)
    good = int(buf.ctypes.data)
    _addresses.keep = buf  # type: ignore[attr-defined]
    return {"x": good, "y": good, "sum": good, "act": good, **over}


def _closed(c: Any, method: Callable[[Any], Any]) -> Any:
    c.ex.close()
    return method(c.ex)


EXECUTOR_CASES: tuple[Case, ...] = (
    # --- tensor names -------------------------------------------------------------------------
    Case(
        "unknown-input-name",
        lambda c: c.ex.infer(_x(c, z=c.arrays["x"])),
        E.BindingError,
        ("unknown input", "'z'", "['x', 'y']"),
    ),
    Case(
        "missing-input",
        lambda c: c.ex.infer({"x": c.arrays["x"]}),
        E.BindingError,
        ("missing input", "'y'", "['x', 'y']"),
    ),
    Case(
        "no-inputs",
        lambda c: c.ex.infer({}),
        E.BindingError,
        ("missing input", "'x', 'y'", "['x', 'y']"),
    ),
    Case(
        "output-given-as-input",
        lambda c: c.ex.infer(_x(c, sum=c.arrays["x"])),
        E.BindingError,
        ("'sum'", "are outputs", "['x', 'y']"),
    ),
    Case(
        "non-string-input-name",
        lambda c: c.ex.infer({**c.arrays, 0: c.arrays["x"]}),
        E.BindingError,
        ("unknown input", "0", "['x', 'y']"),
    ),
    Case(
        "inputs-not-a-mapping",
        lambda c: c.ex.infer([c.arrays["x"], c.arrays["y"]]),
        E.BindingError,
        ("inputs must be a mapping", "list", "['x', 'y']"),
    ),
    Case(
        "inputs-pairs-not-a-mapping",
        lambda c: c.ex.infer(tuple(c.arrays.items())),
        E.BindingError,
        ("inputs must be a mapping", "tuple", "['x', 'y']"),
    ),
    Case(
        "outputs-names-an-input",
        lambda c: c.ex.infer(c.arrays, outputs={"x": np.empty((2, 4), np.float32)}),
        E.BindingError,
        ("unknown output", "'x'", "are inputs", "['sum', 'act']"),
    ),
    Case(
        "outputs-not-a-mapping",
        lambda c: c.ex.infer(c.arrays, outputs=[np.empty((2, 4))]),
        E.BindingError,
        ("outputs must be a mapping", "list", "['sum', 'act']"),
    ),
    Case(
        "prepare-unknown-and-missing",
        lambda c: c.ex.prepare({"x": (2, 4), "q": (2, 4)}),
        E.BindingError,
        ("unknown input", "'q'", "missing input", "'y'", "['x', 'y']"),
    ),
    Case(
        "execute-missing-tensors",
        lambda c: c.ex.execute({"x": 4096}, 0),
        E.BindingError,
        ("execute()", "'y', 'sum', 'act'", "['x', 'y', 'sum', 'act']"),
    ),
    Case(
        "execute-addresses-not-a-mapping",
        lambda c: c.ex.execute([4096] * 4, 0),
        E.BindingError,
        ("execute()", "mapping", "list", "['x', 'y', 'sum', 'act']"),
    ),
    Case(
        "check-io-declares-too-few",
        lambda c: c.ex.check_io(["x"], ["sum", "act"]),
        E.BindingError,
        ("inputs=['x']", "3 tensors", "4 IO tensors", "inputs=['x', 'y']"),
    ),
    # --- dtypes -------------------------------------------------------------------------------
    Case(
        "float64-for-float32",
        lambda c: c.ex.infer(_x(c, x=c.arrays["x"].astype(np.float64))),
        E.DTypeError,
        ("'x'", "'float64'", "'float32'", "astype('float32')"),
    ),
    Case(
        "float16-for-float32",
        lambda c: c.ex.infer(_x(c, y=c.arrays["y"].astype(np.float16))),
        E.DTypeError,
        ("'y'", "'float16'", "'float32'"),
    ),
    Case(
        "bool-for-float32",
        lambda c: c.ex.infer(_x(c, x=c.arrays["x"] > 0)),
        E.DTypeError,
        ("'x'", "'bool'", "'float32'"),
    ),
    Case(
        "int64-for-float32",
        lambda c: c.ex.infer(_x(c, x=c.arrays["x"].astype(np.int64))),
        E.DTypeError,
        ("'x'", "'int64'", "'float32'"),
    ),
    Case(
        "int32-for-float32",
        lambda c: c.ex.infer(_x(c, y=c.arrays["y"].astype(np.int32))),
        E.DTypeError,
        ("'y'", "'int32'", "'float32'"),
    ),
    Case(
        "object-dtype",
        lambda c: c.ex.infer(_x(c, x=c.arrays["x"].astype(object))),
        E.DTypeError,
        ("'x'", "'object'", "'float32'"),
    ),
    Case(
        "byte-swapped-float32",
        lambda c: c.ex.infer(_x(c, x=c.arrays["x"].astype(">f4"))),
        E.DTypeError,
        ("'x'", "'>f4'", "'<f4'", "byte order"),
    ),
    Case(
        "device-array-wrong-dtype",
        lambda c: c.ex.infer(_x(c, x=FakeCudaArray(typestr="<f8"))),
        E.DTypeError,
        ("'x'", "'float64'", "'float32'"),
    ),
    Case(
        "caller-output-wrong-dtype",
        lambda c: c.ex.infer(c.arrays, outputs={"act": np.empty((2, 4), np.float64)}),
        E.DTypeError,
        ("'act'", "'float64'", "'float32'"),
    ),
    # --- rank and dimensions ------------------------------------------------------------------
    Case(
        "rank-3",
        lambda c: c.ex.infer(_x(c, x=c.arrays["x"][None])),
        E.ShapeError,
        ("'x'", "(1, 2, 4)", "rank 3", "rank 2 (-1, 4)"),
    ),
    Case(
        "rank-1",
        lambda c: c.ex.infer(_x(c, y=c.arrays["y"][0])),
        E.ShapeError,
        ("'y'", "(4,)", "rank 1", "rank 2 (-1, 4)"),
    ),
    Case(
        "rank-0",
        lambda c: c.ex.infer(_x(c, x=np.array(1.0, np.float32))),
        E.ShapeError,
        ("'x'", "()", "rank 0", "rank 2"),
    ),
    Case(
        "static-dim-changed",
        lambda c: c.ex.infer(demo_inputs(2) | {"x": np.ones((2, 5), np.float32)}),
        E.ShapeError,
        ("'x'", "static (4)", "got 5", "(2, 5)"),
    ),
    Case(
        "zero-batch-below-profile-min",
        lambda c: c.ex.infer({"x": np.ones((0, 4), np.float32), "y": np.ones((0, 4), np.float32)}),
        E.ShapeError,
        ("'x'", "(0, 4)", "min=(1, 4)", "max=(16, 4)"),
    ),
    Case(
        "prepare-negative-dim",
        lambda c: c.ex.prepare({"x": (-1, 4), "y": (2, 4)}),
        E.ShapeError,
        ("'x'", "(-1, 4)", "negative", ">= 0"),
    ),
    Case(
        "prepare-very-negative-dim",
        lambda c: c.ex.prepare({"x": (2, 4), "y": (-7, 4)}),
        E.ShapeError,
        ("'y'", "(-7)", ">= 0"),
    ),
    Case(
        "prepare-float-dim",
        lambda c: c.ex.prepare({"x": (2.5, 4), "y": (2, 4)}),
        E.ShapeError,
        ("'x'", "(2.5, 4)", "integers", "rank 2"),
    ),
    Case(
        "prepare-bool-dim",
        lambda c: c.ex.prepare({"x": (True, 4), "y": (1, 4)}),
        E.ShapeError,
        ("'x'", "(True, 4)", "integers"),
    ),
    Case(
        "prepare-string-shape",
        lambda c: c.ex.prepare({"x": "24", "y": (2, 4)}),
        E.ShapeError,
        ("'x'", "'24'", "integers"),
    ),
    Case(
        "prepare-none-shape",
        lambda c: c.ex.prepare({"x": (2, 4), "y": None}),
        E.ShapeError,
        ("'y'", "None", "integers"),
    ),
    Case(
        "batch-above-every-profile",
        lambda c: c.ex.infer(demo_inputs(17)),
        E.ShapeError,
        (
            "'x'",
            "(17, 4)",
            "outside every optimization profile",
            "profile 0: min=(1, 4)",
            "max=(16, 4)",
        ),
    ),
    Case(
        "huge-batch",
        lambda c: c.ex.prepare({"x": (2**40, 4), "y": (2**40, 4)}),
        E.ShapeError,
        ("'x'", str(2**40), "max=(16, 4)"),
    ),
    Case(
        "shapes-in-no-common-profile",
        lambda c: c.ex.infer(demo_inputs(2, batch_y=8)),
        E.ShapeError,
        ("x=(2, 4)", "y=(8, 4)", "no single optimization profile", "max=(16, 4)"),
    ),
    Case(
        "shapes-do-not-broadcast",
        lambda c: c.ex.infer(demo_inputs(3, batch_y=2)),
        E.ShapeError,
        ("x=(3, 4)", "y=(2, 4)", "profile 0", "broadcastable"),
        log="do not broadcast",
    ),
    Case(
        "outside-the-pinned-profile",
        lambda c: (c.ex.set_profile(1), c.ex.infer(demo_inputs(2))),
        E.ShapeError,
        ("'x'", "(2, 4)", "outside optimization profile 1", "min=(4, 4)", "profile=None"),
    ),
    Case(
        "outside-the-requested-profile",
        lambda c: c.ex.infer(demo_inputs(8), profile=0),
        E.ShapeError,
        ("'x'", "(8, 4)", "profile 0", "max=(4, 4)"),
    ),
    Case(
        "caller-output-wrong-shape",
        lambda c: c.ex.infer(c.arrays, outputs={"sum": np.empty((3, 4), np.float32)}),
        E.ShapeError,
        ("'sum'", "(3, 4)", "(2, 4)", "prepare()"),
    ),
    # --- profile indices ----------------------------------------------------------------------
    Case(
        "profile-index-too-high",
        lambda c: c.ex.infer(c.arrays, profile=2),
        E.ProfileError,
        ("profile=2", "[0, 1]", "2 optimization profile"),
    ),
    Case(
        "profile-index-negative",
        lambda c: c.ex.infer(c.arrays, profile=-1),
        E.ProfileError,
        ("profile=-1", "[0, 1]"),
    ),
    Case(
        "profile-index-bool",
        lambda c: c.ex.infer(c.arrays, profile=True),
        E.ProfileError,
        ("profile=True", "not an integer", "0..1"),
    ),
    Case(
        "profile-index-float",
        lambda c: c.ex.infer(c.arrays, profile=1.0),
        E.ProfileError,
        ("profile=1.0", "not an integer", "0..1"),
    ),
    Case(
        "profile-index-string",
        lambda c: c.ex.infer(c.arrays, profile="0"),
        E.ProfileError,
        ("profile='0'", "not an integer", "0..1"),
    ),
    Case(
        "set-profile-too-high",
        lambda c: c.ex.set_profile(5),
        E.ProfileError,
        ("profile=5", "[0, 1]"),
    ),
    Case(
        "set-profile-negative",
        lambda c: c.ex.set_profile(-2),
        E.ProfileError,
        ("profile=-2", "[0, 1]"),
    ),
    Case(
        "set-profile-bool",
        lambda c: c.ex.set_profile(False),
        E.ProfileError,
        ("profile=False", "not an integer", "0..1"),
    ),
    Case(
        "set-profile-float",
        lambda c: c.ex.set_profile(0.5),
        E.ProfileError,
        ("profile=0.5", "not an integer"),
    ),
    Case(
        "prepare-profile-too-high",
        lambda c: c.ex.prepare({"x": (2, 4), "y": (2, 4)}, profile=9),
        E.ProfileError,
        ("profile=9", "[0, 1]"),
    ),
    # --- arrays -------------------------------------------------------------------------------
    Case(
        "non-contiguous-slice",
        lambda c: c.ex.infer(_x(c, x=_noncontiguous())),
        E.ArrayError,
        ("'x'", "not C-contiguous", "(32, 8)", "ascontiguousarray"),
    ),
    Case(
        "non-contiguous-transpose",
        lambda c: c.ex.infer(
            {"x": np.ones((4, 4), np.float32).T, "y": np.ones((4, 4), np.float32)}
        ),
        E.ArrayError,
        ("'x'", "not C-contiguous", "(4, 16)"),
    ),
    Case(
        "non-contiguous-caller-output",
        lambda c: c.ex.infer(c.arrays, outputs={"sum": np.empty((4, 4), np.float32)[::2]}),
        E.ArrayError,
        ("'sum'", "not C-contiguous", "(32, 4)"),
    ),
    Case(
        "device-input-on-host-executor",
        lambda c: c.ex.infer(_x(c, x=FakeCudaArray())),
        E.ArrayError,
        ("'x'", "CUDA device array", "host mode", "numpy array"),
    ),
    Case(
        "device-output-on-host-executor",
        lambda c: c.ex.infer(c.arrays, outputs={"act": FakeCudaArray()}),
        E.ArrayError,
        ("'act'", "CUDA device array", "host mode", "numpy array"),
    ),
    Case(
        "list-for-array",
        lambda c: c.ex.infer(_x(c, x=[[0.0] * 4] * 2)),
        E.ArrayError,
        ("'x'", "list", "numpy array", "__cuda_array_interface__"),
    ),
    Case(
        "none-for-array",
        lambda c: c.ex.infer(_x(c, y=None)),
        E.ArrayError,
        ("'y'", "NoneType", "numpy array"),
    ),
    Case(
        "bytes-for-array",
        lambda c: c.ex.infer(_x(c, y=b"\0" * 32)),
        E.ArrayError,
        ("'y'", "bytes", "numpy array"),
    ),
    Case(
        "read-only-caller-output",
        lambda c: c.ex.infer(c.arrays, outputs={"sum": np.broadcast_to(np.float32(0), (2, 4))}),
        E.ArrayError,
        ("'sum'", "read-only", "writable"),
    ),
    Case(
        "execute-host-array-for-pointer",
        lambda c: c.ex.execute(_addresses(x=c.arrays["x"]), 0),
        E.ArrayError,
        ("'x'", "ndarray of shape (2, 4)", "device pointers", "infer()"),
    ),
    Case(
        "execute-negative-pointer",
        lambda c: c.ex.execute(_addresses(sum=-64), 0),
        E.ArrayError,
        ("'sum'", "-64", "[0, 2**64)"),
    ),
    Case(
        "execute-float-pointer",
        lambda c: c.ex.execute(_addresses(act=4096.0), 0),
        E.ArrayError,
        ("'act'", "4096.0", "device pointers"),
    ),
    Case(
        "execute-pointer-over-64-bits",
        lambda c: c.ex.execute(_addresses(y=2**64), 0),
        E.ArrayError,
        ("'y'", str(2**64), "[0, 2**64)"),
    ),
    Case(
        "execute-stream-none",
        lambda c: c.ex.execute(_addresses(), None),
        E.ArrayError,
        ("stream=None", "CUDA stream handle", "non-negative int"),
    ),
    Case(
        "execute-misaligned-pointer",
        lambda c: (
            c.ex.execute(_addresses(x=4097), 0)
            if c.backend == "v3"
            else pytest.skip("v2 binds without a TensorRT call")
        ),
        E.ExecutionError,
        ("0x1001", "'x'"),
        log="aligned",
    ),
    Case(
        "cuda-graphs-in-host-mode",
        lambda c: c.ex.enable_cuda_graphs(),
        E.CudaUnavailableError,
        ("CUDA graphs", "host mode", "enable_gpu"),
    ),
    # --- the executor itself ------------------------------------------------------------------
    Case(
        "infer-after-close",
        lambda c: _closed(c, lambda ex: ex.infer(c.arrays)),
        E.ClosedError,
        ("{cls}", "closed", "load the engine again"),
        closes=True,
    ),
    Case(
        "infer-async-after-close",
        lambda c: _closed(c, lambda ex: ex.infer_async(c.arrays)),
        E.ClosedError,
        ("{cls}", "closed"),
        closes=True,
    ),
    Case(
        "prepare-after-close",
        lambda c: _closed(c, lambda ex: ex.prepare({"x": (2, 4), "y": (2, 4)})),
        E.ClosedError,
        ("{cls}", "closed"),
        closes=True,
    ),
    Case(
        "set-profile-after-close",
        lambda c: _closed(c, lambda ex: ex.set_profile(0)),
        E.ClosedError,
        ("{cls}", "closed"),
        closes=True,
    ),
    Case(
        "execute-after-close",
        lambda c: _closed(c, lambda ex: ex.execute(_addresses(), 0)),
        E.ClosedError,
        ("{cls}", "closed"),
        closes=True,
    ),
    Case(
        "with-after-close",
        lambda c: _closed(c, lambda ex: ex.__enter__()),
        E.ClosedError,
        ("{cls}", "closed"),
        closes=True,
    ),
)


@pytest.fixture(params=TARGETS, ids=TARGET_IDS)
def ctx(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.delenv("TRT_EXEC_BACKEND", raising=False)
    monkeypatch.delenv("TRT_EXEC_TENSORRT", raising=False)
    release, backend = request.param
    ex = open_executor(release, backend)
    c = SimpleNamespace(ex=ex, release=release, backend=backend, arrays=demo_inputs(2, seed=7))
    yield c
    ex.close()


def _check_error(err: E.TrtExecError, case: Case, fmt: dict[str, str]) -> None:
    assert type(err) is case.error, f"{type(err).__name__}: {err}"
    for part in case.must:
        part = part.format(**fmt)
        assert part in err.message, f"{part!r} missing from the message: {err.message!r}"
    if case.log is not None:
        assert any(case.log in line for line in err.tensorrt_log), err.tensorrt_log
        assert case.log in str(err)  # the log is part of what the user sees


@pytest.mark.parametrize("case", EXECUTOR_CASES, ids=[c.id for c in EXECUTOR_CASES])
def test_executor_bad_input(ctx: Any, case: Case) -> None:
    # The state a case may have changed (here: a pinned profile) must not spoil what follows.
    ctx.ex.infer(demo_inputs(8, seed=1))  # leave the context in profile 1 with shapes set
    with pytest.raises(E.TrtExecError) as info:
        case.call(ctx)
    _check_error(info.value, case, {"cls": type(ctx.ex).__name__, "release": ctx.release})
    if case.closes:
        assert ctx.ex.closed
        ctx.ex.close()  # twice is fine
        with pytest.raises(E.ClosedError):
            ctx.ex.infer(ctx.arrays)
        assert_log_capture_closed()
    else:
        assert_still_works(ctx.ex)


def test_close_twice_is_fine_and_context_manager_closes(ctx: Any) -> None:
    with ctx.ex as ex:
        assert_still_works(ex)
    assert ex.closed
    ex.close()
    ex.close()
    assert ex.closed and ex.engine is None and ex.device is None


# --- engines, files and backend selection ----------------------------------------------------
RELEASE = "10.16.1"


def _flip(data: bytes, bit: int) -> bytes:
    b = bytearray(data)
    b[bit // 8] ^= 1 << (bit % 8)
    return bytes(b)


def _write(tmp: Path, name: str, data: bytes) -> str:
    path = tmp / name
    path.write_bytes(data)
    return str(path)


def _load(engine: Any, **kw: Any) -> Any:
    kw.setdefault("tensorrt", sim(RELEASE))
    return trt_exec.load(engine, **kw)


def _env(c: Any, name: str, value: str, then: Callable[[], Any]) -> Any:
    c.monkeypatch.setenv(name, value)
    return then()


def _host_only_infer_async(c: Any) -> Any:
    """A data path that, like the CUDA one, cannot write infer_async results into numpy."""

    class DeviceLikePath(HostDataPath):
        def output_array_address(self, name: str, array: Any) -> int | None:
            return (
                None if isinstance(array, np.ndarray) else super().output_array_address(name, array)
            )

    trt = sim(RELEASE)
    runtime = trt.Runtime(trt.Logger())
    engine = runtime.deserialize_cuda_engine(plan(RELEASE))
    ex = V3Executor(engine, trt=trt, data_path=DeviceLikePath(), runtime=runtime)
    try:
        arrays = demo_inputs(2)
        return ex.infer_async(arrays, outputs={"sum": np.empty((2, 4), np.float32)})
    finally:
        ex.close()


LOAD_CASES: tuple[Case, ...] = (
    Case(
        "empty-bytes",
        lambda c: _load(b""),
        E.EngineLoadError,
        ("engine bytes", "empty (0 bytes)", "build or export the engine again"),
    ),
    Case(
        "empty-bytearray",
        lambda c: _load(bytearray()),
        E.EngineLoadError,
        ("engine bytes", "0 bytes"),
    ),
    Case(
        "empty-file",
        lambda c: _load(_write(c.tmp, "empty.engine", b"")),
        E.EngineLoadError,
        ("empty.engine", "empty (0 bytes)"),
    ),
    Case(
        "truncated-half",
        lambda c: _load(plan(RELEASE)[: len(plan(RELEASE)) // 2]),
        E.EngineLoadError,
        ("{release}", f"({len(plan(RELEASE)) // 2} bytes)", "truncated", "rebuild it"),
        log="truncated plan",
    ),
    Case(
        "truncated-to-12-bytes",
        lambda c: _load(plan(RELEASE)[:12]),
        E.EngineLoadError,
        ("{release}", "(12 bytes)", "corrupt"),
        log="Magic tag",
    ),
    Case(
        "last-byte-missing",
        lambda c: _load(plan(RELEASE)[:-1]),
        E.EngineLoadError,
        ("{release}", "corrupt"),
        log="does not match the size",
    ),
    Case(
        "random-bytes",
        lambda c: _load(np.random.default_rng(3).bytes(777)),
        E.EngineLoadError,
        ("(777 bytes)", "corrupt"),
        log="Magic tag",
    ),
    Case(
        "bit-flipped-in-header",
        lambda c: _load(_flip(plan(RELEASE), 8 * 40 + 3)),
        E.EngineLoadError,
        ("{release}", "corrupt"),
        log="checksum",
    ),
    Case(
        "bit-flipped-in-magic",
        lambda c: _load(_flip(plan(RELEASE), 0)),
        E.EngineLoadError,
        ("{release}", "corrupt"),
        log="Magic tag",
    ),
    Case(
        "bit-flipped-in-checksum",
        lambda c: _load(_flip(plan(RELEASE), 8 * len(plan(RELEASE)) - 1)),
        E.EngineLoadError,
        ("corrupt",),
        log="checksum",
    ),
    Case(
        "two-engines-concatenated",
        lambda c: _load(plan(RELEASE) + plan(RELEASE)),
        E.EngineLoadError,
        ("corrupt",),
        log="does not match the size",
    ),
    Case(
        "garbage-file",
        lambda c: _load(_write(c.tmp, "junk.engine", b"not an engine\n" * 9)),
        E.EngineLoadError,
        ("(126 bytes)", "corrupt"),
        log="Magic tag",
    ),
    Case(
        "file-does-not-exist",
        lambda c: _load(str(c.tmp / "nope.engine")),
        E.EngineNotFoundError,
        ("nope.engine", "does not exist"),
    ),
    Case(
        "pathlib-does-not-exist",
        lambda c: _load(c.tmp / "nope2.engine"),
        E.EngineNotFoundError,
        ("nope2.engine", "does not exist"),
    ),
    Case(
        "path-is-a-directory",
        lambda c: _load(str(c.tmp)),
        E.EngineLoadError,
        ("engine file '{tmp}'", "is a directory", "not a serialized engine"),
    ),
    # Root reads any mode-000 file, so "unreadable" is a file whose read() fails with EIO;
    # permission denied proper is test_permission_denied_file below (run as nobody).
    Case(
        "file-unreadable-eio",
        lambda c: _load("/proc/self/mem"),
        E.EngineLoadError,
        ("/proc/self/mem", "could not be read", "Input/output error"),
    ),
    Case(
        "built-by-another-version",
        lambda c: _load(plan("8.6.1")),
        E.EngineLoadError,
        ("{release}", "another TensorRT version", "rebuild it with this version"),
        log="expecting library version 10.16.1 got 8.6.1",
    ),
    Case(
        "built-by-a-newer-version",
        lambda c: _load(plan("11.4.0")),
        E.EngineLoadError,
        ("{release}", "another TensorRT version"),
        log="expecting library version 10.16.1 got 11.4.0",
    ),
    Case(
        "built-by-tensorrt-rtx",
        lambda c: _load(build_engine(sim("rtx-1.7.1"), DEMO_NETWORK)),
        E.EngineLoadError,
        ("another TensorRT version",),
        log="(TensorRT-RTX)",
    ),
    Case(
        "engine-is-an-int",
        lambda c: _load(5),
        E.EngineLoadError,
        ("engine='int'", "bytes, a path or an ICudaEngine"),
    ),
    Case(
        "engine-is-none",
        lambda c: _load(None),
        E.EngineLoadError,
        ("engine='NoneType'", "bytes, a path or an ICudaEngine"),
    ),
    Case(
        "v2-forced-on-10x",
        lambda c: _load(plan(RELEASE), backend="v2"),
        E.BackendUnavailableError,
        ("'v2'", "TensorRT 10.16.1", "removed in TensorRT 10.0", "backend='v3'"),
    ),
    Case(
        "v2-forced-on-11x",
        lambda c: _load(plan("11.4.0"), tensorrt=sim("11.4.0"), backend="v2"),
        E.BackendUnavailableError,
        ("'v2'", "TensorRT 11.4.0", "backend='v3'"),
    ),
    Case(
        "v2-forced-on-rtx",
        lambda c: trt_exec.load(b"x", tensorrt=sim("rtx-1.7.1"), backend="v2"),
        E.BackendUnavailableError,
        ("'v2'", "TensorRT-RTX", "never had it"),
    ),
    Case(
        "v3-forced-on-8.4",
        lambda c: _load(b"x", tensorrt=sim("8.4.3"), backend="v3"),
        E.BackendUnavailableError,
        ("'v3'", "TensorRT 8.4.3", "arrived in TensorRT 8.5", "backend='v2'"),
    ),
    Case(
        "invalid-backend-argument",
        lambda c: _load(plan(RELEASE), backend="v4"),
        E.InvalidBackendError,
        ("backend='v4'", "'auto', 'v2', 'v3'"),
    ),
    Case(
        "backend-argument-not-a-string",
        lambda c: _load(plan(RELEASE), backend=3),
        E.InvalidBackendError,
        ("backend=3", "not a string", "'auto', 'v2', 'v3'"),
    ),
    Case(
        "invalid-TRT_EXEC_BACKEND",
        lambda c: _env(c, "TRT_EXEC_BACKEND", "tensorrt10", lambda: _load(plan(RELEASE))),
        E.InvalidBackendError,
        ("TRT_EXEC_BACKEND='tensorrt10'", "'auto', 'v2', 'v3'"),
    ),
    Case(
        "TRT_EXEC_BACKEND-v2-on-10x",
        lambda c: _env(c, "TRT_EXEC_BACKEND", "v2", lambda: _load(plan(RELEASE))),
        E.BackendUnavailableError,
        ("'v2'", "10.16.1", "unset TRT_EXEC_BACKEND"),
    ),
    Case(
        "invalid-TRT_EXEC_TENSORRT",
        lambda c: _env(c, "TRT_EXEC_TENSORRT", "tensorrt9", lambda: trt_exec.load(plan(RELEASE))),
        E.ConfigurationError,
        ("TRT_EXEC_TENSORRT", "'tensorrt9'", "'tensorrt', 'tensorrt_rtx'", "'sim:<version>'"),
    ),
    Case(
        "TRT_EXEC_TENSORRT-unknown-sim-release",
        lambda c: _env(c, "TRT_EXEC_TENSORRT", "sim:9.9.9", lambda: trt_exec.load(plan(RELEASE))),
        E.ConfigurationError,
        ("TRT_EXEC_TENSORRT", "'9.9.9'", "'sim:10.16.1'"),
    ),
    Case(
        "tensorrt-argument-unknown-module",
        lambda c: trt_exec.load(plan(RELEASE), tensorrt="tensorrt_nope"),
        E.ConfigurationError,
        ("'tensorrt_nope'", "'tensorrt'"),
    ),
    Case(
        "tensorrt-argument-not-a-module-or-name",
        lambda c: trt_exec.load(plan(RELEASE), tensorrt=10),
        E.ConfigurationError,
        ("tensorrt=10", "module", "'sim:<version>'"),
    ),
    Case(
        "load-profile-out-of-range",
        lambda c: _load(plan(RELEASE), profile=7),
        E.ProfileError,
        ("profile=7", "[0, 1]"),
    ),
    Case(
        "load-cuda-graphs-negative",
        lambda c: _load(plan(RELEASE), cuda_graphs=-1),
        E.ConfigurationError,
        ("cuda_graphs=-1", ">= 1"),
    ),
    Case(
        "load-expected-io-mismatch",
        lambda c: _load(
            plan(RELEASE), expected_inputs=["x"], expected_outputs=["sum", "act", "extra"]
        ),
        E.BindingError,
        ("outputs=['sum', 'act', 'extra']", "4 IO tensors", "inputs=['x', 'y']"),
    ),
    Case(
        "pool-size-zero",
        lambda c: Pool(plan(RELEASE), size=0, tensorrt=sim(RELEASE)),
        E.ConfigurationError,
        ("size=0", "integer >= 1"),
    ),
    Case(
        "pool-size-bool",
        lambda c: Pool(plan(RELEASE), size=True, tensorrt=sim(RELEASE)),
        E.ConfigurationError,
        ("size=True", "integer >= 1"),
    ),
    Case(
        "infer-async-numpy-output-on-a-device-path",
        _host_only_infer_async,
        E.ArrayError,
        ("'sum'", "infer_async writes device memory", "ndarray", "CUDA array"),
    ),
)


@pytest.fixture
def live(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Any:
    monkeypatch.delenv("TRT_EXEC_BACKEND", raising=False)
    monkeypatch.delenv("TRT_EXEC_TENSORRT", raising=False)
    ex = open_executor(RELEASE, "v3")
    yield SimpleNamespace(ex=ex, monkeypatch=monkeypatch, tmp=tmp_path)
    ex.close()


@pytest.mark.parametrize("case", LOAD_CASES, ids=[c.id for c in LOAD_CASES])
def test_load_bad_input(live: Any, case: Case) -> None:
    import warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)
        with pytest.raises(E.TrtExecError) as info:
            case.call(live)
        import gc

        gc.collect()
    _check_error(info.value, case, {"release": RELEASE, "cls": "V3Executor", "tmp": str(live.tmp)})
    # A failed load leaks nothing that is later collected without close().
    assert not [w for w in caught if issubclass(w.category, ResourceWarning)]
    live.monkeypatch.delenv("TRT_EXEC_BACKEND", raising=False)
    live.monkeypatch.delenv("TRT_EXEC_TENSORRT", raising=False)
    assert_still_works(live.ex)
    with _load(plan(RELEASE)) as fresh:  # and the module still loads good engines
        assert_still_works(fresh)


def test_case_table_is_large_and_distinct() -> None:
    ids = [c.id for c in EXECUTOR_CASES + LOAD_CASES]
    assert len(ids) == len(set(ids)) and len(ids) >= 30


@pytest.mark.skipif(not hasattr(os, "fork"), reason="POSIX users, modes and fork")
def test_permission_denied_file(tmp_path: Path) -> None:
    """A mode-000 engine file. Root reads those anyway, so as root the load runs in a forked
    child that has dropped to the unprivileged user ``nobody`` (skipped if there is none)."""
    path = tmp_path / "secret.engine"
    path.write_bytes(plan(RELEASE))
    path.chmod(0)
    trt = sim(RELEASE)

    def attempt() -> str:
        try:
            trt_exec.load(str(path), tensorrt=trt).close()
        except E.TrtExecError as exc:
            return f"{type(exc).__name__} | {exc.message}"
        return "loaded"

    if os.geteuid() != 0:
        got = attempt()
    else:
        import pwd

        try:
            nobody = pwd.getpwnam("nobody")
        except KeyError:
            pytest.skip("running as root and there is no 'nobody' user to drop to")
        read_end, write_end = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: drop root, try, report, and leave without running pytest's exit
            try:
                os.close(read_end)
                os.setgroups([])
                os.setgid(nobody.pw_gid)
                os.setuid(nobody.pw_uid)
                os.write(write_end, attempt().encode())
            finally:
                os._exit(0)
        os.close(write_end)
        with os.fdopen(read_end, "rb") as f:
            got = f.read().decode()
        os.waitpid(pid, 0)
    assert got == f"EngineLoadError | engine file {str(path)!r} is not readable (permission denied)"
