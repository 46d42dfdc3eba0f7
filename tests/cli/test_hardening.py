"""The command line against hostile and careless input (issue 15): no data loss, no silent wrong
result, no hang, and a user's mistake is exit status 2 with one line - never 3.

Most tests call :func:`trt_exec.cli.main.main` in this process (fast, and failures can be
injected); those about the process itself (stdout, signals, file size limits) run a subprocess.
"""

from __future__ import annotations

import errno
import importlib
import json
import os
import resource
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

from trt_exec.cli import files as cli_files
from trt_exec.testing import DEMO_NETWORK, build_engine, simulated_tensorrt
from trt_exec.testing.network import InputSpec, NetworkSpec, OpSpec

from .helpers import clean_env, run_cli

# The module, not trt_exec.cli.main, which trt_exec.cli re-exports as the function.
cli_main = importlib.import_module("trt_exec.cli.main")
SIM = "sim:10.16.1"
ESC = "\x1b[2Jred"

#: Names no naive CLI survives: '=' and a space in inputs, numpy.savez's parameters and a
#: terminal escape sequence in outputs.
ODD_NETWORK = NetworkSpec(
    inputs=(InputSpec("a=b", "float32", (-1, 4)), InputSpec("x y", "float32", (-1, 4))),
    ops=(
        OpSpec("elementwise", ("a=b", "x y"), "file", "SUM"),
        OpSpec("unary", ("a=b",), "allow_pickle", "ABS"),
        OpSpec("unary", ("x y",), ESC, "NEG"),
    ),
    outputs=("file", "allow_pickle", ESC),
    profiles=((((1, 4), (2, 4), (4, 4)), ((1, 4), (2, 4), (4, 4))),),
)


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("hardening") / "demo.engine"
    path.write_bytes(build_engine(simulated_tensorrt("10.16.1"), DEMO_NETWORK))
    return path


@pytest.fixture(scope="module")
def odd_engine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("hardening") / "odd.engine"
    path.write_bytes(build_engine(simulated_tensorrt("10.16.1"), ODD_NETWORK))
    return path


@pytest.fixture(autouse=True)
def _no_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for k in list(os.environ):
        if k.startswith("TRT_EXEC_"):
            monkeypatch.delenv(k)


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """``trt-exec ARGS`` in this process: (exit status, stdout, stderr)."""
    try:
        rc = cli_main.main(list(args))
    except SystemExit as exc:  # argparse's usage errors
        rc = int(exc.code or 0)
    out, err = capsys.readouterr()
    return rc, out, err


def one_error_line(err: str, *needles: str) -> None:
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("trt-exec: error: "), err
    assert "Traceback" not in err and "internal error" not in err, err
    for n in needles:
        assert n in lines[0], (n, err)


def listing(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


# --- data loss -----------------------------------------------------------------------------------
@pytest.mark.parametrize("option", ["--save", "--save-inputs"])
@pytest.mark.parametrize(
    "failure, status",
    [(OSError(errno.ENOSPC, "No space left on device"), 2), (KeyboardInterrupt(), 130)],
    ids=["disk-full", "ctrl-c"],
)
def test_failed_save_keeps_the_previous_file_and_leaves_no_partial_one(
    capsys, monkeypatch, tmp_path, engine, option, failure, status
):
    target = tmp_path / "out.npz"
    target.write_bytes(b"the previous results")

    def fail(fd: int) -> None:
        raise failure

    monkeypatch.setattr(cli_files.os, "fsync", fail)  # after the data, before the rename
    rc, out, err = cli(capsys, "run", str(engine), "--tensorrt", SIM, option, str(target))
    assert rc == status, err
    assert target.read_bytes() == b"the previous results"
    assert listing(tmp_path) == ["out.npz"]
    one_error_line(err, "interrupted" if status == 130 else "No space left on device")


def test_save_over_a_file_size_limit_keeps_the_previous_file(tmp_path, engine):
    """A real EFBIG from the kernel (RLIMIT_FSIZE), not an injected one."""
    target = tmp_path / "out.npz"
    target.write_bytes(b"old")

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (200, 200))

    proc = subprocess.run(
        [sys.executable, "-m", "trt_exec", "run", str(engine), "--tensorrt", SIM,
         "--save", str(target)],
        capture_output=True, text=True, env=clean_env(), preexec_fn=limit, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 2, proc.stderr
    assert target.read_bytes() == b"old"
    assert listing(tmp_path) == ["out.npz"]
    one_error_line(proc.stderr, "--save")


def test_failed_plot_and_save_engine_keep_the_previous_file(capsys, monkeypatch, tmp_path, engine):
    pytest.importorskip("matplotlib")
    plot, saved = tmp_path / "p.png", tmp_path / "e.engine"
    plot.write_bytes(b"old plot")
    saved.write_bytes(b"old engine")

    def fail(fd: int) -> None:
        raise OSError(errno.EDQUOT, "Disk quota exceeded")

    monkeypatch.setattr(cli_files.os, "fsync", fail)
    rc, _, err = cli(
        capsys, "bench", str(engine), "--tensorrt", SIM, "-n", "3", "--warmup", "0",
        "--plot", str(plot),
    )  # fmt: skip
    assert rc == 2 and plot.read_bytes() == b"old plot", err
    rc, _, err = cli(capsys, "demo", "--save-engine", str(saved), "--tensorrt", SIM)
    assert rc == 2 and saved.read_bytes() == b"old engine", err
    assert listing(tmp_path) == ["e.engine", "p.png"]


def test_outputs_named_like_savez_parameters_are_saved(capsys, tmp_path, odd_engine):
    target = tmp_path / "out.npz"
    rc, out, err = cli(
        capsys, "run", str(odd_engine), "--tensorrt", SIM, "--save", str(target),
        "--input", "a=b=ones:2x4", "--input", "x y=ones:2x4",
    )  # fmt: skip
    assert rc == 0, err
    with np.load(target) as saved:
        assert sorted(saved.files) == sorted(["file", "allow_pickle", ESC])
        np.testing.assert_array_equal(saved["file"], np.full((2, 4), 2, np.float32))
        np.testing.assert_array_equal(saved["allow_pickle"], np.ones((2, 4), np.float32))


def test_compare_refuses_a_complex_reference(capsys, tmp_path, engine):
    out = tmp_path / "out.npz"
    rc, _, err = cli(capsys, "run", str(engine), "--tensorrt", SIM, "--save", str(out))
    assert rc == 0, err
    with np.load(out) as saved:
        ref = {n: saved[n] + 5j for n in saved.files}  # the real parts match exactly
    np.savez(tmp_path / "ref.npz", **ref)
    rc, _, err = cli(
        capsys, "run", str(engine), "--tensorrt", SIM, "--compare", str(tmp_path / "ref.npz")
    )
    assert rc == 2
    one_error_line(err, "complex64", "cannot be compared")


def test_run_json_is_strict_json_with_non_finite_values(capsys, tmp_path, engine):
    x = np.array([[np.nan, np.inf, 1, 2]], np.float32)
    np.save(tmp_path / "x.npy", x)
    rc, out, err = cli(
        capsys, "run", str(engine), "--tensorrt", SIM, "--json",
        "--input", f"x={tmp_path / 'x.npy'}", "--input", "y=ones:1x4",
    )  # fmt: skip
    assert rc == 0, err

    def refuse(token: str) -> None:
        raise AssertionError(f"bare {token} in the JSON")

    doc = json.loads(out, parse_constant=refuse)
    assert doc["outputs"]["sum"]["min"] == "NaN"
    assert doc["outputs"]["act"]["max"] == "NaN"  # abs(nan) * 1


# --- user errors are exit 2, one line -----------------------------------------------------------
def test_object_and_corrupt_npz_members_are_input_errors(capsys, tmp_path, engine):
    obj = tmp_path / "obj.npz"
    np.savez(obj, x=np.array([{"a": 1}, None], dtype=object))
    rc, _, err = cli(capsys, "run", str(engine), "--tensorrt", SIM, "--input", f"x={obj}")
    assert rc == 2
    one_error_line(err, "Python objects")
    bad = tmp_path / "bad.npz"
    np.savez_compressed(bad, x=np.ones((2, 4), np.float32))
    data = bytearray(bad.read_bytes())
    start = data.index(b"x.npy") + 5 + 20  # inside the compressed data of the member
    data[start : start + 8] = b"\xff" * 8
    bad.write_bytes(bytes(data))
    rc, _, err = cli(capsys, "run", str(engine), "--tensorrt", SIM, "--input", f"x={bad}")
    assert rc == 2
    one_error_line(err, "bad.npz")


@pytest.mark.parametrize(
    "args, needle",
    [
        (["--seed", "-1"], "--seed"),
        (["--duration", "inf"], "finite"),
        (["--duration", "nan"], "--duration"),
        (["--plot", "out.txt"], "not a plot format"),
        (["--plot", ""], "empty"),
    ],
)
def test_bad_bench_options_are_refused_before_the_run(capsys, monkeypatch, engine, args, needle):
    from trt_exec.cli import bench

    def never(*a: object, **k: object) -> None:
        raise AssertionError("the benchmark ran")

    monkeypatch.setattr(bench, "measure", never)
    rc, _, err = cli(capsys, "bench", str(engine), "--tensorrt", SIM, *args)
    assert rc == 2, err
    assert needle in err and "Traceback" not in err


@pytest.mark.parametrize(
    "args", [["run", "E", "--save", ""], ["run", "E", "--save-inputs", ""],
             ["demo", "--save-engine", ""], ["run", "E", "--save", "{tmp}/"],
             ["run", "E", "--save", "{tmp}/missing/out.npz"]],
    ids=["save", "save-inputs", "save-engine", "folder", "missing-folder"],
)  # fmt: skip
def test_unusable_output_paths_are_refused(capsys, tmp_path, engine, args):
    args = [str(engine) if a == "E" else a.format(tmp=tmp_path) for a in args]
    rc, out, err = cli(capsys, *args, "--tensorrt", SIM)
    assert rc == 2, err
    one_error_line(err)
    assert listing(tmp_path) == []


def test_plot_reports_the_file_it_writes(capsys, monkeypatch, tmp_path, engine):
    pytest.importorskip("matplotlib")
    monkeypatch.chdir(tmp_path)
    rc, out, err = cli(
        capsys, "bench", str(engine), "--tensorrt", SIM, "-n", "5", "--warmup", "0", "--json",
        "--plot", "latency",
    )  # fmt: skip
    assert rc == 0, err
    assert json.loads(out)["plot"] == "latency.png"
    assert (tmp_path / "latency.png").read_bytes()[:4] == b"\x89PNG"


def test_stdout_full_or_closed_is_one_line_exit_2(engine, tmp_path):
    args = [sys.executable, "-m", "trt_exec", "inspect", str(engine), "--tensorrt", SIM]
    with open("/dev/full", "w") as full:
        proc = subprocess.run(args, stdout=full, stderr=subprocess.PIPE, text=True,
                              env=clean_env(), timeout=120)  # fmt: skip
    assert proc.returncode == 2, proc.stderr
    one_error_line(proc.stderr, "standard output", "No space left on device")
    read, write = os.pipe()
    os.close(read)
    try:
        proc = subprocess.run(args, stdout=write, stderr=subprocess.PIPE, text=True,
                              env=clean_env(), timeout=120)  # fmt: skip
    finally:
        os.close(write)
    assert proc.returncode == 2, proc.stderr
    one_error_line(proc.stderr, "standard output", "broken pipe")


def test_ctrl_c_while_starting_is_one_clean_line(capsys, monkeypatch):
    def interrupted(argv: object = ()) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(cli_main, "build_parser", interrupted)
    rc, out, err = cli(capsys, "inspect", "x.engine")
    assert rc == 130 and out == ""
    assert err == "trt-exec: error: interrupted\n"


def test_ctrl_c_during_bench_clears_the_progress_bar():
    import io

    from trt_exec.cli.bench import Progress, measure

    stream = io.StringIO()
    calls = []

    def call() -> None:
        calls.append(1)
        if len(calls) == 5:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        measure(call, warmup=2, iterations=10, duration_s=None, progress=Progress(stream, "b"))
    assert "█" in stream.getvalue()  # the bar was drawn...
    assert stream.getvalue().endswith("\r\x1b[K")  # ...and cleared: "interrupted" starts a line


# --- inputs -------------------------------------------------------------------------------------
def test_huge_generated_input_is_refused_before_allocating(capsys, engine):
    rc, _, err = cli(
        capsys, "run", str(engine), "--tensorrt", SIM, "--input", "x=random:100000x100000x100"
    )
    assert rc == 2
    one_error_line(err, "'x'")


def test_npy_declaring_a_huge_shape_is_refused_from_its_header(capsys, tmp_path, engine):
    path = tmp_path / "x.npy"
    with open(path, "wb") as f:
        np.lib.format.write_array_header_1_0(
            f, {"descr": "<f4", "fortran_order": False, "shape": (10**12, 4)}
        )  # 16 TB declared, a few bytes of file
    rc, _, err = cli(capsys, "run", str(engine), "--tensorrt", SIM, "--input", f"x={path}")
    assert rc == 2
    one_error_line(err, "x")


def test_npz_input_reads_only_the_member_asked_for(capsys, tmp_path, engine):
    path = tmp_path / "in.npz"
    np.savez(path, x=np.ones((2, 4), np.float32))
    with zipfile.ZipFile(path, "a") as zf:  # a member that fails if it is ever read
        zf.writestr("bomb.npy", b"\x93NUMPY garbage that is not an array")
    rc, out, err = cli(
        capsys, "run", str(engine), "--tensorrt", SIM, "--input", f"x={path}",
        "--input", "y=ones:2x4",
    )  # fmt: skip
    assert rc == 0, err


def test_npz_member_larger_than_it_holds_is_refused(capsys, tmp_path, engine):
    path = tmp_path / "in.npz"
    with zipfile.ZipFile(path, "w") as zf, zf.open("x.npy", "w") as m:
        np.lib.format.write_array_header_1_0(
            m, {"descr": "<f4", "fortran_order": False, "shape": (2, 4)}
        )
        m.write(b"\0" * 8)  # 8 of the 32 bytes declared
    rc, _, err = cli(capsys, "run", str(engine), "--tensorrt", SIM, "--input", f"x={path}")
    assert rc == 2
    one_error_line(err, "truncated")


def test_big_endian_input_says_which_byte_order(capsys, tmp_path, engine):
    np.save(tmp_path / "x.npy", np.ones((2, 4), ">f4"))
    rc, _, err = cli(
        capsys, "run", str(engine), "--tensorrt", SIM, "--input", f"x={tmp_path / 'x.npy'}"
    )
    assert rc == 2
    one_error_line(err, "big-endian", "'<f4'")


def test_zero_d_npy_keeps_its_shape():
    from trt_exec.cli.inputs import InputSpec as Given
    from trt_exec.cli.inputs import resolve_inputs
    from trt_exec.spec import TensorSpec

    spec = {"s": TensorSpec("s", True, np.dtype(np.float32), ())}
    arrays, _ = resolve_inputs([Given("s=zeros:", "s", "zeros", shape=())], spec, profile=None,
                               seed=0)  # fmt: skip
    assert arrays["s"].shape == ()


def test_zero_d_npy_file_keeps_its_shape(capsys, tmp_path, engine):
    np.save(tmp_path / "x.npy", np.float32(3))
    rc, _, err = cli(
        capsys, "run", str(engine), "--tensorrt", SIM, "--input", f"x={tmp_path / 'x.npy'}"
    )
    assert rc == 2
    one_error_line(err, "shape () has rank 0")


def test_every_input_name_is_addressable_and_names_are_escaped(capsys, tmp_path, odd_engine):
    engine = tmp_path / "odd\x1b[1m.engine"  # a path with an escape sequence too
    engine.write_bytes(odd_engine.read_bytes())
    save = tmp_path / "o\x1b[1m.npz"
    rc, out, err = cli(
        capsys, "run", str(engine), "--tensorrt", SIM, "--save", str(save),
        "--input", "a=b=zeros:3x4", "--input", "x y=ones:3x4",
    )  # fmt: skip
    assert rc == 0, err
    assert "\x1b" not in out and "\\x1b[2Jred" in out and "odd\\x1b[1m.engine" in out
    assert "o\\x1b[1m.npz" in out
    rows = {line.split()[0]: line for line in out.splitlines() if line.startswith("  ")}
    assert "zeros" in rows["a=b"] and "[3, 4]" in rows["a=b"]
    rc, out, err = cli(capsys, "inspect", str(engine), "--tensorrt", SIM)
    assert rc == 0 and "\x1b" not in out and "\\x1b[2Jred" in out, out


def test_engine_paths_that_are_not_regular_files(capsys, tmp_path):
    for path, needle in [(str(tmp_path), "directory"), ("a\0b", "NUL")]:
        rc, _, err = cli(capsys, "inspect", path, "--tensorrt", SIM)
        assert rc == 2, (path, err)
        one_error_line(err, needle)
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    # Subprocesses: a FIFO with no writer blocks and /dev/zero never ends, and a regression
    # must fail the test, not hang the suite.
    for path in ("/dev/zero", str(fifo)):
        r = run_cli("inspect", path, "--tensorrt", SIM, timeout=60)
        assert r.rc == 2, r
        one_error_line(r.err, "not a regular file")


def test_doctor_reports_an_empty_tensorrt_folder(tmp_path):
    (tmp_path / "tensorrt").mkdir()
    r = run_cli("doctor", cwd=tmp_path)  # python -m puts the working directory first
    assert r.rc == 1, r
    assert "PROBLEM 'tensorrt' imported from" in r.out and "is not TensorRT" in r.out


# --- bench keeps bounded statistics -------------------------------------------------------------
def test_bench_samples_are_bounded_and_the_summary_exact():
    from trt_exec.cli.bench import Samples, summarize

    rng = np.random.default_rng(3)
    values = [int(v) for v in rng.integers(1_000, 900_000, size=20_001)]
    samples = Samples(keep=64)
    for i in range(0, len(values), 999):
        samples.extend(values[i : i + 999])
    assert len(samples) < 64 and samples.calls == len(values)
    stride = 1  # every call while it fits, then every 2nd, 4th...: evenly spaced, in order
    while len(values[::stride]) >= 64:
        stride *= 2
    assert list(samples) == values[::stride]
    s = summarize(samples, wall_ns=10**9)
    ms = np.array(values) / 1e6
    assert s.iterations == len(values) and s.throughput_per_s == pytest.approx(len(values))
    assert s.min == ms.min() and s.max == ms.max()
    assert s.mean == pytest.approx(ms.mean()) and s.stdev == pytest.approx(ms.std(ddof=1))
    assert s.p50 == pytest.approx(np.median(ms[::stride]))  # from the kept subsample


def test_bench_duration_memory_does_not_grow_with_calls(monkeypatch):
    from trt_exec.cli import bench

    ticks = iter(range(0, 10**12, 1_000))  # a clock that advances 1 µs per reading
    monkeypatch.setattr(bench.time, "perf_counter_ns", lambda: next(ticks))
    calls = []
    samples, wall = bench.measure(
        lambda: calls.append(1), warmup=0, iterations=1, duration_s=0.05, keep=128
    )
    assert samples.calls == len(calls) > 10_000  # 50 ms of 2 µs calls
    assert len(samples) < 128


def test_compare_reference_of_another_shape_is_not_read(capsys, tmp_path, engine):
    ref = tmp_path / "ref.npz"
    with zipfile.ZipFile(ref, "w") as zf, zf.open("sum.npy", "w") as m:
        np.lib.format.write_array_header_1_0(
            m, {"descr": "<f4", "fortran_order": False, "shape": (10**12, 4)}
        )  # 16 TB declared: reading it would fail, allocating it would exhaust memory
    rc, out, err = cli(
        capsys, "run", str(engine), "--tensorrt", SIM, "--json", "--compare", str(ref)
    )
    assert rc == 1, err
    doc = json.loads(out)["compare"]
    assert doc["match"] is False and doc["outputs"]["sum"]["status"] == "shape"
    assert doc["outputs"]["act"]["status"] == "missing"


def test_usage_errors_escape_the_arguments_they_print_back():
    r = run_cli("inspect", "model.engine", "--no-such-\x1b[31mflag")
    assert r.rc == 2 and "\x1b" not in r.err and "\\x1b[31m" in r.err, r
