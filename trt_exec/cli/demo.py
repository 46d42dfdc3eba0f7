"""``trt-exec demo``: build a small two-input, two-output, two-profile network and run it.

On the simulated TensorRT it runs on both backends of 8.6.1 and on V3 of 10.x, 11.x and
TensorRT-RTX, comparing every output with numpy. Where a real TensorRT and a CUDA GPU are present
it also builds and runs the same network on the real library. Every line says which it was.
``--save-engine`` instead writes the demo network's engine, to try the other commands on.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, TextIO

import numpy as np

from ..discovery import (
    ENV_TENSORRT,
    FLAVORS,
    find_tensorrt,
    is_simulated,
    module_flavor,
    module_version,
)
from ..errors import ExecutionError
from ..loading import load
from ..testing.matrix import SIM_RUNS
from .exitcodes import EXIT_FAILED, EXIT_OK
from .files import atomic_write, check_output_path
from .options import Subcommands
from .render import format_bytes, printable, table

if TYPE_CHECKING:
    from ..executor import BaseExecutor

__all__ = ["add_parser", "command", "run_demo", "SIM_RUNS"]


def add_parser(commands: Subcommands) -> None:
    p = commands.add(
        "demo",
        "build and run a built-in network on the simulated TensorRT (and real TensorRT "
        "where installed with a GPU), checking outputs against numpy",
        [],
        command,
    )
    p.add_argument(
        "--save-engine",
        metavar="PATH",
        help="instead, build the demo network (inputs x, y of shape (batch, 4); two profiles) "
        "with --tensorrt and write the engine to PATH, to try inspect/run/bench on",
    )
    p.add_argument(
        "--tensorrt",
        metavar="MODULE",
        help=f"for --save-engine: the TensorRT to build with, e.g. sim:10.16.1 (default: "
        f"${ENV_TENSORRT}, else the first that imports)",
    )


def command(args: argparse.Namespace, out: TextIO) -> int:
    if args.save_engine is not None:
        return _save_engine(args.save_engine, args.tensorrt, out)
    return run_demo(out)


def _save_engine(path: str, tensorrt: str | None, out: TextIO) -> int:
    from ..testing import DEMO_NETWORK, EngineBuildError, build_engine

    check_output_path(path, "--save-engine")  # before the build
    trt = find_tensorrt(tensorrt)
    label = f"{module_flavor(trt)} {module_version(trt)}"
    label += " (SIMULATED)" if is_simulated(trt) else ""
    try:
        plan = build_engine(trt, DEMO_NETWORK)
    except EngineBuildError as exc:
        raise ExecutionError(f"{label} could not build the demo network: {exc}") from exc
    atomic_write(path, "--save-engine", lambda f: f.write(plan))
    print(
        f"wrote {printable(path)} ({format_bytes(len(plan))}), the demo network built by {label}",
        file=out,
    )
    return EXIT_OK


def io_table(ex: BaseExecutor) -> str:
    """The demo network's IO: name, direction, dtype, shape and each profile's bounds."""
    rows = [["name", "io", "dtype", "shape", "profiles (min / opt / max)"]]
    for spec in list(ex.inputs.values()) + list(ex.outputs.values()):
        profiles = "  ".join(
            f"[{k}] {list(p.min)}/{list(p.opt)}/{list(p.max)}"
            for k, p in enumerate(spec.profile_shapes)
        )
        rows.append(
            [
                spec.name,
                "in" if spec.is_input else "out",
                spec.dtype.name,
                str(list(spec.shape)),
                profiles or "-",
            ]
        )
    return "\n".join(table(rows))


def _cases(spec: Any) -> Iterator[tuple[int, dict[str, np.ndarray]]]:
    """One input set per profile, at that profile's opt shapes, with deterministic values."""
    rng = np.random.default_rng(0)
    for k in range(len(spec.profiles)):
        bounds = spec.profile(k)  # {input name: (min, opt, max)}
        arrays = {}
        for inp in spec.inputs:
            shape = bounds[inp.name][1]
            arrays[inp.name] = rng.uniform(-2, 2, size=shape).astype(inp.dtype)
        yield k, arrays


def _run_one(trt: Any, backend: str | None, out: TextIO, show_table: bool) -> bool:
    from ..testing import DEMO_NETWORK, build_engine, reference

    label = f"{module_flavor(trt)} {module_version(trt)}"
    label += " (SIMULATED)" if is_simulated(trt) else " (real)"
    plan = build_engine(trt, DEMO_NETWORK)
    ok = True
    with load(plan, tensorrt=trt, backend=backend) as ex:
        if show_table:
            print(f"IO of the demo network ({ex.num_profiles} profiles):", file=out)
            print(io_table(ex), file=out)
        for k, arrays in _cases(DEMO_NETWORK):
            got = ex.infer(arrays)
            want = reference(DEMO_NETWORK, arrays)
            match = all(np.allclose(got[n], want[n], rtol=1e-5, atol=1e-6) for n in want)
            ok &= match
            shapes = ", ".join(f"{n}{list(a.shape)}" for n, a in arrays.items())
            print(
                f"  {label:<36} backend={ex.backend}  profile {k}  {shapes}  "
                f"{'matches numpy' if match else 'MISMATCH'}",
                file=out,
            )
    return ok


def run_demo(out: TextIO = sys.stdout) -> int:
    """Run the demo; return 0 (:data:`EXIT_OK`) when every output matched numpy, else 1."""
    from ..testing import simulated_tensorrt

    ok = True
    first = True
    for version, backends in SIM_RUNS:
        for backend in backends:
            ok &= _run_one(simulated_tensorrt(version), backend, out, show_table=first)
            first = False
    real = _real_tensorrt()
    if real is None:
        print(
            "No real TensorRT with a CUDA GPU here: everything above ran on the simulator.",
            file=out,
        )
    else:
        ok &= _run_one(real, "v3" if module_flavor(real) == "tensorrt_rtx" else None, out, False)
    print("demo: all outputs match numpy" if ok else "demo: MISMATCH", file=out)
    return EXIT_OK if ok else EXIT_FAILED


def _real_tensorrt() -> Any:
    """The real TensorRT module when it imports and a CUDA device is present, else None."""
    try:
        from cuda.bindings import runtime as cudart
    except ImportError:
        return None
    err, count = cudart.cudaGetDeviceCount()
    if int(err) != 0 or count < 1:
        return None
    for name in FLAVORS:
        try:
            return find_tensorrt(name)
        except Exception:
            continue
    return None
