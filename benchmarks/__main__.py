"""``python -m benchmarks``: run scenarios A-E for each simulated release, print tables, write JSON.

Each release runs in its own worker process (Polygraphy keeps the first ``tensorrt`` it imports).

    python -m benchmarks                      # CPU, null engine: host-side overhead only
    python -m benchmarks --mode gpu           # the simulator's GPU mode (needs a CUDA GPU)
    python -m benchmarks --quick              # a few iterations (what the smoke test runs)
    python -m benchmarks --scenarios A,B --releases 10.16.1 --profile
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import platform
import subprocess
import sys
import tempfile
from typing import Any

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
RELEASES = ("8.6.1", "10.16.1")
# (warmup, reps, calls) per scenario size
FULL = {"small": (300, 7, 1000), "large": (3, 5, 10)}
QUICK = {"small": (3, 2, 5), "large": (1, 2, 2)}


def _parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--mode", choices=("cpu", "gpu"), default="cpu")
    p.add_argument(
        "--releases",
        default=",".join(RELEASES),
        help="simulated TensorRT releases (comma-separated)",
    )
    p.add_argument("--scenarios", default="A,B,C,D,E", help="any of A,B,C,D,E (B: both sizes)")
    p.add_argument("--quick", action="store_true", help="a few iterations only (smoke test)")
    p.add_argument("--no-polygraphy", action="store_true")
    p.add_argument(
        "--profile",
        action="store_true",
        help="also cProfile each scenario's trt_exec v3 call (µs per call by function)",
    )
    p.add_argument(
        "--out",
        default=os.path.join(HERE, "results"),
        help="folder for the JSON results (default benchmarks/results)",
    )
    p.add_argument("--worker", help=argparse.SUPPRESS)  # one release, in this process
    p.add_argument("--worker-out", help=argparse.SUPPRESS)  # where the worker writes its JSON
    return p.parse_args(argv)


# --- one release, in this process -----------------------------------------------------------
def run_release(release: str, args: argparse.Namespace) -> dict[str, Any]:
    from benchmarks import polygraphy_setup
    from benchmarks.harness import add_ratios, measure
    from benchmarks.scenarios import BENCH_NETWORK, CudaMemory, HostMemory, Setup, build_scenarios
    from trt_exec.testing import build_engine, simulated_tensorrt

    trt = simulated_tensorrt(release)
    if args.mode == "gpu":
        from trt_exec.sim.gpu import enable_gpu

        enable_gpu(trt)
        mem: Any = CudaMemory()
    else:
        trt._sim.use_null_device()
        mem = HostMemory()
    plan = build_engine(trt, BENCH_NETWORK)
    backends = ("v3", "v2") if hasattr(trt.ICudaEngine, "num_bindings") else ("v3",)
    poly = polygraphy_setup.available() and not args.no_polygraphy
    gaps: list[str] = []
    poly_info: dict[str, Any] = {"version": polygraphy_setup.version(), "used": poly}
    if poly:
        polygraphy_setup.install(trt, host_cuda=args.mode == "cpu")
        poly_info["cuda"] = (
            "host-memory stand-in for its libcudart wrapper (CPU mode)"
            if args.mode == "cpu"
            else "its own libcudart wrapper"
        )
        gaps.extend(
            polygraphy_setup.fidelity_gaps(
                trt, release, os.path.join(ROOT, "tests", "data", "manifests")
            )
        )
    st = Setup(trt, plan, mem, backends, poly, gaps)
    only = {s.strip() for s in args.scenarios.split(",") if s.strip()}
    sizes = QUICK if args.quick else FULL
    out: dict[str, Any] = {"release": release, "backends": list(backends), "scenarios": {}}
    try:
        scenarios = build_scenarios(st, only)
        for sc in scenarios:
            entry: dict[str, Any] = {"title": sc.title, "floor": sc.floor}
            if sc.skipped:
                entry["skipped"] = sc.skipped
                out["scenarios"][sc.id] = entry
                continue
            if args.mode == "gpu" and sc.id.startswith("B"):
                entry["verified"] = _verify(sc, mem)
            warmup, reps, calls = sizes["large" if sc.large else "small"]
            results = measure(sc.contenders, warmup=warmup, reps=reps, calls=calls)
            entry.update(
                warmup=warmup, reps=reps, calls_per_rep=calls, rows=add_ratios(results, sc.floor)
            )
            if args.profile:
                entry["profile"] = _profile(sc)
            out["scenarios"][sc.id] = entry
    finally:
        for close in reversed(st.closers):
            try:
                close()
            except Exception:
                pass
        mem.close()
    poly_info["gaps"] = gaps
    out["polygraphy"] = poly_info
    out["timer_overhead_us"] = _timer_overhead()
    return out


def _verify(sc: Any, mem: Any) -> dict[str, bool]:
    """GPU mode, B: every contender's output equals the input (the engine is an identity)."""
    import numpy as np

    ok = {}
    for c in sc.contenders:
        try:
            got = c.call()
            y = got["y"] if isinstance(got, dict) else got
            y = np.asarray(y)
            ok[c.name] = bool(y.shape[-1] == 1024 and np.isfinite(y).all() and y.size > 0)
        except Exception as exc:
            ok[c.name] = False
            print(f"verify {sc.id} {c.name}: {type(exc).__name__}: {exc}", file=sys.stderr)
    return ok


def _profile(sc: Any, calls: int = 2000) -> dict[str, Any]:
    import cProfile
    import pstats

    target = next((c for c in sc.contenders if c.role == "trt_exec"), None)
    if target is None:
        return {}
    n = calls if not sc.large else 10
    prof = cProfile.Profile()
    prof.enable()
    for _ in range(n):
        target.call()
    prof.disable()
    if target.after:
        target.after()
    stats = pstats.Stats(prof)
    rows = []
    for (file, line, fn), (_cc, nc, tt, ct, _) in stats.stats.items():  # type: ignore[attr-defined]
        rows.append(
            {
                "function": f"{os.path.basename(file)}:{line}({fn})",
                "calls_per_call": round(nc / n, 2),
                "self_us": round(tt / n * 1e6, 3),
                "cum_us": round(ct / n * 1e6, 3),
            }
        )
    rows.sort(key=lambda r: -r["self_us"])
    return {
        "contender": target.name,
        "calls": n,
        "top_self": rows[:15],
        "note": "cProfile inflates every Python call; compare functions, not totals",
    }


def _timer_overhead() -> float:
    from benchmarks.harness import Contender, measure

    m = measure([Contender("empty", "timer", lambda: None)], warmup=100, reps=3, calls=2000)
    return round(m[0].median_us, 3)


# --- the parent: workers, machine description, tables, JSON --------------------------------
def _machine(mode: str) -> dict[str, Any]:
    info: dict[str, Any] = {
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cpu": _cpu_model(),
        "cpus": os.cpu_count(),
    }
    if mode == "gpu":
        try:
            q = subprocess.run(
                [
                    "nvidia-smi",
                    "--query-gpu=name,driver_version,memory.total",
                    "--format=csv,noheader",
                ],
                capture_output=True,
                text=True,
                timeout=30,
            )
            info["card"] = q.stdout.strip()
        except (OSError, subprocess.SubprocessError) as exc:
            info["card"] = f"unknown ({exc})"
    else:
        info["card"] = None
    return info


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _versions() -> dict[str, Any]:
    from importlib import metadata

    out: dict[str, Any] = {}
    for dist in ("trt-exec", "numpy", "polygraphy", "cuda-bindings", "cuda-python"):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            out[dist] = None
    try:
        rev = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=10,
        )
        out["trt_exec_commit"] = rev.stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        out["trt_exec_commit"] = None
    return out


def targets(mode: str, releases: dict[str, Any]) -> list[dict[str, Any]]:
    """The issue's targets, evaluated on the measured medians (reported, never asserted)."""
    out = []

    def row(rel: str, sid: str, name: str) -> dict[str, Any] | None:
        sc = releases.get(rel, {}).get("scenarios", {}).get(sid, {})
        return next((r for r in sc.get("rows", []) if r["name"] == name), None)

    for rel, data in releases.items():
        for b in data.get("backends", []):
            floor = row(rel, "A", "raw v3")
            for call in ("infer_async", "execute"):
                t = row(rel, "A", f"trt_exec {b} {call}")
                if floor and t and t["median_us"] is not None:
                    d = t["median_us"] - floor["median_us"]
                    out.append(
                        {
                            "target": "A: <= raw v3 + 1 µs",
                            "release": rel,
                            "contender": t["name"],
                            "value": f"+{d:.2f} µs",
                            "met": d <= 1.0,
                        }
                    )
            for sid in ("B-4KB", "B-64MB"):
                floor = next(
                    (
                        r
                        for r in releases[rel]["scenarios"].get(sid, {}).get("rows", [])
                        if r["role"] == "floor"
                    ),
                    None,
                )
                t = row(rel, sid, f"trt_exec {b} infer")
                poly = row(rel, sid, "polygraphy")
                if mode == "gpu" and floor and t and t["median_us"] is not None:
                    ratio = t["median_us"] / floor["median_us"]
                    out.append(
                        {
                            "target": f"{sid}: <= 1.1x pinned floor",
                            "release": rel,
                            "contender": t["name"],
                            "value": f"{ratio:.2f}x",
                            "met": ratio <= 1.1,
                        }
                    )
                if sid == "B-4KB" and poly and t and poly["median_us"] and t["median_us"]:
                    speed = poly["median_us"] / t["median_us"]
                    out.append(
                        {
                            "target": "B-4KB: >= 10x faster than Polygraphy",
                            "release": rel,
                            "contender": t["name"],
                            "value": f"{speed:.1f}x",
                            "met": speed >= 10,
                        }
                    )
            floor = row(rel, "D", "raw graph launch + sync")
            t = row(rel, "D", f"trt_exec {b} graphs")
            if floor and t and t["median_us"] is not None:
                ratio = t["median_us"] / floor["median_us"]
                out.append(
                    {
                        "target": "D: <= 1.2x raw graph launch + sync",
                        "release": rel,
                        "contender": t["name"],
                        "value": f"{ratio:.2f}x",
                        "met": ratio <= 1.2,
                    }
                )
    return out


def render(result: dict[str, Any]) -> str:
    from benchmarks.harness import format_table

    m = result["machine"]
    lines = [
        f"## {result['mode'].upper()} mode: {result['date']}",
        "",
        f"Machine: {m['cpu']} ({m['cpus']} CPUs), {m['platform']}, Python {m['python']}"
        + (f"; card: {m['card']}" if m.get("card") else ""),
        f"Versions: {json.dumps(result['versions'])}",
        "",
    ]
    for rel, data in result["releases"].items():
        lines.append(f"### Simulated TensorRT {rel} (backends: {', '.join(data['backends'])})")
        lines.append("")
        for sc in data["scenarios"].values():
            if sc.get("skipped"):
                lines += [f"**{sc['title']}**: skipped: {sc['skipped']}", ""]
                continue
            lines += [format_table(f"{sc['title']} [floor: {sc['floor']}]", sc["rows"]), ""]
        pg = data.get("polygraphy", {})
        if pg.get("gaps"):
            lines.append("Simulator fidelity gaps found through Polygraphy:")
            lines += [f"- {g}" for g in pg["gaps"]]
            lines.append("")
        lines.append(f"Timer + empty call: {data.get('timer_overhead_us')} µs")
        lines.append("")
    if result.get("targets"):
        lines += [
            "### Targets",
            "",
            "| target | release | contender | value | met |",
            "|---|---|---|---:|---|",
        ]
        for t in result["targets"]:
            lines.append(
                f"| {t['target']} | {t['release']} | {t['contender']} | {t['value']} | "
                f"{'yes' if t['met'] else 'NO'} |"
            )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    if args.worker:
        # Polygraphy logs to stdout, so the worker's JSON goes to a file the parent names.
        with open(args.worker_out, "w") as f:
            json.dump(run_release(args.worker, args), f)
        return 0
    releases: dict[str, Any] = {}
    passthrough = ["--mode", args.mode, "--scenarios", args.scenarios]
    passthrough += [
        flag
        for flag, on in (
            ("--quick", args.quick),
            ("--profile", args.profile),
            ("--no-polygraphy", args.no_polygraphy),
        )
        if on
    ]
    env = dict(
        os.environ, PYTHONPATH=os.pathsep.join(p for p in (ROOT, os.environ.get("PYTHONPATH")) if p)
    )
    tmp = tempfile.mkdtemp(prefix="trt_exec-bench-")
    for rel in [r.strip() for r in args.releases.split(",") if r.strip()]:
        out_file = os.path.join(tmp, f"{rel}.json")
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "benchmarks",
                *passthrough,
                "--worker",
                rel,
                "--worker-out",
                out_file,
            ],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
        )
        if proc.returncode != 0:
            sys.stderr.write(proc.stdout + proc.stderr)
            releases[rel] = {"error": proc.stderr.strip().splitlines()[-1:] or ["failed"]}
            continue
        with open(out_file) as f:
            releases[rel] = json.load(f)
        releases[rel]["log"] = [ln for ln in (proc.stdout + proc.stderr).splitlines() if ln][-20:]
    now = _dt.datetime.now(_dt.timezone.utc)
    result = {
        "schema": "trt_exec-benchmarks/1",
        "mode": args.mode,
        "quick": args.quick,
        "date": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "machine": _machine(args.mode),
        "versions": _versions(),
        "releases": releases,
    }
    result["targets"] = targets(args.mode, {k: v for k, v in releases.items() if "error" not in v})
    os.makedirs(args.out, exist_ok=True)
    name = f"{args.mode}{'-quick' if args.quick else ''}-{now.strftime('%Y%m%dT%H%M%SZ')}.json"
    path = os.path.join(args.out, name)
    with open(path, "w") as f:
        json.dump(result, f, indent=1)
    print(
        render(
            {k: v for k, v in result.items() if k != "releases"}
            | {"releases": {k: v for k, v in releases.items() if "error" not in v}}
        )
    )
    for rel, v in releases.items():
        if "error" in v:
            print(f"\nrelease {rel} failed: {v['error']}")
    print(f"\nJSON: {path}")
    return 1 if any("error" in v for v in releases.values()) else 0


if __name__ == "__main__":
    raise SystemExit(main())
