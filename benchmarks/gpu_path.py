"""Host-side latency of the GPU data path on the simulated TensorRT in GPU mode (not a test).

Run: python -m benchmarks.gpu_path  (needs a GPU and torch). Prints microseconds per call.
"""

from __future__ import annotations

import time

import numpy as np

import trt_exec
from trt_exec.sim.gpu import enable_gpu
from trt_exec.testing import DEMO_NETWORK, build_engine, simulated_tensorrt


def per_call(fn, n: int = 2000) -> float:
    for _ in range(50):
        fn()
    t0 = time.perf_counter()
    for _ in range(n):
        fn()
    return (time.perf_counter() - t0) / n * 1e6


def main() -> None:
    import torch

    trt = enable_gpu(simulated_tensorrt("10.16.1"))
    plan = build_engine(trt, DEMO_NETWORK)
    x = {n: np.ones((4, 4), np.float32) for n in ("x", "y")}
    tx = {n: torch.ones((4, 4), device="cuda") for n in ("x", "y")}
    outs = {n: torch.empty((4, 4), device="cuda") for n in ("sum", "act")}
    s = torch.cuda.Stream()
    for graphs in (False, True):
        with trt_exec.load(plan, tensorrt=trt, cuda_graphs=graphs) as ex:
            r = {
                "numpy->numpy infer": per_call(lambda: ex.infer(x)),
                "torch->torch infer(outputs=)": per_call(lambda: ex.infer(tx, outputs=outs)),
                "torch infer_async(outputs=) + sync": per_call(
                    lambda: (ex.infer_async(tx, stream=s, outputs=outs), s.synchronize())
                ),
                "torch infer_async(outputs=) pipelined": per_call(
                    lambda: ex.infer_async(tx, stream=s, outputs=outs)
                ),
            }
            s.synchronize()
            for k, v in r.items():
                print(f"graphs={graphs!s:5} {k:40} {v:7.1f} us/call")
            print("graph stats", ex.cuda_graphs)


if __name__ == "__main__":
    main()
