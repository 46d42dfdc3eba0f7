"""Hypothesis properties: random networks run like numpy, and out-of-profile shapes are refused."""

from __future__ import annotations

from typing import Any

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from trt_exec.testing import SIMULATED_VERSIONS, build_engine, reference, simulated_tensorrt
from trt_exec.testing.strategies import (
    input_arrays,
    networks,
    shapes_in_profile,
    shapes_outside_profiles,
)

from .helpers import make_logger, run_v3

MODULES = {v: simulated_tensorrt(v) for v in SIMULATED_VERSIONS}
SETTINGS = settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def _engine(version: str, spec: Any) -> tuple[Any, Any, Any]:
    trt = MODULES[version]
    logger = make_logger(trt)
    engine = trt.Runtime(logger).deserialize_cuda_engine(build_engine(trt, spec))
    assert engine is not None
    return trt, engine, logger


def _engine_dtypes(trt: Any, engine: Any, spec: Any) -> dict[str, np.dtype]:
    if hasattr(engine, "get_tensor_dtype"):
        get = engine.get_tensor_dtype
    else:  # 8.4.3: bindings only
        get = engine.get_binding_dtype
    return {name: np.dtype(trt.nptype(get(name))) for name in spec.outputs}


@SETTINGS
@given(st.sampled_from([v for v in SIMULATED_VERSIONS if v != "8.4.3"]), st.data())
def test_v3_matches_numpy(version: str, data: st.DataObject) -> None:
    # TensorRT-RTX 1.7.1 builds no NonZero (test_builder.py), so no data-dependent outputs.
    spec = data.draw(networks(allow_data_dependent=not version.startswith("rtx-")))
    trt, engine, logger = _engine(version, spec)
    profile = data.draw(st.integers(0, len(spec.profiles) - 1))
    shapes = data.draw(shapes_in_profile(spec, profile))
    arrays = data.draw(input_arrays(spec, shapes))
    ctx = engine.create_execution_context()
    assert ctx.set_optimization_profile_async(profile, 0)
    out = run_v3(trt, engine, ctx, arrays, _engine_dtypes(trt, engine, spec))
    ref = reference(spec, arrays)
    for name in spec.outputs:
        np.testing.assert_array_equal(out[name], ref[name].astype(out[name].dtype), name)
    assert logger.errors == []


@SETTINGS
@given(st.sampled_from(["8.4.3", "8.6.1"]), networks(max_profiles=3), st.data())
def test_v2_matches_numpy(version: str, spec: Any, data: st.DataObject) -> None:
    trt, engine, logger = _engine(version, spec)
    profile = data.draw(st.integers(0, len(spec.profiles) - 1))
    shapes = data.draw(shapes_in_profile(spec, profile))
    arrays = data.draw(input_arrays(spec, shapes))
    ctx = engine.create_execution_context()
    assert ctx.set_optimization_profile_async(profile, 0)
    nio = len(spec.inputs) + len(spec.outputs)
    assert engine.num_bindings == nio * len(spec.profiles)
    ptrs = [0] * engine.num_bindings
    dtypes = _engine_dtypes(trt, engine, spec)
    outs = {}
    for i, inp in enumerate(spec.inputs):
        assert ctx.set_binding_shape(profile * nio + i, shapes[inp.name])
        ptrs[profile * nio + i] = arrays[inp.name].ctypes.data
    for j, name in enumerate(spec.outputs):
        b = profile * nio + len(spec.inputs) + j
        assert engine.get_binding_name(b) == (
            name if profile == 0 else f"{name} [profile {profile}]"
        )
        outs[name] = np.zeros(tuple(ctx.get_binding_shape(b)), dtypes[name])
        ptrs[b] = outs[name].ctypes.data
    assert ctx.execute_async_v2(ptrs, 0)
    ref = reference(spec, arrays)
    for name in spec.outputs:
        np.testing.assert_array_equal(outs[name], ref[name], name)


@SETTINGS
@given(st.sampled_from([v for v in SIMULATED_VERSIONS if v != "8.4.3"]), networks(), st.data())
def test_shapes_outside_every_profile_are_refused(
    version: str, spec: Any, data: st.DataObject
) -> None:
    trt, engine, logger = _engine(version, spec)
    name, shape = data.draw(shapes_outside_profiles(spec))
    for k in range(len(spec.profiles)):
        ctx = engine.create_execution_context()
        assert ctx.set_optimization_profile_async(k, 0)
        assert ctx.set_input_shape(name, shape) is False
        assert tuple(ctx.get_tensor_shape(name)) == tuple(engine.get_tensor_shape(name))
    assert len(logger.errors) == len(spec.profiles)


@SETTINGS
@given(networks(), st.data())
def test_profile_shapes_round_trip(spec: Any, data: st.DataObject) -> None:
    used = {o for op in spec.ops for o in op.operands}
    assert {i.name for i in spec.inputs} <= used  # no unused inputs
    assert set(spec.outputs) == {op.output for op in spec.ops}  # no dead layers
    trt, engine, _ = _engine("10.16.1", spec)
    assert engine.num_optimization_profiles == len(spec.profiles)
    for k in range(len(spec.profiles)):
        for inp, bounds in zip(spec.inputs, spec.profiles[k]):
            assert engine.get_tensor_profile_shape(inp.name, k) == list(bounds)
    for inp in spec.inputs:
        assert tuple(engine.get_tensor_shape(inp.name)) == inp.shape
