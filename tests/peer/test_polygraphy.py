"""Polygraphy 0.53.6, unchanged, as a client of every simulated release (CPU CI).

Each release runs in its own process (``polygraphy_client.py``: Polygraphy keeps the first
``tensorrt`` it imports). Only Polygraphy's CUDA wrapper is replaced, by host memory; every case
compares Polygraphy's outputs with numpy and with trt_exec's on the same engine bytes.

Where the real release cannot serve a case, the simulator must fail it the same way:
- TensorRT 8.4: Polygraphy 0.53.6 asks for ``tensorrt>=8.5`` and its TrtRunner subclasses
  ``trt.IOutputAllocator``, new in 8.5 (8.5 release notes), so activation raises
  AttributeError; ``add_non_zero`` (INonZeroLayer) is new in 8.5 as well.
- TensorRT-RTX 1.7.1 builds no NonZero layer (observed on the real builder: "has no runners that
  implement it"), so Polygraphy reports an invalid engine.
"""

from __future__ import annotations

import functools
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from trt_exec.testing import SIMULATED_VERSIONS

from .polygraphy_client import CASES

pytest.importorskip("polygraphy")

REPO = Path(__file__).resolve().parents[2]

# (release, case) -> a substring of the expected failure; every other pair must pass.
EXPECTED_FAILURES = {
    ("8.4.3", "fixed_infer"): "has no attribute 'IOutputAllocator'",
    ("8.4.3", "dynamic_infer"): "has no attribute 'IOutputAllocator'",
    ("8.4.3", "two_profiles"): "has no attribute 'IOutputAllocator'",
    ("8.4.3", "data_dependent"): "has no attribute 'add_non_zero'",
    ("rtx-1.7.1", "data_dependent"): "Invalid Engine",
}


@functools.cache
def _run(release: str) -> dict[str, str]:
    env = dict(
        os.environ, PYTHONPATH=os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])
    )
    env.pop("POLYGRAPHY_USE_TENSORRT_RTX", None)
    proc = subprocess.run(
        [sys.executable, "-m", "tests.peer.polygraphy_client", release],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("@@RESULTS@@")]
    assert proc.returncode == 0 and lines, (
        f"client failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    )
    return json.loads(lines[-1][len("@@RESULTS@@") :])  # type: ignore[no-any-return]


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("release", SIMULATED_VERSIONS)
def test_polygraphy_client(release: str, case: str) -> None:
    result = _run(release)[case]
    expected = EXPECTED_FAILURES.get((release, case))
    if expected is None:
        assert result == "ok", result
    else:
        assert result != "ok" and expected in result, result
