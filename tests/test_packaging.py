"""Packaging (issue 14): the license as an SPDX expression with its file, metadata a package
index shows, the cu12 / cu13 extras, and an sdist that carries the tests and their data."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]
tomllib = pytest.importorskip("tomllib", reason="tomllib is in the standard library from 3.11")


def _project() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def test_license_is_an_spdx_string_with_its_file():
    project = _project()
    assert project["license"] == "Apache-2.0"  # the table form is deprecated (PEP 639)
    assert project["license-files"] == ["LICENSE"]
    text = (ROOT / "LICENSE").read_text()
    assert "Apache License" in text and "Version 2.0, January 2004" in text


def test_index_metadata():
    project = _project()
    assert {"Homepage", "Source", "Issues"} <= set(project["urls"])
    assert "tensorrt" in project["keywords"]
    classifiers = project["classifiers"]
    assert "Typing :: Typed" in classifiers
    assert not any(c.startswith("License ::") for c in classifiers)  # PEP 639: not with SPDX


@pytest.mark.parametrize(("extra", "major"), [("cu12", 12), ("cu13", 13)])
def test_cuda_extras_pin_the_cuda_python_major_and_bring_tensorrt(extra, major):
    reqs = {Requirement(r).name: Requirement(r) for r in _project()["optional-dependencies"][extra]}
    cuda = reqs["cuda-python"].specifier
    assert Version(f"{major}.9") in cuda and Version(f"{major + 1}.0") not in cuda
    assert Version(f"{major - 1}.9") not in cuda
    assert f"tensorrt-{extra}" in reqs


def _setuptools_version() -> Version | None:
    try:
        import setuptools
    except ImportError:
        return None
    return Version(setuptools.__version__)


def test_sdist_carries_the_tests_and_they_run_from_it(tmp_path):
    v = _setuptools_version()
    if v is None or v < Version("77"):
        pytest.skip(f"building needs setuptools>=77 (pip install 'trt-exec[dev]'); found {v}")
    src = tmp_path / "src"
    shutil.copytree(
        ROOT,
        src,
        ignore=shutil.ignore_patterns(".git", ".venv", "*.egg-info", "__pycache__", ".*_cache"),
    )
    dist = tmp_path / "dist"
    build = "import sys; from setuptools import build_meta as b; print(b.build_sdist(sys.argv[1]))"
    out = subprocess.run(
        [sys.executable, "-c", build, str(dist)],
        cwd=src,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    sdist = dist / out.stdout.strip().splitlines()[-1]
    with tarfile.open(sdist) as tar:
        names = {n.split("/", 1)[1] for n in tar.getnames() if "/" in n}
        tar.extractall(tmp_path / "unpacked", filter="data")
    assert {"LICENSE", "README.md", "tests/conftest.py", "tests/test_selection.py"} <= names
    manifests = {n for n in names if n.startswith("tests/data/manifests/") and n.endswith(".json")}
    assert manifests == {
        str(p.relative_to(ROOT)) for p in (ROOT / "tests/data/manifests").glob("*.json")
    }
    assert not any("__pycache__" in n for n in names)
    unpacked = tmp_path / "unpacked" / sdist.name.removesuffix(".tar.gz")
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/test_selection.py"],
        cwd=unpacked,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(unpacked)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stdout[-3000:]
    assert " passed" in run.stdout
