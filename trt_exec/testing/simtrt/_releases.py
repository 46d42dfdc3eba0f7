"""Per-release tables: which public names exist, and enum members with their values.

Every rule here is a claim about the real TensorRT Python bindings; the comment next to it says
which release or document it follows. ``tests/sim/test_manifests.py`` re-checks the tables against
the committed API manifests (``tests/data/manifests``) when those are present.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Release", "Rule", "RELEASES", "ENUMS"]


@dataclass(frozen=True)
class Release:
    """One simulated release: ``flavor`` is "tensorrt" or "rtx"; ``vt`` the numeric version."""

    label: str  # what simulated_tensorrt() accepts
    flavor: str
    version: str  # __version__
    vt: tuple[int, ...]

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
# <= 8.4 bindings only; 8.5 adds named tensors; 10.0 removes bindings (TENSORRT_FACTS "API timeline").
BINDINGS = Rule(until=(10,), rtx=False)
NAMED = Rule(since=(8, 5))
PRE10 = Rule(until=(10,), rtx=False)
V10 = Rule(since=(10,))
V10_1 = Rule(since=(10, 1))
# Removed in 11.0 (TENSORRT_FACTS "11.0 removes"); TensorRT-RTX never had them.
PRE11 = Rule(until=(11,), rtx=False)
V10_PRE11 = Rule(since=(10,), until=(11,), rtx=False)
V8_6 = Rule(since=(8, 6))
RTX_ONLY = Rule(since=(99,), rtx=True)
TRT_ONLY = Rule(rtx=False)
# IRuntimeConfig arrived in 10.11 (create_runtime_config); RTX has it from 1.0.
V10_11 = Rule(since=(10, 11))

RELEASES: dict[str, Release] = {
    r.label: r
    for r in (
        Release("8.4.3", "tensorrt", "8.4.3", (8, 4, 3)),
        Release("8.6.1", "tensorrt", "8.6.1", (8, 6, 1)),
        Release("10.0.1", "tensorrt", "10.0.1", (10, 0, 1)),
        Release("10.16.1", "tensorrt", "10.16.1", (10, 16, 1)),
        Release("11.4.0", "tensorrt", "11.4.0", (11, 4, 0)),
        Release("rtx-1.7.1", "rtx", "1.7.1", (1, 7, 1)),
    )
}

_WEAK = Rule(until=(11,), rtx=False)  # weakly-typed precision flags, gone in 11.0


def _m(name: str, value: int, rule: Rule = ALL) -> tuple[str, int, Rule]:
    return (name, value, rule)


# Enum name -> (members, arithmetic). "arithmetic" mirrors pybind11's py::arithmetic{}: such
# enums compare equal to ints; the others compare equal only to members of the same enum.
ENUMS: dict[str, tuple[list[tuple[str, int, Rule]], bool, Rule]] = {
    # NvInferRuntimeBase.h DataType. UINT8/FP8 8.6; BF16/INT64/INT4 10.0; FP4 10.8; E8M0 10.12.
    "DataType": (
        [
            _m("FLOAT", 0),
            _m("HALF", 1),
            _m("INT8", 2),
            _m("INT32", 3),
            _m("BOOL", 4),
            _m("UINT8", 5, Rule(since=(8, 5))),
            _m("FP8", 6, Rule(since=(8, 6))),
            _m("BF16", 7, V10),
            _m("INT64", 8, V10),
            _m("INT4", 9, V10),
            _m("FP4", 10, Rule(since=(10, 8))),
            _m("E8M0", 11, Rule(since=(10, 12))),
        ],
        False,
        ALL,
    ),
    "TensorIOMode": ([_m("NONE", 0), _m("INPUT", 1), _m("OUTPUT", 2)], False, NAMED),
    "TensorLocation": ([_m("DEVICE", 0), _m("HOST", 1)], False, ALL),
    # 8.x: EXPLICIT_BATCH, EXPLICIT_PRECISION; 10.0 adds STRONGLY_TYPED (value 1) and deprecates
    # EXPLICIT_BATCH (ignored); 10.6 adds the Python-plugin preferences; 11.0 drops EXPLICIT_BATCH.
    "NetworkDefinitionCreationFlag": (
        [
            _m("EXPLICIT_BATCH", 0, Rule(until=(11,), rtx=False)),
            _m("EXPLICIT_PRECISION", 1, PRE10),
            _m("STRONGLY_TYPED", 1, V10),
            _m("PREFER_AOT_PYTHON_PLUGINS", 2, Rule(since=(10, 6), rtx=False)),
            _m("PREFER_JIT_PYTHON_PLUGINS", 3, Rule(since=(10, 6), rtx=False)),
        ],
        True,
        ALL,
    ),
    "ElementWiseOperation": (
        [
            _m(n, v)
            for v, n in enumerate(
                "SUM PROD MAX MIN SUB DIV POW FLOOR_DIV AND OR XOR EQUAL GREATER LESS".split()
            )
        ],
        False,
        ALL,
    ),
    # NvInfer.h UnaryOperation: SIGN/ROUND 8.2, ISINF 8.6, ISNAN 10.0.
    "UnaryOperation": (
        [
            _m(n, v)
            for v, n in enumerate(
                "EXP LOG SQRT RECIP ABS NEG SIN COS TAN SINH COSH ASIN ACOS ATAN ASINH ACOSH "
                "ATANH CEIL FLOOR ERF NOT SIGN ROUND".split()
            )
        ]
        + [_m("ISINF", 23, V8_6), _m("ISNAN", 24, V10)],
        False,
        ALL,
    ),
    "MemoryPoolType": (
        [
            _m("WORKSPACE", 0),
            _m("DLA_MANAGED_SRAM", 1, TRT_ONLY),
            _m("DLA_LOCAL_DRAM", 2, TRT_ONLY),
            _m("DLA_GLOBAL_DRAM", 3, TRT_ONLY),
            _m("TACTIC_DRAM", 4, Rule(since=(8, 6))),
            _m("TACTIC_SHARED_MEMORY", 5, V10),
        ],
        True,
        ALL,
    ),
    "ExecutionContextAllocationStrategy": (
        [_m("STATIC", 0), _m("ON_PROFILE_CHANGE", 1), _m("USER_MANAGED", 2)],
        True,
        V10,
    ),
    "ProfilingVerbosity": (
        [_m("LAYER_NAMES_ONLY", 0), _m("NONE", 1), _m("DETAILED", 2)],
        False,
        ALL,
    ),
    # TensorRT-RTX NvInfer.h ComputeCapability.
    "ComputeCapability": (
        [
            _m("NONE", 0),
            _m("CURRENT", 1),
            _m("SM75", 75),
            _m("SM80", 80),
            _m("SM86", 86),
            _m("SM89", 89),
            _m("SM120", 120),
        ],
        True,
        RTX_ONLY,
    ),
}

# BuilderFlag values were renumbered in 10.0 (STRICT_TYPES removed); 11.0 drops weak typing.
_BF_8_4 = (
    "FP16 INT8 DEBUG GPU_FALLBACK STRICT_TYPES REFIT DISABLE_TIMING_CACHE TF32 SPARSE_WEIGHTS "
    "SAFETY_SCOPE OBEY_PRECISION_CONSTRAINTS PREFER_PRECISION_CONSTRAINTS DIRECT_IO "
    "REJECT_EMPTY_ALGORITHMS ENABLE_TACTIC_HEURISTIC"
).split()
_BF_8_6 = _BF_8_4[:14] + ["VERSION_COMPATIBLE", "EXCLUDE_LEAN_RUNTIME", "FP8"]
_BF_10 = (
    "FP16 INT8 DEBUG GPU_FALLBACK REFIT DISABLE_TIMING_CACHE TF32 SPARSE_WEIGHTS SAFETY_SCOPE "
    "OBEY_PRECISION_CONSTRAINTS PREFER_PRECISION_CONSTRAINTS DIRECT_IO REJECT_EMPTY_ALGORITHMS "
    "VERSION_COMPATIBLE EXCLUDE_LEAN_RUNTIME FP8 ERROR_ON_TIMING_CACHE_MISS BF16 "
    "DISABLE_COMPILATION_CACHE STRIP_PLAN WEIGHTLESS REFIT_IDENTICAL WEIGHT_STREAMING INT4 "
    "REFIT_INDIVIDUAL STRICT_NANS MONITOR_MEMORY FP4 EDITABLE_TIMING_CACHE"
).split()
_BF_10_0_LAST = _BF_10.index("INT4")
_BF_WEAK = {"FP16", "INT8", "BF16", "FP8", "INT4", "FP4", "TF32", "OBEY_PRECISION_CONSTRAINTS",
            "PREFER_PRECISION_CONSTRAINTS", "STRICT_TYPES"}
_RTX_BF = {"DEBUG", "REFIT", "DISABLE_TIMING_CACHE", "SPARSE_WEIGHTS", "STRIP_PLAN",
           "REFIT_IDENTICAL", "WEIGHT_STREAMING", "REFIT_INDIVIDUAL", "MONITOR_MEMORY",
           "EDITABLE_TIMING_CACHE", "DISABLE_COMPILATION_CACHE"}


def builder_flags(rel: Release) -> list[tuple[str, int]]:
    """BuilderFlag members of one release (NvInfer.h BuilderFlag of that release)."""
    if rel.flavor == "rtx":
        return [(n, v) for v, n in enumerate(_BF_10) if n in _RTX_BF]
    if rel.vt < (8, 6):
        return list(map(tuple, ((n, v) for v, n in enumerate(_BF_8_4))))  # type: ignore[arg-type]
    if rel.vt < (10,):
        return [(n, v) for v, n in enumerate(_BF_8_6)]
    names = _BF_10[: _BF_10_0_LAST + 1] if rel.vt < (10, 1) else _BF_10
    members = [(n, v) for v, n in enumerate(names)]
    if rel.vt >= (11,):
        members = [(n, v) for n, v in members if n not in _BF_WEAK and n != "WEIGHTLESS"]
    return members


def enum_members(rel: Release) -> dict[str, tuple[list[tuple[str, int]], bool]]:
    """Every enum that exists in ``rel`` with its members, plus whether it is arithmetic."""
    out: dict[str, tuple[list[tuple[str, int]], bool]] = {}
    for name, (members, arith, rule) in ENUMS.items():
        if rule(rel):
            out[name] = ([(n, v) for n, v, r in members if r(rel)], arith)
    out["BuilderFlag"] = (builder_flags(rel), True)
    return out
