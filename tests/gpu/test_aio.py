"""ainfer on the simulator's GPU mode: the event is awaited without blocking the loop, concurrent
awaits are correct, and a cancelled task leaves the executor usable. Skipped without a GPU."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

import trt_exec
from trt_exec.testing import DEMO_NETWORK, build_engine, reference

from ..helpers import load_demo

pytestmark = pytest.mark.gpu


def _inputs(i: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(i)
    batch = 1 + i % 16
    return {n: rng.uniform(-2, 2, (batch, 4)).astype(np.float32) for n in ("x", "y")}


def test_concurrent_ainfer_on_the_gpu(gpu_trt):
    trt, backend = gpu_trt
    inputs = [_inputs(i) for i in range(64)]
    with load_demo(trt, backend) as ex:
        assert ex.device == 0

        async def main() -> list[dict[str, np.ndarray]]:
            return await asyncio.gather(*(ex.ainfer(x) for x in inputs))

        for got, x in zip(asyncio.run(main()), inputs):
            for name, want in reference(DEMO_NETWORK, x).items():
                np.testing.assert_allclose(got[name], want, rtol=1e-6)
        out = np.empty((3, 4), np.float32)
        got = asyncio.run(ex.ainfer(_inputs(2), outputs={"sum": out}))
        assert got["sum"] is out
        np.testing.assert_allclose(out, reference(DEMO_NETWORK, _inputs(2))["sum"], rtol=1e-6)


def test_cancelled_ainfer_leaves_the_executor_usable(gpu_trt):
    trt, backend = gpu_trt
    with load_demo(trt, backend) as ex:

        async def main() -> dict[str, np.ndarray]:
            tasks = [asyncio.ensure_future(ex.ainfer(_inputs(i))) for i in range(8)]
            await asyncio.sleep(0)
            for t in tasks[::2]:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            return await ex.ainfer(_inputs(99))

        got = asyncio.run(main())
        np.testing.assert_allclose(got["act"], reference(DEMO_NETWORK, _inputs(99))["act"])


def test_pool_ainfer_on_the_gpu(gpu_trt):
    trt, backend = gpu_trt
    inputs = [_inputs(i) for i in range(32)]
    with trt_exec.Pool(
        build_engine(trt, DEMO_NETWORK), size=2, tensorrt=trt, backend=backend, devices=[0]
    ) as pool:
        assert pool.devices == (0, 0)

        async def main() -> list[dict[str, np.ndarray]]:
            return await asyncio.gather(*(pool.ainfer(x) for x in inputs))

        for got, x in zip(asyncio.run(main()), inputs):
            np.testing.assert_allclose(got["sum"], reference(DEMO_NETWORK, x)["sum"], rtol=1e-6)
