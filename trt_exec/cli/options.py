"""Command-line options shared by several commands, and how a command adds its parser.

Each command module has ``add_parser(commands: Subcommands)``, which calls :meth:`Subcommands.add`
with the shared option groups it takes (:attr:`Subcommands.engine`, :attr:`Subcommands.inputs`)
and its handler, then adds its own options.
"""

from __future__ import annotations

import argparse
import math
import os
from collections.abc import Callable, Sequence
from typing import Any, TextIO

from ..discovery import ENV_TENSORRT

__all__ = [
    "Handler",
    "Subcommands",
    "simulator_note",
    "positive_int",
    "non_negative_int",
    "positive_float",
    "non_negative_float",
]

#: A command's implementation: parsed arguments and stdout in, exit status out.
Handler = Callable[[argparse.Namespace, TextIO], int]


# --- value types -------------------------------------------------------------------------------
def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} must be >= 1")
    return value


def non_negative_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be >= 0")
    return value


def positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be > 0")
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"{text!r} must be a finite number")
    return value


def non_negative_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not value >= 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be >= 0")
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"{text!r} must be a finite number")
    return value


# --- help text ---------------------------------------------------------------------------------
def _requested_tensorrt(argv: Sequence[str]) -> tuple[str | None, str | None]:
    """The --tensorrt value in ``argv`` or the environment variable, and which one it was."""
    for i, arg in enumerate(argv):
        if arg == "--tensorrt" and i + 1 < len(argv):
            return argv[i + 1], "--tensorrt"
        if arg.startswith("--tensorrt="):
            return arg.split("=", 1)[1], "--tensorrt"
    env = os.environ.get(ENV_TENSORRT, "").strip()
    return (env, ENV_TENSORRT) if env else (None, None)


def simulator_note(argv: Sequence[str]) -> str:
    """A paragraph for the help when ``argv`` or the environment selects the simulator, else ""."""
    value, origin = _requested_tensorrt(argv)
    if value and value.strip().startswith("sim:"):
        return (
            f"NOTE: {origin}={value!r} selects the SIMULATED TensorRT (trt_exec.sim, numpy on "
            "the CPU). Results and latencies are not those of real TensorRT; unset it to use the "
            "installed TensorRT."
        )
    return ""


def _sim_versions() -> str:
    from ..sim import SIMULATED_VERSIONS

    return ", ".join(SIMULATED_VERSIONS)


# --- option groups -----------------------------------------------------------------------------
def _common_options() -> argparse.ArgumentParser:
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
    return common


def _engine_options() -> argparse.ArgumentParser:
    engine = argparse.ArgumentParser(add_help=False)
    e = engine.add_argument_group("TensorRT")
    e.add_argument(
        "--tensorrt",
        metavar="MODULE",
        help="TensorRT module: tensorrt, tensorrt_rtx, tensorrt_lean, tensorrt_dispatch, or "
        f"sim:VERSION for the SIMULATED TensorRT on the CPU ({_sim_versions()}). Default: "
        f"${ENV_TENSORRT}, else the first that imports",
    )
    e.add_argument(
        "--backend",
        choices=("auto", "v2", "v3"),
        help="execution API: v2 (bindings, TensorRT <= 8.6), v3 (named tensors, >= 8.5), or "
        "auto (from the TensorRT version, whatever $TRT_EXEC_BACKEND says). Default: "
        "$TRT_EXEC_BACKEND, else from the TensorRT version",
    )
    return engine


def _input_options() -> argparse.ArgumentParser:
    inputs = argparse.ArgumentParser(add_help=False)
    d = inputs.add_argument_group("inputs")
    d.add_argument(
        "--input",
        "-i",
        action="append",
        default=[],
        metavar="SPEC",
        help="NAME=FILE.npy, NAME=FILE.npz (its array NAME), FILE.npz (all its arrays), or "
        "generated data NAME=random|zeros|ones[:4x16] (shape default: the profile's opt shape). "
        "NAME is the input's name as written, '=' and spaces included (quote it for the shell). "
        "Repeatable; inputs not given are random at the opt shape, their dynamic dimensions "
        "following the inputs given",
    )
    d.add_argument(
        "--profile",
        type=non_negative_int,
        metavar="K",
        help="optimization profile (default: chosen from the input shapes)",
    )
    d.add_argument(
        "--seed",
        type=non_negative_int,
        default=0,
        help="seed for random inputs, >= 0 (default 0)",
    )
    return inputs


class Subcommands:
    """Adds the commands' parsers to ``trt-exec``'s, each with the common options (--debug,
    -v), the shared epilog and help layout, and its handler (``args.handler``)."""

    def __init__(self, sub: Any, epilog: str) -> None:
        self._sub = sub  # argparse's _SubParsersAction, which it does not name publicly
        self._epilog = epilog
        self._common = _common_options()
        #: --tensorrt and --backend: for commands that load TensorRT.
        self.engine = _engine_options()
        #: --input, --profile and --seed: for commands that run an engine.
        self.inputs = _input_options()

    def add(
        self,
        name: str,
        help: str,
        parents: Sequence[argparse.ArgumentParser],
        handler: Handler,
    ) -> argparse.ArgumentParser:
        """The parser of command ``name``; ``help`` is a phrase ("show an engine's IO...")."""
        parser: argparse.ArgumentParser = self._sub.add_parser(
            name,
            help=help,
            description=help[0].upper() + help[1:] + ".",
            epilog=self._epilog,
            parents=[*parents, self._common],
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        parser.set_defaults(handler=handler)
        return parser
