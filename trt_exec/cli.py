"""The ``trt-exec`` command line. The core never imports this module."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="trt-exec",
        description="Run TensorRT engines on any TensorRT release (8.x, 10.x, 11.x, RTX).",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser(
        "demo",
        help="build and run a built-in network on the simulated TensorRT (and real TensorRT "
        "where installed with a GPU), checking outputs against numpy",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "demo":
        from .demo import run_demo

        return run_demo()
    return 2


if __name__ == "__main__":
    sys.exit(main())
