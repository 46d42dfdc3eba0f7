"""Polygraphy 0.53.6 as a client of one simulated release: ``python -m
tests.peer.polygraphy_client <release>`` prints one JSON object, ``{case: "ok" | error}``.

Polygraphy imports ``tensorrt`` (``tensorrt_rtx`` with POLYGRAPHY_USE_TENSORRT_RTX=1) once and
keeps it, so one process serves one release. The one replacement is Polygraphy's CUDA wrapper,
swapped for host memory by ``benchmarks.polygraphy_setup.install(host_cuda=True)``, which
matches the simulator's host mode (device addresses are host pointers). Everything else is
Polygraphy's own code over the simulated module: its network loaders, ``CreateConfig``,
``EngineFromBytes`` and ``TrtRunner`` (``infer``, ``set_profile``, its output allocator). Each
output is compared with numpy and with trt_exec's on the same engine bytes.
"""

from __future__ import annotations

import json
import os
import sys
import traceback
from collections.abc import Callable
from typing import Any

import numpy as np

RELEASE = sys.argv[1] if __name__ == "__main__" else ""


def _setup(release: str) -> Any:
    if release.startswith("rtx-"):
        os.environ["POLYGRAPHY_USE_TENSORRT_RTX"] = "1"
    from benchmarks import polygraphy_setup
    from trt_exec.sim import simulated_tensorrt

    trt = simulated_tensorrt(release)
    # install() makes it "tensorrt"; RTX clients import "tensorrt_rtx".
    polygraphy_setup.install(trt, host_cuda=True)
    sys.modules[trt.__name__] = trt
    return trt


def _unary_network(trt: Any, shape: tuple[int, ...]) -> Callable[[], Any]:
    """A CreateNetwork-based loader: y = |x| + x (fixed or dynamic ``shape``)."""
    from polygraphy.backend.trt import CreateNetwork

    def load() -> Any:
        builder, network = CreateNetwork()()
        x = network.add_input("x", trt.float32, shape)
        a = network.add_unary(x, trt.UnaryOperation.ABS)
        y = network.add_elementwise(a.get_output(0), x, trt.ElementWiseOperation.SUM)
        y.get_output(0).name = "y"
        network.mark_output(y.get_output(0))
        return builder, network

    return load


def _nonzero_network(trt: Any) -> Callable[[], Any]:
    """A data-dependent output: idx = nonzero(x), x of shape (2, 3)."""
    from polygraphy.backend.trt import CreateNetwork

    def load() -> Any:
        builder, network = CreateNetwork()()
        x = network.add_input("x", trt.float32, (2, 3))
        nz = network.add_non_zero(x)
        nz.get_output(0).name = "idx"
        network.mark_output(nz.get_output(0))
        return builder, network

    return load


def _expected(x: np.ndarray) -> np.ndarray:
    return np.abs(x) + x  # type: ignore[no-any-return]


def _trt_exec(trt: Any, plan: bytes, feed: dict[str, np.ndarray], **kw: Any) -> dict[str, Any]:
    import trt_exec

    with trt_exec.load(plan, tensorrt=trt, **kw) as ex:
        return {k: np.asarray(v).copy() for k, v in ex.infer(feed).items()}


def _check(got: dict[str, Any], want: dict[str, np.ndarray], ours: dict[str, Any]) -> None:
    for name, w in want.items():
        np.testing.assert_array_equal(np.asarray(got[name]), w, err_msg=f"polygraphy {name}")
        np.testing.assert_array_equal(np.asarray(ours[name]), w, err_msg=f"trt_exec {name}")


def case_loaders(trt: Any) -> None:
    """CreateNetwork, EngineFromNetwork, EngineBytesFromNetwork, EngineFromBytes."""
    from polygraphy.backend.trt import EngineBytesFromNetwork, EngineFromBytes, EngineFromNetwork

    engine = EngineFromNetwork(_unary_network(trt, (2, 3)))()
    assert isinstance(engine, trt.ICudaEngine), type(engine)
    plan = EngineBytesFromNetwork(_unary_network(trt, (2, 3)))()
    assert plan, "EngineBytesFromNetwork returned a falsy IHostMemory"
    again = EngineFromBytes(bytes(memoryview(plan)))()
    assert isinstance(again, trt.ICudaEngine), type(again)


def case_fixed_infer(trt: Any) -> None:
    """TrtRunner.infer on a fixed-shape engine (Polygraphy sets no shape when it matches)."""
    from polygraphy.backend.trt import EngineBytesFromNetwork, EngineFromBytes, TrtRunner

    plan = bytes(memoryview(EngineBytesFromNetwork(_unary_network(trt, (2, 3)))()))
    x = np.array([[1, -2, 3], [-4, 5, -6]], np.float32)
    with TrtRunner(EngineFromBytes(plan)) as runner:
        got = runner.infer({"x": x})
    _check(got, {"y": _expected(x)}, _trt_exec(trt, plan, {"x": x}))


def case_dynamic_infer(trt: Any) -> None:
    """One profile from CreateConfig; infer at two shapes inside it."""
    from polygraphy.backend.trt import (
        CreateConfig,
        EngineBytesFromNetwork,
        EngineFromBytes,
        Profile,
        TrtRunner,
    )

    profile = Profile().add("x", min=(1, 3), opt=(2, 3), max=(4, 3))
    plan = bytes(
        memoryview(
            EngineBytesFromNetwork(
                _unary_network(trt, (-1, 3)), config=CreateConfig(profiles=[profile])
            )()
        )
    )
    rng = np.random.default_rng(0)
    with TrtRunner(EngineFromBytes(plan)) as runner:
        for rows in (1, 4, 2):
            x = rng.standard_normal((rows, 3)).astype(np.float32)
            got = runner.infer({"x": x})
            _check(got, {"y": _expected(x)}, _trt_exec(trt, plan, {"x": x}))


def case_two_profiles(trt: Any) -> None:
    """Two profiles from CreateConfig; TrtRunner.set_profile(1) then a shape only it allows."""
    from polygraphy.backend.trt import (
        CreateConfig,
        EngineBytesFromNetwork,
        EngineFromBytes,
        Profile,
        TrtRunner,
    )

    profiles = [
        Profile().add("x", min=(1, 3), opt=(2, 3), max=(2, 3)),
        Profile().add("x", min=(5, 3), opt=(6, 3), max=(8, 3)),
    ]
    plan = bytes(
        memoryview(
            EngineBytesFromNetwork(
                _unary_network(trt, (-1, 3)), config=CreateConfig(profiles=profiles)
            )()
        )
    )
    x0 = np.arange(6, dtype=np.float32).reshape(2, 3) - 3
    x1 = np.arange(21, dtype=np.float32).reshape(7, 3) - 10
    with TrtRunner(EngineFromBytes(plan)) as runner:
        assert runner.context.engine.num_optimization_profiles == 2
        # infer() returns views of Polygraphy's reused host buffers: copy before the next call.
        got0 = {k: np.array(v) for k, v in runner.infer({"x": x0}).items()}
        runner.set_profile(1)
        got1 = runner.infer({"x": x1})
    _check(got0, {"y": _expected(x0)}, _trt_exec(trt, plan, {"x": x0}, profile=0))
    _check(got1, {"y": _expected(x1)}, _trt_exec(trt, plan, {"x": x1}, profile=1))


def case_data_dependent(trt: Any) -> None:
    """A data-dependent output (INonZeroLayer) through Polygraphy's own IOutputAllocator."""
    from polygraphy.backend.trt import EngineBytesFromNetwork, EngineFromBytes, TrtRunner

    plan = bytes(memoryview(EngineBytesFromNetwork(_nonzero_network(trt))()))
    x = np.array([[0, 2, 0], [3, 0, 4]], np.float32)
    want = np.array(np.nonzero(x))
    with TrtRunner(EngineFromBytes(plan)) as runner:
        got = runner.infer({"x": x})
    ours = _trt_exec(trt, plan, {"x": x})
    np.testing.assert_array_equal(np.asarray(got["idx"]).astype(np.int64), want)
    np.testing.assert_array_equal(np.asarray(ours["idx"]).astype(np.int64), want)


CASES: dict[str, Callable[[Any], None]] = {
    "loaders": case_loaders,
    "fixed_infer": case_fixed_infer,
    "dynamic_infer": case_dynamic_infer,
    "two_profiles": case_two_profiles,
    "data_dependent": case_data_dependent,
}


def main(release: str) -> dict[str, str]:
    trt = _setup(release)
    results: dict[str, str] = {}
    for name, case in CASES.items():
        try:
            case(trt)
            results[name] = "ok"
        except BaseException as exc:  # noqa: BLE001 - reported to the parent test
            tb = traceback.format_exception(type(exc), exc, exc.__traceback__)
            results[name] = f"{type(exc).__name__}: {exc}\n{''.join(tb[-6:])}"
    return results


if __name__ == "__main__":
    out = main(RELEASE)
    print("@@RESULTS@@" + json.dumps(out))
