"""trt_exec's outputs equal Polygraphy TrtRunner's on the same simulated shape-tensor engine.

Polygraphy imports ``tensorrt`` once per process and keeps it, so each release runs in its own
Python process (as ``python -m benchmarks`` does), with Polygraphy's CUDA wrapper swapped for
host memory (``benchmarks/polygraphy_setup.py``): the simulator's host mode.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

pytest.importorskip("polygraphy", reason="Polygraphy is the `bench` extra")

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

_SCRIPT = textwrap.dedent(
    """
    import json, sys
    import numpy as np
    from trt_exec.testing import simulated_tensorrt
    from benchmarks import polygraphy_setup
    import trt_exec
    from tests.io_engines import shape_tensor_engine

    trt = simulated_tensorrt(sys.argv[1])
    polygraphy_setup.install(trt, host_cuda=True)
    plan = shape_tensor_engine(trt)
    gaps = []
    runner = polygraphy_setup.make_runner(trt, plan, gaps)
    rng = np.random.default_rng(0)
    report = {"gaps": gaps, "cases": []}
    with trt_exec.load(plan, tensorrt=trt) as ex:
        for rows, s, n in [(2, (3, 4), (2, 5)), (4, (6, 4), (3, 2)), (3, (18, 1), (0, 6))]:
            feed = {
                "x": rng.standard_normal((rows, 6)).astype(np.float32),
                "s": np.array(s, np.int32),
                "n": np.array(n, np.int32),
            }
            pg = {k: np.asarray(v) for k, v in runner.infer(feed).items()}
            te = ex.infer(feed)
            report["cases"].append({
                name: [list(te[name].shape), list(pg[name].shape),
                       bool(np.array_equal(te[name], pg[name]))]
                for name in te
            })
    runner.deactivate()
    print(json.dumps(report))
    """
)


@pytest.mark.parametrize("release", ["8.6.1", "10.16.1", "rtx-1.7.1"])
def test_shape_tensor_outputs_equal_polygraphy(release):
    env = {**os.environ, "PYTHONPATH": ROOT}
    env.pop("TRT_EXEC_TENSORRT", None)
    proc = subprocess.run(
        [sys.executable, "-c", _SCRIPT, release],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    assert report["gaps"] == []
    assert len(report["cases"]) == 3
    for case in report["cases"]:
        assert set(case) == {"y", "z", "xs"}
        for name, (mine, theirs, equal) in case.items():
            assert mine == theirs and equal, (release, name, mine, theirs)
    assert report["cases"][2]["z"][0] == [0, 6]  # the empty slice
