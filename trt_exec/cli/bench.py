"""Latency measurement for ``trt-exec bench``: the timing loop, statistics, progress bar, plot.

Each sample is the wall-clock time of one synchronous call (``time.perf_counter_ns`` before and
after), so it includes everything a caller of ``infer`` waits for: validation, binding, the
enqueue, the stream synchronization and copying the outputs back. Percentiles use linear
interpolation between the closest ranks (numpy's default method).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any, TextIO

import numpy as np

__all__ = ["LatencyStats", "summarize", "measure", "Progress", "format_duration", "write_plot"]


@dataclass(frozen=True, slots=True)
class LatencyStats:
    """Summary of the measured calls; latencies in milliseconds."""

    iterations: int
    duration_s: float  # wall-clock of the whole measured phase
    min: float
    mean: float
    stdev: float
    p50: float
    p90: float
    p99: float
    max: float
    throughput_per_s: float  # calls completed per second of the measured phase

    def latency_ms(self) -> dict[str, float]:
        d = asdict(self)
        return {k: d[k] for k in ("min", "mean", "stdev", "p50", "p90", "p99", "max")}


def summarize(samples_ns: Sequence[int], wall_ns: int) -> LatencyStats:
    """Statistics of ``samples_ns`` (one per call) measured over ``wall_ns`` of wall-clock."""
    if not samples_ns:
        raise ValueError("no samples: at least one iteration is needed")
    ms = np.asarray(samples_ns, dtype=np.float64) / 1e6
    p50, p90, p99 = (float(v) for v in np.percentile(ms, [50, 90, 99]))
    wall_s = max(wall_ns, 1) / 1e9
    return LatencyStats(
        iterations=len(ms),
        duration_s=wall_s,
        min=float(ms.min()),
        mean=float(ms.mean()),
        stdev=float(ms.std(ddof=1)) if len(ms) > 1 else 0.0,
        p50=p50,
        p90=p90,
        p99=p99,
        max=float(ms.max()),
        throughput_per_s=len(ms) / wall_s,
    )


def format_duration(ms: float) -> str:
    """A latency in the unit that reads best: ns, µs, ms or s."""
    if ms < 1e-3:
        return f"{ms * 1e6:.0f} ns"
    if ms < 1:
        return f"{ms * 1e3:.1f} µs"
    if ms < 1e3:
        return f"{ms:.3f} ms"
    return f"{ms / 1e3:.2f} s"


class Progress:
    """A one-line progress bar redrawn at most ~10 times a second; only used on a terminal."""

    def __init__(self, stream: TextIO, label: str, width: int = 30) -> None:
        self._stream = stream
        self._label = label
        self._width = width
        self._last = 0.0
        self._drawn = False

    def update(self, fraction: float, text: str, *, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._last < 0.1:
            return
        self._last = now
        fraction = min(max(fraction, 0.0), 1.0)
        filled = int(round(fraction * self._width))
        bar = "█" * filled + "·" * (self._width - filled)
        self._stream.write(f"\r{self._label} [{bar}] {fraction * 100:5.1f}%  {text}\x1b[K")
        self._stream.flush()
        self._drawn = True

    def close(self) -> None:
        if self._drawn:
            self._stream.write("\r\x1b[K")
            self._stream.flush()


def measure(
    call: Callable[[], Any],
    *,
    warmup: int,
    iterations: int,
    duration_s: float | None,
    progress: Progress | None = None,
) -> tuple[list[int], int]:
    """Run ``call`` ``warmup`` times untimed, then ``iterations`` times (or for ``duration_s``
    seconds when given, at least once), timing each call. Returns (samples in ns, wall ns)."""
    clock = time.perf_counter_ns
    for i in range(warmup):
        call()
        if progress is not None:
            progress.update((i + 1) / max(warmup, 1), f"warm-up {i + 1}/{warmup}")
    samples: list[int] = []
    append = samples.append
    limit_ns = None if duration_s is None else int(duration_s * 1e9)
    start = clock()
    if limit_ns is None:
        for _ in range(iterations):
            t0 = clock()
            call()
            t1 = clock()
            append(t1 - t0)
            if progress is not None:
                n = len(samples)
                progress.update(
                    n / iterations, f"{n}/{iterations}  last {format_duration((t1 - t0) / 1e6)}"
                )
    else:
        while True:
            t0 = clock()
            call()
            t1 = clock()
            append(t1 - t0)
            elapsed = t1 - start
            if progress is not None:
                progress.update(
                    elapsed / limit_ns,
                    f"{elapsed / 1e9:.1f}/{duration_s:g} s  {len(samples)} calls",
                )
            if elapsed >= limit_ns:
                break
    wall = clock() - start
    if progress is not None:
        progress.close()
    return samples, wall


def histogram_text(samples_ns: Sequence[int], bins: int = 10, width: int = 40) -> list[str]:
    """A small text histogram of the latencies, one line per bin from min to p99; the calls
    slower than p99 share one last line, so a few outliers do not squash the rest."""
    ms = np.asarray(samples_ns, dtype=np.float64) / 1e6
    lo, hi = float(ms.min()), float(np.percentile(ms, 99))
    if hi <= lo:
        hi = float(ms.max())
    if math.isclose(lo, hi):
        return [f"  {format_duration(lo):>10}  {'█' * width} {len(ms)}"]
    over = ms[ms > hi]
    counts, edges = np.histogram(ms[ms <= hi], bins=bins, range=(lo, hi))
    peak = max(int(counts.max()), len(over), 1)
    lines = []
    for c, left in zip(counts, edges[:-1]):
        bar = "█" * int(round(int(c) / peak * width))
        lines.append(f"  {format_duration(float(left)):>10}  {bar:<{width}} {int(c)}")
    if len(over):
        bar = "█" * int(round(len(over) / peak * width))
        label = f"> {format_duration(hi)}"
        lines.append(
            f"  {label:>10}  {bar:<{width}} {len(over)} (up to {format_duration(float(ms.max()))})"
        )
    return lines


def write_plot(path: str, samples_ns: Sequence[int], stats: LatencyStats, title: str) -> None:
    """A PNG with a latency histogram and a timeline. Needs matplotlib (the ``plot`` extra);
    raises ImportError without it."""
    import matplotlib

    matplotlib.use("Agg")  # no display needed; must precede pyplot
    import matplotlib.pyplot as plt

    us = np.asarray(samples_ns, dtype=np.float64) / 1e3
    fig, (hist, line) = plt.subplots(1, 2, figsize=(11, 4), constrained_layout=True)
    hist.hist(us, bins=min(60, max(10, len(us) // 20)), color="#4878a8")
    for q, value, style in (("p50", stats.p50, "-"), ("p99", stats.p99, "--")):
        hist.axvline(
            value * 1e3, color="#c44e52", linestyle=style, label=f"{q} {value * 1e3:.1f} µs"
        )
    hist.set_xlabel("latency per call (µs)")
    hist.set_ylabel("calls")
    hist.set_title("histogram")
    hist.legend()
    line.plot(np.arange(len(us)), us, linewidth=0.6, color="#4878a8")
    line.axhline(stats.p50 * 1e3, color="#c44e52", linewidth=0.8)
    line.set_xlabel("call")
    line.set_ylabel("latency (µs)")
    line.set_title("timeline")
    fig.suptitle(title)
    try:
        fig.savefig(path, dpi=100)
    finally:
        plt.close(fig)
