"""``trt-exec inspect``: what an engine is and how trt_exec will run it, as a dict and as text.

The dict is the ``--json`` output; :data:`INSPECT_SCHEMA` describes it.
"""

from __future__ import annotations

from typing import Any

from ..executor import BaseExecutor

__all__ = [
    "INSPECT_SCHEMA",
    "TENSORRT_SCHEMA",
    "BACKEND_SCHEMA",
    "ENGINE_SCHEMA",
    "engine_report",
    "render_inspect",
    "device_memory",
    "bindings_layout",
    "tensorrt_info",
    "format_bytes",
]

# --- JSON schemas ------------------------------------------------------------------------------
# A schema here is a tiny type description: a dict is an object with exactly those keys, a
# one-element list is an array of that item, a tuple is "any of these", and a type is a leaf.
# ``None`` in a tuple means the value may be JSON null.

TENSORRT_SCHEMA: dict[str, Any] = {
    "module": str,  # "tensorrt", "tensorrt_rtx", ...
    "version": str,  # the module's __version__
    "simulated": bool,  # True for trt_exec.sim's simulated TensorRT
    "selected_by": str,  # "argument" (--tensorrt), "environment" (TRT_EXEC_TENSORRT), "discovery"
}
BACKEND_SCHEMA: dict[str, Any] = {
    "name": str,  # "v2" or "v3"
    "source": str,  # "argument" (--backend), "environment" (TRT_EXEC_BACKEND), "version"
    "reason": str,  # one sentence
}
ENGINE_SCHEMA: dict[str, Any] = {"path": str, "size_bytes": int}
PROFILE_SCHEMA: dict[str, Any] = {"min": [int], "opt": [int], "max": [int]}

#: ``trt-exec inspect --json`` (``"schema": "trt-exec.inspect/1"``).
INSPECT_SCHEMA: dict[str, Any] = {
    "schema": str,  # "trt-exec.inspect/1"
    "engine": ENGINE_SCHEMA,
    "tensorrt": TENSORRT_SCHEMA,
    "backend": BACKEND_SCHEMA,
    "num_profiles": int,
    "io": [
        {
            "name": str,
            "mode": str,  # "input" or "output"
            "dtype": str,  # numpy dtype name, e.g. "float32"
            "shape": [int],  # -1 for a dynamic dimension
            "location": str,  # "device" or "host"
            "shape_tensor": bool,
            "profiles": [PROFILE_SCHEMA],  # one per profile for inputs; [] for outputs
        }
    ],
    "device_memory": {
        "bytes": (int, None),  # the execution context's device memory; null when unknown
        "api": (str, None),  # where the size came from, e.g. "ICudaEngine.device_memory_size_v2"
        "per_profile": ([int], None),  # per optimization profile, when the API has it
    },
    # The V2 (bindings API) layout: IO tensors x profiles. null for the V3 backend.
    "bindings": (
        [{"index": int, "name": str, "tensor": str, "profile": int, "mode": str}],
        None,
    ),
}

INSPECT_SCHEMA_ID = "trt-exec.inspect/1"


def format_bytes(n: int | None) -> str:
    if n is None:
        return "unknown"
    value = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{n} B" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{n} B"  # pragma: no cover


def tensorrt_info(trt: Any, selected_by: str) -> dict[str, Any]:
    from ..discovery import is_simulated, module_flavor, module_version

    return {
        "module": module_flavor(trt),
        "version": module_version(trt),
        "simulated": is_simulated(trt),
        "selected_by": selected_by,
    }


def device_memory(ex: BaseExecutor) -> dict[str, Any]:
    """The context's device memory, from the newest API the release has.

    TensorRT 10.1 added ``device_memory_size_v2`` (and ``..._for_profile_v2``); 11.0 removed the
    original ``device_memory_size``.
    """
    out: dict[str, Any] = {"bytes": None, "api": None, "per_profile": None}
    engine = ex.engine
    for attr in ("device_memory_size_v2", "device_memory_size"):
        try:
            value = getattr(engine, attr)
        except Exception:  # absent in this release, or a binding that raises for this engine
            continue
        if value is not None:
            out["bytes"], out["api"] = int(value), f"ICudaEngine.{attr}"
            break
    if out["bytes"] is None:
        size = getattr(ex, "device_memory_size", None)
        if isinstance(size, int):
            out["bytes"], out["api"] = size, "Executor.device_memory_size"
    for attr in ("get_device_memory_size_for_profile_v2", "get_device_memory_size_for_profile"):
        fn = getattr(engine, attr, None)
        if fn is None:
            continue
        try:
            out["per_profile"] = [int(fn(k)) for k in range(ex.num_profiles)]
        except Exception:
            continue
        break
    return out


def bindings_layout(ex: BaseExecutor) -> list[dict[str, Any]] | None:
    """For the V2 backend: every binding index with TensorRT's name for it and its profile."""
    if ex.backend != "v2" or not hasattr(ex, "binding_index"):
        return None
    engine = ex.engine
    specs = {**ex.inputs, **ex.outputs}
    rows: list[dict[str, Any]] = []
    for k in range(ex.num_profiles):
        for name, spec in specs.items():
            index = int(ex.binding_index(name, k))
            rows.append(
                {
                    "index": index,
                    "name": str(engine.get_binding_name(index)),
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
    """The ``inspect --json`` document (:data:`INSPECT_SCHEMA`)."""
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


def _table(rows: list[list[str]], indent: str = "  ") -> list[str]:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return [indent + "  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows]


def describe_tensorrt(info: dict[str, Any]) -> str:
    by = {
        "argument": "--tensorrt",
        "environment": "TRT_EXEC_TENSORRT",
        "discovery": "first importable module",
    }.get(info["selected_by"], info["selected_by"])
    sim = "  SIMULATED (trt_exec.sim, runs on the CPU)" if info["simulated"] else ""
    return f"{info['module']} {info['version']}{sim}  [chosen by {by}]"


def describe_backend(info: dict[str, Any]) -> str:
    return f"{info['name']}  [{info['source']}: {info['reason']}]"


def render_inspect(report: dict[str, Any]) -> str:
    eng = report["engine"]
    lines = [
        f"engine        {eng['path']} ({format_bytes(eng['size_bytes'])})",
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
        if t["profiles"]:
            row += [f"{p['min']} / {p['opt']} / {p['max']}" for p in t["profiles"]]
        else:
            row += ["-"] * report["num_profiles"]
        rows.append(row)
    lines += _table(rows)
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
        lines += _table(rows)
    return "\n".join(lines)
