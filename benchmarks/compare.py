"""``python -m benchmarks.compare --base REV``: the CPU scenarios of two revisions, interleaved.

Checks a refactor for per-call regressions: it runs this tree's ``python -m benchmarks`` (CPU,
null engine) against the trt_exec of a checkout of ``REV`` and of this working tree,
alternately, ``--rounds`` times each, in one session on one machine, and prints the median
per-call time of every trt_exec row and of the hand-written floor for both, with the difference
in µs, and each row's overhead over the floor of the same run. Medians of per-round medians.

    python -m benchmarks.compare --base 52fae16 --scenarios A,B,E --rounds 3

On a busy machine set ``TRT_EXEC_BENCH_CLOCK=thread`` (see ``benchmarks/harness.py``).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
from typing import Any

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def _run(tree: str, harness: str, args: argparse.Namespace, out: str) -> dict[str, Any]:
    # This tree's benchmarks (harness and scenarios) on the given tree's trt_exec, so that both
    # revisions are measured by the same code.
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([harness, tree]))
    cmd = [
        sys.executable,
        "-m",
        "benchmarks",
        "--scenarios",
        args.scenarios,
        "--releases",
        args.release,
        "--no-polygraphy",
        "--out",
        out,
    ]
    subprocess.run(cmd, cwd=harness, env=env, check=True, stdout=subprocess.DEVNULL)
    (name,) = [f for f in os.listdir(out) if f.endswith(".json")]
    with open(os.path.join(out, name)) as f:
        doc: dict[str, Any] = json.load(f)
    os.remove(os.path.join(out, name))
    return doc["releases"][args.release]["scenarios"]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m benchmarks.compare",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--base", required=True, help="the git revision to compare with")
    p.add_argument("--scenarios", default="A,B,E")
    p.add_argument("--release", default="10.16.1")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--json", help="also write the comparison to this file")
    args = p.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        base_tree = os.path.join(tmp, "base")
        subprocess.run(
            ["git", "worktree", "add", "-q", "--detach", base_tree, args.base], cwd=ROOT, check=True
        )
        harness = os.path.join(tmp, "harness")
        os.makedirs(harness)
        os.symlink(HERE, os.path.join(harness, "benchmarks"))
        try:
            samples: dict[tuple[str, str, str], list[float]] = {}
            for _ in range(args.rounds):
                for label, tree in (("base", base_tree), ("head", ROOT)):
                    out = os.path.join(tmp, "out-" + label)
                    os.makedirs(out, exist_ok=True)
                    for sid, sc in _run(tree, harness, args, out).items():
                        floor = next(
                            (
                                r["median_us"]
                                for r in sc.get("rows", [])
                                if r["name"] == sc["floor"]
                            ),
                            None,
                        )
                        for row in sc.get("rows", []):
                            if row["role"] in ("trt_exec", "floor") and not row["error"]:
                                samples.setdefault((sid, row["name"], label), []).append(
                                    row["median_us"]
                                )
                                if floor is not None:
                                    # Over the floor measured in the same run: the overhead,
                                    # with most of the machine's drift cancelled.
                                    samples.setdefault((sid, row["name"], label + "+"), []).append(
                                        row["median_us"] - floor
                                    )
        finally:
            subprocess.run(
                ["git", "worktree", "remove", "--force", base_tree], cwd=ROOT, check=False
            )
    rows = []
    for sid, name in sorted({(s, n) for s, n, _ in samples}):
        base = samples.get((sid, name, "base"))
        head = samples.get((sid, name, "head"))
        if not base or not head:
            continue
        b, h = statistics.median(base), statistics.median(head)
        bo = statistics.median(samples.get((sid, name, "base+"), [math.nan]))
        ho = statistics.median(samples.get((sid, name, "head+"), [math.nan]))
        rows.append(
            {
                "scenario": sid,
                "row": name,
                "base_us": round(b, 3),
                "head_us": round(h, 3),
                "delta_us": round(h - b, 3),
                "base_over_floor_us": round(bo, 3),
                "head_over_floor_us": round(ho, 3),
                "overhead_delta_us": round(ho - bo, 3),
            }
        )
    width = max(len(r["row"]) for r in rows) if rows else 10
    print(
        f"base {args.base} vs working tree, {args.rounds} interleaved rounds, release "
        f"{args.release}, CPU null engine; medians of per-round medians (µs per call)"
    )
    print(
        f"{'scenario':8} {'row':{width}} {'base':>9} {'head':>9} {'delta':>8}   "
        f"{'base-floor':>10} {'head-floor':>10} {'delta':>8}"
    )
    for r in rows:
        print(
            f"{r['scenario']:8} {r['row']:{width}} {r['base_us']:9.3f} {r['head_us']:9.3f} "
            f"{r['delta_us']:+8.3f}   {r['base_over_floor_us']:10.3f} "
            f"{r['head_over_floor_us']:10.3f} {r['overhead_delta_us']:+8.3f}"
        )
    if args.json:
        with open(args.json, "w") as f:
            json.dump(
                {"base": args.base, "rounds": args.rounds, "release": args.release, "rows": rows},
                f,
                indent=1,
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
