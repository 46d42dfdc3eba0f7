"""The real TensorRT-RTX (``pip install tensorrt-rtx-cu13``, the project's ``rtx`` extra), in CI.

TensorRT-RTX installs from PyPI and builds engines on a CPU when the builder config names a
compute capability (``trt_exec.testing.build_engine`` does so for RTX). Here:

- module discovery picks ``tensorrt_rtx`` when it is the only flavour installed, and its version
  selects the V3 backend;
- ``build_engine`` runs unchanged against the real RTX builder and serializes engines with several
  optimization profiles (the demo network and random ones), and the simulated RTX accepts and
  refuses the same networks;
- deserializing and running needs a GPU that TensorRT-RTX supports; the test that tries it skips
  with the reason elsewhere (no driver on CPU machines; our H100/H200 are compute capability 9.0,
  which TensorRT-RTX refuses).

Skipped as a whole, with the reason, where ``tensorrt_rtx`` is not importable.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings

import trt_exec
from trt_exec.discovery import ENV_TENSORRT, find_tensorrt, module_flavor, module_version
from trt_exec.errors import BackendUnavailableError
from trt_exec.selection import explain_backend, select_backend
from trt_exec.testing import (
    DEMO_NETWORK,
    EngineBuildError,
    InputSpec,
    NetworkSpec,
    OpSpec,
    build_engine,
    reference,
    simulated_tensorrt,
)
from trt_exec.testing.strategies import networks

pytestmark = pytest.mark.rtx


def _import_rtx() -> Any:
    try:
        return importlib.import_module("tensorrt_rtx")
    except Exception as exc:  # ImportError, or OSError from a missing libtensorrt_rtx
        pytest.skip(
            f"the real TensorRT-RTX is not importable ({type(exc).__name__}: {exc}); install it "
            "with `pip install tensorrt-rtx-cu13` or `pip install -e '.[rtx]'`",
            allow_module_level=True,
        )


trt = _import_rtx()


@pytest.fixture(scope="module")
def sim() -> Any:
    return simulated_tensorrt("rtx-1.7.1")


def _cc(name: str = "SM89") -> Any:
    return getattr(trt.ComputeCapability, name)


# ------------------------------------------------------------------------------------------
def test_discovery_picks_rtx_when_it_is_the_only_flavour(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV_TENSORRT, raising=False)
    # `import tensorrt` fails as on a machine without it (ModuleNotFoundError, name "tensorrt").
    monkeypatch.setitem(sys.modules, "tensorrt", None)
    with pytest.raises(ModuleNotFoundError):
        importlib.import_module("tensorrt")
    found = find_tensorrt()
    assert found is trt
    assert module_flavor(found) == "tensorrt_rtx"
    monkeypatch.setenv(ENV_TENSORRT, "tensorrt_rtx")
    assert find_tensorrt() is trt


def test_version_selects_v3() -> None:
    version = module_version(trt)
    assert version.startswith("1.")
    choice = explain_backend(version, None, flavor=module_flavor(trt))
    assert choice.backend == "v3", choice
    assert select_backend(version, flavor="tensorrt_rtx") == "v3"
    with pytest.raises(BackendUnavailableError):
        select_backend(version, "v2", flavor="tensorrt_rtx")


def test_real_module_has_what_the_v3_backend_uses() -> None:
    engine_api = (
        "num_io_tensors",
        "get_tensor_name",
        "get_tensor_mode",
        "get_tensor_profile_shape",
        "device_memory_size_v2",
    )
    assert all(hasattr(trt.ICudaEngine, a) for a in engine_api)
    assert not hasattr(trt.ICudaEngine, "num_bindings")
    assert not hasattr(trt.IExecutionContext, "execute_async_v2")


# ------------------------------------------------------------------------------------------
def test_demo_network_builds_with_several_profiles(sim: Any) -> None:
    assert len(DEMO_NETWORK.profiles) >= 2
    plan = build_engine(trt, DEMO_NETWORK, compute_capability=_cc("SM89"))
    assert isinstance(plan, bytes) and len(plan) > 1000
    build_engine(sim, DEMO_NETWORK)  # and the simulated RTX builds it too


@pytest.mark.parametrize("cc", ["SM80", "SM86", "SM89", "SM120"])
def test_each_supported_compute_capability_builds(cc: str) -> None:
    assert len(build_engine(trt, DEMO_NETWORK, compute_capability=_cc(cc))) > 1000


def _builds(module: Any, spec: NetworkSpec, **kw: Any) -> str | None:
    """None when the build succeeds, else the builder's error."""
    try:
        build_engine(module, spec, **kw)
    except EngineBuildError as exc:
        return str(exc)
    return None


@settings(
    max_examples=20,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
@given(
    spec=networks(max_inputs=3, max_outputs=3, max_profiles=4).filter(
        lambda s: len(s.profiles) >= 2
    )
)
def test_random_multi_profile_networks_build_on_real_and_simulated_rtx(spec: NetworkSpec) -> None:
    # float32, float16, int32 and bool networks (the strategy's default dtypes): the real RTX
    # builder refuses none of them.
    sim = simulated_tensorrt("rtx-1.7.1")
    real_error = _builds(trt, spec, compute_capability=_cc("SM89"))
    sim_error = _builds(sim, spec)
    assert real_error is None, f"real TensorRT-RTX refused {spec}: {real_error}"
    assert sim_error is None, f"the simulated RTX refused what the real one builds: {sim_error}"


BAD_PROFILE = NetworkSpec(
    inputs=(InputSpec("x", "float32", (-1, 4)),),
    ops=(OpSpec("identity", ("x",), "y"),),
    outputs=("y",),
    profiles=((((4, 4), (2, 4), (1, 4)),),),  # min > opt > max
)


def test_an_invalid_profile_is_refused_by_both(sim: Any) -> None:
    refused = (EngineBuildError, RuntimeError)
    with pytest.raises(refused) as real:
        build_engine(trt, BAD_PROFILE, compute_capability=_cc("SM89"))
    assert "isValid" in str(real.value) or "inconsistent" in str(real.value)
    with pytest.raises(refused):
        build_engine(sim, BAD_PROFILE)


def _set_bad_shape(module: Any) -> str:
    class Logger(module.ILogger):  # type: ignore[misc,name-defined]
        def __init__(self) -> None:
            module.ILogger.__init__(self)

        def log(self, severity: Any, msg: str) -> None:
            pass

    profile = module.Builder(Logger()).create_optimization_profile()
    try:
        profile.set_shape("x", (4, 4), (2, 4), (1, 4))
    except RuntimeError as exc:
        return f"RuntimeError: {exc}"
    return "returned"


def test_invalid_profile_shape_fails_at_the_same_call(sim: Any) -> None:
    assert _set_bad_shape(trt) == _set_bad_shape(sim)


NON_ZERO = NetworkSpec(
    inputs=(InputSpec("x", "float32", (-1, 4)),),
    ops=(OpSpec("non_zero", ("x",), "nz"), OpSpec("unary", ("x",), "neg", "NEG")),
    outputs=("nz", "neg"),
    profiles=((((1, 4), (2, 4), (4, 4)),), (((4, 4), (8, 4), (16, 4)),)),
)


def test_data_dependent_network_is_refused_by_both(sim: Any) -> None:
    """The real TensorRT-RTX 1.7.1 builder refuses INonZeroLayer here (a CPU, an explicit compute
    capability; every SM, INT32 or INT64 indices); the simulated RTX refuses it alike."""
    for cc in ("SM80", "SM89", "SM120"):
        real = _builds(trt, NON_ZERO, compute_capability=_cc(cc))
        assert real is not None and "layer_nz has no runners that implement it" in real, real
    simulated = _builds(sim, NON_ZERO)
    assert simulated is not None and "layer_nz has no runners that implement it" in simulated


def _non_zero_dtype(module: Any) -> Any:
    class Logger(module.ILogger):  # type: ignore[misc,name-defined]
        def __init__(self) -> None:
            module.ILogger.__init__(self)

        def log(self, severity: Any, msg: str) -> None:
            pass

    network = module.Builder(Logger()).create_network(0)
    x = network.add_input("x", module.float32, (3, 4))
    return network.add_non_zero(x).get_output(0).dtype.name


def test_non_zero_default_index_type_matches(sim: Any) -> None:
    assert _non_zero_dtype(trt) == _non_zero_dtype(sim)


# ------------------------------------------------------------------------------------------
def _supported_gpu() -> tuple[Any, str]:
    """(ComputeCapability member of the current GPU, "") or (None, why not)."""
    supported = {
        n: (int(n[2:-1]), int(n[-1]))
        for n in trt.ComputeCapability.__members__
        if n.startswith("SM") and n[2:].isdigit()
    }
    try:
        from cuda.bindings import runtime as cudart

        err, count = cudart.cudaGetDeviceCount()
        if int(err) != 0 or count < 1:
            return None, f"no usable CUDA GPU ({getattr(err, 'name', err)})"
        attr = cudart.cudaDeviceAttr
        _, major = cudart.cudaDeviceGetAttribute(attr.cudaDevAttrComputeCapabilityMajor, 0)
        _, minor = cudart.cudaDeviceGetAttribute(attr.cudaDevAttrComputeCapabilityMinor, 0)
    except Exception as exc:
        return None, f"CUDA is unusable ({type(exc).__name__}: {exc})"
    for name, cc in supported.items():
        if cc == (major, minor):
            return _cc(name), ""
    return None, (
        f"the GPU has compute capability {major}.{minor}, which TensorRT-RTX "
        f"{trt.__version__} does not support (it builds for {sorted(supported)})"
    )


def test_deserialize_and_infer_on_a_supported_gpu() -> None:
    cc, why = _supported_gpu()
    plan = build_engine(trt, DEMO_NETWORK, compute_capability=cc or _cc("SM89"))
    errors: list[str] = []

    class Logger(trt.ILogger):  # type: ignore[misc,name-defined]
        def __init__(self) -> None:
            trt.ILogger.__init__(self)

        def log(self, severity: Any, msg: str) -> None:
            if int(severity) <= 1:
                errors.append(msg)

    engine = trt.Runtime(Logger()).deserialize_cuda_engine(plan)
    if cc is None or engine is None:
        sms = ", ".join(n for n in trt.ComputeCapability.__members__ if n.startswith("SM"))
        pytest.skip(
            "deserializing a TensorRT-RTX engine needs a CUDA driver and a GPU that TensorRT-RTX "
            f"supports ({sms}); the H100/H200 test machines (compute capability 9.0) are "
            "refused ('TensorRT-RTX does not support this compute capability'). Here: "
            f"{why or 'deserialization failed'}; TensorRT-RTX logged {errors[-1:]!r}"
        )
    with trt_exec.load(plan, tensorrt=trt) as ex:
        assert ex.backend == "v3"
        for k in range(ex.num_profiles):
            rng = np.random.default_rng(k)
            arrays = {
                i.name: rng.uniform(-2, 2, DEMO_NETWORK.profiles[k][i.name][1]).astype(i.dtype)
                for i in DEMO_NETWORK.inputs
            }
            got = ex.infer(arrays, profile=k)
            for name, want in reference(DEMO_NETWORK, arrays).items():
                np.testing.assert_allclose(got[name], want, rtol=1e-5)
