"""What a new user tripped over in the Python API (issue 14): imports, typing, logging, lazy
``trt_exec.testing``, ``expected_inputs``/``expected_outputs``, messages and warnings."""

from __future__ import annotations

import gc
import importlib.util
import inspect
import os
import subprocess
import sys
import textwrap
import warnings
from pathlib import Path

import numpy as np
import pytest

import trt_exec
import trt_exec.errors as errors
from trt_exec.executor import Executor
from trt_exec.testing import DEMO_NETWORK, build_engine, simulated_tensorrt

from .helpers import demo_inputs

ROOT = Path(__file__).resolve().parents[1]
RELEASE = "10.16.1"


@pytest.fixture(scope="module")
def plan() -> bytes:
    return build_engine(simulated_tensorrt(RELEASE), DEMO_NETWORK)


def _load(plan: bytes, **kw):
    return trt_exec.load(plan, tensorrt=simulated_tensorrt(RELEASE), **kw)


def _python(code: str, **env: str) -> subprocess.CompletedProcess[str]:
    full = {**os.environ, "PYTHONPATH": str(ROOT), **env}
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        env=full,
        timeout=120,
    )


# --- imports -------------------------------------------------------------------------------------
def test_every_error_class_is_importable_from_trt_exec():
    for name in errors.__all__:
        assert getattr(trt_exec, name) is getattr(errors, name), name
        assert name in trt_exec.__all__, name


def test_invalid_backend_error_is_a_value_error():
    assert issubclass(trt_exec.InvalidBackendError, ValueError)
    with pytest.raises(ValueError, match="'v4'"):
        trt_exec.select_backend("10.0.1", "v4")


def test_testing_is_reachable_after_import_trt_exec_and_loaded_lazily():
    out = _python(
        """
        import sys, trt_exec
        assert "trt_exec.testing" not in sys.modules, "loaded eagerly"
        assert "testing" in dir(trt_exec)
        sim = trt_exec.testing.simulated_tensorrt("10.16.1")
        assert "trt_exec.testing" in sys.modules and sim.__version__.startswith("10.16.1")
        print("OK")
        """
    )
    assert out.returncode == 0 and out.stdout.strip() == "OK", out.stderr


def test_strategies_without_hypothesis_say_what_to_install():
    out = _python(
        """
        import sys
        class Block:
            def find_spec(self, name, path=None, target=None):
                if name.split(".")[0] == "hypothesis":
                    raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        sys.meta_path.insert(0, Block())
        try:
            import trt_exec.testing.strategies
        except ModuleNotFoundError as exc:
            print(exc.name, "|", exc)
        """
    )
    assert out.returncode == 0, out.stderr
    name, _, message = out.stdout.partition(" | ")
    assert name == "hypothesis"
    assert "pip install 'trt-exec[test]'" in message and "trt_exec.testing.strategies" in message


# --- typing --------------------------------------------------------------------------------------
def test_load_result_is_an_executor_under_mypy_strict(tmp_path):
    """A typed app passes load()'s result where an Executor is expected (the protocol's backend
    was an instance variable and its __enter__ returned Executor, so BaseExecutor did not match)."""
    if importlib.util.find_spec("mypy") is None:
        pytest.skip("mypy is not installed (pip install 'trt-exec[dev]')")
    from mypy import api

    app = tmp_path / "app.py"
    app.write_text(
        textwrap.dedent(
            """
            import numpy as np
            import trt_exec

            def first(ex: trt_exec.Executor) -> int:
                return ex.active_profile

            with trt_exec.load(b"plan", tensorrt="sim:10.16.1") as ex:
                checked: trt_exec.Executor = ex
                first(ex)
                y: np.ndarray = ex.infer({"x": np.ones((2, 4), np.float32)})["sum"]
                print(ex.backend, ex.choice.reason, checked.io_count, y)
            """
        )
    )
    stdout, stderr, status = api.run(
        [
            "--strict",
            "--ignore-missing-imports",
            "--no-incremental",
            "--cache-dir",
            os.devnull,
            str(app),
        ]
    )
    assert status == 0, stdout + stderr


def test_executor_protocol_methods_carry_docstrings():
    members = [
        n
        for n, v in vars(Executor).items()
        if (callable(v) or isinstance(v, property)) and (not n.startswith("_") or n == "__enter__")
    ]
    assert {"infer", "infer_async", "prepare", "execute", "close", "backend"} <= set(members)
    for name in members:
        doc = inspect.getdoc(getattr(Executor, name))
        assert doc and doc.strip(), f"Executor.{name} has no docstring"


# --- behaviour -----------------------------------------------------------------------------------
def test_expected_inputs_alone_and_expected_outputs_alone(plan):
    with _load(plan, expected_inputs=["y", "x"]) as ex:
        assert list(ex.inputs) == ["x", "y"]
    with _load(plan, expected_outputs=["sum", "act"]):
        pass
    with pytest.raises(errors.BindingError) as info:
        _load(plan, expected_inputs=["x"])
    msg = info.value.message
    assert "expected_inputs=['x']" in msg and "['x', 'y']" in msg and "outputs" not in msg
    with pytest.raises(errors.BindingError) as info:
        _load(plan, expected_outputs=["sum", "nope"])
    assert "expected_outputs=['sum', 'nope']" in info.value.message


def test_active_profile_tells_which_profile_the_last_call_used(plan):
    with _load(plan) as ex:
        ex.infer(demo_inputs(8))  # only profile 1 admits a batch of 8
        assert ex.active_profile == 1
        ex.infer(demo_inputs(2))
        assert ex.active_profile == 0


def test_device_and_stream_are_validated_in_host_mode(plan):
    with pytest.raises(trt_exec.TrtExecError) as info:
        _load(plan, device=-1)
    assert "device" in str(info.value) and "-1" in str(info.value)
    with pytest.raises(trt_exec.TrtExecError) as info:
        _load(plan, stream="not a stream")
    assert "stream" in str(info.value)


def test_hint_after_set_profile_names_set_profile_none(plan):
    with _load(plan) as ex:
        ex.set_profile(0)
        with pytest.raises(errors.ShapeError) as info:
            ex.infer(demo_inputs(8))
    assert "set_profile(None)" in info.value.message


def test_messages_never_print_empty_lists(plan):
    with _load(plan) as ex:
        with pytest.raises(errors.BindingError) as info:
            ex.prepare({"x": (2, 4)})
        assert "[]" not in info.value.message and "missing input(s) ['y']" in info.value.message
        with pytest.raises(errors.BindingError) as info:
            ex.execute({"x": 4096, "y": 4096, "sum": 4096, "act": 4096, "z": 1}, 0)
        assert "[]" not in info.value.message and "unknown tensor(s) ['z']" in info.value.message


def test_tensorrt_lines_appear_once_in_a_message():
    err = errors.ShapeError("bad", tensorrt_log=["same line", "other", "same line"])
    assert err.tensorrt_log == ("same line", "other")
    assert str(err).count("same line") == 1


def test_shape_inference_failure_lists_each_tensorrt_line_once(plan):
    with _load(plan) as ex, pytest.raises(errors.ShapeError) as info:
        ex.infer(demo_inputs(8, batch_y=12))  # both in profile 1; 8 and 12 do not broadcast
    log = info.value.tensorrt_log
    assert log and len(log) == len(set(log))  # TensorRT logged it once per output getter


def test_caught_load_error_prints_nothing_on_stderr():
    """TensorRT's lines are on the exception, not on stderr through logging.lastResort."""
    out = _python(
        """
        import trt_exec
        try:
            trt_exec.load(b"\\x00" * 64, tensorrt="sim:10.16.1")
        except trt_exec.EngineLoadError as exc:
            assert exc.tensorrt_log, "the lines must be on the exception"
            print("caught")
        """
    )
    assert out.returncode == 0 and out.stdout.strip() == "caught", out.stderr
    assert out.stderr == ""


def test_tensorrt_lines_reach_the_users_logging_when_configured():
    out = _python(
        """
        import logging, trt_exec
        logging.basicConfig(level=logging.ERROR, format="%(name)s|%(message)s")
        try:
            trt_exec.load(b"\\x00" * 64, tensorrt="sim:10.16.1")
        except trt_exec.EngineLoadError:
            pass
        """
    )
    assert out.returncode == 0, out.stderr
    assert "trt_exec.tensorrt|" in out.stderr


def _leak_here(plan: bytes) -> int:
    ex = trt_exec.load(plan, tensorrt=simulated_tensorrt(RELEASE))
    line = sys._getframe().f_lineno - 1
    del ex
    return line


def test_leak_warning_points_at_the_users_line(plan):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        line = _leak_here(plan)
        gc.collect()
    leaks = [w for w in caught if issubclass(w.category, ResourceWarning)]
    assert leaks, "no ResourceWarning for a leaked executor"
    w = leaks[0]
    assert (w.filename, w.lineno) == (__file__, line)
    assert f"{__file__}:{line}" in str(w.message)


def test_pool_leak_warning_points_at_the_users_line(plan):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        pool = trt_exec.Pool(plan, size=2, tensorrt=simulated_tensorrt(RELEASE))
        line = sys._getframe().f_lineno - 1
        del pool
        gc.collect()
    leaks = [w for w in caught if "Pool" in str(w.message)]
    assert leaks and (leaks[0].filename, leaks[0].lineno) == (__file__, line)


def test_infer_after_load_gives_numpy(plan):
    with _load(plan) as ex:
        out = ex.infer(demo_inputs(2))
    assert isinstance(out["sum"], np.ndarray) and out["sum"].shape == (2, 4)


# --- sim:<release> spellings ---------------------------------------------------------------------
@pytest.mark.parametrize(
    ("spelling", "release"),
    [
        ("sim:rtx-1.7.1", "rtx-1.7.1"),
        ("sim:1.7.1", "rtx-1.7.1"),
        ("sim:RTX-1.7.1", "rtx-1.7.1"),
        ("sim:rtx1.7.1", "rtx-1.7.1"),
        ("sim:rtx_1.7.1", "rtx-1.7.1"),
        ("sim:tensorrt_rtx-1.7.1", "rtx-1.7.1"),
        ("SIM:10.16.1", "10.16.1"),
        ("sim:v10.16.1", "10.16.1"),
        (" sim: 8.4.3 ", "8.4.3"),
    ],
)
def test_sim_spellings_are_accepted(spelling, release):
    trt = trt_exec.find_tensorrt(spelling)
    want = simulated_tensorrt(release)
    assert (trt.__name__, trt.__version__) == (want.__name__, want.__version__)


@pytest.mark.parametrize(
    ("spelling", "suggestion"), [("sim:10.16", "'sim:10.16.1'"), ("sim:rtx", "'sim:rtx-1.7.1'")]
)
def test_sim_misspelling_error_names_the_right_spelling(spelling, suggestion):
    with pytest.raises(errors.ConfigurationError) as info:
        trt_exec.find_tensorrt(spelling)
    msg = info.value.message
    assert (
        f"did you mean {suggestion}?" in msg and "'sim:rtx-1.7.1'" in msg and repr(spelling) in msg
    )


def test_unknown_sim_release_lists_the_valid_spellings():
    with pytest.raises(errors.ConfigurationError) as info:
        trt_exec.find_tensorrt("sim:9.9.9")
    assert "did you mean" not in info.value.message
    for release in ("8.4.3", "8.6.1", "10.0.1", "10.16.1", "11.4.0", "rtx-1.7.1"):
        assert f"'sim:{release}'" in info.value.message
