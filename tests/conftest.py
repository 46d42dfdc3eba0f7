"""Shared fixtures: every (simulated release × backend), plus real TensorRT where it can run."""

from __future__ import annotations

import importlib
from typing import Any, NamedTuple

import pytest

from trt_exec.demo import SIM_RUNS
from trt_exec.testing import simulated_tensorrt

# Every simulated release with the backends it can run: the same matrix the demo runs.
SIM_MATRIX = SIM_RUNS


class Target(NamedTuple):
    trt: Any
    backend: str
    real: bool

    @property
    def host_memory(self) -> bool:
        return not self.real


def _real_tensorrt_reason() -> tuple[Any, str]:
    try:
        trt = importlib.import_module("tensorrt")
    except Exception as exc:  # ImportError, or OSError from missing libnvinfer
        return None, f"real TensorRT is not installed here ({type(exc).__name__}: {exc})"
    try:
        from cuda.bindings import runtime as cudart

        err, count = cudart.cudaGetDeviceCount()
    except Exception as exc:
        return None, f"real TensorRT found but CUDA is unusable ({exc})"
    if int(err) != 0 or count < 1:
        return None, "real TensorRT found but no CUDA GPU is present"
    return trt, ""


def _targets() -> list[Any]:
    params = [
        pytest.param((release, backend), id=f"sim{release}-{backend}")
        for release, backends in SIM_MATRIX
        for backend in backends
    ]
    params.append(pytest.param(("real", "auto"), id="real-tensorrt", marks=pytest.mark.tensorrt))
    return params


@pytest.fixture(params=_targets())
def target(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Target:
    monkeypatch.delenv("TRT_EXEC_BACKEND", raising=False)
    release, backend = request.param
    if release == "real":
        trt, reason = _real_tensorrt_reason()
        if trt is None:
            pytest.skip(reason)
        from trt_exec import select_backend
        from trt_exec.discovery import module_flavor

        return Target(trt, select_backend(trt.__version__, flavor=module_flavor(trt)), True)
    return Target(simulated_tensorrt(release), backend, False)
