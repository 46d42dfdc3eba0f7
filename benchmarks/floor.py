"""``python -m benchmarks.floor``: trt_exec against the physical floor on a GPU (issue 13).

Needs a CUDA GPU, cuda-python and torch; Polygraphy and cupy are optional. One simulated release
(10.16.1) with the light stand-in enqueue of :mod:`benchmarks.standin` (one
``cuMemcpyDtoDAsync``), so that trt_exec's own host cost is not hidden behind the simulator's.
Every contender runs on the same engine bytes in one process, repetitions interleaved
(:mod:`benchmarks.harness`).

Tables (medians, µs per call):

- ``call``: 4 KB, device-resident in/out. Floors: raw ``set_tensor_address`` ×2 +
  ``execute_async_v3`` + ``cuStreamSynchronize``; raw ``cuGraphLaunch`` + sync of the captured
  enqueue. Contenders: ``execute`` + sync, ``infer``/``infer_async`` with torch tensors in and
  out, ``infer`` with cupy arrays on cupy's default stream (if cupy is installed), the bound
  call (``bind``) with and without graphs, ``infer`` with graphs.
- ``numpy-<size>`` for 4 KB, 1 MiB and 64 MiB: the DMA floor (pinned H2D + enqueue + D2H + sync,
  no host copies), the hand-written pinned round trip (copy into pinned staging, H2D, enqueue,
  D2H, sync, copy out into a new array), ``infer(numpy)``, the bound call over numpy, Polygraphy.

    python -m benchmarks.floor --out results.json [--quick] [--label after]

A contender the trt_exec under test lacks (``bind`` before issue 13) is reported with its error.
"""

from __future__ import annotations

import argparse
import ctypes
import datetime as _dt
import itertools
import json
import os
import platform
import subprocess
import sys
from collections.abc import Callable
from typing import Any

import numpy as np

from benchmarks import polygraphy_setup
from benchmarks.harness import Contender, add_ratios, measure

ROW = 1024
SIZES = {"4KB": 1, "1MiB": 256, "64MiB": 16384}  # batch rows of 4 KB


def _pinned(drv: Any, check: Any, nbytes: int, keep: list[int]) -> tuple[int, np.ndarray]:
    ptr = int(check("cuMemHostAlloc", drv.cuMemHostAlloc(nbytes, 0)))
    keep.append(ptr)
    return ptr, np.frombuffer((ctypes.c_uint8 * nbytes).from_address(ptr), np.uint8)


def _call_table(trt: Any, plan: bytes, s: int, torch: Any, closers: list[Any]) -> list[Contender]:
    import trt_exec
    from trt_exec.cuda.driver import check, driver

    drv = driver()
    sync = drv.cuStreamSynchronize
    x = torch.arange(ROW, dtype=torch.float32, device="cuda").reshape(1, ROW)
    y = torch.empty((1, ROW), dtype=torch.float32, device="cuda")
    px, py = x.data_ptr(), y.data_ptr()
    rt = trt.Runtime(trt.Logger(trt.Logger.WARNING))
    eng = rt.deserialize_cuda_engine(plan)
    out: list[Contender] = []

    ctx = eng.create_execution_context()
    ctx.set_input_shape("x", (1, ROW))
    sta, run = ctx.set_tensor_address, ctx.execute_async_v3

    def raw() -> None:
        sta("x", px)
        sta("y", py)
        run(s)
        sync(s)

    out.append(Contender("raw set_tensor_address x2 + execute + sync", "floor", raw))

    g = eng.create_execution_context()
    g.set_input_shape("x", (1, ROW))
    g.set_tensor_address("x", px)
    g.set_tensor_address("y", py)
    g.execute_async_v3(s)
    sync(s)
    mode = drv.CUstreamCaptureMode.CU_STREAM_CAPTURE_MODE_THREAD_LOCAL
    check("cuStreamBeginCapture", drv.cuStreamBeginCapture(s, mode))
    g.execute_async_v3(s)
    graph = check("cuStreamEndCapture", drv.cuStreamEndCapture(s))
    gexec = check("cuGraphInstantiate", drv.cuGraphInstantiate(graph, 0))
    glaunch = drv.cuGraphLaunch

    def raw_graph() -> None:
        glaunch(gexec, s)
        sync(s)

    out.append(Contender("raw cuGraphLaunch + sync", "floor", raw_graph))
    closers.append(lambda: (drv.cuGraphExecDestroy(gexec), drv.cuGraphDestroy(graph)))
    closers.append(lambda: (rt, eng, ctx, g))  # kept alive until the end

    def load(**kw: Any) -> Any:
        ex = trt_exec.load(plan, tensorrt=trt, stream=s, **kw)
        closers.append(ex.close)
        return ex

    e1 = load()
    e1.prepare({"x": (1, ROW)})
    addrs = {"x": px, "y": py}
    out.append(
        Contender("trt_exec execute + sync", "trt_exec", lambda: (e1.execute(addrs, s), sync(s)))
    )
    e2 = load()
    ins, outs = {"x": x}, {"y": y}
    out.append(
        Contender(
            "trt_exec infer(torch, outputs=torch)", "trt_exec", lambda: e2.infer(ins, outputs=outs)
        )
    )
    try:  # cupy arrays made on cupy's default stream (CAI v3 stream 1: the legacy stream)
        import cupy as cp
    except ImportError:
        cp = None
    if cp is not None:
        cins = {"x": cp.arange(ROW, dtype=cp.float32).reshape(1, ROW)}
        couts = {"y": cp.empty((1, ROW), dtype=cp.float32)}
        e_cupy = load()
        out.append(
            Contender(
                "trt_exec infer(cupy, outputs=cupy)",
                "trt_exec",
                lambda: e_cupy.infer(cins, outputs=couts),
            )
        )
    e3 = load()
    out.append(
        Contender(
            "trt_exec infer_async(torch, outputs=torch) + synchronize",
            "trt_exec",
            lambda: e3.infer_async(ins, outputs=outs).synchronize(),
        )
    )
    out.append(_bound(load, ins, outs, "trt_exec bind(torch)() ", lambda c: c()))
    out.append(
        _bound(
            load, ins, outs, "trt_exec bind(torch).launch() + sync", lambda c: (c.launch(), sync(s))
        )
    )
    eg = load(cuda_graphs=True)
    out.append(
        Contender(
            "trt_exec graphs infer(torch, outputs=torch)",
            "trt_exec",
            lambda: eg.infer(ins, outputs=outs),
        )
    )
    out.append(
        _bound(
            lambda: load(cuda_graphs=True),
            ins,
            outs,
            "trt_exec graphs bind(torch)()",
            lambda c: c(),
        )
    )
    closers.append(lambda: (x, y))
    return out


def _bound(
    load: Callable[[], Any], ins: Any, outs: Any, name: str, use: Callable[[Any], Any]
) -> Contender:
    ex = load()
    bind = getattr(ex, "bind", None)
    if bind is None:

        def missing() -> None:
            raise AttributeError("this trt_exec has no bind()")

        return Contender(name, "trt_exec", missing)
    call = bind(ins, outputs=outs)
    return Contender(name, "trt_exec", lambda: use(call))


def _numpy_table(
    trt: Any, plan: bytes, s: int, batch: int, closers: list[Any], poly: bool, gaps: list[str]
) -> list[Contender]:
    import trt_exec
    from trt_exec.cuda.driver import check, driver

    drv = driver()
    n = batch * ROW * 4
    shape = (batch, ROW)
    x = np.random.default_rng(0).standard_normal(shape, dtype=np.float32)
    keep: list[int] = []
    hin, vin = _pinned(drv, check, n, keep)
    hout, vout = _pinned(drv, check, n, keep)
    dx = int(check("cuMemAlloc", drv.cuMemAlloc(n)))
    dy = int(check("cuMemAlloc", drv.cuMemAlloc(n)))
    rt = trt.Runtime(trt.Logger(trt.Logger.WARNING))
    eng = rt.deserialize_cuda_engine(plan)
    ctx = eng.create_execution_context()
    ctx.set_input_shape("x", shape)
    h2d, d2h, sync = drv.cuMemcpyHtoDAsync, drv.cuMemcpyDtoHAsync, drv.cuStreamSynchronize
    sta, run = ctx.set_tensor_address, ctx.execute_async_v3
    flat = x.reshape(-1).view(np.uint8)

    def dma() -> None:
        h2d(dx, hin, n, s)
        sta("x", dx)
        sta("y", dy)
        run(s)
        d2h(hout, dy, n, s)
        sync(s)

    def pinned_copy() -> np.ndarray:
        np.copyto(vin, flat)
        h2d(dx, hin, n, s)
        sta("x", dx)
        sta("y", dy)
        run(s)
        d2h(hout, dy, n, s)
        sync(s)
        return vout.view(np.float32).reshape(shape).copy()

    out = [
        Contender("DMA floor: pinned H2D + enqueue + D2H + sync", "floor", dma),
        Contender("hand-written pinned, copy in + copy out", "floor", pinned_copy),
    ]
    ex = trt_exec.load(plan, tensorrt=trt, stream=s)
    closers.append(ex.close)
    feed = {"x": x}
    out.append(Contender("trt_exec infer(numpy)", "trt_exec", lambda: ex.infer(feed)))
    # Five arrays in turn: none is seen again soon enough to be page-locked in place (the
    # staging path, as for an application that makes a new array per call).
    turns = itertools.cycle([{"x": x.copy()} for _ in range(5)])
    out.append(
        Contender(
            "trt_exec infer(numpy), 5 arrays in turn", "trt_exec", lambda: ex.infer(next(turns))
        )
    )
    out.append(
        _bound(
            lambda: _load_closing(trt, plan, s, closers),
            {"x": x.copy()},  # its own array: memory is page-locked for one executor at most
            None,
            "trt_exec bind(numpy)()",
            lambda c: c(),
        )
    )
    if poly:
        r = polygraphy_setup.make_runner(trt, plan, gaps)
        closers.append(r.deactivate)
        # Its own array: trt_exec page-locks `x` (reused), which would speed Polygraphy's own
        # upload of it up too.
        poly_feed = {"x": x.copy()}
        out.append(Contender("polygraphy infer(numpy)", "polygraphy", lambda: r.infer(poly_feed)))

    def free() -> None:
        sync(s)
        drv.cuMemFree(dx)
        drv.cuMemFree(dy)
        for p in keep:
            drv.cuMemFreeHost(p)

    closers.append(free)
    closers.append(lambda: (rt, eng, ctx))
    return out


def _load_closing(trt: Any, plan: bytes, s: int, closers: list[Any]) -> Any:
    import trt_exec

    ex = trt_exec.load(plan, tensorrt=trt, stream=s)
    closers.append(ex.close)
    return ex


def _profile(c: Contender, n: int = 3000) -> None:
    import cProfile
    import pstats

    try:
        c.call()
    except Exception:
        return
    prof = cProfile.Profile()
    prof.enable()
    for _ in range(n):
        c.call()
    prof.disable()
    print(f"\n--- profile: {c.name} (µs per call, self / cumulative) ---")
    stats = pstats.Stats(prof).stats  # type: ignore[attr-defined]
    rows = sorted(stats.items(), key=lambda kv: -kv[1][2])[:14]
    for (file, line, fn), (_cc, nc, tt, ct, _) in rows:
        print(
            f"  {tt / n * 1e6:7.2f} {ct / n * 1e6:7.2f} {nc / n:5.1f}x "
            f"{os.path.basename(file)}:{line}({fn})"
        )


def _card() -> str:
    try:
        q = subprocess.run(
            ["nvidia-smi", "--query-gpu=name,driver_version,memory.total", "--format=csv,noheader"],
            capture_output=True,
            text=True,
            timeout=30,
        )
        return q.stdout.strip().splitlines()[0]
    except (OSError, subprocess.SubprocessError, IndexError) as exc:
        return f"unknown ({exc})"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.floor", description=__doc__)
    p.add_argument("--out", required=True)
    p.add_argument("--label", default="")
    p.add_argument("--quick", action="store_true")
    p.add_argument("--tables", default="call,numpy-4KB,numpy-1MiB,numpy-64MiB")
    p.add_argument("--profile", action="store_true", help="cProfile the call table's rows")
    p.add_argument("--reps", type=int, default=0, help="repetitions per row (default: 7)")
    p.add_argument("--calls", type=int, default=0, help="calls per repetition (default: 1000)")
    args = p.parse_args(argv)
    import torch

    import trt_exec
    from benchmarks import standin
    from benchmarks.scenarios import BENCH_NETWORK
    from trt_exec.cuda.driver import check, context_for, driver
    from trt_exec.sim.gpu import enable_gpu
    from trt_exec.testing import build_engine, simulated_tensorrt

    trt = standin.install(enable_gpu(simulated_tensorrt("10.16.1")))
    plan = build_engine(trt, BENCH_NETWORK)
    poly = polygraphy_setup.available()
    gaps: list[str] = []
    if poly:
        polygraphy_setup.install(trt, host_cuda=False)
    drv = driver()
    context_for(0)
    s = int(check("cuStreamCreate", drv.cuStreamCreate(0)))
    tables = [t.strip() for t in args.tables.split(",") if t.strip()]
    result: dict[str, Any] = {
        "schema": "trt_exec-benchmarks-floor/1",
        "label": args.label,
        "trt_exec_file": trt_exec.__file__,
        "date": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "machine": {
            "card": _card(),
            "cpu": platform.processor(),
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "torch": torch.__version__,
            "polygraphy": polygraphy_setup.version(),
        },
        "engine": "simulated TensorRT 10.16.1, stand-in enqueue: one cuMemcpyDtoDAsync",
        "tables": {},
    }
    for table in tables:
        closers: list[Any] = []
        if table == "call":
            contenders = _call_table(trt, plan, s, torch, closers)
            floor = "raw set_tensor_address x2 + execute + sync"
            w, r, c = (3, 2, 20) if args.quick else (500, args.reps or 7, args.calls or 1000)
        else:
            batch = SIZES[table.split("-", 1)[1]]
            contenders = _numpy_table(trt, plan, s, batch, closers, poly, gaps)
            floor = "DMA floor: pinned H2D + enqueue + D2H + sync"
            big = batch >= 1024
            w, r, c = (1, 2, 2) if args.quick else ((3, 5, 10) if big else (200, 7, 500))
        rows = add_ratios(measure(contenders, warmup=w, reps=r, calls=c), floor)
        if args.profile:
            for cont in contenders:
                _profile(cont, 20 if table == "numpy-64MiB" else 3000)
        result["tables"][table] = {"floor": floor, "rows": rows}
        for close in reversed(closers):
            try:
                close()
            except Exception:
                pass
        print(f"\n[{args.label}] {table} (floor: {floor})")
        for row in rows:
            med = row["median_us"]
            delta = "" if row["delta_floor_us"] is None else f"{row['delta_floor_us']:+.2f}"
            err = f"  ERROR {row['error'][:80]}" if row["error"] else ""
            print(
                f"  {row['name']:58} {med if med is not None else float('nan'):10.2f} µs  "
                f"{row['vs_floor'] or '-':>7} {delta:>9}{err}"
            )
    result["polygraphy_gaps"] = gaps
    with open(args.out, "w") as f:
        json.dump(result, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
