"""Differential fidelity against the real binding wheels of 8.6.1, 10.0.1, 10.16.1 and 11.4.0
(issue 17): the objects that never call into libnvinfer (Dims and friends, Permutation, Weights,
DataType, Logger/ILogger and IOutputAllocator subclassing, trt.volume, trt.nptype,
``__version__``) behave the same on the real bindings and on the simulator.

Each wheel is fetched from PyPI (cached under ``$TRT_EXEC_WHEEL_CACHE`` or ``~/.cache/trt_exec``)
and imported against the stub libraries that tools/trt_api_manifest.py builds (tools/README.md).
The probes (binding_probes.py) run in subprocesses, so the real ``tensorrt`` and the simulator
never share a process. Skipped, with the reason, when a wheel cannot be fetched or gcc/binutils
are missing.
"""

from __future__ import annotations

import importlib
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest

from .helpers import REPO

# tools/ is on sys.path once .helpers is imported.
trt_api_manifest = importlib.import_module("trt_api_manifest")

pytestmark = pytest.mark.network

PROBE = Path(__file__).with_name("binding_probes.py")
RELEASES = ("8.6.1", "10.0.1", "10.16.1", "11.4.0")

# Differences that stay, with their reason (README fidelity table).
KNOWN: dict[tuple[str, str], str] = {
    ("8.6.1", "weights_numpy"): "8.6.1 Weights(int32 array).numpy() reads back zeros",
    ("10.0.1", "weights_numpy"): "10.0.1 Weights(int32 array).numpy() reads back zeros",
}


def _cache() -> Path:
    return Path(os.environ.get("TRT_EXEC_WHEEL_CACHE", Path.home() / ".cache" / "trt_exec"))


def _probe(args: list[str], env: dict[str, str]) -> dict[str, Any]:
    proc = subprocess.run(
        [sys.executable, str(PROBE), *args], env=env, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    out: dict[str, Any] = json.loads(proc.stdout)
    return out


def _real(release: str, tmp: Path) -> dict[str, Any]:
    if sys.version_info[:2] != (3, 11):
        pytest.skip("the binding wheels are cp311; this is Python " + sys.version.split()[0])
    for tool in ("gcc", "readelf", "nm"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is needed to build the stub libraries (tools/README.md)")
    spec = trt_api_manifest.RELEASES[release]
    try:
        wheel = trt_api_manifest.download_wheel(
            spec["dist"], spec["version"], _cache(), sys.executable
        )
    except Exception as exc:
        pytest.skip(f"cannot fetch {spec['dist']}=={spec['version']} from PyPI: {exc}")
    with zipfile.ZipFile(wheel) as zf:
        zf.extractall(tmp / "wheel")
    ext = sorted((tmp / "wheel").glob("*/tensorrt*.so"))[0]
    missing, symbols = trt_api_manifest.plan_stubs(ext)
    trt_api_manifest.build_stubs(missing, symbols, tmp / "stubs")
    shim = tmp / "shim" / "tensorrt"
    shim.mkdir(parents=True)
    # The `tensorrt` meta package's two lines; tensorrt_libs made unimportable (tools/README.md).
    shim.joinpath("__init__.py").write_text(
        "import sys\nsys.modules['tensorrt_libs'] = None\n"
        "from tensorrt_bindings import *\nfrom tensorrt_bindings import __version__\n"
    )
    env = dict(os.environ)
    env["LD_LIBRARY_PATH"] = str(tmp / "stubs")
    env["PYTHONPATH"] = os.pathsep.join([str(tmp / "shim"), str(tmp / "wheel"), str(REPO)])
    return _probe(["real"], env)


@pytest.mark.parametrize("release", RELEASES)
def test_binding_objects_behave_as_the_real_wheel(release: str, tmp_path: Path) -> None:
    real = _real(release, tmp_path)
    sim = _probe(["sim", release], dict(os.environ, PYTHONPATH=str(REPO)))
    assert set(real) == set(sim), sorted(set(real) ^ set(sim))
    diffs = {k: (real[k], sim[k]) for k in real if real[k] != sim[k] and (release, k) not in KNOWN}
    assert not diffs, f"{len(diffs)} of {len(real)} probes differ on {release}: {diffs}"
    assert len(real) >= 60  # every DataType member adds three probes
