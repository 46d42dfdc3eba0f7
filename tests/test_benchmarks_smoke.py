"""Smoke test of the benchmark harness: a few iterations, well-formed results. No timing checks."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_percentile_and_ratios() -> None:
    from benchmarks.harness import Contender, add_ratios, measure, percentile

    assert percentile([float(i) for i in range(1, 101)], 99) == 99.0
    assert percentile([5.0], 99) == 5.0

    def boom() -> None:
        raise RuntimeError("no")

    res = measure(
        [Contender("floor", "floor", lambda: None), Contender("bad", "trt_exec", boom)],
        warmup=1,
        reps=2,
        calls=3,
    )
    rows = add_ratios(res, "floor")
    assert rows[0]["vs_floor"] == "1.00x" and rows[0]["calls"] == 6
    assert len(rows[0]["rep_medians_us"]) == 2
    assert rows[1]["error"] == "RuntimeError: no" and rows[1]["median_us"] is None
    assert rows[0]["paired_vs_floor"] == 1.0 and rows[1]["paired_vs_floor"] is None


def test_paired_ratios_compare_each_repetition_with_the_floors_same_repetition() -> None:
    # A host that is slow in repetitions 2 and 3: the ratio of the two medians (8.0 / 6.0) is
    # no repetition's ratio; paired, each repetition is 1.3x (1.33x in the last) of its floor.
    from benchmarks.harness import Measurement, add_ratios

    floor = Measurement("floor", "floor", 6.0, 0.0, [6.0, 8.0, 8.0, 6.0, 6.0])
    row = Measurement("row", "trt_exec", 8.0, 0.0, [7.8, 10.4, 10.4, 7.8, 8.0])
    out = add_ratios([floor, row], "floor")[1]
    assert out["vs_floor"] == "1.33x"
    assert out["paired_vs_floor"] == 1.3 and out["paired_delta_us"] == 2.0
    short = Measurement("short", "trt_exec", 8.0, 0.0, [8.0])  # not one per repetition
    assert add_ratios([floor, short], "floor")[1]["paired_vs_floor"] is None


@pytest.mark.parametrize("polygraphy", [False, True])
def test_quick_run_writes_well_formed_json(tmp_path, polygraphy: bool) -> None:
    if polygraphy:
        pytest.importorskip("polygraphy")
    cmd = [sys.executable, "-m", "benchmarks", "--quick", "--out", str(tmp_path)]
    if not polygraphy:
        cmd.append("--no-polygraphy")
    env = dict(os.environ, PYTHONPATH=ROOT)
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (path,) = tmp_path.glob("cpu-quick-*.json")
    data = json.loads(path.read_text())
    assert data["schema"] == "trt_exec-benchmarks/1" and data["mode"] == "cpu"
    assert data["machine"]["cpu"] and data["date"].endswith("Z")
    assert data["versions"]["numpy"]
    assert set(data["releases"]) == {"8.6.1", "10.16.1"}
    assert data["releases"]["8.6.1"]["backends"] == ["v3", "v2"]
    assert data["releases"]["10.16.1"]["backends"] == ["v3"]
    for rel in data["releases"].values():
        scenarios = rel["scenarios"]
        assert set(scenarios) == {"A", "B-4KB", "B-64MB", "C", "D", "E"}
        assert "CUDA" in scenarios["D"]["skipped"]
        for sid, sc in scenarios.items():
            if sid == "D":
                continue
            names = [r["name"] for r in sc["rows"]]
            assert sc["floor"] in names
            roles = {r["role"] for r in sc["rows"]}
            assert {"floor", "trt_exec"} <= roles
            assert ("polygraphy" in roles) == polygraphy
            for r in sc["rows"]:
                assert not r["error"], (sid, r)
                assert r["calls"] == sc["reps"] * sc["calls_per_rep"]
                assert math.isfinite(r["median_us"]) and r["median_us"] > 0
                assert r["p99_us"] >= 0 and r["vs_floor"].endswith("x")
            floor = next(r for r in sc["rows"] if r["name"] == sc["floor"])
            assert floor["vs_floor"] == "1.00x"
    assert {t["target"].split(":")[0] for t in data["targets"]} >= {"A"}
    assert "**A. Hot path" in proc.stdout and "| contender | median µs" in proc.stdout


def test_instruction_rows_run_the_steady_paths_they_name() -> None:
    """benchmarks.instructions' replica (no GPU: a no-op driver) runs every row, and the rows
    named after bound calls and lanes reach their one-function programs after warming up."""
    code = (
        "import json\n"
        "from benchmarks.instructions import rows\n"
        "table, opened = rows()\n"
        "for fn in table.values():\n"
        "    for _ in range(4): fn()\n"
        "b, gb, nb = table['bind()'], table['graphs bind'], table['bind numpy']\n"
        "lanes = [e._lane for e in opened if e._lane is not None]\n"
        "alanes = [e._alane for e in opened if e._alane is not None]\n"
        "print(json.dumps({\n"
        "  'bound': [c._plan.fixed() is not None for c in (b, gb, nb)],\n"
        "  'launch': b._plan.steady_launch.__name__,\n"
        "  'lanes': [lane.plan.fixed() is not None for lane in lanes],\n"
        "  'alanes': [lane.plan.fixed(asynchronous=True) is not None for lane in alanes]}))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen["bound"] == [True, True, True]
    assert seen["launch"] == "run_async"  # the launch row's device program, not _unready
    assert seen["lanes"] == [True, True, True]  # infer dev, graphs infer, infer numpy
    assert seen["alanes"] == [True]


def test_instruction_counts_say_what_is_missing(monkeypatch, capsys) -> None:
    from benchmarks import instructions

    monkeypatch.setattr(instructions.shutil, "which", lambda name: None)
    assert instructions.main(["--calls", "1"]) == 2
    assert "needs valgrind" in capsys.readouterr().err
