"""Shared fixtures: every (simulated release × backend), plus real TensorRT where it can run."""

from __future__ import annotations

import importlib
import os
from typing import Any, NamedTuple

import pytest

from trt_exec.testing import simulated_tensorrt
from trt_exec.testing.matrix import SIM_MATRIX


def _host_mode(trt: Any) -> bool:
    sim = getattr(trt, "_sim", None)
    return sim is not None and not getattr(sim, "gpu", False)


class Target(NamedTuple):
    trt: Any
    backend: str
    real: bool

    @property
    def host_memory(self) -> bool:
        return not self.real


REHEARSAL = "TRT_EXEC_REHEARSE_TENSORRT"


def _rehearsal(version: str) -> Any:
    """The simulator standing in for real TensorRT, to exercise the real-TensorRT leg's own code
    on machines without TensorRT: GPU mode where a GPU is usable, host mode otherwise. Only when
    asked for with TRT_EXEC_REHEARSE_TENSORRT=<simulated version>; never real TensorRT."""
    trt = simulated_tensorrt(version)
    try:
        from trt_exec.cuda.driver import context_for
        from trt_exec.testing import enable_gpu

        context_for(0)
    except Exception:
        return trt
    return enable_gpu(trt)


def _real_tensorrt_reason() -> tuple[Any, str]:
    rehearse = os.environ.get(REHEARSAL)
    if rehearse:
        return _rehearsal(rehearse), ""
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
    # Every simulated release with the backends it can run: the same matrix the demo runs.
    params = [
        pytest.param((release, backend), id=f"sim{release}-{backend}")
        for release, backend in SIM_MATRIX
    ]
    params += [
        pytest.param(("real", backend), id=f"real-tensorrt-{backend}", marks=pytest.mark.tensorrt)
        for backend in ("v2", "v3")
    ]
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
        from trt_exec.errors import BackendUnavailableError

        try:
            chosen = select_backend(trt.__version__, backend, flavor=module_flavor(trt))
        except BackendUnavailableError as exc:  # e.g. v2 on TensorRT 10: both run only on 8.5/8.6
            pytest.skip(str(exc))
        return Target(trt, chosen, not _host_mode(trt))
    return Target(simulated_tensorrt(release), backend, False)
