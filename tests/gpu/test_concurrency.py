"""The shorter GPU variant of the concurrency test (issue 7): threads sharing one executor, and a
Pool of contexts, on the simulator's GPU mode; every result is checked against numpy."""

from __future__ import annotations

import threading

import numpy as np
import pytest

import trt_exec
from trt_exec.testing import DEMO_NETWORK, build_engine, reference

from ..helpers import load_demo

pytestmark = pytest.mark.gpu

THREADS, CALLS = 8, 250


def _hammer(run) -> list[str]:
    """Run THREADS threads of CALLS calls with distinct inputs; return a line per wrong result."""
    wrong: list[str] = []
    errors: list[BaseException] = []

    def worker(t: int) -> None:
        rng = np.random.default_rng(t)
        try:
            for i in range(CALLS):
                batch = int(rng.integers(1, 17))  # both profiles of the demo network
                inputs = {n: rng.uniform(-2, 2, (batch, 4)).astype(np.float32) for n in ("x", "y")}
                got = run(inputs)
                for name, want in reference(DEMO_NETWORK, inputs).items():
                    if got[name].shape != want.shape or not np.allclose(got[name], want, rtol=1e-6):
                        wrong.append(f"thread {t} call {i} output {name}")
        except BaseException as exc:  # surfaced below, with the thread that raised it
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(t,)) for t in range(THREADS)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    if errors:
        raise errors[0]
    return wrong


def test_one_executor_shared_by_threads(gpu_trt):
    trt, backend = gpu_trt
    with load_demo(trt, backend) as ex:
        assert _hammer(ex.infer) == []


def test_pool_of_contexts_under_threads(gpu_trt):
    trt, backend = gpu_trt
    with trt_exec.Pool(
        build_engine(trt, DEMO_NETWORK), size=4, tensorrt=trt, backend=backend
    ) as pool:
        assert _hammer(pool.infer) == []
        assert len({id(ex) for ex in pool.executors}) == 4
