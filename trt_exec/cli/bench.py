"""``trt-exec bench``: latency and throughput of an engine - the command, the timing loop,
statistics, progress bar and plot.

Each sample is the wall-clock time of one synchronous call (``time.perf_counter_ns`` before and
after), so it includes everything a caller of ``infer`` waits for: validation, binding, the
enqueue, the stream synchronization and copying the outputs back. Percentiles use linear
interpolation between the closest ranks (numpy's default method). The ``--json`` output is
:data:`~.schemas.BENCH_SCHEMA`.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from array import array
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass
from typing import Any, TextIO

import numpy as np

from ..errors import ConfigurationError
from .exitcodes import EXIT_OK
from .files import atomic_write, check_output_path
from .inputs import inputs_info, inputs_lines, prepare_inputs
from .opened import OpenedEngine
from .options import Subcommands, non_negative_int, positive_float, positive_int
from .render import print_json, printable
from .schemas import BENCH_SCHEMA_ID

__all__ = [
    "add_parser",
    "command",
    "LatencyStats",
    "Samples",
    "summarize",
    "measure",
    "Progress",
    "format_duration",
    "histogram_text",
    "write_plot",
]


def add_parser(commands: Subcommands) -> None:
    p = commands.add(
        "bench",
        "measure the latency and throughput of an engine",
        [commands.engine, commands.inputs],
        command,
    )
    p.add_argument("engine", metavar="ENGINE", help="serialized engine file")
    p.add_argument(
        "--warmup", type=non_negative_int, default=10, help="untimed calls first (default 10)"
    )
    p.add_argument(
        "--iterations", "-n", type=positive_int, default=200, help="timed calls (default 200)"
    )
    p.add_argument(
        "--duration",
        type=positive_float,
        metavar="SECONDS",
        help="time calls for this long instead of --iterations",
    )
    p.add_argument(
        "--cuda-graph",
        action="store_true",
        help="capture the enqueue in a CUDA graph and replay it (needs a GPU)",
    )
    p.add_argument(
        "--no-progress",
        action="store_true",
        help="no progress bar (it is only drawn when stdout and stderr are terminals)",
    )
    p.add_argument("--json", action="store_true", help="print JSON (schema trt-exec.bench/1)")
    p.add_argument(
        "--plot",
        metavar="PNG",
        help="write a latency histogram and timeline (needs matplotlib: "
        "pip install 'trt-exec[plot]')",
    )


#: The --plot formats (file name extensions), each written by matplotlib's Agg backend.
PLOT_FORMATS = ("png", "svg", "pdf")


def plot_path(path: str) -> str:
    """The file ``--plot PATH`` writes: ``.png`` appended when PATH has no extension; a folder,
    an empty path or another extension is refused (before the run)."""
    check_output_path(path, "--plot")
    ext = os.path.splitext(os.path.basename(path))[1]
    if not ext:
        return check_output_path(path + ".png", "--plot")
    if ext[1:].lower() not in PLOT_FORMATS:
        raise ConfigurationError(
            f"--plot {path!r}: {ext!r} is not a plot format; use a .png, .svg or .pdf file name"
        )
    return path


def command(args: argparse.Namespace, out: TextIO) -> int:
    plot = plot_path(args.plot) if args.plot is not None else None
    if plot is not None:
        try:
            import matplotlib  # noqa: F401
        except ImportError:
            raise ConfigurationError(
                "--plot needs matplotlib, which is not installed; install it with "
                "`pip install 'trt-exec[plot]'` (or `pip install matplotlib`)"
            ) from None
    opened = OpenedEngine(args.engine, args.tensorrt, args.backend)
    with opened.ex as ex:
        arrays, sources, profile = prepare_inputs(
            ex, args.input, profile=args.profile, seed=args.seed
        )
        if args.cuda_graph:
            ex.enable_cuda_graphs()
        pinned = args.profile

        def call() -> Any:
            return ex.infer(arrays, profile=pinned)

        progress = Progress(sys.stderr, "bench") if _want_progress(args) else None
        if not args.json:
            # What is measured, before the measuring: the header first, then the progress bar.
            print("\n".join(_header(opened, profile, arrays, sources)), file=out, flush=True)
        samples, wall = measure(
            call,
            warmup=args.warmup,
            iterations=args.iterations,
            duration_s=args.duration,
            progress=progress,
        )
        graphs = ex.cuda_graphs if args.cuda_graph else None
        data_path = opened.data_path
    stats = summarize(samples, wall)
    if plot is not None:
        title = (
            f"{os.path.basename(opened.path)} - {opened.tensorrt['module']} "
            f"{opened.tensorrt['version']}"
            + (" SIMULATED" if opened.tensorrt["simulated"] else "")
            + f" - backend {opened.backend['name']}"
        )
        write_plot(plot, samples, stats, title)
    inputs = inputs_info(arrays, sources)
    if args.json:
        print_json(
            {
                "schema": BENCH_SCHEMA_ID,
                "engine": opened.engine_info(),
                "tensorrt": opened.tensorrt,
                "backend": opened.backend,
                "data_path": data_path,
                "profile": profile,
                "inputs": inputs,
                "cuda_graphs": dict(graphs) if graphs is not None else None,
                "timer": "time.perf_counter_ns, one synchronous infer() per sample",
                "warmup": args.warmup,
                "iterations": stats.iterations,
                "duration_s": stats.duration_s,
                "latency_ms": stats.latency_ms(),
                "throughput_per_s": stats.throughput_per_s,
                "plot": plot,
            },
            out,
        )
        return EXIT_OK
    f = format_duration
    lines: list[str] = []
    if args.cuda_graph:
        lines.append(f"CUDA graphs {graphs}")
    lines.append("")
    lines.append(
        f"{args.warmup} warm-up calls, then {stats.iterations} timed calls in "
        f"{stats.duration_s:.3f} s (wall-clock per synchronous infer call)"
    )
    lines.append(
        f"latency    min {f(stats.min)}   p50 {f(stats.p50)}   p90 {f(stats.p90)}   "
        f"p99 {f(stats.p99)}   max {f(stats.max)}"
    )
    lines.append(f"           mean {f(stats.mean)} ± {f(stats.stdev)}")
    lines.append(f"throughput {stats.throughput_per_s:,.1f} inferences/s")
    lines.append("histogram")
    lines += histogram_text(samples)
    if plot is not None:
        lines.append(f"plot       {printable(plot)}")
    print("\n".join(lines), file=out)
    return EXIT_OK


def _header(
    opened: OpenedEngine, profile: int, arrays: dict[str, Any], sources: dict[str, str]
) -> list[str]:
    """Engine, TensorRT, backend, data path, profile and inputs: printed before the timing."""
    where = {
        "host": "host memory (simulated TensorRT on the CPU: these are not GPU latencies)",
        "cuda": "CUDA device memory",
    }[opened.data_path]
    lines = [*opened.header(), f"data path  {where}", f"profile    {profile}", "inputs"]
    return lines + inputs_lines(inputs_info(arrays, sources))


def _want_progress(args: argparse.Namespace) -> bool:
    if args.no_progress or args.json:
        return False
    try:
        return sys.stdout.isatty() and sys.stderr.isatty()
    except (AttributeError, ValueError):  # no stream (None), or a closed one
        return False


# --- measuring ---------------------------------------------------------------------------------
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


class Samples(Sequence[int]):
    """The latencies of the timed calls in bounded memory, however long ``--duration`` runs.

    Count, total, min, max, mean and variance (Welford's update) are exact over every call. The
    kept samples - for the percentiles, the histogram and the plot's timeline - are every call
    until ``keep`` are held, then every 2nd, 4th, ... call (halved in place each time the buffer
    fills): an evenly spaced, time-ordered subsample of at most ``keep`` values (8 bytes each).
    The sequence protocol reads the kept samples.
    """

    def __init__(self, keep: int = 1 << 20) -> None:
        if keep < 2:
            raise ValueError(f"keep={keep!r} must be >= 2")
        self._keep = keep
        self._kept = array("q")
        self._stride = 1
        self.calls = 0
        self.total = 0
        self.min = 0
        self.max = 0
        self._mean = 0.0
        self._m2 = 0.0

    def add(self, ns: int) -> None:
        self.extend((ns,))

    def extend(self, chunk: Sequence[int]) -> None:
        """Fold a chunk of samples in (vectorized: measure() calls this every few thousand
        calls, so the timing loop itself only appends to a short list)."""
        if not len(chunk):
            return
        a = np.asarray(chunk, dtype=np.int64)
        n_a, n_b = self.calls, len(a)
        mean_b = float(a.mean())
        m2_b = float(((a - mean_b) ** 2).sum())
        n = n_a + n_b
        delta = mean_b - self._mean
        # Chan et al.'s pairwise update of the mean and the sum of squared deviations.
        self._mean += delta * n_b / n
        self._m2 += m2_b + delta * delta * n_a * n_b / n
        lo, hi = int(a.min()), int(a.max())
        self.min = lo if n_a == 0 else min(self.min, lo)
        self.max = hi if n_a == 0 else max(self.max, hi)
        self.total += int(a.sum())
        self.calls = n
        # Keep call numbers that are multiples of the stride (numbered from 0).
        first = (-n_a) % self._stride
        self._kept.extend(a[first :: self._stride].tolist())
        while len(self._kept) >= self._keep:
            self._kept = self._kept[::2]
            self._stride *= 2

    @property
    def mean(self) -> float:
        return self._mean

    @property
    def variance(self) -> float:
        """The sample variance (ddof=1); 0 for one sample."""
        return self._m2 / (self.calls - 1) if self.calls > 1 else 0.0

    def __len__(self) -> int:
        return len(self._kept)

    def __getitem__(self, i: Any) -> Any:
        return self._kept[i]

    def __iter__(self) -> Iterator[int]:
        return iter(self._kept)

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        return np.asarray(np.frombuffer(self._kept, dtype=np.int64), dtype=dtype)


def summarize(samples_ns: Sequence[int], wall_ns: int) -> LatencyStats:
    """Statistics of ``samples_ns`` (one per call, or a :class:`Samples`) measured over
    ``wall_ns`` of wall-clock. From a :class:`Samples`, count, min, max, mean and stdev are exact
    over every call and the percentiles come from the kept samples."""
    if not len(samples_ns):
        raise ValueError("no samples: at least one iteration is needed")
    ms = np.asarray(samples_ns, dtype=np.float64) / 1e6
    p50, p90, p99 = (float(v) for v in np.percentile(ms, [50, 90, 99]))
    wall_s = max(wall_ns, 1) / 1e9
    if isinstance(samples_ns, Samples):
        count = samples_ns.calls
        lo, hi = samples_ns.min / 1e6, samples_ns.max / 1e6
        mean, stdev = samples_ns.mean / 1e6, math.sqrt(samples_ns.variance) / 1e6
    else:
        count = len(ms)
        lo, hi = float(ms.min()), float(ms.max())
        mean = float(ms.mean())
        stdev = float(ms.std(ddof=1)) if len(ms) > 1 else 0.0
    return LatencyStats(
        iterations=count,
        duration_s=wall_s,
        min=lo,
        mean=mean,
        stdev=stdev,
        p50=p50,
        p90=p90,
        p99=p99,
        max=hi,
        throughput_per_s=count / wall_s,
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


_CHUNK = 4096  # samples appended to a list between folds into Samples


def measure(
    call: Callable[[], Any],
    *,
    warmup: int,
    iterations: int,
    duration_s: float | None,
    progress: Progress | None = None,
    keep: int = 1 << 20,
) -> tuple[Samples, int]:
    """Run ``call`` ``warmup`` times untimed, then ``iterations`` times (or for ``duration_s``
    seconds when given, at least once), timing each call. Returns (the samples in ns, at most
    ``keep`` of them kept: :class:`Samples`; the wall-clock ns). The progress bar is cleared
    however the loop ends, Ctrl-C included."""
    clock = time.perf_counter_ns
    samples = Samples(keep)
    chunk: list[int] = []
    append = chunk.append

    def fold() -> None:
        samples.extend(chunk)
        chunk.clear()

    try:
        for i in range(warmup):
            call()
            if progress is not None:
                progress.update((i + 1) / max(warmup, 1), f"warm-up {i + 1}/{warmup}")
        limit_ns = None if duration_s is None else int(duration_s * 1e9)
        start = clock()
        if limit_ns is None:
            for i in range(iterations):
                t0 = clock()
                call()
                t1 = clock()
                append(t1 - t0)
                if len(chunk) >= _CHUNK:
                    fold()
                if progress is not None:
                    progress.update(
                        (i + 1) / iterations,
                        f"{i + 1}/{iterations}  last {format_duration((t1 - t0) / 1e6)}",
                    )
        else:
            n = 0
            while True:
                t0 = clock()
                call()
                t1 = clock()
                append(t1 - t0)
                n += 1
                if len(chunk) >= _CHUNK:
                    fold()
                elapsed = t1 - start
                if progress is not None:
                    progress.update(
                        elapsed / limit_ns,
                        f"{elapsed / 1e9:.1f}/{duration_s:g} s  {n} calls",
                    )
                if elapsed >= limit_ns:
                    break
        wall = clock() - start
        fold()
    finally:
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
    fmt = os.path.splitext(path)[1][1:].lower() or "png"
    try:
        atomic_write(path, "--plot", lambda f: fig.savefig(f, dpi=100, format=fmt))
    finally:
        plt.close(fig)
