"""The ``trt-exec`` command line (also ``python -m trt_exec``). The core never imports this module.

Commands: ``inspect``, ``run``, ``bench``, ``doctor``, ``demo``; ``trt-exec COMMAND --help`` for
each. Exit status (:data:`EXIT_CODES`):

* 0 - success;
* 1 - a failed check: ``run --compare`` found a mismatch, ``doctor`` found a problem, ``demo``
  saw an output differ from numpy;
* 2 - bad usage or input: an unknown option, a missing or unreadable engine or input file, a bad
  ``--input``, an unknown tensor name, a shape outside the profiles, a backend the TensorRT
  release lacks... (every :class:`~trt_exec.errors.TrtExecError`);
* 3 - an internal error (a bug in trt_exec: please report it with the ``--debug`` output);
* 130 - interrupted (Ctrl-C).

Errors are one line on stderr, ``trt-exec: error: ...``, followed by the lines TensorRT logged
for the failing call; ``--debug`` adds the traceback. TensorRT's ILogger goes to the
``trt_exec.tensorrt`` logger: warnings are shown, ``-v`` adds INFO and ``-vv`` VERBOSE.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import traceback
from collections.abc import Sequence
from typing import Any, TextIO

import numpy as np

__all__ = ["main", "build_parser", "EXIT_CODES", "BENCH_SCHEMA", "RUN_SCHEMA"]

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERNAL, EXIT_INTERRUPTED = 0, 1, 2, 3, 130
EXIT_CODES = {
    EXIT_OK: "success",
    EXIT_FAILED: "a failed check (run --compare mismatch, doctor problem, demo mismatch)",
    EXIT_USAGE: "bad usage or input (options, engine, --input, tensor names, shapes)",
    EXIT_INTERNAL: "internal error (a bug; rerun with --debug and report it)",
    EXIT_INTERRUPTED: "interrupted",
}

_SIM_ENV = "TRT_EXEC_TENSORRT"


def _leaf_schemas() -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    from .inspect import BACKEND_SCHEMA, ENGINE_SCHEMA, TENSORRT_SCHEMA

    return ENGINE_SCHEMA, TENSORRT_SCHEMA, BACKEND_SCHEMA


_ENGINE, _TENSORRT, _BACKEND = _leaf_schemas()
_INPUTS = {str: {"shape": [int], "dtype": str, "source": str}}

#: ``trt-exec bench --json`` (``"schema": "trt-exec.bench/1"``); latencies in milliseconds.
BENCH_SCHEMA: dict[str, Any] = {
    "schema": str,  # "trt-exec.bench/1"
    "engine": _ENGINE,
    "tensorrt": _TENSORRT,
    "backend": _BACKEND,
    "data_path": str,  # "host" (simulator CPU mode: not GPU latency) or "cuda"
    "profile": int,  # the optimization profile the inputs ran in
    "inputs": _INPUTS,  # name -> shape, dtype, where the data came from
    "cuda_graphs": (
        {str: int},  # the executor's graph-cache counters (graphs, hits, misses, ...)
        None,  # null when --cuda-graph was not given
    ),
    "timer": str,  # "time.perf_counter_ns, one synchronous infer() per sample"
    "warmup": int,  # untimed calls before measuring
    "iterations": int,  # timed calls
    "duration_s": float,  # wall-clock of the timed phase
    "latency_ms": {
        "min": float,
        "mean": float,
        "stdev": float,
        "p50": float,
        "p90": float,
        "p99": float,
        "max": float,
    },
    "throughput_per_s": float,  # timed calls / duration_s
    "plot": (str, None),  # the --plot PNG path, or null
}
BENCH_SCHEMA_ID = "trt-exec.bench/1"

#: ``trt-exec run --json`` (``"schema": "trt-exec.run/1"``).
RUN_SCHEMA: dict[str, Any] = {
    "schema": str,  # "trt-exec.run/1"
    "engine": _ENGINE,
    "tensorrt": _TENSORRT,
    "backend": _BACKEND,
    "profile": int,
    "inputs": _INPUTS,
    "outputs": {
        str: {
            "shape": [int],
            "dtype": str,
            "min": (float, None),
            "max": (float, None),
            "mean": (float, None),
        }
    },
    "saved": (str, None),  # the --save path, or null
    "compare": (
        {
            "reference": str,
            "rtol": float,
            "atol": float,
            "match": bool,
            # per output: largest absolute / relative error, elements outside tolerance
            "outputs": {
                str: {
                    "status": str,  # "ok", "mismatch", "shape", "missing"
                    "max_abs_err": (float, None),
                    "max_rel_err": (float, None),
                    "mismatched": (int, None),
                    "size": (int, None),
                }
            },
        },
        None,
    ),
}
RUN_SCHEMA_ID = "trt-exec.run/1"


# --- help text -------------------------------------------------------------------------------
def _requested_tensorrt(argv: Sequence[str]) -> tuple[str | None, str | None]:
    """The --tensorrt value in ``argv`` or the environment variable, and which one it was."""
    for i, arg in enumerate(argv):
        if arg == "--tensorrt" and i + 1 < len(argv):
            return argv[i + 1], "--tensorrt"
        if arg.startswith("--tensorrt="):
            return arg.split("=", 1)[1], "--tensorrt"
    env = os.environ.get(_SIM_ENV, "").strip()
    return (env, _SIM_ENV) if env else (None, None)


def _simulator_note(argv: Sequence[str]) -> str:
    value, origin = _requested_tensorrt(argv)
    if value and value.strip().startswith("sim:"):
        return (
            f"NOTE: {origin}={value!r} selects the SIMULATED TensorRT (trt_exec.sim, numpy on "
            "the CPU). Results and latencies are not those of real TensorRT; unset it to use the "
            "installed TensorRT."
        )
    return ""


def _sim_versions() -> str:
    try:
        from ..sim import SIMULATED_VERSIONS

        return ", ".join(SIMULATED_VERSIONS)
    except Exception:  # pragma: no cover - the testing package is part of trt_exec
        return "see trt_exec.testing"


_EXIT_EPILOG = "exit status: 0 ok, 1 failed check (mismatch / problem found), 2 bad usage or input"


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} must be >= 1")
    return value


def _non_negative_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be >= 0")
    return value


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be > 0")
    return value


def _non_negative_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not value >= 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be >= 0")
    return value


def build_parser(argv: Sequence[str] = ()) -> argparse.ArgumentParser:
    """The argument parser; ``argv`` is only read to say in the help when the simulator is used."""
    note = _simulator_note(argv)
    epilog = "\n\n".join(p for p in (note, _EXIT_EPILOG) if p)

    common = argparse.ArgumentParser(add_help=False)
    g = common.add_argument_group("common options")
    g.add_argument("--debug", action="store_true", help="show the Python traceback on errors")
    g.add_argument(
        "-v",
        "--verbose",
        action="count",
        default=0,
        help="show TensorRT's log: -v INFO, -vv VERBOSE (warnings and errors are always shown)",
    )

    engine_opts = argparse.ArgumentParser(add_help=False)
    e = engine_opts.add_argument_group("TensorRT")
    e.add_argument(
        "--tensorrt",
        metavar="MODULE",
        help="TensorRT module: tensorrt, tensorrt_rtx, tensorrt_lean, tensorrt_dispatch, or "
        f"sim:VERSION for the SIMULATED TensorRT on the CPU ({_sim_versions()}). Default: "
        f"${_SIM_ENV}, else the first that imports",
    )
    e.add_argument(
        "--backend",
        choices=("auto", "v2", "v3"),
        help="execution API: v2 (bindings, TensorRT <= 8.6), v3 (named tensors, >= 8.5). "
        "Default: $TRT_EXEC_BACKEND, else from the TensorRT version",
    )

    data_opts = argparse.ArgumentParser(add_help=False)
    d = data_opts.add_argument_group("inputs")
    d.add_argument(
        "--input",
        "-i",
        action="append",
        default=[],
        metavar="SPEC",
        help="NAME=FILE.npy, NAME=FILE.npz (its array NAME), FILE.npz (all its arrays), or "
        "generated data NAME=random|zeros|ones[:4x16] (shape default: the profile's opt shape). "
        "Repeatable; inputs not given are random at the opt shape",
    )
    d.add_argument(
        "--profile",
        type=_non_negative_int,
        metavar="K",
        help="optimization profile (default: chosen from the input shapes)",
    )
    d.add_argument("--seed", type=int, default=0, help="seed for random inputs (default 0)")

    parser = argparse.ArgumentParser(
        prog="trt-exec",
        description="Inspect, run and benchmark TensorRT engines on any TensorRT release\n"
        "(8.x, 10.x, 11.x, TensorRT-RTX), or on the simulated TensorRT.",
        epilog=epilog,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    from .. import __version__

    parser.add_argument("--version", action="version", version=f"trt-exec {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(
        name: str, help: str, parents: list[argparse.ArgumentParser]
    ) -> argparse.ArgumentParser:
        return sub.add_parser(
            name,
            help=help,
            description=help[0].upper() + help[1:] + ".",
            epilog=epilog,
            parents=[*parents, common],
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )

    p = add(
        "inspect",
        "show an engine's IO, profiles, device memory and the backend chosen",
        [engine_opts],
    )
    p.add_argument("engine", metavar="ENGINE", help="serialized engine file")
    p.add_argument("--json", action="store_true", help="print JSON (schema trt-exec.inspect/1)")

    p = add(
        "run",
        "run an engine once, optionally saving or comparing the outputs",
        [engine_opts, data_opts],
    )
    p.add_argument("engine", metavar="ENGINE", help="serialized engine file")
    p.add_argument("--save", metavar="OUT.npz", help="write the outputs to a .npz file")
    p.add_argument("--save-inputs", metavar="IN.npz", help="write the inputs used to a .npz file")
    p.add_argument(
        "--compare",
        metavar="REF.npz",
        help="compare the outputs with a reference .npz; exit 1 on a mismatch",
    )
    p.add_argument(
        "--rtol",
        type=_non_negative_float,
        default=1e-5,
        help="relative tolerance for --compare (default 1e-5)",
    )
    p.add_argument(
        "--atol",
        type=_non_negative_float,
        default=1e-8,
        help="absolute tolerance for --compare (default 1e-8)",
    )
    p.add_argument("--json", action="store_true", help="print JSON (schema trt-exec.run/1)")

    p = add("bench", "measure the latency and throughput of an engine", [engine_opts, data_opts])
    p.add_argument("engine", metavar="ENGINE", help="serialized engine file")
    p.add_argument(
        "--warmup", type=_non_negative_int, default=10, help="untimed calls first (default 10)"
    )
    p.add_argument(
        "--iterations", "-n", type=_positive_int, default=200, help="timed calls (default 200)"
    )
    p.add_argument(
        "--duration",
        type=_positive_float,
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

    p = add(
        "doctor",
        "check the installation: Python packages, TensorRT flavours, the backend, "
        "CUDA driver and GPUs, known incompatibilities",
        [engine_opts],
    )
    p.add_argument("--json", action="store_true", help="print JSON (schema trt-exec.doctor/1)")

    p = add(
        "demo",
        "build and run a built-in network on the simulated TensorRT (and real TensorRT "
        "where installed with a GPU), checking outputs against numpy",
        [],
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
        f"${_SIM_ENV}, else the first that imports)",
    )
    return parser


# --- logging ---------------------------------------------------------------------------------
class _CliLogHandler(logging.Handler):
    """Shows trt_exec's log on stderr. ERROR lines are held back until the command ends: those
    attached to the exception that ends it are printed with that error, not twice."""

    def __init__(self, stream: TextIO) -> None:
        super().__init__()
        self.stream = stream
        self.held: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        try:
            msg = record.getMessage()
            if record.levelno >= logging.ERROR:
                self.held.append(msg)
                return
            self.stream.write(f"trt-exec: tensorrt {record.levelname.lower()}: {msg}\n")
        except Exception:  # pragma: no cover - logging must never raise
            self.handleError(record)

    def flush_held(self, shown: Sequence[str] = ()) -> None:
        for msg in self.held:
            if msg not in shown:
                self.stream.write(f"trt-exec: tensorrt error: {msg}\n")
        self.held.clear()


def _setup_logging(verbose: int, stream: TextIO) -> _CliLogHandler:
    handler = _CliLogHandler(stream)
    logger = logging.getLogger("trt_exec")
    logger.handlers[:] = [handler]
    logger.propagate = False
    logger.setLevel(
        logging.WARNING if verbose <= 0 else logging.INFO if verbose == 1 else logging.DEBUG
    )
    return handler


# --- shared pieces ---------------------------------------------------------------------------
class _Opened:
    """An executor opened from the command line, with what was chosen and why."""

    def __init__(self, args: argparse.Namespace) -> None:
        from ..discovery import ENV_TENSORRT, find_tensorrt
        from ..loading import load, read_engine_bytes
        from .inspect import tensorrt_info

        if args.tensorrt:
            selected_by = "argument"
        elif os.environ.get(ENV_TENSORRT, "").strip():
            selected_by = "environment"
        else:
            selected_by = "discovery"
        self.path: str = args.engine
        data = read_engine_bytes(args.engine)  # a missing file is reported before anything else
        trt = find_tensorrt(args.tensorrt)
        self.trt = trt
        self.size = len(data)
        self.ex = load(data, tensorrt=trt, backend=args.backend)
        self.tensorrt = tensorrt_info(trt, selected_by)
        choice = self.ex.choice
        self.backend = {"name": self.ex.backend, "source": choice.source, "reason": choice.reason}

    def header(self) -> list[str]:
        from .inspect import describe_backend, describe_tensorrt

        return [
            f"engine     {self.path}",
            f"TensorRT   {describe_tensorrt(self.tensorrt)}",
            f"backend    {describe_backend(self.backend)}",
        ]

    def engine_info(self) -> dict[str, Any]:
        return {"path": self.path, "size_bytes": self.size}

    @property
    def data_path(self) -> str:
        return "host" if self.ex.device is None else "cuda"


def _prepare_inputs(
    opened: _Opened, args: argparse.Namespace
) -> tuple[dict[str, np.ndarray], dict[str, str], int]:
    from ..spec import check_shape, choose_profile
    from .inputs import parse_input, resolve_inputs

    specs = [parse_input(text) for text in args.input]
    ex = opened.ex
    arrays, sources = resolve_inputs(specs, ex.inputs, profile=args.profile, seed=args.seed)
    shapes = {name: check_shape(ex.inputs[name], a.shape) for name, a in arrays.items()}
    # The executor makes the same choice per call; done here first so it can be reported.
    profile = choose_profile(ex.inputs, shapes, ex.num_profiles, args.profile)
    return arrays, sources, profile


def _inputs_info(arrays: dict[str, np.ndarray], sources: dict[str, str]) -> dict[str, Any]:
    return {
        name: {"shape": list(a.shape), "dtype": a.dtype.name, "source": sources[name]}
        for name, a in arrays.items()
    }


def _inputs_lines(info: dict[str, Any]) -> list[str]:
    from .inspect import _table

    rows = [[name, d["dtype"], str(d["shape"]), d["source"]] for name, d in info.items()]
    return _table(rows)


def _write_npz(path: str, arrays: dict[str, np.ndarray], option: str) -> str:
    from ..errors import ConfigurationError

    target = path if path.endswith(".npz") else path + ".npz"  # numpy appends it anyway
    try:
        np.savez(target, **arrays)  # type: ignore[arg-type]
    except OSError as exc:
        raise ConfigurationError(
            f"{option} {path!r}: cannot write it ({exc.strerror or exc})"
        ) from None
    return target


def _print_json(obj: Any, out: TextIO) -> None:
    json.dump(obj, out, indent=2)
    out.write("\n")


# --- commands --------------------------------------------------------------------------------
def cmd_inspect(args: argparse.Namespace, out: TextIO) -> int:
    from .inspect import engine_report, render_inspect

    opened = _Opened(args)
    with opened.ex:
        report = engine_report(opened.ex, opened.engine_info(), opened.tensorrt, opened.backend)
    if args.json:
        _print_json(report, out)
    else:
        print(render_inspect(report), file=out)
    return EXIT_OK


def _stats(a: np.ndarray) -> dict[str, float | None]:
    if a.size == 0 or a.dtype.kind not in "biuf":
        return {"min": None, "max": None, "mean": None}
    f = a.astype(np.float64)
    return {"min": float(f.min()), "max": float(f.max()), "mean": float(f.mean())}


def _compare_one(got: np.ndarray, ref: np.ndarray, rtol: float, atol: float) -> dict[str, Any]:
    if got.shape != ref.shape:
        return {
            "status": "shape",
            "max_abs_err": None,
            "max_rel_err": None,
            "mismatched": None,
            "size": int(got.size),
            "detail": f"shape {list(got.shape)} vs reference {list(ref.shape)}",
        }
    g = got.astype(np.float64)
    r = ref.astype(np.float64)
    close = np.isclose(g, r, rtol=rtol, atol=atol, equal_nan=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        diff = np.abs(g - r)
        both_nan = np.isnan(g) & np.isnan(r)
        diff = np.where(both_nan, 0.0, diff)
        rel = diff / np.maximum(np.abs(r), np.finfo(np.float64).tiny)
    bad = int(np.count_nonzero(~close))
    return {
        "status": "ok" if bad == 0 else "mismatch",
        "max_abs_err": float(np.nanmax(diff)) if diff.size else 0.0,
        "max_rel_err": float(np.nanmax(rel)) if rel.size else 0.0,
        "mismatched": bad,
        "size": int(got.size),
    }


def _load_reference(path: str) -> dict[str, np.ndarray]:
    from ..errors import ConfigurationError
    from .inputs import load_array_file

    loaded = load_array_file(path, f"--compare {path!r}")
    if not isinstance(loaded, dict):
        raise ConfigurationError(
            f"--compare {path!r}: a reference must be a .npz with one array per output name"
        )
    return loaded


def cmd_run(args: argparse.Namespace, out: TextIO) -> int:
    from ..errors import BindingError

    reference = _load_reference(args.compare) if args.compare else None
    opened = _Opened(args)
    with opened.ex as ex:
        arrays, sources, profile = _prepare_inputs(opened, args)
        if reference is not None:
            extra = [n for n in reference if n not in ex.outputs]
            if extra:
                raise BindingError(
                    f"--compare {args.compare!r}: {extra!r} are not outputs of the engine; its "
                    f"outputs are {list(ex.outputs)!r}"
                )
        if args.save_inputs:
            _write_npz(args.save_inputs, arrays, "--save-inputs")
        outputs = ex.infer(arrays, profile=args.profile)
    saved = _write_npz(args.save, outputs, "--save") if args.save else None
    inputs = _inputs_info(arrays, sources)
    result: dict[str, Any] = {
        "schema": RUN_SCHEMA_ID,
        "engine": opened.engine_info(),
        "tensorrt": opened.tensorrt,
        "backend": opened.backend,
        "profile": profile,
        "inputs": inputs,
        "outputs": {
            n: {"shape": list(a.shape), "dtype": a.dtype.name, **_stats(a)}
            for n, a in outputs.items()
        },
        "saved": saved,
        "compare": None,
    }
    match = True
    if reference is not None:
        per: dict[str, Any] = {}
        for name, got in outputs.items():
            if name not in reference:
                per[name] = {
                    "status": "missing",
                    "max_abs_err": None,
                    "max_rel_err": None,
                    "mismatched": None,
                    "size": None,
                }
            else:
                per[name] = _compare_one(got, reference[name], args.rtol, args.atol)
        compared = [r for r in per.values() if r["status"] != "missing"]
        match = bool(compared) and all(r["status"] == "ok" for r in compared)
        result["compare"] = {
            "reference": args.compare,
            "rtol": args.rtol,
            "atol": args.atol,
            "match": match,
            "outputs": per,
        }
    if args.json:
        for r in (result["compare"] or {}).get("outputs", {}).values():
            r.pop("detail", None)
        _print_json(result, out)
        return EXIT_OK if match else EXIT_FAILED
    lines = opened.header()
    lines.append(
        f"profile    {profile}"
        + ("" if args.profile is not None else " (chosen from the input shapes)")
    )
    lines.append("inputs")
    lines += _inputs_lines(inputs)
    lines.append("outputs")
    from .inspect import _table

    rows = []
    for name, info in result["outputs"].items():
        row = [name, info["dtype"], str(info["shape"])]
        if info["min"] is not None:
            row.append(f"min {info['min']:.6g}  max {info['max']:.6g}  mean {info['mean']:.6g}")
        else:
            row.append("")
        rows.append(row)
    lines += _table(rows)
    if saved:
        lines.append(f"saved outputs to {saved}")
    if result["compare"] is not None:
        c = result["compare"]
        lines.append(f"compare with {c['reference']} (rtol={c['rtol']:g}, atol={c['atol']:g})")
        rows = []
        for name, r in c["outputs"].items():
            if r["status"] == "missing":
                rows.append([name, "not in the reference: not compared", ""])
            elif r["status"] == "shape":
                rows.append([name, r["detail"], "MISMATCH"])
            else:
                rows.append(
                    [
                        name,
                        f"max abs err {r['max_abs_err']:.3g}  max rel err {r['max_rel_err']:.3g}",
                        "ok"
                        if r["status"] == "ok"
                        else f"MISMATCH ({r['mismatched']} of {r['size']} outside tolerance)",
                    ]
                )
        lines += _table(rows)
        if not any(r["status"] != "missing" for r in c["outputs"].values()):
            lines.append("compare: FAILED - the reference has none of the engine's outputs")
        else:
            lines.append("compare: all outputs match" if match else "compare: MISMATCH")
    print("\n".join(lines), file=out)
    return EXIT_OK if match else EXIT_FAILED


def _want_progress(args: argparse.Namespace) -> bool:
    if args.no_progress or args.json:
        return False
    try:
        return sys.stdout.isatty() and sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False


def cmd_bench(args: argparse.Namespace, out: TextIO) -> int:
    from ..errors import ConfigurationError
    from . import bench as _bench

    if args.plot:
        try:
            import matplotlib  # noqa: F401
        except ImportError:
            raise ConfigurationError(
                "--plot needs matplotlib, which is not installed; install it with "
                "`pip install 'trt-exec[plot]'` (or `pip install matplotlib`)"
            ) from None
    opened = _Opened(args)
    with opened.ex as ex:
        arrays, sources, profile = _prepare_inputs(opened, args)
        if args.cuda_graph:
            if not hasattr(ex, "enable_cuda_graphs"):
                raise ConfigurationError(
                    "--cuda-graph: this version of trt_exec cannot capture CUDA graphs"
                )
            ex.enable_cuda_graphs()
        pinned = args.profile

        def call() -> Any:
            return ex.infer(arrays, profile=pinned)

        progress = _bench.Progress(sys.stderr, "bench") if _want_progress(args) else None
        samples, wall = _bench.measure(
            call,
            warmup=args.warmup,
            iterations=args.iterations,
            duration_s=args.duration,
            progress=progress,
        )
        graphs = getattr(ex, "cuda_graphs", None) if args.cuda_graph else None
        data_path = opened.data_path
    stats = _bench.summarize(samples, wall)
    if args.plot:
        title = (
            f"{os.path.basename(opened.path)} - {opened.tensorrt['module']} "
            f"{opened.tensorrt['version']}"
            + (" SIMULATED" if opened.tensorrt["simulated"] else "")
            + f" - backend {opened.backend['name']}"
        )
        try:
            _bench.write_plot(args.plot, samples, stats, title)
        except OSError as exc:
            raise ConfigurationError(f"--plot {args.plot!r}: cannot write it ({exc})") from None
    inputs = _inputs_info(arrays, sources)
    if args.json:
        _print_json(
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
                "plot": args.plot,
            },
            out,
        )
        return EXIT_OK
    f = _bench.format_duration
    lines = opened.header()
    where = {
        "host": "host memory (simulated TensorRT on the CPU: these are not GPU latencies)",
        "cuda": "CUDA device memory",
    }.get(data_path, data_path)
    lines.append(f"data path  {where}")
    lines.append(f"profile    {profile}")
    lines.append("inputs")
    lines += _inputs_lines(inputs)
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
    lines += _bench.histogram_text(samples)
    if args.plot:
        lines.append(f"plot       {args.plot}")
    print("\n".join(lines), file=out)
    return EXIT_OK


def cmd_doctor(args: argparse.Namespace, out: TextIO) -> int:
    from .doctor import gather, render_doctor

    facts = gather(args.tensorrt, args.backend)
    if args.json:
        _print_json(facts, out)
    else:
        print(render_doctor(facts), file=out)
    return EXIT_FAILED if any(f["level"] == "problem" for f in facts["findings"]) else EXIT_OK


def cmd_demo(args: argparse.Namespace, out: TextIO) -> int:
    from .demo import run_demo

    if args.save_engine:
        return _save_demo_engine(args.save_engine, args.tensorrt, out)
    return run_demo(out)


def _save_demo_engine(path: str, tensorrt: str | None, out: TextIO) -> int:
    from ..discovery import find_tensorrt, is_simulated, module_flavor, module_version
    from ..errors import ConfigurationError, ExecutionError
    from ..testing import DEMO_NETWORK, EngineBuildError, build_engine
    from .inspect import format_bytes

    trt = find_tensorrt(tensorrt)
    label = f"{module_flavor(trt)} {module_version(trt)}"
    label += " (SIMULATED)" if is_simulated(trt) else ""
    try:
        plan = build_engine(trt, DEMO_NETWORK)
    except EngineBuildError as exc:
        raise ExecutionError(f"{label} could not build the demo network: {exc}") from exc
    try:
        with open(path, "wb") as f:
            f.write(plan)
    except OSError as exc:
        raise ConfigurationError(f"--save-engine {path!r}: cannot write it ({exc})") from None
    print(f"wrote {path} ({format_bytes(len(plan))}), the demo network built by {label}", file=out)
    return EXIT_OK


_COMMANDS = {
    "inspect": cmd_inspect,
    "run": cmd_run,
    "bench": cmd_bench,
    "doctor": cmd_doctor,
    "demo": cmd_demo,
}


def _error(message: str, err: TextIO) -> None:
    err.write(f"trt-exec: error: {message}\n")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (see :data:`EXIT_CODES`)."""
    from ..errors import TrtExecError

    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser(argv).parse_args(argv)  # exits 2 on a usage error
    err = sys.stderr
    handler = _setup_logging(args.verbose, err)
    shown: Sequence[str] = ()
    try:
        return _COMMANDS[args.command](args, sys.stdout)
    except TrtExecError as exc:
        shown = exc.tensorrt_log
        _error(exc.message, err)
        for line in exc.tensorrt_log:
            err.write(f"trt-exec: tensorrt error: {line}\n")
        if args.debug:
            traceback.print_exc(file=err)
        return EXIT_USAGE
    except KeyboardInterrupt:
        _error("interrupted", err)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # `trt-exec ... | head`: stdout closed early; not an error of ours.
        try:
            sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - avoid a second error at exit
        except OSError:
            pass
        return EXIT_OK
    except Exception as exc:
        _error(
            f"internal error: {type(exc).__name__}: {exc}"
            + (
                ""
                if args.debug
                else " (rerun with --debug for the traceback, and please report it)"
            ),
            err,
        )
        if args.debug:
            traceback.print_exc(file=err)
        return EXIT_INTERNAL
    finally:
        handler.flush_held(shown)


if __name__ == "__main__":
    sys.exit(main())
