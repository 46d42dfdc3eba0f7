"""The layout's rules, checked on the source: layers import only downwards, with no cycles,
function-level imports included (docs/ARCHITECTURE.md)."""

from __future__ import annotations

import ast
import pathlib

import pytest

PKG = pathlib.Path(__file__).resolve().parents[1] / "trt_exec"

# Lowest first. A module may import modules of its own layer or below, never above; within a
# layer the import graph must still be acyclic. Prefixes match a module and its submodules.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("trt_exec.errors", "trt_exec._version", "trt_exec._callsite"),
    ("trt_exec._dtypes", "trt_exec._trtlog", "trt_exec.spec", "trt_exec.selection"),
    ("trt_exec._fork", "trt_exec._gate"),
    ("trt_exec.cuda.driver",),
    ("trt_exec.sim",),  # the simulated TensorRT: below everything that may load it
    ("trt_exec.discovery",),
    ("trt_exec.arrays", "trt_exec._tokens"),
    ("trt_exec.results", "trt_exec.cuda.graphs", "trt_exec.cuda.pinned"),
    ("trt_exec.cuda.resources",),
    ("trt_exec.cuda.steady",),
    ("trt_exec.cuda.datapath",),
    ("trt_exec.datapath",),
    ("trt_exec._arguments", "trt_exec._context_state", "trt_exec._outputs", "trt_exec._resources"),
    ("trt_exec.backends.base",),
    ("trt_exec.bound", "trt_exec.protocol"),
    ("trt_exec._lane",),
    ("trt_exec.executor",),
    ("trt_exec.backends.v2", "trt_exec.backends.v3"),
    ("trt_exec.loading",),
    ("trt_exec.pool", "trt_exec.aio", "trt_exec.serving"),
    ("trt_exec.testing",),
    ("trt_exec.cli", "trt_exec.serve"),
    # the package, its entry point, subpackage __init__s, and aliases of moved modules
    (
        "trt_exec",
        "trt_exec.__main__",
        "trt_exec.backends",
        "trt_exec.cuda",
        "trt_exec.v2",
        "trt_exec.v3",
    ),
)


def _module_name(path: pathlib.Path) -> str:
    rel = path.relative_to(PKG.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(path: pathlib.Path) -> set[str]:
    """Every trt_exec module ``path`` imports at run time (function level included)."""
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child):
                for sub in child.orelse:
                    visit(sub)
                continue
            if isinstance(child, ast.Import):
                found.update(a.name for a in child.names if a.name.startswith("trt_exec"))
            elif isinstance(child, ast.ImportFrom):
                if child.level:
                    base = package.split(".")
                    base = base[: len(base) - (child.level - 1)]
                    target = ".".join(base + ([child.module] if child.module else []))
                else:
                    target = child.module or ""
                if target.startswith("trt_exec"):
                    # `from . import errors` imports the submodule trt_exec.errors.
                    for alias in child.names:
                        sub = f"{target}.{alias.name}"
                        found.add(sub if _exists(sub) else target)
            visit(child)

    visit(ast.parse(path.read_text(), str(path)))
    found.discard(name)
    return found


def _exists(module: str) -> bool:
    rel = pathlib.Path(*module.split(".")[1:])
    return (PKG / rel).with_suffix(".py").exists() or (PKG / rel / "__init__.py").exists()


def _layer(module: str) -> int:
    best, best_len = -1, -1
    for i, prefixes in enumerate(LAYERS):
        for prefix in prefixes:
            if (module == prefix or module.startswith(prefix + ".")) and len(prefix) > best_len:
                best, best_len = i, len(prefix)
    assert best >= 0, f"{module} is in no layer of LAYERS; add it"
    return best


GRAPH = {
    _module_name(p): _imports(p) for p in sorted(PKG.rglob("*.py")) if "__pycache__" not in p.parts
}


@pytest.mark.parametrize("module", sorted(GRAPH))
def test_imports_go_downwards(module: str) -> None:
    mine = _layer(module)
    upward = sorted(t for t in GRAPH[module] if _layer(t) > mine)
    assert not upward, f"{module} (layer {mine}) imports upwards: {upward}"


def test_no_import_cycles() -> None:
    # Package __init__ modules re-export their children; the edge child -> parent package that
    # Python adds implicitly is not an import written in the source, so it is not in GRAPH.
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(m: str) -> None:
        state[m] = 1
        stack.append(m)
        for t in sorted(GRAPH.get(m, ())):
            if state.get(t) == 1:
                cycle = stack[stack.index(t) :] + [t]
                raise AssertionError("import cycle: " + " -> ".join(cycle))
            if t in GRAPH and not state.get(t):
                visit(t)
        stack.pop()
        state[m] = 2

    for m in sorted(GRAPH):
        if not state.get(m):
            visit(m)


def test_the_library_never_imports_testing_or_the_cli() -> None:
    library = [
        m
        for m in GRAPH
        if m != "trt_exec"
        and not m.startswith(("trt_exec.testing", "trt_exec.cli", "trt_exec.serve"))
        and m != "trt_exec.__main__"
    ]
    offenders = {
        m: sorted(t for t in GRAPH[m] if t.startswith(("trt_exec.testing", "trt_exec.cli")))
        for m in library
    }
    assert not {m: t for m, t in offenders.items() if t}


def test_the_rules_see_function_level_imports() -> None:
    """Not vacuous: discovery imports the simulator inside a function."""
    assert "trt_exec.sim" in GRAPH["trt_exec.discovery"]
    assert "trt_exec.cuda.datapath" in GRAPH["trt_exec.datapath"]


def test_no_hand_written_module_is_over_600_lines() -> None:
    generated = {"trt_exec.sim._enum_data"}
    long = {
        m: n
        for p in PKG.rglob("*.py")
        if (m := _module_name(p)) not in generated and (n := len(p.read_text().splitlines())) > 650
    }
    assert not long, long
