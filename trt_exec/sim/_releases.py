"""Per-release tables: which public names exist, and enum members with their values.

Enum members come from ``_enum_data.py``, generated from the committed API manifests
(``tests/data/manifests``, read from the real binding wheels). The availability rules of methods
are claims about the real Python bindings; ``tests/sim/test_manifests.py`` checks every simulated
public name against the manifests.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Release", "Rule", "RELEASES", "ARITHMETIC", "enum_members"]


@dataclass(frozen=True)
class Release:
    """One simulated release: ``flavor`` is "tensorrt" or "rtx"; ``vt`` the numeric version."""

    label: str  # what simulated_tensorrt() accepts
    flavor: str
    version: str  # the release, as in plans and error messages
    vt: tuple[int, ...]
    # The module's ``__version__``: the real wheels carry the build number (the "version" of each
    # manifest in tests/data/manifests, read from the real binding wheels; RTX 1.7.1 observed on
    # the real tensorrt_rtx). 8.4.3 has no wheel here: its documented release string.
    module_version: str = ""

    @property
    def version_string(self) -> str:
        return self.module_version or self.version

    @property
    def module_name(self) -> str:
        return "tensorrt_rtx" if self.flavor == "rtx" else "tensorrt"


@dataclass(frozen=True)
class Rule:
    """Availability of a public name: TensorRT releases in ``[since, until)``, and on RTX or not."""

    since: tuple[int, ...] = (0,)
    until: tuple[int, ...] = (99,)
    rtx: bool = True

    def __call__(self, rel: Release) -> bool:
        if rel.flavor == "rtx":
            return self.rtx
        return self.since <= rel.vt < self.until


ALL = Rule()
# <= 8.4: bindings only; 8.5 adds named tensors; 10.0 removes bindings (TensorRT 8.5 and 10.0
# release notes; the 8.6.1 and 10.0.1 manifests in tests/data/manifests).
BINDINGS = Rule(until=(10,), rtx=False)
NAMED = Rule(since=(8, 5))
PRE10 = Rule(until=(10,), rtx=False)
V10 = Rule(since=(10,))
V10_1 = Rule(since=(10, 1))
# Removed in 11.0 (TensorRT 11.0 release notes, "Removed APIs"; the 11.4.0 manifest); TensorRT-RTX
# never had them (the rtx-1.7.1 manifest).
PRE11 = Rule(until=(11,), rtx=False)
V10_PRE11 = Rule(since=(10,), until=(11,), rtx=False)
V8_6 = Rule(since=(8, 6))
RTX_ONLY = Rule(since=(99,), rtx=True)
TRT_ONLY = Rule(rtx=False)
# IRuntimeConfig arrived in 10.11 (create_runtime_config); RTX has it from 1.0.
V10_11 = Rule(since=(10, 11))
# add_non_zero(input, indices_type): in the 10.16.1, 11.4.0 and RTX 1.7.1 manifests, not 10.0.1.
V10_16 = Rule(since=(10, 16))

RELEASES: dict[str, Release] = {
    r.label: r
    for r in (
        Release("8.4.3", "tensorrt", "8.4.3", (8, 4, 3)),
        Release("8.6.1", "tensorrt", "8.6.1", (8, 6, 1)),
        Release("10.0.1", "tensorrt", "10.0.1", (10, 0, 1)),
        Release("10.16.1", "tensorrt", "10.16.1", (10, 16, 1), "10.16.1.11"),
        Release("11.4.0", "tensorrt", "11.4.0", (11, 4, 0), "11.4.0.106"),
        Release("rtx-1.7.1", "rtx", "1.7.1", (1, 7, 1), "1.7.1.116"),
    )
}

# pybind11 enums declared with py::arithmetic{} (compare equal to ints, support ordering).
ARITHMETIC = frozenset(
    {
        "BuilderFlag",
        "NetworkDefinitionCreationFlag",
        "MemoryPoolType",
        "ILogger.Severity",
        "ExecutionContextAllocationStrategy",
        "ErrorCodeTRT",
        "SerializationFlag",
        "EngineCapability",
        "EngineStat",
        "AllocatorFlag",
        "TacticSource",
        "QuantizationFlag",
        "TempfileControlFlag",
        "PreviewFeature",
        "OnnxParserFlag",
        "EngineInvalidityDiagnostics",
    }
)

# 8.4.3 has no manifest: it is 8.6.1's table less what 8.5 and 8.6 added (release notes).
_ADDED_AFTER_8_4 = {
    "DataType": {"UINT8", "FP8"},
    "UnaryOperation": {"ISINF"},
    "BuilderFlag": {"ENABLE_TACTIC_HEURISTIC", "VERSION_COMPATIBLE", "EXCLUDE_LEAN_RUNTIME", "FP8"},
    "MemoryPoolType": {"TACTIC_DRAM"},
    "LayerType": {"NON_ZERO", "NMS", "REVERSE_SEQUENCE", "NORMALIZATION", "GRID_SAMPLE", "CAST"},
}
_ENUMS_ADDED_AFTER_8_4 = {"TensorIOMode", "HardwareCompatibilityLevel"}


def enum_members(rel: Release) -> tuple[dict[str, list[tuple[str, int]]], dict[str, int]]:
    """``({enum name: [(member, value)]}, {DataType constant: value})`` of one release."""
    from ._enum_data import DATA

    if rel.label == "8.4.3":
        enums, consts = DATA["8.6.1"]
        enums = {
            name: [(m, v) for m, v in members if m not in _ADDED_AFTER_8_4.get(name, ())]
            for name, members in enums.items()
            if name not in _ENUMS_ADDED_AFTER_8_4
        }
        consts = {k: c for k, c in consts.items() if k not in ("uint8", "fp8")}
    else:
        enums, consts = DATA[rel.label]
    return enums, {k: v for k, (_, v) in consts.items()}
