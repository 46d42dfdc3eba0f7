"""trt-exec demo: every simulated release and backend runs, is labelled SIMULATED, and a wrong
result turns into a non-zero exit."""

from __future__ import annotations

import io

import numpy as np

import trt_exec.testing as testing
from trt_exec.cli import demo
from trt_exec.sim import simulated_tensorrt
from trt_exec.testing.matrix import SIM_MATRIX


def test_demo_runs_every_release_and_backend():
    out = io.StringIO()
    assert demo.run_demo(out) == 0
    text = out.getvalue()
    for version, backend in SIM_MATRIX:
        label = simulated_tensorrt(version).__version__  # "10.16.1.11" for "10.16.1"
        lines = [
            ln
            for ln in text.splitlines()
            if f" {label} (SIMULATED)" in ln and f"backend={backend}" in ln
        ]
        assert len(lines) == 2, (version, backend)  # one line per profile
        assert all("matches numpy" in ln for ln in lines)
    assert "everything above ran on the simulator" in text


def test_demo_reports_a_mismatch(monkeypatch):
    real_reference = testing.reference

    def wrong(spec, inputs):
        return {k: v + np.float32(1) for k, v in real_reference(spec, inputs).items()}

    monkeypatch.setattr(testing, "reference", wrong)
    out = io.StringIO()
    assert demo.run_demo(out) == 1
    assert "MISMATCH" in out.getvalue()
