"""The simulated surface against the API manifests read from the real binding wheels."""

from __future__ import annotations

import inspect
import json
import pathlib
import re
from typing import Any

import pytest

from trt_exec.sim import _api
from trt_exec.sim._enum_data import DATA
from trt_exec.testing import simulated_tensorrt

from .make_enum_data import LABELS, MANIFESTS, extract

pytestmark = pytest.mark.skipif(not MANIFESTS.is_dir(), reason="no API manifests committed")


def _manifest(stem: str) -> dict[str, Any]:
    path = pathlib.Path(MANIFESTS) / f"{stem}.json"
    if not path.exists():
        pytest.skip(f"{path.name} not committed")
    return json.loads(path.read_text())  # type: ignore[no-any-return]


@pytest.mark.parametrize(("stem", "label"), sorted(LABELS.items()))
def test_enum_tables_match_manifest(stem: str, label: str) -> None:
    enums, consts = extract(_manifest(stem))
    assert DATA[label] == (enums, consts), "run: python tests/sim/make_enum_data.py"
    trt = simulated_tensorrt(label)
    for name, members in enums.items():
        if "." in name:
            cls = trt.ILogger.Severity
        else:
            cls = getattr(trt, name)
        assert {m: int(getattr(cls, m)) for m, _ in members} == dict(members)
    for const, (_, value) in consts.items():
        assert int(getattr(trt, const)) == value


@pytest.mark.parametrize(("stem", "label"), sorted(LABELS.items()))
def test_every_simulated_name_matches_real_presence(stem: str, label: str) -> None:
    """For each public name any release of a simulated class has: present here iff present in
    the real release (so removed APIs are absent and kept ones are present)."""
    manifest = _manifest(stem)
    trt = simulated_tensorrt(label)
    mismatches = []
    for impl in _api.IMPLS:
        public = impl._PUBLIC
        real = manifest["classes"].get(public)
        sim = getattr(trt, public, None)
        assert (real is None) == (sim is None), public
        if real is None:
            continue
        names = {k for k in vars(impl) if not k.startswith("_")} | set(impl._RULES)
        for name in sorted(names):
            if (name in real["attributes"]) != hasattr(sim, name):
                mismatches.append(f"{public}.{name}")
    assert mismatches == []


# Methods whose parameter names must match (callers pass them by keyword).
SIGNATURES = [
    ("Runtime", "deserialize_cuda_engine"),
    ("Builder", "build_serialized_network"),
    ("Builder", "create_network"),
    ("IOptimizationProfile", "set_shape"),
    ("IBuilderConfig", "add_optimization_profile"),
    ("IBuilderConfig", "set_memory_pool_limit"),
    ("IBuilderConfig", "set_compute_capability"),
    ("INetworkDefinition", "add_input"),
    ("INetworkDefinition", "add_elementwise"),
    ("INetworkDefinition", "add_unary"),
    ("INetworkDefinition", "add_identity"),
    ("INetworkDefinition", "mark_output"),
    ("ICudaEngine", "get_tensor_name"),
    ("ICudaEngine", "get_tensor_mode"),
    ("ICudaEngine", "get_tensor_shape"),
    ("ICudaEngine", "get_tensor_dtype"),
    ("ICudaEngine", "get_tensor_profile_shape"),
    ("ICudaEngine", "get_profile_shape"),
    ("ICudaEngine", "get_binding_name"),
    ("ICudaEngine", "get_binding_index"),
    ("ICudaEngine", "get_device_memory_size_for_profile_v2"),
    ("IExecutionContext", "set_input_shape"),
    ("IExecutionContext", "get_tensor_shape"),
    ("IExecutionContext", "set_tensor_address"),
    ("IExecutionContext", "get_tensor_address"),
    ("IExecutionContext", "execute_async_v3"),
    ("IExecutionContext", "execute_async_v2"),
    ("IExecutionContext", "execute_v2"),
    ("IExecutionContext", "set_binding_shape"),
    ("IExecutionContext", "set_optimization_profile_async"),
    ("IExecutionContext", "set_output_allocator"),
    ("IExecutionContext", "set_device_memory"),
]


@pytest.mark.parametrize(("stem", "label"), sorted(LABELS.items()))
def test_parameter_names_match(stem: str, label: str) -> None:
    manifest = _manifest(stem)
    trt = simulated_tensorrt(label)
    bad = []
    for cls_name, meth in SIGNATURES:
        real = manifest["classes"].get(cls_name, {}).get("attributes", {}).get(meth)
        if real is None or not hasattr(getattr(trt, cls_name), meth):
            continue
        mine = list(inspect.signature(getattr(getattr(trt, cls_name), meth)).parameters)[1:]
        overloads = [
            re.findall(r"(?:\(|, )(\w+): ", o.split("->")[0])[1:] for o in real["overloads"]
        ]
        # Ours may accept a superset of one real overload's leading parameters.
        if not any(mine[: len(o)] == o for o in overloads):
            bad.append(f"{cls_name}.{meth}: ours {mine}, real {overloads}")
    assert bad == []
