"""The module object, the per-release surface, enums, Dims and loggers."""

from __future__ import annotations

import pickle
import types

import pytest

from trt_exec.sim import SimulatedTensorRTModule
from trt_exec.testing import SIMULATED_VERSIONS, simulated_tensorrt

from .helpers import Harness, make_logger


def test_versions_and_module_identity(version: str) -> None:
    trt = simulated_tensorrt(version)
    assert isinstance(trt, types.ModuleType) and isinstance(trt, SimulatedTensorRTModule)
    assert trt.__trt_exec_simulated__ is True
    if version.startswith("rtx-"):
        # The real wheels' __version__ carries the build number (issue 17).
        assert (trt.__name__, trt.__version__) == ("tensorrt_rtx", "1.7.1.116")
        assert trt._sim.flavor == "rtx"
    else:
        full = {"10.16.1": "10.16.1.11", "11.4.0": "11.4.0.106"}.get(version, version)
        assert (trt.__name__, trt.__version__) == ("tensorrt", full)
        assert trt._sim.flavor == "tensorrt"
    assert trt._sim.version == version
    other = simulated_tensorrt(version)
    assert other is not trt and other._sim is not trt._sim
    assert other.ICudaEngine is not trt.ICudaEngine


def test_supported_versions_listed() -> None:
    assert SIMULATED_VERSIONS == ("8.4.3", "8.6.1", "10.0.1", "10.16.1", "11.4.0", "rtx-1.7.1")
    with pytest.raises(ValueError, match="10.0.1"):
        simulated_tensorrt("9.9.9")


# (attribute owner, attribute, releases that have it)
SURFACE = [
    ("ICudaEngine", "num_bindings", {"8.4.3", "8.6.1"}),
    ("ICudaEngine", "get_binding_index", {"8.4.3", "8.6.1"}),
    ("ICudaEngine", "binding_is_input", {"8.4.3", "8.6.1"}),
    ("ICudaEngine", "get_profile_shape", {"8.4.3", "8.6.1"}),
    ("ICudaEngine", "max_batch_size", {"8.4.3", "8.6.1"}),
    ("ICudaEngine", "num_io_tensors", set(SIMULATED_VERSIONS) - {"8.4.3"}),
    ("ICudaEngine", "get_tensor_profile_shape", set(SIMULATED_VERSIONS) - {"8.4.3"}),
    ("ICudaEngine", "device_memory_size", {"8.4.3", "8.6.1", "10.0.1", "10.16.1"}),
    ("ICudaEngine", "has_implicit_batch_dimension", {"8.4.3", "8.6.1", "10.0.1", "10.16.1"}),
    ("ICudaEngine", "get_device_memory_size_for_profile", {"10.0.1", "10.16.1"}),
    ("ICudaEngine", "device_memory_size_v2", {"10.16.1", "11.4.0", "rtx-1.7.1"}),
    (
        "ICudaEngine",
        "create_execution_context_without_device_memory",
        {"8.4.3", "8.6.1", "10.0.1", "10.16.1"},
    ),
    ("IExecutionContext", "execute_async_v2", {"8.4.3", "8.6.1"}),
    ("IExecutionContext", "set_binding_shape", {"8.4.3", "8.6.1"}),
    ("IExecutionContext", "execute_v2", set(SIMULATED_VERSIONS)),
    ("IExecutionContext", "execute_async_v3", set(SIMULATED_VERSIONS) - {"8.4.3"}),
    ("IExecutionContext", "set_input_shape", set(SIMULATED_VERSIONS) - {"8.4.3"}),
    ("IExecutionContext", "set_device_memory", {"10.16.1", "11.4.0", "rtx-1.7.1"}),
    ("IExecutionContext", "all_shape_inputs_specified", {"8.4.3", "8.6.1", "10.0.1", "10.16.1"}),
    ("tensorrt", "IOutputAllocator", set(SIMULATED_VERSIONS) - {"8.4.3"}),
    ("tensorrt", "TensorIOMode", set(SIMULATED_VERSIONS) - {"8.4.3"}),
    (
        "tensorrt",
        "ExecutionContextAllocationStrategy",
        {"10.0.1", "10.16.1", "11.4.0", "rtx-1.7.1"},
    ),
    ("tensorrt", "ComputeCapability", {"rtx-1.7.1"}),
    ("IBuilderConfig", "set_compute_capability", {"rtx-1.7.1"}),
    ("Builder", "build_engine", {"8.4.3", "8.6.1"}),
    ("BuilderFlag", "FP16", {"8.4.3", "8.6.1", "10.0.1", "10.16.1"}),
    ("BuilderFlag", "INT8", {"8.4.3", "8.6.1", "10.0.1", "10.16.1"}),
    ("DataType", "INT64", {"10.0.1", "10.16.1", "11.4.0", "rtx-1.7.1"}),
    ("DataType", "FP8", set(SIMULATED_VERSIONS) - {"8.4.3"}),
    ("NetworkDefinitionCreationFlag", "EXPLICIT_BATCH", {"8.4.3", "8.6.1", "10.0.1", "10.16.1"}),
    (
        "NetworkDefinitionCreationFlag",
        "STRONGLY_TYPED",
        {"10.0.1", "10.16.1", "11.4.0", "rtx-1.7.1"},
    ),
]


@pytest.mark.parametrize(
    ("owner", "attr", "have"), SURFACE, ids=[f"{o}.{a}" for o, a, _ in SURFACE]
)
def test_surface_per_release(version: str, owner: str, attr: str, have: set[str]) -> None:
    trt = simulated_tensorrt(version)
    obj = trt if owner == "tensorrt" else getattr(trt, owner)
    assert hasattr(obj, attr) == (version in have)


def test_removed_attributes_absent_on_instances() -> None:
    h = Harness("10.0.1")
    ctx = h.engine.create_execution_context()
    assert not hasattr(h.engine, "num_bindings")
    assert not hasattr(ctx, "execute_async_v2")
    with pytest.raises(AttributeError):
        h.engine.get_binding_shape(0)
    h11 = Harness("11.4.0")
    assert not hasattr(h11.engine, "device_memory_size")
    assert h11.engine.device_memory_size_v2 > 0


def test_enum_semantics() -> None:
    trt = simulated_tensorrt("10.0.1")
    dt = trt.DataType
    assert (int(dt.FLOAT), int(dt.HALF), int(dt.INT32), int(dt.BOOL), int(dt.INT64)) == (
        0,
        1,
        3,
        4,
        8,
    )
    assert dt.HALF.name == "HALF" and dt.HALF.value == 1
    assert repr(dt.HALF) == "<DataType.HALF: 1>" and str(dt.HALF) == "DataType.HALF"
    assert dt(3) is dt.INT32 and dt.INT32 == dt.INT32 and dt.INT32 != dt.FLOAT
    assert dt.INT32 != 3  # pybind11 enums without py::arithmetic only equal their own members
    assert trt.BuilderFlag.FP16 == 0  # arithmetic enum
    assert {dt.FLOAT: 1}[dt.FLOAT] == 1
    assert list(dt.__members__)[:5] == ["FLOAT", "HALF", "INT8", "INT32", "BOOL"]
    assert dt.HALF.itemsize == 2 and dt.BOOL.itemsize == 1
    assert trt.ElementWiseOperation.LESS.value == 13 and trt.UnaryOperation.NOT.value == 20
    assert trt.Logger.ERROR == trt.ILogger.Severity.ERROR and int(trt.Logger.VERBOSE) == 4
    assert not hasattr(simulated_tensorrt("8.4.3").DataType, "UINT8")
    assert trt.nptype(dt.HALF).__name__ == "float16"
    with pytest.raises(TypeError):
        trt.nptype(dt.BF16)


def test_dims() -> None:
    trt = simulated_tensorrt("10.16.1")
    d = trt.Dims([2, -1, 3])
    assert len(d) == 3 and d[1] == -1 and list(d) == [2, -1, 3]
    assert d == (2, -1, 3) and d == [2, -1, 3] and d != (2, 3)
    with pytest.raises(TypeError):  # Dims == Dims raises on the real bindings (issue 17)
        _ = d == trt.Dims((2, -1, 3))
    assert not isinstance(d, tuple)
    assert repr(d) == "(2, -1, 3)"
    with pytest.raises(IndexError):
        d[3]
    with pytest.raises(TypeError):
        hash(d)


def test_logger_prints_at_or_above_min_severity(capsys: pytest.CaptureFixture[str]) -> None:
    trt = simulated_tensorrt("8.6.1")
    logger = trt.Logger(trt.Logger.WARNING)
    logger.log(trt.Logger.INFO, "quiet")
    logger.log(trt.Logger.ERROR, "loud")
    err = capsys.readouterr().err
    assert "loud" in err and "[TRT] [E]" in err and "quiet" not in err
    assert logger.min_severity == trt.Logger.WARNING


def test_ilogger_subclass_must_call_base_init() -> None:
    trt = simulated_tensorrt("10.0.1")

    class Bad(trt.ILogger):  # type: ignore[misc,name-defined]
        def __init__(self) -> None:
            pass

        def log(self, severity: object, msg: str) -> None:
            pass

    with pytest.raises(TypeError, match="must be called when overriding __init__"):
        Bad()
    assert make_logger(trt).records == []
    with pytest.raises(TypeError):
        trt.Runtime(object())


def test_network_spec_shapes() -> None:
    from trt_exec.testing import DEMO_NETWORK, InputSpec

    assert [n for n, _, _ in DEMO_NETWORK.inputs] == ["x", "y"]
    assert DEMO_NETWORK.inputs[0] == InputSpec("x", "float32", (-1, 4))
    prof = DEMO_NETWORK.profiles[1]
    assert prof["y"] == prof[1] == ((4, 4), (8, 4), (16, 4))
    with pytest.raises(KeyError):
        prof["nope"]
    assert hash(DEMO_NETWORK) == hash(pickle.loads(pickle.dumps(DEMO_NETWORK)))


def test_fixed_rank_dims() -> None:
    trt = simulated_tensorrt("10.0.1")
    assert trt.Dims2(3, 4) == (3, 4) and trt.Dims3([1, 2, 3]) == (1, 2, 3)
    assert isinstance(trt.Dims4(1, 2, 3, 4), trt.Dims)
    assert trt.Dims([5, 6, 7])[1:] == (6, 7)
    with pytest.raises(TypeError):
        trt.Dims2(1, 2, 3)


def test_public_surface_is_deliberate() -> None:
    import trt_exec.sim as simtrt
    import trt_exec.testing as testing
    import trt_exec.testing.strategies as strategies

    for mod in (testing, simtrt):
        public = {
            n
            for n, v in vars(mod).items()
            if not n.startswith("_") and not isinstance(v, types.ModuleType) and n != "annotations"
        }
        assert set(mod.__all__) == public, mod.__name__
    defined = {
        n
        for n, v in vars(strategies).items()
        if getattr(v, "__module__", "") == strategies.__name__
    }
    assert set(strategies.__all__) == {n for n in defined if not n.startswith("_")}


def test_plugin_functions(version: str) -> None:
    """init_libnvinfer_plugins(logger, namespace) -> True and get_plugin_registry(), as
    Polygraphy calls them; the registry's surface per release follows the manifests."""
    trt = simulated_tensorrt(version)
    assert trt.init_libnvinfer_plugins(trt.Logger(), "") is True
    assert trt.init_libnvinfer_plugins(None, "ns") is True
    for bad in ((5, ""), (object(), ""), (trt.Logger(), 3)):
        with pytest.raises(TypeError, match="incompatible function arguments"):
            trt.init_libnvinfer_plugins(*bad)
    registry = trt.get_plugin_registry()
    assert registry is trt.get_plugin_registry() and isinstance(registry, trt.IPluginRegistry)
    with pytest.raises(TypeError):
        trt.IPluginRegistry()
    legacy = version.startswith(("8.", "10."))
    assert hasattr(registry, "plugin_creator_list") == legacy
    assert hasattr(registry, "all_creators") == (not version.startswith("8."))
    if legacy:
        assert registry.plugin_creator_list == []
        assert registry.get_plugin_creator("X", "1") is None
    else:
        assert registry.all_creators == [] and registry.get_creator("X", "1", "") is None
