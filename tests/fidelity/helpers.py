"""Shared helpers of the fidelity tests: the real API manifests, a documented reference for
TensorRT 8.4.3 (no wheel of it exists here), and a recorder of the calls trt_exec makes into a
simulated TensorRT module.

The manifests (tests/data/manifests/*.json) are read from the real binding wheels by
tools/trt_api_manifest.py; tools/README.md says how to regenerate them.
"""

from __future__ import annotations

import copy
import functools
import inspect
import sys
from pathlib import Path
from typing import Any, NamedTuple

REPO = Path(__file__).resolve().parents[2]
if str(REPO / "tools") not in sys.path:
    sys.path.insert(0, str(REPO / "tools"))

import manifest_lib  # noqa: E402
from manifest_lib import get_attribute, load_manifest, signature_params  # noqa: E402

from trt_exec.testing.matrix import SIM_MATRIX  # noqa: E402

# Releases with a manifest read from a real wheel, by simulator label.
MANIFEST_RELEASES = ("8.6.1", "10.0.1", "10.16.1", "11.4.0", "rtx-1.7.1")

# What each backend claims (issue 3): the contract matrix. 8.4.3 is V2's oldest claim but has no
# manifest: see REFERENCE_8_4_3_DOCS.
CLAIMS: tuple[tuple[str, str], ...] = SIM_MATRIX

# ------------------------------------------------------------------------------------------
# TensorRT 8.4.3. No binding wheel of 8.4 exists on PyPI for the Pythons here (tensorrt 8.4 was
# only published on NVIDIA's index, and the bindings the manifest tool can import start at
# 8.6.1), so its reference is the 8.6.1 manifest less what 8.5 and 8.6 added, as documented in:
REFERENCE_8_4_3_DOCS = (
    "TensorRT 8.4.3 Python API, ICudaEngine: https://docs.nvidia.com/deeplearning/tensorrt/"
    "archives/tensorrt-843/api/python_api/infer/Core/Engine.html",
    "TensorRT 8.4.3 Python API, IExecutionContext: https://docs.nvidia.com/deeplearning/tensorrt/"
    "archives/tensorrt-843/api/python_api/infer/Core/ExecutionContext.html",
    "TensorRT 8.4.3 C++ API, ICudaEngine member list: https://docs.nvidia.com/deeplearning/"
    "tensorrt/archives/tensorrt-843/api/c_api/classnvinfer1_1_1_i_cuda_engine-members.html",
    "TensorRT 8.5 and 8.6 release notes (named-tensor API, IOutputAllocator and TensorIOMode "
    "new in 8.5; aux streams and hardware compatibility new in 8.6): https://docs.nvidia.com/"
    "deeplearning/tensorrt/archives/tensorrt-861/release-notes/index.html",
)
# Whole classes (and enums) new in 8.5 or 8.6: absent from the 8.4.3 Python module.
CLASSES_ADDED_AFTER_8_4 = frozenset(
    {
        "IOutputAllocator",
        "TensorIOMode",
        "HardwareCompatibilityLevel",
        "INonZeroLayer",
        "ICastLayer",
        "INMSLayer",
        "IReverseSequenceLayer",
        "INormalizationLayer",
        "IGridSampleLayer",
    }
)
# Attributes of 8.4 classes that are new in 8.5 or 8.6 (the named-tensor API and friends).
ATTRS_ADDED_AFTER_8_4: dict[str, frozenset[str]] = {
    "ICudaEngine": frozenset(
        {
            "num_io_tensors",
            "get_tensor_name",
            "get_tensor_mode",
            "get_tensor_shape",
            "get_tensor_dtype",
            "get_tensor_location",
            "get_tensor_profile_shape",
            "get_tensor_format",
            "get_tensor_format_desc",
            "get_tensor_bytes_per_component",
            "get_tensor_components_per_element",
            "get_tensor_vectorized_dim",
            "is_shape_inference_io",
            "num_aux_streams",
            "hardware_compatibility_level",
        }
    ),
    "IExecutionContext": frozenset(
        {
            "set_input_shape",
            "get_tensor_shape",
            "set_tensor_address",
            "get_tensor_address",
            "get_tensor_strides",
            "execute_async_v3",
            "set_output_allocator",
            "get_output_allocator",
            "get_max_output_size",
            "infer_shapes",
            "set_input_consumed_event",
            "get_input_consumed_event",
            "set_aux_streams",
        }
    ),
    "INetworkDefinition": frozenset(
        {
            "add_non_zero",
            "add_cast",
            "add_nms",
            "add_reverse_sequence",
            "add_normalization",
            "add_grid_sample",
        }
    ),
    "IBuilderConfig": frozenset(
        {"builder_optimization_level", "hardware_compatibility_level", "max_aux_streams"}
    ),
    "Runtime": frozenset({"engine_host_code_allowed", "max_threads", "load_runtime"}),
}


@functools.cache
def _reference_8_4_3() -> dict[str, Any]:
    m = copy.deepcopy(load_manifest("8.6.1"))
    m["release"] = "8.4.3 (derived: 8.6.1 manifest less the 8.5/8.6 additions)"
    for cls in CLASSES_ADDED_AFTER_8_4:
        m["classes"].pop(cls, None)
    for cls, names in ATTRS_ADDED_AFTER_8_4.items():
        attrs = m["classes"][cls]["attributes"]
        for n in names:
            attrs.pop(n, None)
    # 8.5/8.6 enum members (as the simulator's release table also assumes).
    for enum, members in {
        "DataType": ("UINT8", "FP8"),
        "LayerType": (
            "NON_ZERO",
            "NMS",
            "REVERSE_SEQUENCE",
            "NORMALIZATION",
            "GRID_SAMPLE",
            "CAST",
        ),
    }.items():
        for n in members:
            m["classes"][enum]["attributes"].pop(n, None)
    return m


def reference_manifest(release: str) -> dict[str, Any]:
    """The real API of ``release``: its manifest, or for 8.4.3 the documented derivation."""
    if release == "8.4.3":
        return _reference_8_4_3()
    return load_manifest(release)


# ------------------------------------------------------------------------------------------
# Signatures.
class Param(NamedTuple):
    name: str
    has_default: bool


def parse_signature(signature: str) -> list[Param] | None:
    """Parameters of one pybind11 signature line (``self`` included); None when the line is not
    a signature (e.g. "Initialize self.  See help(type(self))...")."""
    if "(" not in signature or signature.startswith("Initialize self"):
        return None
    return [Param(name, has_default) for name, has_default in signature_params(signature)]


def overloads(manifest: dict[str, Any], cls: str, attr: str) -> list[list[Param]]:
    """Each overload's parameters (``self`` dropped for methods)."""
    entry = get_attribute(manifest, cls, attr) or {}
    sigs = entry.get("overloads") or ([entry["signature"]] if entry.get("signature") else [])
    out = []
    for sig in sigs:
        params = parse_signature(sig)
        if params is None:
            continue
        if entry.get("kind") == "method" and params and params[0].name in ("self", "this"):
            params = params[1:]
        out.append(params)
    return out


def doc_def_params(manifest: dict[str, Any], cls: str, name: str) -> list[Param] | None:
    """Parameters (``self`` dropped) of a callback named only in the class docstring."""
    for d in manifest["classes"].get(cls, {}).get("doc_defs", ()):
        if d.split("(", 1)[0] == name:
            params = parse_signature(d) or []
            return [p for p in params if p.name not in ("self", "this")]
    return None


def call_fits(params: list[Param], nargs: int, kwargs: frozenset[str]) -> bool:
    """Whether a call with ``nargs`` positional arguments and keywords ``kwargs`` binds to one
    overload. pybind11 binds keywords by the declared names (argN when undeclared)."""
    if nargs > len(params):
        return False
    rest = params[nargs:]
    names = {p.name for p in rest}
    if not kwargs <= names:
        return False
    return all(p.has_default or p.name in kwargs for p in rest)


def describe_overloads(ovs: list[list[Param]]) -> str:
    return " | ".join(
        "(" + ", ".join(p.name + ("=…" if p.has_default else "") for p in ps) + ")" for ps in ovs
    )


# ------------------------------------------------------------------------------------------
# Call recording. The simulator records attribute *reads* (mod._sim.accesses); this adds what
# a read cannot show: the arguments of each call and the attribute *writes* (property setters).
def is_library_module(name: str) -> bool:
    """trt_exec's own code, not its test support (trt_exec.testing builds engines in tests, and
    trt_exec.sim is the simulated TensorRT itself)."""
    if not (name == "trt_exec" or name.startswith("trt_exec.")):
        return False
    support = ("trt_exec.testing", "trt_exec.sim")
    return not any(name == p or name.startswith(p + ".") for p in support)


class Call(NamedTuple):
    caller: str
    owner: str
    attr: str
    nargs: int
    kwargs: frozenset[str]


class SetAttr(NamedTuple):
    caller: str
    owner: str
    attr: str
    own_subclass: bool  # the object is an instance of a trt_exec-defined subclass


def _simulated_classes(mod: Any) -> list[type]:
    from trt_exec.sim._types import DimsBase, EnumBase

    return [
        c
        for c in mod._sim._classes.values()
        if isinstance(c, type) and not issubclass(c, (EnumBase, DimsBase))
    ]


def install_call_recorder(mod: Any) -> tuple[list[Call], list[SetAttr]]:
    """Wrap every function defined on the simulated classes of ``mod`` (this module object's
    classes only; each ``simulated_tensorrt()`` call makes new ones) so that calls and attribute
    writes made from trt_exec's library code are recorded."""
    calls: list[Call] = []
    sets: list[SetAttr] = []

    def wrap(owner: str, name: str, fn: Any) -> Any:
        @functools.wraps(fn)
        def recorded(*args: Any, **kwargs: Any) -> Any:
            caller = sys._getframe(1).f_globals.get("__name__", "?")
            if is_library_module(caller):
                calls.append(Call(caller, owner, name, len(args) - 1, frozenset(kwargs)))
            return fn(*args, **kwargs)

        return recorded

    def setter(owner: str) -> Any:
        def __setattr__(self: Any, name: str, value: Any) -> None:
            caller = sys._getframe(1).f_globals.get("__name__", "?")
            if name[:1] != "_" and is_library_module(caller):
                own = is_library_module(type(self).__module__)
                sets.append(SetAttr(caller, owner, name, own))
            object.__setattr__(self, name, value)

        return __setattr__

    for cls in _simulated_classes(mod):
        owner = type.__getattribute__(cls, "_PUBLIC_NAME")
        for name, value in list(cls.__dict__.items()):
            if (name[:1] != "_" or name == "__init__") and inspect.isfunction(value):
                type.__setattr__(cls, name, wrap(owner, name, value))
        if "__setattr__" not in cls.__dict__:
            type.__setattr__(cls, "__setattr__", setter(owner))
    return calls, sets


def library_subclasses(mod: Any) -> list[type]:
    """Subclasses that trt_exec's library code defined of the classes of ``mod`` (the ILogger
    bridge, the IOutputAllocator)."""
    out: list[type] = []
    seen: set[int] = set()
    stack = list(_simulated_classes(mod))
    while stack:
        cls = stack.pop()
        for sub in type.__subclasses__(cls):
            if id(sub) in seen:
                continue
            seen.add(id(sub))
            stack.append(sub)
            if is_library_module(type.__getattribute__(sub, "__module__")):
                out.append(sub)
    return out


__all__ = [
    "ATTRS_ADDED_AFTER_8_4",
    "CLASSES_ADDED_AFTER_8_4",
    "CLAIMS",
    "MANIFEST_RELEASES",
    "REFERENCE_8_4_3_DOCS",
    "Call",
    "SetAttr",
    "call_fits",
    "describe_overloads",
    "doc_def_params",
    "get_attribute",
    "install_call_recorder",
    "is_library_module",
    "library_subclasses",
    "load_manifest",
    "manifest_lib",
    "overloads",
    "parse_signature",
    "reference_manifest",
]
