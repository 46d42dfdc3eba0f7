"""The public surface is deliberate, and importing needs neither TensorRT nor CUDA."""

from __future__ import annotations

import subprocess
import sys

import pytest

import trt_exec
import trt_exec.errors as errors


def test_all_is_the_public_names():
    import types

    public = {
        n
        for n in dir(trt_exec)
        if not n.startswith("_") and not isinstance(getattr(trt_exec, n), types.ModuleType)
    }
    assert set(trt_exec.__all__) == public | {"__version__", "errors"}


def test_errors_inherit_builtins():
    assert issubclass(errors.ShapeError, ValueError)
    assert issubclass(errors.BindingError, KeyError)
    assert issubclass(errors.ExecutionError, RuntimeError)
    assert issubclass(errors.BackendUnavailableError, LookupError)
    assert issubclass(errors.EngineNotFoundError, FileNotFoundError)
    assert issubclass(errors.TensorRTNotFoundError, ImportError)
    for name in errors.__all__:
        cls = getattr(errors, name)
        assert issubclass(cls, errors.TrtExecError)
        assert cls.__doc__, f"{name} has no docstring saying when it is raised"


def test_error_carries_tensorrt_log():
    err = errors.ExecutionError("enqueue failed", tensorrt_log=["line one", "line two"])
    assert err.tensorrt_log == ("line one", "line two")
    assert "line two" in str(err) and str(err).startswith("enqueue failed")


def test_import_without_tensorrt_or_cuda():
    code = (
        "import sys\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] in ('tensorrt','tensorrt_rtx','tensorrt_lean',"
        "'tensorrt_dispatch','cuda'):\n"
        "            raise ImportError('blocked ' + name)\n"
        "sys.meta_path.insert(0, Block())\n"
        "import trt_exec\n"
        "try:\n"
        "    trt_exec.find_tensorrt()\n"
        "except trt_exec.errors.TensorRTNotFoundError as e:\n"
        "    print('OK', e)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env={"PATH": ""}
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("OK") and "pip install" in out.stdout


@pytest.mark.parametrize(
    "old,new,name",
    [
        ("trt_exec.testing.simtrt", "trt_exec.sim", "simulated_tensorrt"),
        ("trt_exec.v2", "trt_exec.backends.v2", "V2Executor"),
        ("trt_exec.v3", "trt_exec.backends.v3", "V3Executor"),
    ],
)
def test_moved_modules_keep_working_and_name_the_new_place(old: str, new: str, name: str) -> None:
    import importlib
    import sys

    sys.modules.pop(old, None)
    with pytest.warns(DeprecationWarning, match=new.replace(".", r"\.")):
        mod = importlib.import_module(old)
    assert getattr(mod, name) is getattr(importlib.import_module(new), name)
