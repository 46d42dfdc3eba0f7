"""Test support: a simulated TensorRT, tiny test networks, (in ``.matrix``) the contract matrix of
releases and backends, and (in ``.strategies``) Hypothesis strategies.
``trt_exec.testing.strategies`` is the only module here that imports hypothesis."""

from ..sim import SIMULATED_VERSIONS, HostDevice, NullDevice, SimControl, simulated_tensorrt
from ..sim.gpu import enable_gpu
from .network import (
    DEMO_NETWORK,
    EngineBuildError,
    InputSpec,
    NetworkSpec,
    OpSpec,
    ProfileShapes,
    build_engine,
    reference,
)

__all__ = [
    "DEMO_NETWORK",
    "SIMULATED_VERSIONS",
    "EngineBuildError",
    "HostDevice",
    "InputSpec",
    "NetworkSpec",
    "NullDevice",
    "OpSpec",
    "ProfileShapes",
    "SimControl",
    "build_engine",
    "enable_gpu",
    "reference",
    "simulated_tensorrt",
]
