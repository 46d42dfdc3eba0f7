"""``trt-exec inspect`` and ``trt-exec run`` through the real command line (a subprocess)."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest

import trt_exec
from trt_exec.cli.schemas import INSPECT_SCHEMA, RUN_SCHEMA
from trt_exec.testing import DEMO_NETWORK, reference, simulated_tensorrt

from .helpers import RELEASES, clean_env, conforms, run_cli

MEMORY_API = {
    "8.4.3": "ICudaEngine.device_memory_size",
    "8.6.1": "ICudaEngine.device_memory_size",
    "10.16.1": "ICudaEngine.device_memory_size_v2",
    "11.4.0": "ICudaEngine.device_memory_size_v2",
    "rtx-1.7.1": "ICudaEngine.device_memory_size_v2",
}


@pytest.mark.parametrize("release", RELEASES)
def test_inspect_json_conforms_and_describes_the_engine(engines, release):
    r = run_cli("inspect", str(engines[release]), "--tensorrt", f"sim:{release}", "--json")
    assert r.rc == 0, r
    doc = r.json()
    conforms(doc, INSPECT_SCHEMA)
    assert doc["schema"] == "trt-exec.inspect/1"
    assert doc["engine"]["size_bytes"] == engines[release].stat().st_size
    assert doc["tensorrt"] == {
        "module": "tensorrt_rtx" if release.startswith("rtx") else "tensorrt",
        "version": simulated_tensorrt(release).__version__,  # the wheels' "10.16.1.11" etc.
        "simulated": True,
        "selected_by": "argument",
    }
    v2 = release == "8.4.3"
    assert doc["backend"]["name"] == ("v2" if v2 else "v3")
    assert doc["backend"]["source"] == "version"
    assert doc["num_profiles"] == 2
    io = {t["name"]: t for t in doc["io"]}
    assert [t["name"] for t in doc["io"]] == ["x", "y", "sum", "act"]
    assert io["x"]["mode"] == "input" and io["sum"]["mode"] == "output"
    assert io["x"]["dtype"] == "float32" and io["x"]["shape"] == [-1, 4]
    assert io["y"]["profiles"] == [
        {"min": [1, 4], "opt": [2, 4], "max": [4, 4]},
        {"min": [4, 4], "opt": [8, 4], "max": [16, 4]},
    ]
    assert io["act"]["profiles"] == []
    # The size is the executor's: which ICudaEngine attribute holds it on which release is the
    # executor's business (tests/fidelity's test_version_dependent_device_memory_api).
    with trt_exec.load(engines[release].read_bytes(), tensorrt=simulated_tensorrt(release)) as ex:
        size = ex.device_memory_size
    assert isinstance(size, int) and size > 0
    assert doc["device_memory"]["bytes"] == size
    # Which attribute each release reads: _v2 from 10.1, the original before 11.0 (TensorRT 10.1
    # and 11.0 release notes); also checked against the manifests by tests/fidelity.
    assert doc["device_memory"]["api"] == MEMORY_API[release]
    per_profile = doc["device_memory"]["per_profile"]
    if release.startswith(("8.", "10.0")):
        assert per_profile is None  # no per-profile query before TensorRT 10.0's
    else:
        assert len(per_profile) == 2 and all(isinstance(b, int) and b > 0 for b in per_profile)
    if v2:
        # bindings = IO x profiles; profile k > 0 names carry " [profile k]"
        assert [(b["index"], b["name"], b["profile"]) for b in doc["bindings"]] == [
            (0, "x", 0), (1, "y", 0), (2, "sum", 0), (3, "act", 0),
            (4, "x [profile 1]", 1), (5, "y [profile 1]", 1),
            (6, "sum [profile 1]", 1), (7, "act [profile 1]", 1),
        ]  # fmt: skip
    else:
        assert doc["bindings"] is None


def test_inspect_text_shows_simulator_backend_reason_and_v2_layout(engines):
    r = run_cli("inspect", str(engines["8.6.1"]), "--tensorrt", "sim:8.6.1", "--backend", "v2")
    assert r.rc == 0, r
    assert "tensorrt 8.6.1  SIMULATED" in r.out
    assert "backend       v2  [argument: --backend on TensorRT 8.6.1]" in r.out
    assert "profile 1 min / opt / max" in r.out
    assert "[4, 4] / [8, 4] / [16, 4]" in r.out
    assert "5      y [profile 1]    1        in" in r.out
    assert r.err == ""


def test_inspect_reports_environment_choices(engines):
    r = run_cli(
        "inspect", str(engines["8.6.1"]), "--json",
        env={"TRT_EXEC_TENSORRT": "sim:8.6.1", "TRT_EXEC_BACKEND": "v2"},
    )  # fmt: skip
    assert r.rc == 0, r
    doc = r.json()
    assert doc["tensorrt"]["selected_by"] == "environment"
    assert doc["backend"]["name"] == "v2" and doc["backend"]["source"] == "environment"
    assert "TRT_EXEC_BACKEND='v2'" in doc["backend"]["reason"]
    assert doc["bindings"] is not None and len(doc["bindings"]) == 8


def _save_reference(tmp_path: Path, inputs_npz: Path, *, corrupt: bool) -> Path:
    with np.load(inputs_npz) as f:
        inputs = {k: f[k] for k in f.files}
    ref = reference(DEMO_NETWORK, inputs)
    if corrupt:
        ref["act"] = ref["act"].copy()
        ref["act"].flat[3] += 0.5
    path = tmp_path / ("bad.npz" if corrupt else "ref.npz")
    np.savez(path, **ref)
    return path


@pytest.mark.parametrize("release", ["8.4.3", "11.4.0"])
def test_run_saves_outputs_that_match_numpy(engines, tmp_path, release):
    x = np.linspace(-2, 2, 32, dtype=np.float32).reshape(8, 4)
    np.save(tmp_path / "x.npy", x)
    r = run_cli(
        "run", str(engines[release]), "--tensorrt", f"sim:{release}",
        "--input", f"x={tmp_path / 'x.npy'}", "--input", "y=ones",
        "--save", str(tmp_path / "out.npz"), "--save-inputs", str(tmp_path / "in.npz"),
    )  # fmt: skip
    assert r.rc == 0, r
    # y had no shape: it takes profile 1 (the one x selects), its batch following x.
    assert "profile    1 (chosen from the input shapes)" in r.out
    assert "y  float32  [8, 4]  ones (profile 1, dynamic dims as x)" in r.out
    with np.load(tmp_path / "out.npz") as out, np.load(tmp_path / "in.npz") as used:
        np.testing.assert_array_equal(used["x"], x)
        np.testing.assert_array_equal(used["y"], np.ones((8, 4), np.float32))
        want = reference(DEMO_NETWORK, {"x": x, "y": used["y"]})
        assert set(out.files) == {"sum", "act"}
        for name in want:
            np.testing.assert_allclose(out[name], want[name], rtol=1e-6)


def test_run_compare_passes_then_fails_with_exit_1(engines, tmp_path):
    e, sim = str(engines["10.16.1"]), "sim:10.16.1"
    inputs = tmp_path / "in.npz"
    r = run_cli("run", e, "--tensorrt", sim, "--seed", "7", "--save-inputs", str(inputs))
    assert r.rc == 0, r
    good = _save_reference(tmp_path, inputs, corrupt=False)
    bad = _save_reference(tmp_path, inputs, corrupt=True)

    r = run_cli("run", e, "--tensorrt", sim, "--input", str(inputs), "--compare", str(good))
    assert r.rc == 0, r
    assert "compare: all outputs match" in r.out
    assert r.out.count("  ok") == 2

    r = run_cli("run", e, "--tensorrt", sim, "--input", str(inputs), "--compare", str(bad))
    assert r.rc == 1, r
    assert "MISMATCH (1 of 8 outside tolerance)" in r.out
    assert "max abs err 0.5" in r.out
    assert "compare: MISMATCH" in r.out

    # a loose enough tolerance accepts the same difference
    r = run_cli(
        "run", e, "--tensorrt", sim, "-i", str(inputs), "--compare", str(bad), "--atol", "0.6"
    )
    assert r.rc == 0, r

    r = run_cli("run", e, "--tensorrt", sim, "-i", str(inputs), "--compare", str(bad), "--json")
    assert r.rc == 1, r
    doc = r.json()
    conforms(doc, RUN_SCHEMA)
    assert doc["compare"]["match"] is False
    assert doc["compare"]["outputs"]["sum"]["status"] == "ok"
    act = doc["compare"]["outputs"]["act"]
    assert act["status"] == "mismatch" and act["mismatched"] == 1 and act["size"] == 8
    assert act["max_abs_err"] == pytest.approx(0.5, rel=1e-5)
    assert doc["inputs"]["x"]["source"] == f"{inputs}[x]"


# --- errors: one sentence on stderr, exit 2, no traceback ------------------------------------
def _garbage(tmp_path: Path) -> Path:
    p = tmp_path / "garbage.engine"
    p.write_bytes(b"not an engine at all")
    return p


ERROR_CASES = {
    "missing engine": (
        ["run", "{tmp}/nope.engine"],
        "engine file '{tmp}/nope.engine' does not exist",
    ),
    "unreadable engine": (["inspect", "{garbage}"], "could not deserialize the engine"),
    "no '='": (["run", "{e}", "-i", "x"], "--input 'x' is not NAME=SOURCE"),
    "bad shape": (["run", "{e}", "-i", "x=random:4xq"], "shape '4xq' is not dimensions"),
    "unknown generator": (["run", "{e}", "-i", "x=rand:4x4"], "unknown generator 'rand'"),
    "unknown tensor": (
        ["run", "{e}", "-i", "q=zeros:2x4"],
        "the engine has no input 'q'; its inputs are ['x', 'y']",
    ),
    "outside profiles": (
        ["run", "{e}", "-i", "x=zeros:32x4", "-i", "y=zeros:32x4"],
        "input 'x': shape (32, 4) is outside every optimization profile",
    ),
    "missing input file": (
        ["run", "{e}", "-i", "x={tmp}/x.npy"],
        "file '{tmp}/x.npy' does not exist",
    ),
    "wrong dtype": (["run", "{e}", "-i", "x={f64}"], "the array is float64 but the engine's input"),
    "profile out of range": (
        ["run", "{e}", "--profile", "5"],
        "--profile 5 is out of range [0, 1]",
    ),
    "v2 on 10.x": (
        ["inspect", "{e}", "--backend", "v2"],
        "backend 'v2' (the bindings API) is unavailable on TensorRT 10.16.1",
    ),
    "unknown simulator": (["inspect", "{e}", "--tensorrt", "sim:9.9.9"], "no simulated release"),
    "reference not .npz": (["run", "{e}", "--compare", "{f64}"], "a reference must be a .npz"),
}


@pytest.mark.parametrize("case", list(ERROR_CASES))
def test_errors_are_one_line_with_exit_2(engines, tmp_path, case):
    args, message = ERROR_CASES[case]
    f64 = tmp_path / "f64.npy"
    np.save(f64, np.zeros((2, 4)))
    fmt = {"tmp": tmp_path, "e": engines["10.16.1"], "garbage": _garbage(tmp_path), "f64": f64}
    argv = [a.format(**fmt) for a in args]
    if "--tensorrt" not in argv:
        argv += ["--tensorrt", "sim:10.16.1"]
    r = run_cli(*argv)
    assert r.rc == 2, r
    first = r.err.splitlines()[0]
    assert first.startswith("trt-exec: error: "), r
    assert message.format(**fmt) in first, r
    assert "Traceback" not in r.err
    assert r.out == ""


def test_wrong_version_engine_shows_tensorrt_log_once(engines):
    r = run_cli("inspect", str(engines["8.6.1"]), "--tensorrt", "sim:10.16.1")
    assert r.rc == 2, r
    lines = r.err.splitlines()
    assert lines[0].startswith("trt-exec: error: tensorrt 10.16.1.11 could not deserialize")
    logged = [ln for ln in lines if ln.startswith("trt-exec: tensorrt error: ")]
    assert logged, r
    assert len(set(logged)) == len(logged), "a TensorRT error line was printed twice"


def test_debug_shows_the_traceback(engines, tmp_path):
    r = run_cli("run", str(tmp_path / "nope.engine"), "--tensorrt", "sim:8.6.1", "--debug")
    assert r.rc == 2
    assert "trt-exec: error: engine file" in r.err
    assert "Traceback (most recent call last)" in r.err
    assert "EngineNotFoundError" in r.err


def test_usage_errors_exit_2():
    assert run_cli().rc == 2
    r = run_cli("bench", "x.engine", "--iterations", "0")
    assert r.rc == 2
    assert "--iterations: invalid _positive_int value" in r.err or "must be >= 1" in r.err


def test_help_says_when_the_simulator_is_in_use():
    plain = run_cli("--help")
    assert plain.rc == 0
    assert "SIMULATED TensorRT (trt_exec" not in plain.out
    via_env = run_cli("--help", env={"TRT_EXEC_TENSORRT": "sim:8.6.1"})
    assert "TRT_EXEC_TENSORRT='sim:8.6.1' selects the SIMULATED TensorRT" in via_env.out
    via_flag = run_cli("inspect", "--tensorrt", "sim:11.4.0", "--help")
    assert via_flag.rc == 0
    assert "--tensorrt='sim:11.4.0' selects the SIMULATED TensorRT" in via_flag.out
    assert "exit status: 0 ok, 1 failed check" in via_flag.out


def test_demo_still_runs():
    r = run_cli("demo")
    assert r.rc == 0, r
    assert "demo: all outputs match numpy" in r.out
    assert "(SIMULATED)" in r.out


def _installed_script() -> str | None:
    beside = Path(sys.executable).parent / "trt-exec"
    if beside.exists():
        return str(beside)
    return shutil.which("trt-exec")


def test_installed_console_script(engines):
    import subprocess

    script = _installed_script()
    if script is None:
        pytest.skip("the trt-exec console script is not installed (pip install -e .)")
    proc = subprocess.run(
        [script, "inspect", str(engines["11.4.0"]), "--json"],
        capture_output=True, text=True, timeout=60,
        env=clean_env({"TRT_EXEC_TENSORRT": "sim:11.4.0"}),
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert '"schema": "trt-exec.inspect/1"' in proc.stdout
    assert os.path.basename(script) == "trt-exec"


def test_verbose_routes_tensorrt_info_to_stderr(engines):
    args = ("inspect", str(engines["10.16.1"]), "--tensorrt", "sim:10.16.1")
    quiet, loud = run_cli(*args), run_cli(*args, "-v")
    assert quiet.rc == loud.rc == 0
    assert "tensorrt info" not in quiet.err
    assert "trt-exec: tensorrt info: Loaded engine size" in loud.err
    assert loud.out == quiet.out


def test_readme_walkthrough_on_the_simulator(tmp_path):
    """The README's command-line examples, as written, in a fresh directory."""
    env = {"TRT_EXEC_TENSORRT": "sim:10.16.1"}
    r = run_cli("demo", "--save-engine", "demo.engine", env=env, cwd=tmp_path)
    assert r.rc == 0, r
    assert "the demo network built by tensorrt 10.16.1.11 (SIMULATED)" in r.out
    r = run_cli("inspect", "demo.engine", env=env, cwd=tmp_path)
    assert r.rc == 0 and "[chosen by TRT_EXEC_TENSORRT]" in r.out, r
    r = run_cli("run", "demo.engine", "--input", "x=random:8x4", "--save", "out.npz", env=env,
                cwd=tmp_path)  # fmt: skip
    assert r.rc == 0 and (tmp_path / "out.npz").exists(), r
    r = run_cli("bench", "demo.engine", "--iterations", "50", env=env, cwd=tmp_path)
    assert r.rc == 0 and "throughput" in r.out, r
    r = run_cli("doctor", env=env, cwd=tmp_path)
    assert "the SIMULATED TensorRT 10.16.1.11 is selected" in r.out, r
