"""``trt-exec inspect``: what an engine is and how trt_exec will run it, as a dict and as text.

The dict is the ``--json`` output; :data:`~.schemas.INSPECT_SCHEMA` describes it. Everything
comes from the executor's API: which TensorRT attribute holds a value on which release is the
backends' business, not the command line's.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any, TextIO

from ..backends.v2 import V2Executor
from .exitcodes import EXIT_OK
from .opened import OpenedEngine
from .options import Subcommands
from .render import (
    describe_backend,
    describe_tensorrt,
    format_bytes,
    print_json,
    printable,
    table,
)
from .schemas import INSPECT_SCHEMA_ID

if TYPE_CHECKING:
    from ..executor import BaseExecutor

__all__ = [
    "add_parser",
    "command",
    "engine_report",
    "render_inspect",
    "device_memory",
    "bindings_layout",
]


def add_parser(commands: Subcommands) -> None:
    p = commands.add(
        "inspect",
        "show an engine's IO, profiles, device memory and the backend chosen",
        [commands.engine],
        command,
    )
    p.add_argument("engine", metavar="ENGINE", help="serialized engine file")
    p.add_argument("--json", action="store_true", help="print JSON (schema trt-exec.inspect/1)")


def command(args: argparse.Namespace, out: TextIO) -> int:
    opened = OpenedEngine(args.engine, args.tensorrt, args.backend)
    with opened.ex:
        report = engine_report(opened.ex, opened.engine_info(), opened.tensorrt, opened.backend)
    if args.json:
        print_json(report, out)
    else:
        print(render_inspect(report), file=out)
    return EXIT_OK


def device_memory(ex: BaseExecutor) -> dict[str, Any]:
    """The execution context's device memory, as the executor read it when it opened."""
    layout = ex.layout
    per_profile = layout.device_memory_per_profile
    return {
        "bytes": layout.device_memory_size,
        "api": layout.device_memory_api,
        "per_profile": None if per_profile is None else list(per_profile),
    }


def bindings_layout(ex: BaseExecutor) -> list[dict[str, Any]] | None:
    """For the V2 backend: every binding index with TensorRT's name for it and its profile; None
    for V3, which has no bindings. Names in profile k > 0 carry the suffix ``" [profile k]"``."""
    if not isinstance(ex, V2Executor):
        return None
    specs = {**ex.inputs, **ex.outputs}
    rows: list[dict[str, Any]] = []
    for k in range(ex.num_profiles):
        suffix = f" [profile {k}]" if k else ""
        for name, spec in specs.items():
            rows.append(
                {
                    "index": ex.binding_index(name, k),
                    "name": name + suffix,
                    "tensor": name,
                    "profile": k,
                    "mode": "input" if spec.is_input else "output",
                }
            )
    rows.sort(key=lambda r: r["index"])
    return rows


def engine_report(
    ex: BaseExecutor, engine: dict[str, Any], tensorrt: dict[str, Any], backend: dict[str, Any]
) -> dict[str, Any]:
    """The ``inspect --json`` document (:data:`~.schemas.INSPECT_SCHEMA`)."""
    io = []
    for spec in list(ex.inputs.values()) + list(ex.outputs.values()):
        io.append(
            {
                "name": spec.name,
                "mode": "input" if spec.is_input else "output",
                "dtype": spec.dtype.name,
                "shape": list(spec.shape),
                "location": spec.location,
                "shape_tensor": bool(spec.is_shape_tensor),
                "profiles": [
                    {"min": list(p.min), "opt": list(p.opt), "max": list(p.max)}
                    for p in spec.profile_shapes
                ],
                "profile_values": None
                if spec.profile_values is None
                else [
                    {"min": list(p.min), "opt": list(p.opt), "max": list(p.max)}
                    for p in spec.profile_values
                ],
            }
        )
    return {
        "schema": INSPECT_SCHEMA_ID,
        "engine": engine,
        "tensorrt": tensorrt,
        "backend": backend,
        "num_profiles": ex.num_profiles,
        "io": io,
        "device_memory": device_memory(ex),
        "bindings": bindings_layout(ex),
    }


def render_inspect(report: dict[str, Any]) -> str:
    """The text output of ``inspect``, from :func:`engine_report`'s document."""
    eng = report["engine"]
    lines = [
        f"engine        {printable(eng['path'])} ({format_bytes(eng['size_bytes'])})",
        f"TensorRT      {describe_tensorrt(report['tensorrt'])}",
        f"backend       {describe_backend(report['backend'])}",
        f"profiles      {report['num_profiles']}",
    ]
    mem = report["device_memory"]
    text = format_bytes(mem["bytes"])
    if mem["api"]:
        text += f"  [{mem['api']}]"
    if mem["per_profile"]:
        text += "  per profile: " + ", ".join(format_bytes(b) for b in mem["per_profile"])
    lines.append(f"device memory {text}")
    lines.append("")
    lines.append("IO tensors")
    header = ["name", "io", "dtype", "shape", "location"] + [
        f"profile {k} min / opt / max" for k in range(report["num_profiles"])
    ]
    rows = [header]
    for t in report["io"]:
        row = [
            t["name"],
            "in" if t["mode"] == "input" else "out",
            t["dtype"],
            str(t["shape"]),
            t["location"] + (" (shape tensor)" if t["shape_tensor"] else ""),
        ]
        if t.get("profile_values"):  # a shape tensor: its profiles bound its values
            row += [f"values {p['min']} / {p['opt']} / {p['max']}" for p in t["profile_values"]]
        elif t["profiles"]:
            row += [f"{p['min']} / {p['opt']} / {p['max']}" for p in t["profiles"]]
        else:
            row += ["-"] * report["num_profiles"]
        rows.append(row)
    lines += table(rows)
    if report["bindings"] is not None:
        n_io = len(report["io"])
        lines.append("")
        lines.append(
            f"bindings (V2 layout: {len(report['bindings'])} = {n_io} IO tensors x "
            f"{report['num_profiles']} profiles; index = profile x {n_io} + i)"
        )
        rows = [["index", "binding name", "profile", "io"]]
        for b in report["bindings"]:
            rows.append(
                [
                    str(b["index"]),
                    b["name"],
                    str(b["profile"]),
                    "in" if b["mode"] == "input" else "out",
                ]
            )
        lines += table(rows)
    return "\n".join(lines)
