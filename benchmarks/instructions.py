"""Instructions per call of trt_exec's GPU per-call paths, on a CPU (issue 13, round 4).

    python -m benchmarks.instructions [--calls 500] [--rows "bind(),graphs bind"] [--out F.json]

The GPU paths run on a **replica**: the real ``CudaDataPath`` over a no-op stand-in for
``cuda.bindings.driver`` (every call returns success at once; pinned allocations are real host
memory) and the light stand-in engine of ``benchmarks/standin.py``, with device arrays that are
plain ``__cuda_array_interface__`` objects (not torch: the replica has no GPU). Each row runs
``--calls`` times between two callgrind client requests (zero, dump), so each count is that row's
alone; the script runs itself under ``valgrind --tool=callgrind`` and compiles the two requests
with the C compiler and valgrind's headers.

Why: wall-clock timings of sub-microsecond differences on a shared CPU swing by 2x between runs,
while instruction counts repeat to a few per call. They are a proxy for host time, not a timing:
a bytecode and a C call weigh differently, and the no-op driver costs far less than the real one.
Compare rows with each other and revisions with each other; ``benchmarks.floor`` on a GPU is the
measurement. Needs valgrind (``apt install valgrind``) and ``cc``; says so when they are missing.
"""

from __future__ import annotations

import argparse
import ctypes
import glob
import itertools
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from typing import Any

import numpy as np

ROW = 1024  # float32 elements: 4 KB, the small case
_REQUESTS = r"""
#include <valgrind/callgrind.h>
void zero(void) { CALLGRIND_ZERO_STATS; }
void dump(void) { CALLGRIND_DUMP_STATS; }
"""


class NullDriver:
    """``cuda.bindings.driver`` doing nothing: each call returns CUDA_SUCCESS (0) and, where the
    real one returns a handle, a fresh integer; ``cuMemHostAlloc`` returns real host memory,
    because trt_exec reads and writes its pinned staging from the host."""

    class CUstreamCaptureMode:
        CU_STREAM_CAPTURE_MODE_THREAD_LOCAL = 1

    class CUpointer_attribute:  # noqa: N801 - cuda-python's name
        CU_POINTER_ATTRIBUTE_DEVICE_ORDINAL = 9

    # Calls that return only a status; every other call returns (status, value).
    _STATUS_ONLY = frozenset(
        "cuInit cuCtxSetCurrent cuStreamDestroy cuStreamSynchronize cuStreamWaitEvent "
        "cuStreamBeginCapture cuGraphLaunch cuGraphDestroy cuGraphExecDestroy cuEventRecord "
        "cuEventSynchronize cuEventQuery cuEventDestroy cuMemFree cuMemFreeAsync cuMemFreeHost "
        "cuMemHostRegister cuMemHostUnregister cuMemcpyHtoDAsync cuMemcpyDtoHAsync "
        "cuMemcpyDtoDAsync".split()
    )

    def __init__(self) -> None:
        self._ids = itertools.count(1 << 40, 1 << 20)
        self._host: dict[int, np.ndarray] = {}

    def __getattr__(self, name: str) -> Callable[..., tuple[int, ...]]:
        if name in self._STATUS_ONLY:
            ok: tuple[int, ...] = (0,)
            call: Callable[..., tuple[int, ...]] = lambda *a: ok  # noqa: E731
        elif name in (
            "cuDeviceGetCount",
            "cuStreamIsCapturing",
            "cuPointerGetAttribute",
            "cuStreamGetFlags",
        ):
            # one device; no stream captured; every pointer on device 0; blocking streams
            one = (0, 1 if name == "cuDeviceGetCount" else 0)
            call = lambda *a: one  # noqa: E731
        else:
            call = lambda *a: (0, next(self._ids))  # noqa: E731
        setattr(self, name, call)  # looked up once
        return call

    def cuMemHostAlloc(self, nbytes: int, flags: int) -> tuple[int, int]:
        block = np.empty(nbytes, np.uint8)
        self._host[block.ctypes.data] = block
        return (0, block.ctypes.data)


def rows() -> tuple[dict[str, Callable[[], Any]], list[Any]]:
    """The rows, by name, and the executors to close. Installs the no-op driver (for good: call
    it in a process of its own, as :func:`main` does)."""
    import trt_exec
    from trt_exec.cuda import driver as _driver
    from trt_exec.sim.gpu import enable_gpu
    from trt_exec.testing import build_engine, simulated_tensorrt

    from . import standin
    from .scenarios import BENCH_NETWORK, _DevArray

    drv = _driver._drv = NullDriver()
    trt = standin.install(enable_gpu(simulated_tensorrt("10.16.1")))
    plan = build_engine(trt, BENCH_NETWORK)
    s = drv.cuStreamCreate(0)[1]
    sync = drv.cuStreamSynchronize
    px, py = 1 << 44, (1 << 44) + (1 << 20)
    x, y = _DevArray(px, (1, ROW)), _DevArray(py, (1, ROW))
    ins, outs, addrs = {"x": x}, {"y": y}, {"x": px, "y": py}
    opened: list[Any] = []

    def load(**kw: Any) -> Any:
        ex = trt_exec.load(plan, tensorrt=trt, stream=s, **kw)
        opened.append(ex)
        return ex

    engine = trt.Runtime(trt.Logger(trt.Logger.WARNING)).deserialize_cuda_engine(plan)
    ctx = engine.create_execution_context()
    ctx.set_input_shape("x", (1, ROW))
    sta, run = ctx.set_tensor_address, ctx.execute_async_v3
    execute = load()
    execute.prepare({"x": (1, ROW)})
    infer, infer_async, graphs = load(), load(), load(cuda_graphs=True)
    bound, graphs_bound = load().bind(ins, outputs=outs), load(cuda_graphs=True).bind(ins, outs)
    xn = np.ones((1, ROW), np.float32)
    feed = {"x": xn}
    numpy_infer, numpy_bound = load(), load().bind({"x": xn.copy()})
    hin, hout = drv.cuMemHostAlloc(4096, 0)[1], drv.cuMemHostAlloc(4096, 0)[1]
    vin = drv._host[hin].view(np.float32).reshape(1, ROW)
    vout = drv._host[hout].view(np.float32).reshape(1, ROW)
    h2d, d2h, launch = drv.cuMemcpyHtoDAsync, drv.cuMemcpyDtoHAsync, drv.cuGraphLaunch

    def raw() -> None:
        sta("x", px)
        sta("y", py)
        run(s)
        sync(s)

    def hand() -> np.ndarray:
        np.copyto(vin, xn)
        h2d(px, hin, 4096, s)
        sta("x", px)
        sta("y", py)
        run(s)
        d2h(hout, py, 4096, s)
        sync(s)
        return vout.copy()

    table: dict[str, Callable[[], Any]] = {
        "raw": raw,
        "raw graph": lambda: (launch(5, s), sync(s)),
        "execute": lambda: (execute.execute(addrs, s), sync(s)),
        "infer dev": lambda: infer.infer(ins, outputs=outs),
        "infer_async dev": lambda: infer_async.infer_async(ins, outputs=outs).synchronize(),
        "bind()": bound,
        "bind launch": lambda: (bound.launch(), sync(s)),
        "graphs infer": lambda: graphs.infer(ins, outputs=outs),
        "graphs bind": graphs_bound,
        "hand numpy": hand,
        "infer numpy": lambda: numpy_infer.infer(feed),
        "bind numpy": numpy_bound,
    }
    return table, opened


def _child(out_dir: str, calls: int, names: list[str]) -> None:
    lib = os.path.join(out_dir, "requests.so")
    requests = ctypes.CDLL(lib)
    table, opened = rows()
    chosen = [n for n in names if n] or list(table)
    for name in chosen:
        for _ in range(50):  # warm: lanes and programs made, caches filled
            table[name]()
    import gc

    gc.disable()
    # The first dump also holds what ran before the first request (start-up): an empty one.
    requests.zero()
    requests.dump()
    for name in chosen:
        fn = table[name]
        requests.zero()
        for _ in range(calls):
            fn()
        requests.dump()
    with open(os.path.join(out_dir, "order.json"), "w") as f:
        json.dump(chosen, f)
    for ex in opened:
        ex.close()


def _compile(out_dir: str) -> str | None:
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        return "no C compiler (cc) to build the callgrind client requests"
    src = os.path.join(out_dir, "requests.c")
    with open(src, "w") as f:
        f.write(_REQUESTS)
    done = subprocess.run(
        [cc, "-O2", "-shared", "-fPIC", "-o", os.path.join(out_dir, "requests.so"), src],
        capture_output=True,
        text=True,
    )
    if done.returncode:
        return f"could not build the callgrind client requests ({done.stderr.strip()[:200]})"
    return None


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.instructions", description=__doc__)
    p.add_argument("--calls", type=int, default=500)
    p.add_argument("--rows", default="", help="comma-separated row names (default: all)")
    p.add_argument("--out", default="")
    p.add_argument("--child", default="", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    names = [n.strip() for n in args.rows.split(",") if n.strip()]
    if args.child:
        _child(args.child, args.calls, names)
        return 0
    if shutil.which("valgrind") is None:
        print("benchmarks.instructions needs valgrind (apt install valgrind)", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="trt_exec-ir-") as out_dir:
        problem = _compile(out_dir)
        if problem is not None:
            print(f"benchmarks.instructions: {problem}", file=sys.stderr)
            return 2
        cmd = [
            "valgrind",
            "--tool=callgrind",
            f"--callgrind-out-file={os.path.join(out_dir, 'cg')}",
            sys.executable,
            "-m",
            "benchmarks.instructions",
            "--child",
            out_dir,
            "--calls",
            str(args.calls),
            "--rows",
            ",".join(names),
        ]
        done = subprocess.run(cmd, capture_output=True, text=True)
        if done.returncode:
            print(done.stderr[-2000:], file=sys.stderr)
            return 1
        with open(os.path.join(out_dir, "order.json")) as f:
            order = json.load(f)
        dumps = sorted(
            glob.glob(os.path.join(out_dir, "cg.*")), key=lambda f: int(f.rsplit(".", 1)[1])
        )
        counts = {}
        for name, path in zip(order, dumps[1:]):
            with open(path) as f:
                total = next(int(line.split()[1]) for line in f if line.startswith("summary:"))
            counts[name] = total / args.calls
    raw, graph = counts.get("raw"), counts.get("raw graph")
    for name, n in counts.items():
        extra = "" if raw is None else f"  {n - raw:+9.0f} vs raw"
        extra += "" if graph is None else f"  {n - graph:+9.0f} vs raw graph"
        print(f"{name:18} {n:9.0f} instructions/call{extra}")
    if args.out:
        with open(args.out, "w") as f:
            json.dump({"schema": "trt_exec-instructions/1", "calls": args.calls, "rows": counts}, f)
    return 0


if __name__ == "__main__":
    sys.exit(main())
