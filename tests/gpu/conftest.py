"""GPU fixtures: the simulated TensorRT in GPU mode on CUDA device 0, skipped without a GPU."""

from __future__ import annotations

import pytest

from trt_exec.testing.matrix import subset

from ..helpers import gpu_unavailable_reason


@pytest.fixture(scope="session")
def gpu() -> None:
    reason = gpu_unavailable_reason()
    if reason:
        pytest.skip(reason)


@pytest.fixture(
    params=subset(("10.16.1", "v3"), ("8.6.1", "v2")), ids=["sim10.16.1-v3", "sim8.6.1-v2"]
)
def gpu_trt(request: pytest.FixtureRequest, gpu: None):
    from trt_exec.sim.gpu import enable_gpu
    from trt_exec.testing import simulated_tensorrt

    version, backend = request.param
    return enable_gpu(simulated_tensorrt(version)), backend
