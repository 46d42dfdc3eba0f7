"""The IO model outside the contract matrix: every DataType of every release mapped or refused,
non-LINEAR formats refused, ``load(ICudaEngine)`` and the engine's own module."""

from __future__ import annotations

import sys
import types

import numpy as np
import pytest

import trt_exec
from trt_exec import _dtypes
from trt_exec.errors import ConfigurationError, DTypeError, EngineLoadError
from trt_exec.sim._releases import RELEASES, enum_members
from trt_exec.testing import DEMO_NETWORK, build_engine, simulated_tensorrt
from trt_exec.testing.matrix import SIM_RELEASES

from .helpers import demo_inputs


def _datatypes(release: str) -> list[str]:
    enums, _ = enum_members(RELEASES[release])
    return [name for name, _value in enums["DataType"]]


@pytest.mark.parametrize("release", SIM_RELEASES)
def test_every_datatype_of_every_release_maps_or_says_what_to_do(release, monkeypatch):
    monkeypatch.setitem(sys.modules, "ml_dtypes", None)  # as if not installed
    names = _datatypes(release)
    assert {"FLOAT", "HALF", "INT8", "INT32", "BOOL"} <= set(names)
    for name in names:
        member = types.SimpleNamespace(name=name)
        if name in _dtypes.NUMPY:
            assert _dtypes.to_numpy(member, "t") == _dtypes.NUMPY[name]
            continue
        with pytest.raises(DTypeError) as info:
            _dtypes.to_numpy(member, "t")
        msg = str(info.value)
        assert "'t'" in msg and name in msg
        if name in _dtypes.ML_DTYPES:
            assert "pip install 'trt-exec[ml-dtypes]'" in msg
        else:
            assert name in _dtypes.PACKED and "packed two elements per byte" in msg


def test_ml_dtypes_types_map_when_installed(monkeypatch):
    """With ml_dtypes (a stand-in here: it is not installed in this environment), BF16, FP8 and
    E8M0 map to its dtypes; an older ml_dtypes without E8M0 says to upgrade."""
    fake = types.ModuleType("ml_dtypes")
    fake.__version__ = "0.4.0"
    fake.bfloat16 = np.dtype([("b", "u2")])
    fake.float8_e4m3fn = np.dtype([("f", "u1")])
    monkeypatch.setitem(sys.modules, "ml_dtypes", fake)
    bf16 = _dtypes.to_numpy(types.SimpleNamespace(name="BF16"), "w")
    assert bf16 == fake.bfloat16 and bf16.itemsize == 2
    assert _dtypes.to_numpy(types.SimpleNamespace(name="FP8"), "w").itemsize == 1
    with pytest.raises(DTypeError, match=r"0\.4\.0 has no float8_e8m0fnu.*upgrade"):
        _dtypes.to_numpy(types.SimpleNamespace(name="E8M0"), "w")


@pytest.mark.parametrize(
    ("release", "backend"), [("8.6.1", "v2"), ("8.6.1", "v3"), ("10.16.1", "v3")]
)
def test_non_linear_format_refused(release, backend, monkeypatch):
    trt = simulated_tensorrt(release)
    plan = build_engine(trt, DEMO_NETWORK)
    chw4 = trt.TensorFormat.CHW4
    meth = "get_binding_format" if backend == "v2" else "get_tensor_format"
    monkeypatch.setattr(trt.ICudaEngine, meth, lambda self, *a: chw4)
    with pytest.raises(EngineLoadError, match=r"tensor 'x' has TensorFormat CHW4, not LINEAR"):
        trt_exec.load(plan, tensorrt=trt, backend=backend)


def _engine(trt):
    runtime = trt.Runtime(trt.Logger(trt.Logger.WARNING))
    return runtime, runtime.deserialize_cuda_engine(build_engine(trt, DEMO_NETWORK))


@pytest.mark.parametrize("release", ["8.6.1", "10.16.1", "rtx-1.7.1"])
def test_load_engine_object_uses_its_own_module(release, monkeypatch):
    monkeypatch.delenv("TRT_EXEC_TENSORRT", raising=False)
    trt = simulated_tensorrt(release)
    _runtime, engine = _engine(trt)
    with trt_exec.load(engine) as ex:
        assert ex.tensorrt is trt
        assert list(ex.inputs) == ["x", "y"] and "sum" in ex.outputs
        out = ex.infer(demo_inputs(2))
        assert out["sum"].shape == (2, 4)
    monkeypatch.setenv("TRT_EXEC_TENSORRT", f"sim:{release}")  # names the engine's own release
    with trt_exec.load(engine) as ex:
        assert ex.tensorrt is trt


def test_load_engine_object_with_another_module_refused(monkeypatch):
    monkeypatch.delenv("TRT_EXEC_TENSORRT", raising=False)
    trt = simulated_tensorrt("10.16.1")
    other = simulated_tensorrt("10.16.1")
    _runtime, engine = _engine(trt)
    with pytest.raises(ConfigurationError) as info:
        trt_exec.load(engine, tensorrt=other)
    msg = str(info.value)
    assert f"{id(trt):#x}" in msg and f"{id(other):#x}" in msg and "own module" in msg
    monkeypatch.setenv("TRT_EXEC_TENSORRT", "sim:11.4.0")
    with pytest.raises(ConfigurationError, match=r"tensorrt 10\.16\.1.*tensorrt 11\.4\.0"):
        trt_exec.load(engine)


def test_outputs_that_alias_through_views_or_foreign_buffers_are_refused() -> None:
    """The alias check's shortcut (numpy arrays with distinct owners cannot overlap) must not hide
    views of one array, nor arrays over one foreign buffer."""
    import trt_exec
    from trt_exec.errors import ArrayError
    from trt_exec.testing import DEMO_NETWORK, build_engine, simulated_tensorrt

    trt = simulated_tensorrt("10.16.1")
    with trt_exec.load(build_engine(trt, DEMO_NETWORK), tensorrt=trt) as ex:
        x = {"x": np.ones((2, 4), np.float32), "y": np.ones((2, 4), np.float32)}
        block = np.empty((3, 4), np.float32)  # two outputs as overlapping views of one array
        with pytest.raises(ArrayError, match="'sum'.*overlapping output 'act'"):
            ex.infer(x, outputs={"sum": block[0:2], "act": block[1:3]})
        raw = bytearray(48)  # two outputs over one bytearray through separate memoryviews
        a = np.frombuffer(memoryview(raw)[0:32], np.float32).reshape(2, 4)
        b = np.frombuffer(memoryview(raw)[16:48], np.float32).reshape(2, 4)
        with pytest.raises(ArrayError, match="overlapping"):
            ex.infer(x, outputs={"sum": a, "act": b})
        apart = {"sum": np.empty((2, 4), np.float32), "act": np.empty((3, 4), np.float32)[1:]}
        got = ex.infer(x, outputs=apart)  # distinct owners: no false alarm
        np.testing.assert_array_equal(got["sum"], x["x"] + x["y"])


def test_the_alias_verdict_kept_for_device_arrays_follows_their_addresses() -> None:
    """The verdict for the same device arrays is kept (they are frozen: same byte ranges). An
    object whose interface now reports another pointer is a new array: checked again."""
    import trt_exec
    from trt_exec.errors import ArrayError
    from trt_exec.testing import DEMO_NETWORK, build_engine, simulated_tensorrt

    class Dev:  # a CUDA array by its interface only; host mode refuses it after the checks
        def __init__(self, ptr: int) -> None:
            self.__cuda_array_interface__ = {
                "shape": (2, 4),
                "typestr": "<f4",
                "data": (ptr, False),
                "version": 3,
            }

    trt = simulated_tensorrt("10.16.1")
    with trt_exec.load(build_engine(trt, DEMO_NETWORK), tensorrt=trt) as ex:
        x = {"x": Dev(0x10000), "y": Dev(0x20000)}
        outs = {"sum": Dev(0x30000), "act": Dev(0x40000)}
        for _ in range(2):  # apart: past the alias check, refused by host mode itself
            with pytest.raises(ArrayError, match="host mode"):
                ex.infer(x, outputs=outs)
        outs["act"].__cuda_array_interface__ = dict(
            outs["act"].__cuda_array_interface__, data=(0x30010, False)
        )
        for _ in range(2):  # now overlapping 'sum': refused by the alias check, every time
            with pytest.raises(ArrayError, match="'sum'.*overlapping output 'act'"):
                ex.infer(x, outputs=outs)


def test_an_ndarray_subclass_output_overlapping_a_plain_view_is_refused() -> None:
    """The shortcut skips only plain ndarrays; with a subclass among the arrays every array is
    judged by its byte range, so a plain view of a subclass's memory is still caught."""
    import trt_exec
    from trt_exec.errors import ArrayError
    from trt_exec.testing import DEMO_NETWORK, build_engine, simulated_tensorrt

    class Sub(np.ndarray):
        pass

    trt = simulated_tensorrt("10.16.1")
    with trt_exec.load(build_engine(trt, DEMO_NETWORK), tensorrt=trt) as ex:
        x = {"x": np.ones((2, 4), np.float32), "y": np.ones((2, 4), np.float32)}
        owner = np.empty((2, 4), np.float32).view(Sub)
        with pytest.raises(ArrayError, match="same memory"):
            ex.infer(x, outputs={"sum": owner, "act": owner.view(np.ndarray)})
