"""The README runs as written: every shell block, top to bottom, in one empty directory.

``trt-exec``, ``python`` and ``python3`` point at this checkout and this interpreter;
``TRT_EXEC_*`` variables are cleared; each block has a time limit. A Python block preceded by
``<!-- file: NAME -->`` is written to NAME first (the README's example test). A block preceded
by ``<!-- not run: reason -->`` is skipped, visibly, with its reason (README, Contributing).
"""

from __future__ import annotations

import importlib.util
import os
import re
import stat
import subprocess
import sys
from pathlib import Path
from typing import NamedTuple

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
SHELLS = {"sh", "bash", "shell", "console"}
BLOCK_TIMEOUT_S = 300

_FENCE = re.compile(r"^```([\w-]*)[^\n]*\n(.*?)^```[ \t]*$", re.M | re.S)
_MARKER = re.compile(r"<!--\s*(not run|file)\s*:?\s*(.*?)\s*-->\s*$", re.S)


class Block(NamedTuple):
    line: int  # 1-based line of the opening fence
    lang: str
    body: str
    marker: str | None  # "not run" or "file"
    argument: str  # the reason, or the file name


def blocks(text: str) -> list[Block]:
    """Every fenced block with the marker comment right above it (blank lines allowed)."""
    out = []
    for m in _FENCE.finditer(text):
        before = text[: m.start()].rstrip()
        last = before.rsplit("\n", 1)[-1]
        marker = _MARKER.search(last) if last.lstrip().startswith("<!--") else None
        out.append(
            Block(
                line=text.count("\n", 0, m.start()) + 1,
                lang=m.group(1).lower(),
                body=m.group(2),
                marker=marker.group(1) if marker else None,
                argument=marker.group(2) if marker else "",
            )
        )
    return out


ALL = blocks(README.read_text())


def _shims(bin_dir: Path) -> None:
    """``trt-exec``, ``python`` and ``python3`` running this checkout with this interpreter."""
    bin_dir.mkdir()
    for name, command in (
        ("trt-exec", f'exec "{sys.executable}" -m trt_exec "$@"'),
        ("python", f'exec "{sys.executable}" "$@"'),
        ("python3", f'exec "{sys.executable}" "$@"'),
    ):
        path = bin_dir / name
        path.write_text(f"#!/bin/sh\n{command}\n")
        path.chmod(path.stat().st_mode | stat.S_IXUSR)


def test_the_readme_has_the_blocks_this_test_runs():
    """Not vacuous: the command-line walkthrough and the example test are among them."""
    runnable = [b for b in ALL if b.lang in SHELLS and b.marker != "not run"]
    assert any("trt-exec demo --save-engine demo.engine" in b.body for b in runnable)
    assert any("--compare ref.npz" in b.body for b in runnable)
    assert any(b.marker == "file" and b.argument == "test_app.py" for b in ALL)


def test_every_opt_out_gives_its_reason():
    for b in ALL:
        if b.marker == "not run":
            assert len(b.argument) >= 10, f"README.md:{b.line}: <!-- not run --> without a reason"
        if b.marker == "file":
            assert re.fullmatch(r"[\w.-]+", b.argument), f"README.md:{b.line}: bad file name"


def test_marker_parsing():
    text = (
        "<!-- not run: needs a GPU -->\n```sh\nnvidia-smi\n```\n\n"
        "```bash\necho hi\n```\n<!-- file: t.py -->\n\n```python\nx = 1\n```\n"
    )
    got = [(b.lang, b.marker, b.argument, b.body) for b in blocks(text)]
    assert got == [
        ("sh", "not run", "needs a GPU", "nvidia-smi\n"),
        ("bash", None, "", "echo hi\n"),
        ("python", "file", "t.py", "x = 1\n"),
    ]


def test_readme_runs_top_to_bottom(tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    bin_dir = tmp_path / "bin"
    _shims(bin_dir)
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRT_EXEC_")}
    env["PATH"] = f"{bin_dir}{os.pathsep}{env.get('PATH', '')}"
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
    env.pop("COLUMNS", None)
    ran = 0
    for b in ALL:
        if b.marker == "file":
            (work / b.argument).write_text(b.body)
            continue
        if b.lang not in SHELLS or b.marker == "not run":
            continue
        if "--plot" in b.body and importlib.util.find_spec("matplotlib") is None:
            pytest.skip(f"README.md:{b.line} uses --plot; pip install 'trt-exec[plot]'")
        script = "\n".join(
            line[2:] if b.lang == "console" and line.startswith("$ ") else line
            for line in b.body.splitlines()
            if b.lang != "console" or line.startswith("$ ")
        )
        proc = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", script],
            cwd=work,
            env=env,
            capture_output=True,
            text=True,
            timeout=BLOCK_TIMEOUT_S,
        )
        assert proc.returncode == 0, (
            f"README.md:{b.line}: block exited {proc.returncode}\n{script}\n"
            f"--- stdout (tail)\n{proc.stdout[-3000:]}\n--- stderr (tail)\n{proc.stderr[-3000:]}"
        )
        ran += 1
    assert ran >= 2


def test_no_block_that_installs_packages_is_run():
    """Running `pip install` here would change the environment the suite runs in (it once
    installed Ray into the interpreter `pip` belongs to): such blocks must be marked not run."""
    installing = [
        b.line
        for b in ALL
        if b.lang in SHELLS and b.marker != "not run" and re.search(r"\bpip3? install\b", b.body)
    ]
    assert not installing, f"README.md lines {installing}: mark them <!-- not run: reason -->"
