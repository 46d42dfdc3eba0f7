"""Text and JSON output shared by the commands: tables, byte sizes, the TensorRT and backend
descriptions, and JSON printing."""

from __future__ import annotations

import json
import math
import re
from typing import Any, TextIO

from .schemas import NON_FINITE

__all__ = [
    "printable",
    "table",
    "format_bytes",
    "describe_tensorrt",
    "describe_backend",
    "print_json",
    "in_flags",
]

# The library's messages name Python arguments; on the command line they are flags.
_FLAG_WORDING = (
    (re.compile(r"\bbackend='(\w+)'"), r"--backend \1"),
    (re.compile(r"\bbackend argument\b"), "--backend"),
    (
        re.compile(r"profile=None, and set_profile\(None\) if it was fixed with set_profile\(\)"),
        "leave out --profile",
    ),
    (re.compile(r"\bPass a profile that admits it"), "Pass a --profile that admits it"),
    (re.compile(r"\bprofile=(-?[\w.']+) is\b"), r"--profile \1 is"),
    (re.compile(r"\bTRT_EXEC_TENSORRT/tensorrt="), "--tensorrt/TRT_EXEC_TENSORRT="),
)


def in_flags(message: str) -> str:
    """A library message with its Python arguments spelled as this command line's flags
    (``backend='v3'`` -> ``--backend v3``, ``profile=None`` -> ``leave out --profile``)."""
    for pattern, replacement in _FLAG_WORDING:
        message = pattern.sub(replacement, message)
    return message


def printable(text: str) -> str:
    """``text`` with every non-printable character escaped (``\\x1b``, ``\\n``, ...): tensor
    names and paths come from files a user did not write, and must not drive the terminal."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def table(rows: list[list[str]], indent: str = "  ") -> list[str]:
    """Lines of left-aligned columns, two spaces apart, trailing blanks stripped; cells are
    :func:`printable`."""
    rows = [[printable(c) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return [indent + "  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows]


def format_bytes(n: int | None) -> str:
    """``768`` -> ``"768 B"``, ``1536`` -> ``"1.5 KiB"``, up to GiB; None -> ``"unknown"``."""
    if n is None:
        return "unknown"
    if n < 1024:
        return f"{n} B"
    value = n / 1024
    for unit in ("KiB", "MiB"):
        if value < 1024:
            return f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GiB"


def describe_tensorrt(info: dict[str, Any]) -> str:
    """One line from a ``tensorrt`` object of the JSON schemas: module, version, how chosen."""
    by = {
        "argument": "--tensorrt",
        "environment": "TRT_EXEC_TENSORRT",
        "discovery": "first importable module",
    }.get(info["selected_by"], info["selected_by"])
    sim = "  SIMULATED (trt_exec.sim, runs on the CPU)" if info["simulated"] else ""
    return f"{info['module']} {info['version']}{sim}  [chosen by {by}]"


def describe_backend(info: dict[str, Any]) -> str:
    """One line from a ``backend`` object of the JSON schemas: name, source and reason."""
    return f"{info['name']}  [{info['source']}: {in_flags(info['reason'])}]"


def _strict(obj: Any) -> Any:
    if isinstance(obj, float) and not math.isfinite(obj):
        return NON_FINITE[repr(obj)]
    if isinstance(obj, dict):
        return {k: _strict(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_strict(v) for v in obj]
    return obj


def print_json(obj: Any, out: TextIO) -> None:
    """Strict JSON: non-finite floats become the strings of :data:`~.schemas.NON_FINITE`."""
    json.dump(_strict(obj), out, indent=2, allow_nan=False)
    out.write("\n")
