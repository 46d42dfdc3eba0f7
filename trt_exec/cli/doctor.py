"""``trt-exec doctor``: what is installed, what trt_exec would choose, and what is wrong.

:func:`gather` reads the machine (imports, CUDA queries); :func:`diagnose` is a pure function of
those facts that returns findings, each with what to do. Exit status 1 when any finding is a
problem. The ``--json`` output is :data:`~.schemas.DOCTOR_SCHEMA`.
"""

from __future__ import annotations

# importlib.metadata and platform are imported where used: every command builds this module's
# parser, and they would add ~20 ms to each start.
import argparse
import os
import sys
from typing import Any, TextIO

from ..discovery import (
    ENV_TENSORRT,
    FLAVORS,
    find_tensorrt,
    is_simulated,
    module_flavor,
    module_version,
)
from ..errors import TrtExecError
from ..selection import explain_backend
from .exitcodes import EXIT_FAILED, EXIT_OK
from .options import Subcommands
from .render import print_json
from .schemas import DOCTOR_SCHEMA_ID

__all__ = ["add_parser", "command", "gather", "diagnose", "render_doctor"]


def add_parser(commands: Subcommands) -> None:
    p = commands.add(
        "doctor",
        "check the installation: Python packages, TensorRT flavours, the backend, "
        "CUDA driver and GPUs, known incompatibilities",
        [commands.engine],
        command,
    )
    p.add_argument("--json", action="store_true", help="print JSON (schema trt-exec.doctor/1)")


def command(args: argparse.Namespace, out: TextIO) -> int:
    facts = gather(args.tensorrt, args.backend)
    if args.json:
        print_json(facts, out)
    else:
        print(render_doctor(facts), file=out)
    return EXIT_FAILED if any(f["level"] == "problem" for f in facts["findings"]) else EXIT_OK


_PACKAGES = (
    "trt-exec",
    "numpy",
    "packaging",
    "cuda-python",
    "cuda-bindings",
    "cuda-core",
    "matplotlib",
)
# Compute capabilities TensorRT-RTX 1.x refuses ("TensorRT-RTX does not support this compute
# capability"), observed on an H100 and an H200 with tensorrt-rtx-cu13 1.7.1 (TensorRT-RTX
# support matrix). It supports 8.0, 8.6, 8.9 and 12.x.
RTX_UNSUPPORTED_CC = ("9.0",)


def _version(dist: str) -> str | None:
    import importlib.metadata as md

    try:
        return md.version(dist)
    except md.PackageNotFoundError:
        return None


def _cuda_version(v: int) -> str:
    return f"{v // 1000}.{(v % 1000) // 10}"


def _gather_cuda() -> dict[str, Any]:
    out: dict[str, Any] = {
        "driver_version": None,
        "runtime_version": None,
        "error": None,
        "devices": [],
    }
    try:
        from cuda.bindings import runtime as cudart
    except Exception as exc:
        out["error"] = f"cuda-python is not installed ({type(exc).__name__}: {exc})"
        return out
    try:
        err, v = cudart.cudaRuntimeGetVersion()
        if int(err) == 0:
            out["runtime_version"] = _cuda_version(int(v))
        err, v = cudart.cudaDriverGetVersion()
        if int(err) == 0 and int(v) > 0:
            out["driver_version"] = _cuda_version(int(v))
        err, count = cudart.cudaGetDeviceCount()
        if int(err) != 0:
            name = getattr(err, "name", str(err))
            out["error"] = f"cudaGetDeviceCount failed: {name}"
            return out
        for i in range(int(count)):
            err, prop = cudart.cudaGetDeviceProperties(i)
            if int(err) != 0:
                continue
            name = (
                prop.name.decode(errors="replace")
                if isinstance(prop.name, bytes)
                else str(prop.name)
            )
            out["devices"].append(
                {
                    "index": i,
                    "name": name.rstrip("\x00"),
                    "compute_capability": f"{prop.major}.{prop.minor}",
                }
            )
    except Exception as exc:
        out["error"] = f"{type(exc).__name__}: {exc}"
    return out


def _gather_flavors() -> list[dict[str, Any]]:
    import importlib
    import importlib.metadata as md
    import importlib.util

    try:
        dists = md.packages_distributions()
    except Exception:
        dists = {}
    rows = []
    for name in FLAVORS:
        names = sorted(set(dists.get(name, [])))
        row: dict[str, Any] = {
            "module": name,
            "installed": importlib.util.find_spec(name) is not None,
            "distributions": [f"{d} {_version(d) or '?'}" for d in names],
            "version": None,
            "error": None,
        }
        if row["installed"]:
            try:
                mod = importlib.import_module(name)
                row["version"] = str(getattr(mod, "__version__", "?"))
            except Exception as exc:  # ImportError, or OSError from a missing libnvinfer
                row["error"] = f"{type(exc).__name__}: {exc}"
        rows.append(row)
    return rows


def _gather_selected(tensorrt: str | None, backend: str | None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "module": None,
        "version": None,
        "simulated": False,
        "selected_by": None,
        "backend": None,
        "backend_source": None,
        "reason": None,
        "error": None,
    }
    try:
        trt = find_tensorrt(tensorrt)
        out["module"], out["version"] = module_flavor(trt), module_version(trt)
        out["simulated"] = is_simulated(trt)
        out["selected_by"] = (
            "argument"
            if tensorrt
            else "environment"
            if os.environ.get(ENV_TENSORRT, "").strip()
            else "discovery"
        )
        choice = explain_backend(out["version"], backend, flavor=out["module"])
        out["backend"], out["backend_source"], out["reason"] = (
            choice.backend,
            choice.source,
            choice.reason,
        )
    except TrtExecError as exc:
        out["error"] = exc.message
    return out


def gather(tensorrt: str | None = None, backend: str | None = None) -> dict[str, Any]:
    """The ``doctor --json`` document (:data:`~.schemas.DOCTOR_SCHEMA`), findings included."""
    import platform

    facts: dict[str, Any] = {
        "schema": DOCTOR_SCHEMA_ID,
        "python": {
            "version": platform.python_version(),
            "executable": sys.executable,
            "platform": platform.platform(),
        },
        "packages": {p: _version(p) for p in _PACKAGES},
        "environment": {k: os.environ.get(k) for k in ("TRT_EXEC_TENSORRT", "TRT_EXEC_BACKEND")},
        "tensorrt": _gather_flavors(),
        "selected": _gather_selected(tensorrt, backend),
        "cuda": _gather_cuda(),
    }
    facts["findings"] = diagnose(facts)
    return facts


def _finding(level: str, what: str, fix: str | None = None) -> dict[str, Any]:
    return {"level": level, "what": what, "fix": fix}


def diagnose(facts: dict[str, Any]) -> list[dict[str, Any]]:
    """Findings from gathered facts; pure, so every rule can be tested with made-up facts."""
    found: list[dict[str, Any]] = []
    sel = facts["selected"]
    cuda = facts["cuda"]
    flavors = facts["tensorrt"]
    real = sel["module"] is not None and not sel["simulated"]

    for row in flavors:
        if row["installed"] and row["error"]:
            found.append(
                _finding(
                    "problem",
                    f"{row['module']} is installed but does not import: {row['error']}",
                    "its native libraries (libnvinfer) are probably missing: reinstall the full "
                    "package (`pip install --force-reinstall tensorrt`), not only the bindings, "
                    "or put TensorRT's lib directory on LD_LIBRARY_PATH",
                )
            )
    importable = [r["module"] for r in flavors if r["installed"] and not r["error"]]
    if len(importable) > 1 and sel["selected_by"] == "discovery":
        found.append(
            _finding(
                "note",
                f"several TensorRT flavours import ({', '.join(importable)}); discovery "
                f"takes {importable[0]}",
                "set TRT_EXEC_TENSORRT to the one you want",
            )
        )

    if sel["error"]:
        found.append(_finding("problem", sel["error"], None))
    elif sel["simulated"]:
        found.append(
            _finding(
                "note",
                f"the SIMULATED TensorRT {sel['version']} is selected (by {sel['selected_by']});"
                " results do not come from real TensorRT",
                "unset TRT_EXEC_TENSORRT and drop --tensorrt to use the installed TensorRT",
            )
        )
        found.append(
            _finding("ok", f"backend {sel['backend']} ({sel['backend_source']}: {sel['reason']})")
        )
    else:
        found.append(
            _finding(
                "ok", f"{sel['module']} {sel['version']} will be used (by {sel['selected_by']})"
            )
        )
        found.append(
            _finding("ok", f"backend {sel['backend']} ({sel['backend_source']}: {sel['reason']})")
        )

    needs_gpu = "problem" if real else "note"
    if (
        facts["packages"].get("cuda-bindings") is None
        and facts["packages"].get("cuda-python") is None
    ):
        found.append(
            _finding(
                needs_gpu,
                "cuda-python is not installed; real engines cannot run",
                "pip install cuda-python",
            )
        )
    elif cuda["error"] or not cuda["devices"]:
        why = cuda["error"] or "no CUDA GPU is visible"
        if cuda["driver_version"] is None:
            why += " (no CUDA driver found)"
        found.append(
            _finding(
                needs_gpu,
                f"no usable CUDA GPU: {why}",
                "install the NVIDIA driver and check `nvidia-smi` and CUDA_VISIBLE_DEVICES"
                + ("" if real else "; the simulator's CPU mode does not need a GPU"),
            )
        )
    else:
        for dev in cuda["devices"]:
            found.append(
                _finding(
                    "ok",
                    f"GPU {dev['index']}: {dev['name']}, compute capability "
                    f"{dev['compute_capability']}",
                )
            )

    # A problem only when the real TensorRT-RTX would run here; the simulator's CPU mode is
    # unaffected, and an installed-but-unselected RTX deserves a note.
    rtx_in_use = sel["module"] == "tensorrt_rtx" or "tensorrt_rtx" in importable
    if rtx_in_use:
        for dev in cuda["devices"]:
            if dev["compute_capability"] in RTX_UNSUPPORTED_CC:
                found.append(
                    _finding(
                        "problem" if sel["module"] == "tensorrt_rtx" and real else "note",
                        f"TensorRT-RTX does not support GPU {dev['index']} ({dev['name']}, compute "
                        f"capability {dev['compute_capability']}): engines will not deserialize",
                        "use TensorRT (`pip install tensorrt`) on this GPU, or run TensorRT-RTX "
                        "on a GPU of compute capability 8.0, 8.6, 8.9 or 12.x",
                    )
                )

    driver = cuda["driver_version"]
    if driver is not None:
        major = int(driver.split(".")[0])
        # cuda-python's major is the CUDA major it binds; its runtime needs a driver of at least
        # that major (CUDA minor version compatibility holds within a major only: CUDA
        # Compatibility guide, "Minor Version Compatibility"). `pip install cuda-python` picks
        # the newest major whatever the driver, hence the cu12 / cu13 extras.
        packages = facts["packages"]
        bindings = packages.get("cuda-bindings") or packages.get("cuda-python")
        if bindings:
            need = int(str(bindings).split(".")[0])
            if major < need:
                found.append(
                    _finding(
                        "problem",
                        f"cuda-python {bindings} binds CUDA {need}, but the NVIDIA driver only "
                        f"supports CUDA {driver}",
                        f"install the matching bindings: pip install 'trt-exec[cu{major}]' "
                        f"(cuda-python {major}.x), or upgrade the NVIDIA driver to one for "
                        f"CUDA {need}",
                    )
                )
        for row in flavors:
            for dist in row["distributions"]:
                for cu in ("cu12", "cu13"):
                    if f"-{cu}" in dist and major < int(cu[2:]):
                        found.append(
                            _finding(
                                "problem",
                                f"{dist} needs a CUDA {cu[2:]} driver, but the driver "
                                f"supports CUDA {driver}",
                                f"upgrade the NVIDIA driver, or install the cu{major} build",
                            )
                        )
    return found


def render_doctor(facts: dict[str, Any]) -> str:
    """The text output of ``doctor``, from :func:`gather`'s document."""
    lines = [f"python        {facts['python']['version']}  ({facts['python']['executable']})"]
    packages = facts["packages"]
    for name, version in packages.items():
        if version is None and name == "cuda-python" and packages.get("cuda-bindings"):
            version = "not installed (cuda-bindings below provides its modules)"
        lines.append(f"{name:<13} {version or 'not installed'}")
    for k, v in facts["environment"].items():
        if v is not None:
            lines.append(f"{k:<13} {v!r}")
    lines.append("")
    lines.append("TensorRT flavours")
    for row in facts["tensorrt"]:
        if not row["installed"]:
            state = "not installed"
        elif row["error"]:
            state = f"installed, does not import: {row['error']}"
        else:
            state = f"{row['version']}"
        dists = f"  [{', '.join(row['distributions'])}]" if row["distributions"] else ""
        lines.append(f"  {row['module']:<18} {state}{dists}")
    sel = facts["selected"]
    if sel["module"]:
        sim = "  SIMULATED" if sel["simulated"] else ""
        lines.append(
            f"  selected: {sel['module']} {sel['version']}{sim} by {sel['selected_by']}; "
            f"backend {sel['backend']} ({sel['reason']})"
        )
    cuda = facts["cuda"]
    lines.append("")
    lines.append(f"CUDA driver   {cuda['driver_version'] or 'none'}")
    lines.append(f"CUDA runtime  {cuda['runtime_version'] or 'unknown'}")
    for dev in cuda["devices"]:
        lines.append(
            f"  GPU {dev['index']}: {dev['name']} (compute capability {dev['compute_capability']})"
        )
    lines.append("")
    lines.append("findings")
    marks = {"ok": "ok     ", "note": "note   ", "problem": "PROBLEM"}
    for f in facts["findings"]:
        lines.append(f"  {marks.get(f['level'], f['level'])} {f['what']}")
        if f["fix"]:
            lines.append(f"          -> {f['fix']}")
    problems = sum(f["level"] == "problem" for f in facts["findings"])
    lines.append("")
    lines.append("doctor: no problems found" if not problems else f"doctor: {problems} problem(s)")
    return "\n".join(lines)
