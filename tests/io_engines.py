"""Engines for the IO-model tests, built with any TensorRT module's own builder API (real or
simulated): shape-tensor inputs, a host output, fixed shapes, awkward tensor names."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

# Profile 0 and 1 of the shape-tensor engine: x's shapes, and the values of "s" (reshape) and
# "n" (slice size).
SHAPE_PROFILES = (
    {"x": ((1, 6), (2, 6), (4, 6)), "s": ((1, 1), (2, 6), (24, 24)), "n": ((0, 0), (1, 3), (4, 6))},
    {"x": ((5, 6), (6, 6), (8, 6)), "s": ((1, 1), (6, 6), (48, 48)), "n": ((0, 0), (5, 3), (8, 6))},
)


def _build(trt: Any, define: Callable[[Any, Any], None], profiles: list[dict[str, Any]]) -> bytes:
    errors: list[str] = []

    class _Logger(trt.ILogger):  # type: ignore[misc]
        def __init__(self) -> None:
            trt.ILogger.__init__(self)

        def log(self, severity: Any, msg: str) -> None:
            if int(severity) <= int(trt.ILogger.Severity.ERROR):
                errors.append(msg)

    builder = trt.Builder(_Logger())
    flags = 0
    if trt.__name__ == "tensorrt" and int(trt.__version__.split(".")[0]) < 10:
        flags = 1 << int(trt.NetworkDefinitionCreationFlag.EXPLICIT_BATCH)
    network = builder.create_network(flags)
    define(trt, network)
    config = builder.create_builder_config()
    for prof in profiles:
        p = builder.create_optimization_profile()
        for name, (kind, lo, opt, hi) in prof.items():
            (p.set_shape_input if kind == "values" else p.set_shape)(name, lo, opt, hi)
        assert config.add_optimization_profile(p) >= 0, errors
    if hasattr(config, "num_compute_capabilities"):
        config.num_compute_capabilities = 1
        config.set_compute_capability(trt.ComputeCapability.SM89, 0)
    plan = builder.build_serialized_network(network, config)
    assert plan is not None, errors
    return bytes(memoryview(plan))


def shape_tensor_engine(trt: Any) -> bytes:
    """x: float32 (-1, 6); s, n: INT32 (2,) shape tensors. y = x.reshape(s); z = x[:n0, :n1]
    (a slice whose size is a shape tensor); xs = shape(x), marked for shapes (a host output)."""

    def define(trt: Any, net: Any) -> None:
        x = net.add_input("x", trt.float32, (-1, 6))
        s = net.add_input("s", trt.int32, (2,))
        n = net.add_input("n", trt.int32, (2,))
        shuffle = net.add_shuffle(x)
        shuffle.set_input(1, s)
        y = shuffle.get_output(0)
        y.name = "y"
        net.mark_output(y)
        sl = net.add_slice(x, (0, 0), (1, 1), (1, 1))
        sl.set_input(2, n)
        z = sl.get_output(0)
        z.name = "z"
        net.mark_output(z)
        xs = net.add_shape(x).get_output(0)
        xs.name = "xs"
        assert net.mark_output_for_shapes(xs) is not False

    profiles = [
        {"x": ("shape", *p["x"]), "s": ("values", *p["s"]), "n": ("values", *p["n"])}
        for p in SHAPE_PROFILES
    ]
    return _build(trt, define, profiles)


def shape_reference(x: np.ndarray, s: Any, n: Any) -> dict[str, np.ndarray]:
    s, n = [int(v) for v in s], [int(v) for v in n]
    return {"y": x.reshape(s), "z": x[: n[0], : n[1]], "xs": np.array(x.shape)}


def fixed_engine(trt: Any, *, output_name: str = "out") -> bytes:
    """x: float32 (2, 4) and y: float32 (2, 4), static, no profile: out = x + y; plus an
    identity output named ``"x#in"`` (a name that looks like an internal buffer key)."""

    def define(trt: Any, net: Any) -> None:
        x = net.add_input("x", trt.float32, (2, 4))
        y = net.add_input("y", trt.float32, (2, 4))
        out = net.add_elementwise(x, y, trt.ElementWiseOperation.SUM).get_output(0)
        out.name = output_name
        net.mark_output(out)
        ident = net.add_identity(x).get_output(0)
        ident.name = "x#in"
        net.mark_output(ident)

    return _build(trt, define, [])
