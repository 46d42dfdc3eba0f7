"""Shared pieces of the reliability suite: engines, reference results and the "still works" check.

Every engine here is the demo network (``x``, ``y`` float32 of shape (batch, 4); ``sum = x + y``,
``act = abs(x) * y``; profile 0 covers batch 1..4, profile 1 batch 4..16), built once per
simulated release and cached.
"""

from __future__ import annotations

import contextlib
import functools
import weakref
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

import trt_exec
from trt_exec import _trtlog
from trt_exec.testing import DEMO_NETWORK, build_engine, reference, simulated_tensorrt
from trt_exec.testing.matrix import pair_id, subset

from ..helpers import demo_inputs

# (release, backend): the bindings backend and the named-tensor backend on the release that has
# both, and the named-tensor backend on the current and next major releases.
TARGETS: tuple[tuple[str, str], ...] = subset(
    ("8.6.1", "v2"),
    ("8.6.1", "v3"),
    ("10.16.1", "v3"),
    ("11.4.0", "v3"),
)
TARGET_IDS = [pair_id(t) for t in TARGETS]

# Batch ranges of the demo network's profiles.
PROFILE_BATCHES = ((1, 4), (4, 16))


@functools.cache
def sim(release: str) -> Any:
    """One simulated module per release for the whole session (engines are tied to it)."""
    return simulated_tensorrt(release)


@functools.cache
def plan(release: str) -> bytes:
    return build_engine(sim(release), DEMO_NETWORK)


def open_executor(release: str, backend: str, **kwargs: Any) -> Any:
    return trt_exec.load(plan(release), tensorrt=sim(release), backend=backend, **kwargs)


def expected(inputs: dict) -> dict:
    return reference(DEMO_NETWORK, inputs)


def assert_correct(got: Any, inputs: dict) -> None:
    want = expected(inputs)
    assert isinstance(got, dict) and list(got) == list(want)
    for name, value in want.items():
        assert got[name].shape == value.shape and got[name].dtype == value.dtype, name
        np.testing.assert_array_equal(got[name], value, err_msg=name)


def assert_still_works(ex: Any, seed: int = 12345) -> None:
    """A valid call in every profile, and one with the profile chosen (or pinned), give exactly
    numpy's results; TensorRT's log capture is not left open by the failed call."""
    assert not ex.closed
    assert not ex._lock.locked(), "a failed call left the executor's lock held"
    for k, (lo, hi) in enumerate(PROFILE_BATCHES):
        for batch in (lo, hi):
            arrays = demo_inputs(batch, seed + batch)
            assert_correct(ex.infer(arrays, profile=k), arrays)
    pinned = ex.profile
    batch = 3 if pinned in (None, 0) else 9
    arrays = demo_inputs(batch, seed)
    assert_correct(ex.infer(arrays), arrays)
    assert_log_capture_closed()


def assert_log_capture_closed() -> None:
    assert not getattr(_trtlog._local, "stack", None), "a TensorRT log capture was left open"


class Tracked:
    """Weak references to the TensorRT objects and data paths trt_exec creates while active."""

    def __init__(self) -> None:
        self.contexts: list[weakref.ref[Any]] = []
        self.engines: list[weakref.ref[Any]] = []
        self.runtimes: list[weakref.ref[Any]] = []
        self.data_paths: list[weakref.ref[Any]] = []

    def alive(self) -> dict[str, int]:
        """How many of each kind are still alive."""
        return {
            kind: sum(ref() is not None for ref in refs)
            for kind, refs in (
                ("contexts", self.contexts),
                ("engines", self.engines),
                ("runtimes", self.runtimes),
                ("data_paths", self.data_paths),
            )
        }


@contextlib.contextmanager
def tracked(trt: Any) -> Iterator[Tracked]:
    """Record weak references to every execution context, engine, runtime and data path made
    through ``trt`` (a simulated module) and trt_exec.loading while the block runs."""
    import trt_exec.loading as loading

    t = Tracked()
    mp = pytest.MonkeyPatch()
    real_context = trt.ICudaEngine.create_execution_context
    real_deserialize = trt.Runtime.deserialize_cuda_engine
    real_data_path = loading.make_data_path

    def create_execution_context(self: Any, *args: Any, **kwargs: Any) -> Any:
        context = real_context(self, *args, **kwargs)
        if context is not None:
            t.contexts.append(weakref.ref(context))
        return context

    def deserialize_cuda_engine(self: Any, *args: Any, **kwargs: Any) -> Any:
        engine = real_deserialize(self, *args, **kwargs)
        t.runtimes.append(weakref.ref(self))
        if engine is not None:
            t.engines.append(weakref.ref(engine))
        return engine

    def make_data_path(*args: Any, **kwargs: Any) -> Any:
        dp = real_data_path(*args, **kwargs)
        t.data_paths.append(weakref.ref(dp))
        return dp

    mp.setattr(trt.ICudaEngine, "create_execution_context", create_execution_context)
    mp.setattr(trt.Runtime, "deserialize_cuda_engine", deserialize_cuda_engine)
    mp.setattr(loading, "make_data_path", make_data_path)
    try:
        yield t
    finally:
        mp.undo()
