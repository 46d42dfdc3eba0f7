"""The command line's layout: the library never imports it, its modules import each other without
a cycle (function-level imports included), and its shared helpers."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import trt_exec
from trt_exec.cli.main import build_parser
from trt_exec.cli.render import format_bytes

from .helpers import clean_env

PACKAGE = Path(trt_exec.__file__).resolve().parent
CLI = PACKAGE / "cli"


def _imported_modules(path: Path, package: str) -> set[str]:
    """Absolute names of the modules ``path`` imports anywhere in it, functions included."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            found.add(module)
            # `from . import bench` imports the module trt_exec.cli.bench
            found.update(f"{module}.{alias.name}" for alias in node.names)
    return found


def test_importing_trt_exec_does_not_import_the_cli():
    code = "import sys, trt_exec; print([m for m in sys.modules if m.startswith('trt_exec.cli')])"
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=clean_env()
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"


def test_no_library_module_imports_the_cli():
    for path in PACKAGE.rglob("*.py"):
        if CLI in path.parents or path.name == "__main__.py":
            continue
        package = ".".join(path.parent.relative_to(PACKAGE.parent).parts)
        imported = _imported_modules(path, package)
        assert not any(m == "trt_exec.cli" or m.startswith("trt_exec.cli.") for m in imported), path


def test_cli_modules_import_each_other_without_a_cycle():
    names = {p.stem for p in CLI.glob("*.py")}
    graph = {}
    for name in names:
        imported = _imported_modules(CLI / f"{name}.py", "trt_exec.cli")
        graph[name] = {
            m.removeprefix("trt_exec.cli.")
            for m in imported
            if m.removeprefix("trt_exec.cli.") in names and m.startswith("trt_exec.cli.")
        }
    assert graph["main"] >= {"inspect", "run", "bench", "doctor", "demo"}
    done: set[str] = set()

    def visit(name: str, path: tuple[str, ...]) -> None:
        assert name not in path, f"import cycle: {' -> '.join((*path, name))}"
        if name in done:
            return
        for dep in sorted(graph[name]):
            visit(dep, (*path, name))
        done.add(name)

    for name in sorted(names - {"__init__"}):
        visit(name, ())


def test_every_command_is_dispatched_to_its_module():
    from trt_exec.cli import bench, demo, doctor, inspect, run

    parser = build_parser()
    for argv, module in (
        (["inspect", "e"], inspect),
        (["run", "e"], run),
        (["bench", "e"], bench),
        (["doctor"], doctor),
        (["demo"], demo),
    ):
        assert parser.parse_args(argv).handler is module.command, argv


@pytest.mark.parametrize(
    ("n", "text"),
    [
        (None, "unknown"),
        (0, "0 B"),
        (1023, "1023 B"),
        (1024, "1.0 KiB"),
        (1536, "1.5 KiB"),
        (1024**2 - 1, "1024.0 KiB"),
        (1024**2, "1.0 MiB"),
        (1024**3, "1.0 GiB"),
        (5 * 1024**4, "5120.0 GiB"),
    ],
)
def test_format_bytes(n, text):
    assert format_bytes(n) == text
