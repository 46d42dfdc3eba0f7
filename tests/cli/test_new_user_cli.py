"""What a new user tripped over on the command line (issue 14): generated inputs that did not fit
the given ones, Python argument names in errors, flags before the command, file kinds, the
relative error against zeros, bench's header and the exit statuses in --help."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from trt_exec.cli import bench as bench_module
from trt_exec.cli.main import main
from trt_exec.testing import InputSpec, NetworkSpec, OpSpec, build_engine, simulated_tensorrt

from .helpers import run_cli

SIM = {"TRT_EXEC_TENSORRT": "sim:10.16.1"}

# y (1, -1) broadcasts against x (-1, 4) only with its last dimension 4 (or 1); generated at its
# opt shape (1, 2) it does not fit, and x's last dimension is static, so y has nothing to follow.
ROW_Y = NetworkSpec(
    inputs=(InputSpec("x", "float32", (-1, 4)), InputSpec("y", "float32", (1, -1))),
    ops=(OpSpec("elementwise", ("x", "y"), "sum", "SUM"),),
    outputs=("sum",),
    profiles=((((1, 4), (2, 4), (16, 4)), ((1, 1), (1, 2), (1, 4))),),
)


@pytest.fixture(scope="module")
def demo(engines: dict[str, Path]) -> str:
    return str(engines["10.16.1"])


def test_generated_inputs_follow_the_given_dynamic_dimensions(demo):
    r = run_cli("run", demo, "--input", "x=random:12x4", "--json", env=SIM)
    assert r.rc == 0, r
    doc = r.json()
    assert doc["profile"] == 1
    assert doc["inputs"]["y"]["shape"] == [12, 4]
    assert "dynamic dims as x" in doc["inputs"]["y"]["source"]
    named = run_cli("run", demo, "--input", "x=random:12x4", "--input", "y=ones", "--json", env=SIM)
    assert named.rc == 0 and named.json()["inputs"]["y"]["shape"] == [12, 4], named


def test_generated_inputs_that_cannot_fit_say_which_at_what_shape_and_the_input_to_pass(
    tmp_path,
):
    engine = tmp_path / "row.engine"
    engine.write_bytes(build_engine(simulated_tensorrt("10.16.1"), ROW_Y))
    r = run_cli("run", str(engine), "--input", "x=random:12x4", env=SIM)
    assert r.rc == 2, r
    line = r.err.splitlines()[0]
    assert "Inputs trt-exec generated: y at [1, 2]" in line
    assert "--input y=random:1x2" in line and "opt of profile 0" in line
    fixed = run_cli(
        "run", str(engine), "--input", "x=random:12x4", "--input", "y=random:1x4", env=SIM
    )
    assert fixed.rc == 0, fixed


def test_errors_speak_the_flags_not_python_arguments(demo):
    r = run_cli("run", demo, "--backend", "v2", env=SIM)
    assert r.rc == 2 and "--backend v3" in r.err and "backend='" not in r.err, r
    r = run_cli("run", demo, "--profile", "5", env=SIM)
    assert r.rc == 2 and "--profile 5 is out of range" in r.err and "profile=" not in r.err, r
    r = run_cli("run", demo, "--profile", "0", "--input", "x=random:8x4", env=SIM)
    assert r.rc == 2 and "leave out --profile" in r.err and "set_profile" not in r.err, r
    r = run_cli(
        "inspect", demo, "--backend", "auto", "--json", env={**SIM, "TRT_EXEC_BACKEND": "v2"}
    )
    assert r.rc == 0 and r.json()["backend"]["name"] == "v3", r  # --backend auto beats the env
    r = run_cli("inspect", demo, "--backend", "auto", env=SIM)
    assert "--backend auto" in r.out and "backend='auto'" not in r.out, r


def test_common_flags_work_before_the_command(demo):
    before = run_cli("--json", "inspect", demo, env=SIM)
    assert before.rc == 0 and before.json()["schema"] == "trt-exec.inspect/1", before
    verbose = run_cli("-v", "inspect", demo, env=SIM)
    assert verbose.rc == 0 and "trt-exec: tensorrt info:" in verbose.err, verbose
    debug = run_cli("--debug", "run", demo, "--profile", "5", env=SIM)
    assert debug.rc == 2 and "Traceback" in debug.err, debug
    after = run_cli("run", demo, "--profile", "5", "--debug", env=SIM)
    assert after.rc == 2 and "Traceback" in after.err, after
    no_json = run_cli("--json", "demo", env=SIM)
    assert no_json.rc == 2 and "--json" in no_json.err and "demo" in no_json.err, no_json


def test_a_text_file_given_as_npy_is_called_not_a_npy_file(demo, tmp_path):
    text = tmp_path / "x.npy"
    text.write_text("1 2 3 4\n")
    r = run_cli("run", demo, "--input", f"x={text}", env=SIM)
    assert r.rc == 2 and "is not a .npy or .npz file" in r.err, r
    assert "pickle" not in r.err


def test_onnx_or_npz_given_as_the_engine_says_what_it_is(tmp_path):
    onnx = tmp_path / "model.onnx"
    # The first fields of a real ModelProto: ir_version 7, producer_name "pytorch", and an
    # opset_import domain "ai.onnx" (onnx.proto field numbers 1, 2 and 8).
    onnx.write_bytes(b"\x08\x07\x12\x07pytorch\x42\x0b\n\x07ai.onnx\x10\x11")
    r = run_cli("inspect", str(onnx), env=SIM)
    assert r.rc == 2 and "is an ONNX model, not a serialized TensorRT engine" in r.err, r
    assert "trtexec --onnx=" in r.err
    npz = tmp_path / "in.npz"
    np.savez(npz, x=np.zeros((2, 4), np.float32))
    r = run_cli("run", str(npz), env=SIM)
    assert r.rc == 2 and "numpy .npz file, not a serialized TensorRT engine" in r.err, r
    assert "--input" in r.err


def test_compare_against_zeros_gives_an_honest_relative_error(demo, tmp_path):
    ref = tmp_path / "zeros.npz"
    np.savez(ref, sum=np.zeros((2, 4), np.float32), act=np.zeros((2, 4), np.float32))
    r = run_cli("run", demo, "--input", "x=ones:2x4", "--compare", str(ref), "--json", env=SIM)
    assert r.rc == 1, r
    per = r.json()["compare"]["outputs"]
    assert per["sum"]["max_rel_err"] is None and per["sum"]["max_abs_err"] > 0
    text = run_cli("run", demo, "--input", "x=ones:2x4", "--compare", str(ref), env=SIM)
    assert "max rel err inf" in text.out and "e+" not in text.out, text


def test_bench_prints_its_header_before_timing(demo, monkeypatch, capsys):
    seen: list[str] = []
    real = bench_module.measure

    def spy(*args, **kwargs):
        seen.append(capsys.readouterr().out)
        return real(*args, **kwargs)

    monkeypatch.setattr(bench_module, "measure", spy)
    monkeypatch.setenv("TRT_EXEC_TENSORRT", "sim:10.16.1")
    assert main(["bench", demo, "-n", "3", "--warmup", "0"]) == 0
    assert seen, "bench did not measure"
    before = seen[0]
    for label in ("engine ", "TensorRT ", "backend ", "inputs"):
        assert label in before, f"{label!r} was not printed before the timing:\n{before}"


def test_help_lists_every_exit_status():
    r = run_cli("--help")
    assert r.rc == 0
    epilog = r.out[r.out.index("exit status:") :]
    for code in ("0 ok", "1 failed check", "2 bad usage", "3 internal error", "130 interrupted"):
        assert code in epilog, code


def test_each_tensorrt_line_is_printed_once(demo):
    r = run_cli("run", demo, "--input", "x=random:8x4", "--input", "y=random:12x4", env=SIM)
    assert r.rc == 2, r
    lines = [ln for ln in r.err.splitlines() if ln.startswith("trt-exec: tensorrt error:")]
    assert lines and len(lines) == len(set(lines)), r.err


def test_doctor_reports_a_driver_older_than_the_cuda_bindings():
    from trt_exec.cli.doctor import diagnose

    from .test_bench_doctor import _facts

    facts = _facts(devices=[("A100", "8.0")], driver="12.4")
    facts["packages"] = {"cuda-bindings": "13.0.1", "cuda-python": "13.0.1"}
    found = [f for f in diagnose(facts) if f["level"] == "problem"]
    assert len(found) == 1, found
    assert found[0]["what"] == (
        "cuda-python 13.0.1 binds CUDA 13, but the NVIDIA driver only supports CUDA 12.4"
    )
    assert "pip install 'trt-exec[cu12]'" in found[0]["fix"]
    facts["packages"] = {"cuda-bindings": "12.9.0", "cuda-python": "12.9.0"}
    assert not [f for f in diagnose(facts) if f["level"] == "problem"]
