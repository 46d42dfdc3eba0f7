"""Python protocols of every simulated class, derived from the API manifests of the real
bindings: an idiom that works on real TensorRT works on the simulator, and one that fails there
fails here the same way.

The manifests record ``__len__``, ``__getitem__``, ``__setitem__``, ``__iter__`` and
``__contains__`` per class and ``buffer_protocol`` (tools/trt_api_manifest.py, KEEP_DUNDERS).
What they do not record is pybind11's default, observed on the real TensorRT-RTX 1.7.1 for every
class here: no ``__bool__`` (truthy unless ``__len__``), ``__eq__`` and ``__hash__`` by identity,
no ``__int__``/``__index__``, and ``repr`` ``<module.Class object at 0x...>``. The one class with
its own ``__bool__`` is IOptimizationProfile (``isValid``; in ``vars()`` on RTX 1.7.1).
Dims, Dims2/3/4, DimsHW, Permutation and Weights are audited by issue 17's tests.
"""

from __future__ import annotations

import json
import operator
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from trt_exec.testing import build_engine, simulated_tensorrt
from trt_exec.testing.network import DEMO_NETWORK

from .helpers import make_logger

MANIFESTS = Path(__file__).resolve().parents[1] / "data" / "manifests"
LABELS = {
    "8.6.1": "tensorrt-8.6.1",
    "10.0.1": "tensorrt-10.0.1",
    "10.16.1": "tensorrt-10.16.1",
    "11.4.0": "tensorrt-11.4.0",
    "rtx-1.7.1": "tensorrt_rtx-1.7.1",
}
OWN_BOOL = {"IOptimizationProfile"}


def _instances(trt: Any) -> dict[str, Any]:
    """One live object of each simulated class that client code gets hold of."""
    logger = make_logger(trt)
    builder = trt.Builder(logger)
    network = builder.create_network(0)
    x = network.add_input("x", trt.float32, (2, 3))
    layer = network.add_unary(x, trt.UnaryOperation.ABS)
    network.mark_output(layer.get_output(0))
    config = builder.create_builder_config()
    profile = builder.create_optimization_profile()
    runtime = trt.Runtime(logger)
    blob = build_engine(trt, DEMO_NETWORK)
    engine = runtime.deserialize_cuda_engine(blob)
    context = engine.create_execution_context()
    objs = {
        "Logger": trt.Logger(),
        "Builder": builder,
        "INetworkDefinition": network,
        "ITensor": x,
        "IUnaryLayer": layer,
        "IBuilderConfig": config,
        "IOptimizationProfile": profile,
        "Runtime": runtime,
        "ICudaEngine": engine,
        "IExecutionContext": context,
        "IHostMemory": engine.serialize(),
        "IPluginRegistry": trt.get_plugin_registry(),
    }
    if hasattr(trt, "IOutputAllocator"):

        class Alloc(trt.IOutputAllocator):  # type: ignore[misc,name-defined]
            def __init__(self) -> None:
                trt.IOutputAllocator.__init__(self)

        objs["IOutputAllocator"] = Alloc()
    if hasattr(trt, "IGpuAsyncAllocator"):

        class GpuAlloc(trt.IGpuAsyncAllocator):  # type: ignore[misc,name-defined]
            def __init__(self) -> None:
                trt.IGpuAsyncAllocator.__init__(self)

        objs["IGpuAsyncAllocator"] = GpuAlloc()
    if hasattr(trt, "IRuntimeConfig"):
        objs["IRuntimeConfig"] = engine.create_runtime_config()
    return objs


def _raises(fn: Callable[[], Any], exc: type[BaseException] = TypeError) -> bool:
    try:
        fn()
    except exc:
        return True
    except Exception:
        return False
    return False


def _audit(public: str, obj: Any, real: dict[str, Any]) -> list[str]:
    """What differs between ``obj``'s protocols and the real class's (``real``: its manifest)."""
    wrong: list[str] = []
    attrs = real["attributes"]
    has = {d: d in attrs for d in ("__len__", "__getitem__", "__setitem__", "__iter__")}
    has["__contains__"] = "__contains__" in attrs
    if has["__len__"] != (not _raises(lambda: len(obj))):
        wrong.append(f"{public}: len() {'missing' if has['__len__'] else 'works'}")
    if not has["__getitem__"] and not _raises(lambda: obj[0]):
        wrong.append(f"{public}: obj[0] works, real has no __getitem__")
    if has["__getitem__"] and _raises(lambda: obj[0]):
        wrong.append(f"{public}: obj[0] raises TypeError, real has __getitem__")
    if not has["__setitem__"] and not _raises(lambda: operator.setitem(obj, 0, 0)):
        wrong.append(f"{public}: obj[0] = 0 works, real has no __setitem__")
    iterable = has["__iter__"] or has["__getitem__"]
    if iterable == _raises(lambda: iter(obj)):
        wrong.append(f"{public}: iter() {'fails' if iterable else 'works'}")
    if not (iterable or has["__contains__"]) and not _raises(lambda: 0 in obj):
        wrong.append(f"{public}: `in` works, real has neither __contains__ nor iteration")
    if public not in OWN_BOOL:
        want = bool(len(obj)) if has["__len__"] else True
        if bool(obj) is not want:
            wrong.append(f"{public}: bool() is {bool(obj)}, pybind11 gives {want}")
    if real.get("buffer_protocol", False) == _raises(lambda: memoryview(obj)):
        wrong.append(f"{public}: buffer protocol differs")
    # int() of a buffer parses its bytes (ValueError on the real IHostMemory, RTX 1.7.1).
    int_error = ValueError if real.get("buffer_protocol", False) else TypeError
    if not _raises(lambda: int(obj), int_error) or not _raises(lambda: operator.index(obj)):
        wrong.append(f"{public}: int() works, pybind11 classes have no __int__/__index__")
    twin = type(obj).__new__(type(obj))
    if not (obj == obj) or obj == twin or hash(obj) != object.__hash__(obj):
        wrong.append(f"{public}: == / hash are not by identity")
    shown = type(obj).__name__  # a user subclass (the allocators) shows its own name
    if not re.fullmatch(rf"<[\w.<>]+\.{shown} object at 0x[0-9a-f]+>", repr(obj)):
        wrong.append(f"{public}: repr {repr(obj)!r}")
    return wrong


@pytest.mark.parametrize("label", sorted(LABELS))
def test_protocols_follow_the_manifest(label: str) -> None:
    manifest = json.loads((MANIFESTS / f"{LABELS[label]}.json").read_text())["classes"]
    trt = simulated_tensorrt(label)
    objs = _instances(trt)
    wrong = [w for public, obj in objs.items() for w in _audit(public, obj, manifest[public])]
    assert wrong == []


def test_optimization_profile_bool_is_validity(version: str) -> None:
    """IOptimizationProfile's own ``__bool__`` is ``isValid`` (binding source; in ``vars()`` of
    the real RTX 1.7.1 class)."""
    trt = simulated_tensorrt(version)
    profile = trt.Builder(make_logger(trt)).create_optimization_profile()
    profile.set_shape("x", (1, 2), (2, 2), (3, 2))
    assert bool(profile)
    bad = trt.Builder(make_logger(trt)).create_optimization_profile()
    bad.set_shape("x", (3, 2), (2, 2), (1, 2))
    assert not bool(bad)


def test_host_memory_is_a_buffer_not_bytes(version: str) -> None:
    trt = simulated_tensorrt(version)
    blob = build_engine(trt, DEMO_NETWORK)
    runtime = trt.Runtime(make_logger(trt))
    mem = runtime.deserialize_cuda_engine(blob).serialize()
    assert bytes(mem) == blob and memoryview(mem).nbytes == mem.nbytes == len(blob)
    assert np.frombuffer(mem, np.uint8).size == len(blob)
    assert bool(mem) is True and mem != blob and hash(mem) == object.__hash__(mem)
    for idiom in (lambda: len(mem), lambda: list(mem), lambda: mem[0], lambda: b"x" in mem):
        assert _raises(idiom)
    assert _raises(lambda: __import__("pickle").dumps(mem))
