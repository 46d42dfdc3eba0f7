"""Tests for tools/trt_api_manifest.py and the committed API manifests.

The offline tests read tests/data/manifests/*.json only.  The network test regenerates every
manifest from the real wheels on PyPI and compares it with the committed file; it runs only with
TRT_EXEC_NETWORK_TESTS=1 (it needs pip, readelf, nm, gcc, Python 3.11 for the cp311 wheels, and
downloads ~5 MB of binding wheels plus ~100 MB for TensorRT-RTX).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
TOOLS = REPO / "tools"
MANIFEST_DIR = REPO / "tests" / "data" / "manifests"
if str(TOOLS) not in sys.path:
    sys.path.insert(0, str(TOOLS))

import manifest_lib  # noqa: E402
from manifest_lib import (  # noqa: E402
    attribute_params,
    enum_members,
    get_attribute,
    has_attribute,
    load_manifest,
    parse_params,
)

from .fidelity.helpers import MANIFEST_RELEASES  # noqa: E402

# The releases with a manifest read from a real wheel: the fidelity tests' list.
RELEASES = list(MANIFEST_RELEASES)
ATTR_KINDS = {
    "method", "property", "enum_member", "staticmethod", "classmethod", "class", "enum",
    "constant",
}  # fmt: skip


@pytest.fixture(scope="module", params=RELEASES)
def manifest(request) -> dict:
    return load_manifest(request.param)


# ------------------------------------------------------------------------------- structure


def test_all_manifests_committed():
    assert sorted(manifest_lib.available_releases()) == sorted(RELEASES)


def test_manifest_structure(manifest):
    for key in ("module", "version", "wheel", "classes", "functions", "constants", "release"):
        assert key in manifest, key
    assert manifest["module"] in ("tensorrt", "tensorrt_rtx")
    assert manifest["wheel"].endswith(".whl")
    assert manifest["version"]
    assert len(manifest["classes"]) > 100
    for cname, cls in manifest["classes"].items():
        assert cls["kind"] in ("class", "enum"), cname
        assert isinstance(cls["attributes"], dict)
        for base in cls.get("bases", []):
            assert base in manifest["classes"], (cname, base)
        for aname, attr in cls["attributes"].items():
            assert attr["kind"] in ATTR_KINDS, (cname, aname, attr)
            if "inherited_from" in attr:
                assert get_attribute(manifest, cname, aname) is not None, (cname, aname)
                continue
            if attr["kind"] == "property":
                assert isinstance(attr["settable"], bool)
            if attr["kind"] == "enum_member":
                assert isinstance(attr["value"], int)
            if attr["kind"] in ("method", "staticmethod") and not attr.get("python"):
                if aname != "__init__" or "(" in attr["signature"]:
                    assert attr["overloads"], (cname, aname)
        if cls["kind"] == "enum":
            assert enum_members(manifest, cname), cname
    for fname, fn in manifest["functions"].items():
        assert fn["kind"] == "function"
        assert fn["signature"] is None or fname in fn["signature"]


def test_manifest_file_is_canonical_json():
    """Files are written with sorted keys, so regeneration diffs stay minimal."""
    for rel in RELEASES:
        path = manifest_lib.manifest_path(rel)
        text = path.read_text()
        assert text == json.dumps(json.loads(text), indent=1, sort_keys=True) + "\n", path


def test_nested_classes_use_dotted_names(manifest):
    assert manifest["classes"]["ILogger.Severity"]["kind"] == "enum"
    assert enum_members(manifest, "ILogger.Severity")["VERBOSE"] == 4
    sev = manifest["classes"]["Logger"]["attributes"]["Severity"]
    assert sev.get("alias_of") == "ILogger.Severity"


# ------------------------------------------------------------------------------ API facts


def test_bindings_api_removed_in_10():
    m86, m10 = load_manifest("8.6.1"), load_manifest("10.0.1")
    assert has_attribute(m86, "ICudaEngine", "num_bindings")
    assert has_attribute(m86, "ICudaEngine", "num_io_tensors")
    assert not has_attribute(m10, "ICudaEngine", "num_bindings")
    assert has_attribute(m10, "ICudaEngine", "num_io_tensors")
    assert not has_attribute(m10, "IExecutionContext", "execute_async_v2")
    assert has_attribute(m10, "IExecutionContext", "execute_async_v3")
    assert has_attribute(m86, "IExecutionContext", "execute_async_v2")
    for rel in RELEASES:
        assert has_attribute(load_manifest(rel), "IExecutionContext", "execute_v2"), rel


def test_device_memory_size_v2_in_11():
    m11 = load_manifest("11.4.0")
    assert not has_attribute(m11, "ICudaEngine", "device_memory_size")
    assert has_attribute(m11, "ICudaEngine", "device_memory_size_v2")
    assert not has_attribute(load_manifest("10.0.1"), "ICudaEngine", "device_memory_size_v2")
    assert has_attribute(load_manifest("10.16.1"), "ICudaEngine", "device_memory_size_v2")


def test_datatype_float_is_zero(manifest):
    assert enum_members(manifest, "DataType")["FLOAT"] == 0
    f32 = manifest["constants"]["float32"]
    assert f32 == {"enum": "DataType", "kind": "enum_member", "value": 0}


def test_rtx_has_named_tensor_api_only():
    rtx = load_manifest("rtx-1.7.1")
    assert rtx["module"] == "tensorrt_rtx"
    assert rtx["version"].startswith("1.7.1")
    assert not has_attribute(rtx, "ICudaEngine", "num_bindings")
    assert has_attribute(rtx, "ICudaEngine", "num_io_tensors")
    assert "IRuntimeConfig" in rtx["classes"]
    params = attribute_params(rtx, "ICudaEngine", "create_execution_context")
    assert ["self", "runtime_config"] in params


def test_active_optimization_profile_read_only_after_8():
    assert (
        get_attribute(load_manifest("8.6.1"), "IExecutionContext", "active_optimization_profile")[
            "settable"
        ]
        is True
    )
    for rel in ("10.0.1", "10.16.1", "11.4.0", "rtx-1.7.1"):
        attr = get_attribute(load_manifest(rel), "IExecutionContext", "active_optimization_profile")
        assert attr["settable"] is False, rel


def test_output_allocator_callbacks_documented():
    for rel in ("10.0.1", "11.4.0", "rtx-1.7.1"):
        defs = load_manifest(rel)["classes"]["IOutputAllocator"]["doc_defs"]
        assert any(d.startswith("reallocate_output_async(") for d in defs), rel
    assert not any(
        d.startswith("reallocate_output_async(")
        for d in load_manifest("8.6.1")["classes"]["IOutputAllocator"]["doc_defs"]
    )


def test_host_memory_buffer_protocol(manifest):
    assert manifest["classes"]["IHostMemory"].get("buffer_protocol") is True


# --------------------------------------------------------------------------- manifest_lib


def test_parse_params():
    sig = (
        "set_input_shape(self: tensorrt.tensorrt.IExecutionContext, name: str, "
        "shape: tensorrt.tensorrt.Dims) -> bool"
    )
    assert parse_params(sig) == ["self", "name", "shape"]
    sig = (
        "create_execution_context(self: x.ICudaEngine, strategy: x.Strategy = "
        "<ExecutionContextAllocationStrategy.STATIC: 0>) -> x.IExecutionContext"
    )
    assert parse_params(sig) == ["self", "strategy"]
    assert parse_params("f(a: Dict[str, int], b: Tuple[int, int] = (1, 2)) -> None") == ["a", "b"]
    assert parse_params("g() -> None") == []
    assert parse_params("__exit__(this, exc_type, exc_value, traceback)") == [
        "this",
        "exc_type",
        "exc_value",
        "traceback",
    ]


def test_attribute_params_overloads():
    m10 = load_manifest("10.0.1")
    assert (
        attribute_params(m10, "IExecutionContext", "set_input_shape")
        == [["self", "name", "shape"]] * 3
    )
    assert attribute_params(m10, "IExecutionContext", "execute_v2") == [["self", "bindings"]]
    assert attribute_params(m10, "IExecutionContext", "execute_async_v3") == [
        ["self", "stream_handle"]
    ]
    with pytest.raises(KeyError):
        attribute_params(m10, "ICudaEngine", "num_bindings_nope")


# ------------------------------------------------------------------------------- network


@pytest.mark.network
@pytest.mark.skipif(
    os.environ.get("TRT_EXEC_NETWORK_TESTS") != "1",
    reason="set TRT_EXEC_NETWORK_TESTS=1 to regenerate manifests from PyPI",
)
@pytest.mark.parametrize("release", RELEASES)
def test_regenerated_manifest_matches_committed(release, tmp_path):
    import trt_api_manifest

    cache = Path(os.environ.get("TRT_EXEC_MANIFEST_CACHE", trt_api_manifest.DEFAULT_CACHE))
    rtx_mode = os.environ.get("TRT_EXEC_RTX_MODE", "install")  # "stub" skips the 96 MB download
    path = trt_api_manifest.write_manifest(release, tmp_path, cache, sys.executable, rtx_mode)
    committed = MANIFEST_DIR / trt_api_manifest.manifest_filename(release)
    assert path.name == committed.name
    assert json.loads(path.read_text()) == json.loads(committed.read_text())
    assert path.read_text() == committed.read_text()
