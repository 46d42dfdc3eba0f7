"""``python -m benchmarks.serving``: throughput and p50/p99 latency of the Ray Serve deployment.

Clients 1, 8 and 64 (asyncio tasks in the driver, each sending its next request when the last
answered, through a Ray Serve handle), dynamic batching off and on, ``Pool`` sizes 1 and 4; the
simulated TensorRT's host mode (``sim:10.16.1``, the demo network, 2 rows per request) on a local
Ray instance. Needs ``pip install -e '.[serve]'``. Writes ``benchmarks/results/serving-*.json``.

    python -m benchmarks.serving                 # the full grid (a few minutes on 2 cores)
    python -m benchmarks.serving --quick         # a few requests per cell

What it measures on the CPU is the serving layer (Ray's handle, the batching, the pool), with
the engine's work done by numpy: not a GPU's or a real engine's numbers.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as _dt
import json
import os
import platform
import statistics
import subprocess
import tempfile
import time
from typing import Any

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
RELEASE = "10.16.1"


def _machine() -> dict[str, Any]:
    cpu = platform.processor() or ""
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next((ln.split(":", 1)[1].strip() for ln in f if "model name" in ln), cpu)
    except OSError:
        pass
    return {"platform": platform.platform(), "cpu": cpu, "cpus": os.cpu_count()}


def _commit() -> str | None:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True
        )
        return out.stdout.strip() or None
    except OSError:
        return None


async def _clients(handle: Any, clients: int, per_client: int) -> tuple[list[float], float]:
    rng = np.random.default_rng(0)
    request = {n: rng.uniform(-2, 2, (2, 4)).astype(np.float32) for n in ("x", "y")}
    latencies: list[float] = []

    async def client() -> None:
        for _ in range(per_client):
            t0 = time.perf_counter()
            await handle.remote(request)
            latencies.append(time.perf_counter() - t0)

    start = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    return latencies, time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.serving", description=__doc__)
    p.add_argument("--quick", action="store_true")
    p.add_argument("--out", default=os.path.join(HERE, "results"))
    args = p.parse_args(argv)

    import ray
    from ray import serve

    from trt_exec.serve import TensorRTDeployment
    from trt_exec.testing import DEMO_NETWORK, build_engine, simulated_tensorrt

    requests_per_cell = 40 if args.quick else 640
    tmp = tempfile.mkdtemp()
    engine = os.path.join(tmp, "demo.engine")
    with open(engine, "wb") as f:
        f.write(bytes(build_engine(simulated_tensorrt(RELEASE), DEMO_NETWORK)))

    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    serve.start(http_options={"host": "127.0.0.1", "port": 18766})
    rows = []
    try:
        for pool_size in (1, 4):
            for batching in (False, True):
                app = TensorRTDeployment.options(ray_actor_options={"num_cpus": 1}).bind(
                    engine=engine,
                    tensorrt=f"sim:{RELEASE}",
                    pool_size=pool_size,
                    max_batch_size=16 if batching else None,
                )
                handle = serve.run(app, name="bench", route_prefix="/bench")
                asyncio.run(_clients(handle, 4, 10))  # warm up
                for clients in (1, 8, 64):
                    per = max(1, requests_per_cell // clients)
                    before = handle.stats.remote().result()
                    lat, wall = asyncio.run(_clients(handle, clients, per))
                    after = handle.stats.remote().result()
                    lat.sort()
                    row = {
                        "pool_size": pool_size,
                        "batching": batching,
                        "clients": clients,
                        "requests": len(lat),
                        "engine_calls": after["engine_calls"] - before["engine_calls"],
                        "throughput_rps": len(lat) / wall,
                        "p50_ms": statistics.median(lat) * 1e3,
                        "p99_ms": lat[min(len(lat) - 1, int(0.99 * len(lat)))] * 1e3,
                    }
                    rows.append(row)
                    print(
                        f"pool {pool_size} batching {'on ' if batching else 'off'} clients "
                        f"{clients:2d}: {row['throughput_rps']:7.0f} req/s  p50 "
                        f"{row['p50_ms']:6.2f} ms  p99 {row['p99_ms']:6.2f} ms  engine calls "
                        f"{row['engine_calls']}/{row['requests']}",
                        flush=True,
                    )
                serve.delete("bench")
    finally:
        serve.shutdown()
        ray.shutdown()

    stamp = _dt.datetime.now(_dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    result = {
        "schema": "trt_exec-serving-benchmark/1",
        "mode": "cpu (simulated TensorRT, host mode)",
        "quick": args.quick,
        "date": stamp,
        "machine": _machine(),
        "versions": {"ray": ray.__version__, "numpy": np.__version__, "commit": _commit()},
        "release": RELEASE,
        "rows": rows,
    }
    os.makedirs(args.out, exist_ok=True)
    path = os.path.join(args.out, f"serving-cpu-{stamp}.json")
    with open(path, "w") as f:
        json.dump(result, f, indent=1)
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
