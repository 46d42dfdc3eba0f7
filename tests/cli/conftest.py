"""Fixtures for the command-line tests: the demo network built by each simulated release."""

from __future__ import annotations

from pathlib import Path

import pytest

from trt_exec.testing import DEMO_NETWORK, build_engine, simulated_tensorrt

from .helpers import RELEASES


@pytest.fixture(scope="session")
def engines(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The demo network built by each simulated release, as engine files."""
    d = tmp_path_factory.mktemp("engines")
    out = {}
    for v in RELEASES:
        path = d / f"demo-{v}.engine"
        path.write_bytes(build_engine(simulated_tensorrt(v), DEMO_NETWORK))
        out[v] = path
    return out
