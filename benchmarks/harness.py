"""Timing, statistics, tables and JSON: everything that does not know about TensorRT.

Method: every contender gets ``warmup`` untimed calls, then ``reps`` repetitions of ``calls``
calls each. Repetitions are interleaved across contenders (rep 1 of every contender, then rep 2,
...) so that drift of the machine hits all of them alike. Each call is timed on its own with
``perf_counter_ns``; a repetition's ``after`` hook (a stream sync for pipelined GPU calls) runs
outside the timed calls. Reported: the median over repetitions of each repetition's median, and
the p99 over every timed call pooled. The empty call's cost (timer plus a Python call) is
measured alongside and reported, not subtracted. Also reported against the floor, *paired*: the
median over repetitions of each repetition's median divided by (``paired_vs_floor``), or minus
(``paired_delta_us``), the floor's median in the same repetition, measured a moment apart; on a
host whose speed changes between repetitions this keeps a slow repetition of the floor from
being compared with a fast one of the contender.

The clock is wall time (``perf_counter_ns``). ``TRT_EXEC_BENCH_CLOCK=thread`` times each call
with ``thread_time_ns`` instead: the CPU time of the calling thread, which leaves out the time the
thread waited for a core. Use it to compare host-side costs on a shared, busy machine (it cannot
see GPU or I/O waits, so never for GPU round trips).
"""

from __future__ import annotations

import gc
import math
import os
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Contender", "Measurement", "measure", "percentile", "format_table", "SCHEMA"]

SCHEMA = "trt_exec-benchmarks/1"


@dataclass
class Contender:
    """One way of doing the scenario's call. ``role`` is "floor", "trt_exec" or "polygraphy"."""

    name: str
    role: str
    call: Callable[[], Any]
    after: Callable[[], Any] | None = None  # run after each repetition, untimed
    note: str = ""


@dataclass
class Measurement:
    name: str
    role: str
    median_us: float
    p99_us: float
    rep_medians_us: list[float] = field(default_factory=list)
    calls: int = 0
    note: str = ""
    error: str = ""  # why this contender could not run (then the numbers are NaN)


def percentile(samples: list[float], q: float) -> float:
    """Nearest-rank percentile (q in [0, 100]) of a non-empty list."""
    ordered = sorted(samples)
    k = max(0, min(len(ordered) - 1, math.ceil(q / 100.0 * len(ordered)) - 1))
    return ordered[k]


def _run_rep(c: Contender, calls: int) -> list[float]:
    call = c.call
    clock = (
        time.thread_time_ns
        if os.environ.get("TRT_EXEC_BENCH_CLOCK") == "thread"
        else time.perf_counter_ns
    )
    out = [0] * calls
    for i in range(calls):
        t0 = clock()
        call()
        out[i] = clock() - t0
    if c.after is not None:
        c.after()
    return [ns / 1000.0 for ns in out]


def measure(
    contenders: list[Contender], *, warmup: int, reps: int, calls: int
) -> list[Measurement]:
    """Measure every contender (see the module docstring). A contender whose call raises is
    reported with ``error`` set and NaN numbers; the others go on."""
    alive: dict[str, Contender] = {}
    errors: dict[str, str] = {}
    for c in contenders:
        try:
            for _ in range(warmup):
                c.call()
            if c.after is not None:
                c.after()
            alive[c.name] = c
        except Exception as exc:  # recorded in the results, never hidden
            errors[c.name] = f"{type(exc).__name__}: {exc}"
    samples: dict[str, list[list[float]]] = {name: [] for name in alive}
    for _ in range(reps):
        for name, c in list(alive.items()):
            gc.collect()
            try:
                samples[name].append(_run_rep(c, calls))
            except Exception as exc:
                errors[name] = f"{type(exc).__name__}: {exc}"
                del alive[name]
    results = []
    nan = float("nan")
    for c in contenders:
        if c.name in errors:
            results.append(Measurement(c.name, c.role, nan, nan, note=c.note, error=errors[c.name]))
            continue
        reps_ = samples[c.name]
        pooled = [s for rep in reps_ for s in rep]
        rep_medians = [statistics.median(rep) for rep in reps_]
        results.append(
            Measurement(
                c.name,
                c.role,
                statistics.median(rep_medians),
                percentile(pooled, 99),
                [round(m, 3) for m in rep_medians],
                len(pooled),
                c.note,
            )
        )
    return results


def _ratio(a: float, b: float) -> str:
    if a != a or b != b or b == 0:
        return "-"
    return f"{a / b:.2f}x"


def format_table(title: str, rows: list[dict[str, Any]]) -> str:
    """A Markdown table: contender, median, p99, and the ratios already in ``rows``."""
    head = "| contender | median µs | p99 µs | vs floor | vs Polygraphy |"
    lines = [f"**{title}**", "", head, "|---|---:|---:|---:|---:|"]
    for r in rows:
        if r.get("error"):
            lines.append(f"| {r['name']} | — | — | — | — |")
            continue
        lines.append(
            f"| {r['name']} | {r['median_us']:.2f} | {r['p99_us']:.2f} | "
            f"{r['vs_floor'] or '-'} | {r['vs_polygraphy'] or '-'} |"
        )
    errs = [r for r in rows if r.get("error")]
    for r in errs:
        lines.append(f"\n- {r['name']} did not run: {r['error']}")
    return "\n".join(lines)


def add_ratios(results: list[Measurement], floor: str) -> list[dict[str, Any]]:
    """Rows for JSON and tables: each measurement plus its ratios against the named floor and
    against the Polygraphy contender (if any ran)."""
    by_name = {m.name: m for m in results}
    base = by_name.get(floor)
    pairs = base.rep_medians_us if base and not base.error else []
    poly = next((m for m in results if m.role == "polygraphy" and not m.error), None)
    rows = []
    for m in results:
        rows.append(
            {
                "name": m.name,
                "role": m.role,
                "median_us": round(m.median_us, 3) if m.median_us == m.median_us else None,
                "p99_us": round(m.p99_us, 3) if m.p99_us == m.p99_us else None,
                "rep_medians_us": m.rep_medians_us,
                "calls": m.calls,
                "vs_floor": _ratio(m.median_us, base.median_us) if base else None,
                "delta_floor_us": (
                    round(m.median_us - base.median_us, 3)
                    if base and not m.error and not base.error
                    else None
                ),
                "vs_polygraphy": _ratio(m.median_us, poly.median_us) if poly else None,
                **_paired(m.rep_medians_us, pairs),
                "note": m.note,
                "error": m.error,
            }
        )
    return rows


def _paired(reps: list[float], floor: list[float]) -> dict[str, float | None]:
    """The median over repetitions of each repetition's ratio to, and difference from, the
    floor's same repetition (see the module docstring); None without one per repetition."""
    if not reps or len(reps) != len(floor) or any(f <= 0 for f in floor):
        return {"paired_vs_floor": None, "paired_delta_us": None}
    ratio = statistics.median(r / f for r, f in zip(reps, floor))
    delta = statistics.median(r - f for r, f in zip(reps, floor))
    return {"paired_vs_floor": round(ratio, 4), "paired_delta_us": round(delta, 3)}
