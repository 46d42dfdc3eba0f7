"""Helpers shared by the whole suite: input arrays for the demo network and for any network
spec's profiles, and whether a CUDA GPU is usable here. Each folder's own ``helpers.py`` holds
what only that folder needs."""

from __future__ import annotations

from typing import Any

import numpy as np

import trt_exec
from trt_exec.errors import CudaUnavailableError
from trt_exec.testing import DEMO_NETWORK, NetworkSpec, build_engine


def demo_inputs(batch: int, seed: int | None = 0, batch_y: int | None = None) -> dict[str, Any]:
    """Inputs of the demo network: ``x`` and ``y``, float32 of shape (batch, 4) in [-2, 2).

    The same ``seed`` gives the same arrays (``None``: fresh randomness); ``batch_y`` gives ``y``
    another batch, for the tests of mismatched shapes.
    """
    rng = np.random.default_rng(seed)
    return {
        "x": rng.uniform(-2, 2, size=(batch, 4)).astype(np.float32),
        "y": rng.uniform(-2, 2, size=(batch if batch_y is None else batch_y, 4)).astype(np.float32),
    }


def profile_inputs(
    spec: NetworkSpec, profile: int, which: int = 1, seed: int = 0
) -> dict[str, Any]:
    """Inputs of ``spec`` at one shape of one profile: ``which`` is 0 (min), 1 (opt) or 2 (max)."""
    rng = np.random.default_rng(seed)
    return {
        i.name: rng.uniform(-2, 2, size=spec.profiles[profile][i.name][which]).astype(i.dtype)
        for i in spec.inputs
    }


def gpu_unavailable_reason() -> str | None:
    """Why the GPU data path cannot run here, or None when device 0 has a usable context."""
    try:
        from trt_exec.cuda.datapath import context_for

        context_for(0)
    except CudaUnavailableError as exc:
        return f"no usable CUDA GPU: {exc}"
    return None


def load_demo(trt: Any, backend: str | None = None, **options: Any) -> Any:
    """An executor on the demo network built for ``trt`` (use it as a context manager);
    ``options`` go to ``trt_exec.load``."""
    return trt_exec.load(build_engine(trt, DEMO_NETWORK), tensorrt=trt, backend=backend, **options)
