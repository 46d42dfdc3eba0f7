"""Polygraphy's TrtRunner over the simulated TensorRT, and what that reveals about the simulator.

Polygraphy imports ``tensorrt`` once, lazily, and keeps it: so one process serves one simulated
release (``python -m benchmarks`` runs each release in its own worker process).

One thing stands between Polygraphy and the simulator, and it is replaced here only:

- On a machine without a GPU, Polygraphy's CUDA wrapper (ctypes over libcudart) cannot create a
  stream. In the CPU mode :class:`HostCuda` replaces that wrapper: "device" memory is host memory
  and copies are ``ctypes.memmove``, which matches the simulator's host mode, where device
  addresses are host pointers. Polygraphy's own Python (validation, buffer management, output
  allocator, copies) runs unchanged; only its libcudart calls are replaced. On the GPU the real
  wrapper is used.

Simulator fidelity gaps are not worked around: :func:`fidelity_gaps` reports names Polygraphy
uses that the simulator lacks, and ``tests/peer`` runs Polygraphy on every simulated release.
"""

from __future__ import annotations

import ctypes
import sys
from types import ModuleType
from typing import Any

__all__ = ["available", "install", "HostCuda", "make_runner", "fidelity_gaps", "version"]

# Names real TensorRT has (per the API manifests in tests/data/manifests) that Polygraphy uses on
# the paths exercised here. A missing one is a simulator fidelity gap.
_POLYGRAPHY_USES = {
    "module": ["init_libnvinfer_plugins", "get_plugin_registry", "IDebugListener"],
    "IExecutionContext": [
        "set_all_tensors_debug_state",
        "set_debug_listener",
        "get_tensor_address",
    ],
    "ICudaEngine": ["get_aliased_input_tensor", "is_shape_inference_io"],
}


def available() -> bool:
    try:
        import polygraphy  # noqa: F401
    except ImportError:
        return False
    return True


def version() -> str | None:
    try:
        import polygraphy
    except ImportError:
        return None
    return str(polygraphy.__version__)


class HostCuda:
    """Stands in for ``polygraphy.cuda.wrapper()`` on a machine without a GPU (host memory)."""

    def __init__(self) -> None:
        self._bufs: dict[int, Any] = {}

    def check(self, status: int) -> None:
        return None

    def create_stream(self) -> int:
        return 0

    def stream_synchronize(self, ptr: int) -> None:
        return None

    def destroy_stream(self, ptr: int) -> None:
        return None

    def malloc(self, nbytes: int) -> int:
        buf = ctypes.create_string_buffer(max(int(nbytes), 1))
        ptr = ctypes.addressof(buf)
        self._bufs[ptr] = buf
        return ptr

    def free(self, ptr: int) -> None:
        self._bufs.pop(ptr, None)

    def memcpy(self, dst: int, src: int, nbytes: int, kind: Any, stream_ptr: Any = None) -> None:
        ctypes.memmove(dst, src, int(nbytes))


def install(trt: ModuleType, *, host_cuda: bool) -> None:
    """Make ``trt`` the ``tensorrt`` Polygraphy imports; with ``host_cuda`` replace its CUDA
    wrapper by :class:`HostCuda`. Call before the first Polygraphy runner is made."""
    sys.modules["tensorrt"] = trt
    if host_cuda:
        from polygraphy.cuda import cuda as pcuda

        pcuda.G_CUDA = HostCuda()


def make_runner(trt: ModuleType, plan: bytes, gaps: list[str]) -> Any:
    """An activated ``TrtRunner(EngineFromBytes(plan))``, the way users write it. No fallback:
    a simulator gap must fail here (tests/peer runs the same path on every release). ``gaps`` is
    kept for the callers' signature; nothing is added to it."""
    from polygraphy.backend.trt import EngineFromBytes, TrtRunner

    runner = TrtRunner(EngineFromBytes(plan))
    runner.activate()
    return runner


def fidelity_gaps(trt: ModuleType, version_label: str, manifest_dir: str) -> list[str]:
    """Names Polygraphy uses that the real release has (per its API manifest) but the simulator
    lacks. Polygraphy guards some with hasattr/try, so a gap there changes the path it takes
    rather than failing."""
    import json
    import os

    path = os.path.join(manifest_dir, f"tensorrt-{version_label}.json")
    if not os.path.exists(path):
        return []
    with open(path) as f:
        manifest = json.load(f)
    functions, classes = manifest.get("functions", {}), manifest.get("classes", {})
    out = []
    for owner, names in _POLYGRAPHY_USES.items():
        for name in names:
            if owner == "module":
                in_release = name in functions or name in classes
                present = hasattr(trt, name)
                where = f"tensorrt.{name}"
            else:
                in_release = name in classes.get(owner, {}).get("attributes", {})
                present = hasattr(getattr(trt, owner, None), name)
                where = f"tensorrt.{owner}.{name}"
            if in_release and not present:
                out.append(f"{where} exists in TensorRT {version_label} but not in the simulator")
    return out
