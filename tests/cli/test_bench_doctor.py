"""``trt-exec bench`` and ``trt-exec doctor`` through the real command line, plus the pure pieces
behind them (statistics, input parsing, doctor's rules) tested in-process."""

from __future__ import annotations

import importlib.util
import os
import pty
import subprocess
import sys
import time

import numpy as np
import pytest

from trt_exec.cli import bench as _bench
from trt_exec.cli.doctor import diagnose
from trt_exec.cli.inputs import parse_input, resolve_inputs
from trt_exec.cli.schemas import BENCH_SCHEMA, DOCTOR_SCHEMA
from trt_exec.errors import BindingError, ConfigurationError
from trt_exec.spec import ProfileShape, TensorSpec

from .helpers import clean_env, conforms, run_cli

SIM = ("--tensorrt", "sim:10.16.1")


def _ordered(lat: dict[str, float]) -> bool:
    return lat["min"] <= lat["p50"] <= lat["p90"] <= lat["p99"] <= lat["max"]


def test_bench_json_conforms_and_counts_iterations(engines):
    r = run_cli("bench", str(engines["10.16.1"]), *SIM, "-n", "37", "--warmup", "3", "--json")
    assert r.rc == 0, r
    doc = r.json()
    conforms(doc, BENCH_SCHEMA)
    assert doc["schema"] == "trt-exec.bench/1"
    assert doc["iterations"] == 37 and doc["warmup"] == 3
    assert doc["data_path"] == "host"
    assert doc["profile"] == 0
    assert doc["inputs"]["x"] == {
        "shape": [2, 4], "dtype": "float32", "source": "random (not given; opt of profile 0)",
    }  # fmt: skip
    assert doc["cuda_graphs"] is None and doc["plot"] is None
    lat = doc["latency_ms"]
    assert _ordered(lat), lat
    assert 0 < lat["min"] < 1000
    assert lat["min"] <= lat["mean"] <= lat["max"]
    # throughput is calls over the wall-clock of the timed phase, which covers every sample
    assert doc["throughput_per_s"] == pytest.approx(37 / doc["duration_s"])
    assert doc["duration_s"] * 1e3 >= lat["mean"] * 37 * 0.999
    # no progress bar when not on a terminal, and nothing else on stderr
    assert r.err == ""


def test_bench_duration_runs_for_at_least_that_long(engines):
    r = run_cli("bench", str(engines["8.4.3"]), "--tensorrt", "sim:8.4.3", "--duration", "0.3",
                "--profile", "1", "--json")  # fmt: skip
    assert r.rc == 0, r
    doc = r.json()
    assert doc["duration_s"] >= 0.3
    assert doc["iterations"] > 10
    assert doc["profile"] == 1 and doc["inputs"]["y"]["shape"] == [8, 4]
    assert doc["backend"]["name"] == "v2"


def test_bench_text_is_plain_without_a_tty(engines):
    r = run_cli("bench", str(engines["11.4.0"]), "--tensorrt", "sim:11.4.0", "-n", "50")
    assert r.rc == 0, r
    for needle in (
        "latency    min ",
        "p50 ",
        "p99 ",
        "throughput ",
        "inferences/s",
        "these are not GPU latencies",
        "50 timed calls",
        "histogram",
        "SIMULATED",
    ):
        assert needle in r.out, needle
    assert "\r" not in r.out + r.err and "\x1b" not in r.out + r.err
    assert r.err == ""


def _run_on_pty(args: list[str]) -> tuple[int, str]:
    """Run the CLI with stdout and stderr on a pseudo-terminal; return (rc, everything shown)."""
    master, slave = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "trt_exec", *args], stdin=subprocess.DEVNULL, stdout=slave,
        stderr=slave, env=clean_env(), close_fds=True,
    )  # fmt: skip
    os.close(slave)
    chunks = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            data = os.read(master, 65536)
        except OSError:  # EIO once the child has exited and the pty is drained
            break
        if not data:
            break
        chunks.append(data)
    os.close(master)
    return proc.wait(timeout=60), b"".join(chunks).decode(errors="replace")


@pytest.mark.skipif(sys.platform == "win32", reason="needs a POSIX pseudo-terminal")
def test_bench_draws_a_progress_bar_on_a_terminal(engines):
    rc, shown = _run_on_pty(["bench", str(engines["10.16.1"]), *SIM, "-n", "400"])
    assert rc == 0, shown
    assert "\rbench [" in shown
    assert "%" in shown and "\x1b[K" in shown
    rc, shown = _run_on_pty(["bench", str(engines["10.16.1"]), *SIM, "-n", "20", "--no-progress"])
    assert rc == 0 and "bench [" not in shown


def test_bench_plot_writes_a_png(engines, tmp_path):
    if importlib.util.find_spec("matplotlib") is None:
        pytest.skip("matplotlib is not installed (pip install 'trt-exec[plot]')")
    png = tmp_path / "latency.png"
    r = run_cli("bench", str(engines["10.16.1"]), *SIM, "-n", "300", "--plot", str(png), "--json")
    assert r.rc == 0, r
    assert r.json()["plot"] == str(png)
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert data[12:16] == b"IHDR"
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    assert width >= 600 and height >= 300
    assert len(data) > 10_000  # two axes with data, not an empty canvas


def test_bench_plot_without_matplotlib_is_a_clear_error(engines, tmp_path):
    fake = tmp_path / "nompl" / "matplotlib"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text("raise ImportError('no matplotlib here')\n")
    env = {"PYTHONPATH": os.pathsep.join([str(fake.parent), clean_env()["PYTHONPATH"]])}
    r = run_cli("bench", str(engines["10.16.1"]), *SIM, "--plot", str(tmp_path / "x.png"), env=env)
    assert r.rc == 2, r
    assert "--plot needs matplotlib" in r.err and "trt-exec[plot]" in r.err
    assert not (tmp_path / "x.png").exists()


def test_bench_cuda_graph_on_the_cpu_simulator_says_why_not(engines):
    r = run_cli("bench", str(engines["10.16.1"]), *SIM, "--cuda-graph", "-n", "5")
    assert r.rc == 2, r
    assert r.err.startswith("trt-exec: error: ")
    assert "CUDA graph" in r.err and "host" in r.err


# --- doctor ------------------------------------------------------------------------------------
def test_doctor_json_on_the_simulator(engines):
    r = run_cli("doctor", "--tensorrt", "sim:rtx-1.7.1", "--json")
    doc = r.json()
    conforms(doc, DOCTOR_SCHEMA)
    problems = [f for f in doc["findings"] if f["level"] == "problem"]
    assert r.rc == (1 if problems else 0), r
    sel = doc["selected"]
    assert (sel["module"], sel["version"], sel["simulated"]) == ("tensorrt_rtx", "1.7.1.116", True)
    assert sel["backend"] == "v3" and sel["selected_by"] == "argument"
    assert any("SIMULATED" in f["what"] for f in doc["findings"])
    assert doc["packages"]["numpy"] == np.__version__
    assert [t["module"] for t in doc["tensorrt"]] == [
        "tensorrt",
        "tensorrt_rtx",
        "tensorrt_lean",
        "tensorrt_dispatch",
    ]


def test_doctor_reports_a_bad_environment_as_a_problem():
    r = run_cli("doctor", env={"TRT_EXEC_TENSORRT": "tensorrt_bogus"})
    assert r.rc == 1, r
    assert "PROBLEM TRT_EXEC_TENSORRT/tensorrt='tensorrt_bogus' is not a TensorRT module" in r.out
    assert "doctor: " in r.out and "problem(s)" in r.out


def _facts(module="tensorrt", simulated=False, devices=(), driver="12.4", dists=(), error=None):
    return {
        "selected": {"module": module, "version": "10.16.1", "simulated": simulated,
                     "selected_by": "discovery", "backend": "v3", "backend_source": "version",
                     "reason": "r", "error": error},
        "cuda": {"driver_version": driver, "runtime_version": "12.4", "error": None,
                 "devices": [{"index": i, "name": n, "compute_capability": cc}
                             for i, (n, cc) in enumerate(devices)]},
        "tensorrt": [{"module": "tensorrt", "installed": module == "tensorrt",
                      "distributions": list(dists), "version": "10.16.1", "error": None},
                     {"module": "tensorrt_rtx", "installed": module == "tensorrt_rtx",
                      "distributions": [], "version": "1.7.1", "error": None}],
        "packages": {"cuda-bindings": "12.9", "cuda-python": None},
    }  # fmt: skip


def _problems(facts):
    return [f["what"] for f in diagnose(facts) if f["level"] == "problem"]


def test_doctor_rules():
    assert _problems(_facts(devices=[("NVIDIA H100", "9.0")])) == []
    rtx_h100 = _problems(_facts(module="tensorrt_rtx", devices=[("NVIDIA H100", "9.0")]))
    assert len(rtx_h100) == 1 and "TensorRT-RTX does not support GPU 0" in rtx_h100[0]
    assert _problems(_facts(module="tensorrt_rtx", devices=[("RTX 4090", "8.9")])) == []
    # the simulated TensorRT-RTX runs on the CPU: the GPU is not a problem for it, only a note
    sim_rtx = diagnose(_facts(module="tensorrt_rtx", simulated=True, devices=[("H100", "9.0")]))
    assert [f["level"] for f in sim_rtx if "TensorRT-RTX does not support" in f["what"]] == ["note"]
    assert all(f["level"] != "problem" for f in sim_rtx)
    # real TensorRT without a GPU is a problem; the simulator without one is not
    assert any("no usable CUDA GPU" in p for p in _problems(_facts(driver=None)))
    assert _problems(_facts(simulated=True, driver=None)) == []
    old_driver = _problems(_facts(devices=[("A100", "8.0")], dists=["tensorrt-cu13 11.4.0"]))
    assert old_driver == [
        "tensorrt-cu13 11.4.0 needs a CUDA 13 driver, but the driver supports CUDA 12.4"
    ]
    assert _problems(_facts(module=None, error="no TensorRT module found")) == [
        "no TensorRT module found"
    ]


# --- pure pieces -------------------------------------------------------------------------------
def test_summarize_matches_numpy():
    rng = np.random.default_rng(1)
    samples = [int(v) for v in rng.integers(10_000, 90_000, size=501)]
    s = _bench.summarize(samples, wall_ns=sum(samples) + 1000)
    ms = np.array(samples) / 1e6
    assert s.iterations == 501
    assert s.p50 == pytest.approx(np.median(ms))
    assert s.p99 == pytest.approx(np.percentile(ms, 99))
    assert s.min == ms.min() and s.max == ms.max()
    assert s.stdev == pytest.approx(ms.std(ddof=1))
    assert s.throughput_per_s == pytest.approx(501 / ((sum(samples) + 1000) / 1e9))
    with pytest.raises(ValueError):
        _bench.summarize([], 1)


def test_measure_counts_warmup_and_iterations():
    calls = []
    samples, wall = _bench.measure(lambda: calls.append(1), warmup=4, iterations=9, duration_s=None)
    assert len(calls) == 13 and len(samples) == 9
    assert all(s >= 0 for s in samples) and wall >= sum(samples)


def test_format_duration_picks_the_unit():
    assert _bench.format_duration(0.0005) == "500 ns"
    assert _bench.format_duration(0.0457) == "45.7 µs"
    assert _bench.format_duration(12.5) == "12.500 ms"
    assert _bench.format_duration(2500) == "2.50 s"


def test_parse_input_forms():
    assert parse_input("x=random:4x16").shape == (4, 16)
    assert parse_input("x=zeros").shape is None and parse_input("x=zeros").kind == "zeros"
    assert parse_input("x=ones:2,3").shape == (2, 3)
    assert parse_input("all.npz").kind == "npz"
    assert parse_input("x=a.npy").path == "a.npy"
    for bad, msg in [
        ("x", "is not NAME=SOURCE"),
        ("=zeros", "empty tensor name"),
        ("x=", "nothing after"),
        ("x=zeros:4x-1", "negative"),
        ("x=gauss:4", "unknown generator 'gauss'"),
        ("x=model.bin", "neither"),
    ]:
        with pytest.raises(ConfigurationError, match=msg):
            parse_input(bad)


def test_resolve_inputs_dtypes_and_names():
    specs = {
        "a": TensorSpec("a", True, np.dtype(np.int32), (-1, 3),
                        (ProfileShape((1, 3), (2, 3), (4, 3)),)),
        "m": TensorSpec("m", True, np.dtype(np.bool_), (5,)),
    }  # fmt: skip
    arrays, sources = resolve_inputs([parse_input("a=ones")], specs, profile=None, seed=3)
    assert arrays["a"].dtype == np.int32 and arrays["a"].shape == (2, 3)
    assert (arrays["a"] == 1).all()
    assert arrays["m"].dtype == np.bool_ and arrays["m"].shape == (5,)
    assert sources["m"].startswith("random (not given")
    with pytest.raises(BindingError, match="no input 'b'"):
        resolve_inputs([parse_input("b=ones")], specs, profile=None, seed=0)
    with pytest.raises(ConfigurationError, match="given twice"):
        resolve_inputs([parse_input("a=ones"), parse_input("a=zeros")], specs, profile=None,
                       seed=0)  # fmt: skip


def test_histogram_text_keeps_outliers_on_one_line():
    samples = [50_000 + i for i in range(990)] + [5_000_000] * 10
    lines = _bench.histogram_text(samples, bins=5)
    assert len(lines) == 6
    assert lines[-1].endswith(" 10 (up to 5.000 ms)")
    assert lines[-1].lstrip().startswith("> ")
    assert sum(int(ln.split()[-1]) for ln in lines[:-1]) == 990
