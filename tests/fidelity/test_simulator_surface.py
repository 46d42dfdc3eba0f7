"""The simulated TensorRT of each release against the real API of that release.

For every release with a manifest read from a real wheel (8.6.1, 10.0.1, 10.16.1, 11.4.0,
TensorRT-RTX 1.7.1):

- every public class, function, constant and attribute of the simulated module is in the real
  manifest (the simulator's surface is a subset; failures name what is extra), with the same
  kind (a property is a property, settable only where the real one is);
- every enum the simulator has has exactly the real members, with the real values;
- every method the simulator implements takes parameter names the real bindings accept (the
  simulator may implement fewer overloads, and may leave out trailing parameters that have
  defaults);
- what a release removed (derived from manifest diffs, not a hand list) is absent.

TensorRT 8.4.3 is simulated but has no binding wheel here (see ``tests/fidelity/helpers.py``):
its reference is the 8.6.1 manifest less the 8.5/8.6 additions, per the TensorRT 8.4.3 Python API
documentation and the 8.5/8.6 release notes listed in ``helpers.REFERENCE_8_4_3_DOCS``. Enum
members of 8.4.3 are checked as a subset only (the derivation removes only the members the notes
name).
"""

from __future__ import annotations

import inspect
from typing import Any

import pytest

from trt_exec.sim._types import EnumBase
from trt_exec.testing import SIMULATED_VERSIONS, simulated_tensorrt

from .helpers import (
    ATTRS_ADDED_AFTER_8_4,
    CLASSES_ADDED_AFTER_8_4,
    MANIFEST_RELEASES,
    REFERENCE_8_4_3_DOCS,
    describe_overloads,
    get_attribute,
    overloads,
    reference_manifest,
)

RELEASES = [r for r in SIMULATED_VERSIONS if r in MANIFEST_RELEASES or r == "8.4.3"]
# Dunders the manifests record (tools/trt_api_manifest.py KEEP_DUNDERS), less __init__ (checked
# through signatures) and the context-manager pair every binding class has.
PROTOCOL_DUNDERS = ("__call__", "__len__", "__getitem__", "__setitem__", "__iter__", "__contains__")


def _label(release: str) -> str:
    return "8.4.3 (documented reference, no wheel)" if release == "8.4.3" else release


@pytest.fixture(scope="module", params=RELEASES)
def pair(request: pytest.FixtureRequest) -> tuple[str, Any, dict[str, Any]]:
    release = request.param
    return release, simulated_tensorrt(release), reference_manifest(release)


def _public_classes(trt: Any) -> dict[str, type]:
    out: dict[str, type] = {}
    for name, value in vars(trt).items():
        if name[:1] != "_" and isinstance(value, type):
            out[name] = value
            for inner, v in vars(value).items():  # nested enums, e.g. ILogger.Severity
                if isinstance(v, type) and inner[:1] != "_" and issubclass(v, EnumBase):
                    out[f"{name}.{inner}"] = v
    return out


def _is_enum(cls: type) -> bool:
    return issubclass(cls, EnumBase)


def _sim_attrs(cls: type) -> dict[str, Any]:
    """Public attributes a user sees on the class (hidden bytes methods of IHostMemory and
    Python's own object/bytes attributes excluded), plus protocol dunders."""
    out: dict[str, Any] = {}
    for klass in reversed(cls.__mro__):
        if klass in (object, bytes):
            continue
        for n, v in vars(klass).items():
            if (n[:1] != "_" or n in PROTOCOL_DUNDERS) and n not in ("mro",):
                out[n] = v
    return {
        n: v
        for n, v in out.items()
        if (n in PROTOCOL_DUNDERS or hasattr(cls, n))
        # IHostMemory is a bytes subclass in the simulator; it hides bytes' own protocol
        # (its __len__ raises TypeError, as len() of the real object does).
        and not (issubclass(cls, bytes) and n in vars(bytes))
    }


def _real_kind(entry: dict[str, Any]) -> str:
    return str(entry.get("kind"))


def _sim_kind(cls: type, name: str, raw: Any) -> str:
    if isinstance(raw, property):
        return "property"
    if isinstance(raw, staticmethod):
        return "staticmethod"
    if isinstance(raw, classmethod):
        return "classmethod"
    if inspect.isfunction(raw):
        return "method"
    if isinstance(raw, type):
        return "enum" if _is_enum(raw) else "class"
    if _is_enum(cls) and isinstance(raw, cls):
        return "enum_member"
    if isinstance(raw, EnumBase):  # ILogger.ERROR and friends
        return "enum_member"
    return type(raw).__name__


# Divergences found by these tests and reported to the simulator's owner; each must still
# reproduce (a fixed one fails the test until removed from here).
KNOWN_KIND_DIVERGENCES: dict[str, tuple[frozenset[str], str]] = {}


# ------------------------------------------------------------------------------------------
def test_module_names_are_real(pair: tuple[str, Any, dict[str, Any]]) -> None:
    release, trt, manifest = pair
    real = (
        {n for n in manifest["classes"] if "." not in n}
        | set(manifest.get("functions", {}))
        | set(manifest.get("constants", {}))
    )
    sim = {n for n in vars(trt) if n[:1] != "_"}
    extra = sorted(sim - real)
    assert not extra, f"simulated {_label(release)} module has names the real one lacks: {extra}"


def test_class_attributes_are_real(pair: tuple[str, Any, dict[str, Any]]) -> None:
    release, trt, manifest = pair
    extra, kinds = [], []
    for cname, cls in sorted(_public_classes(trt).items()):
        real_cls = manifest["classes"].get(cname)
        if real_cls is None:
            extra.append(cname)
            continue
        for name, raw in sorted(_sim_attrs(cls).items()):
            if _is_enum(cls) and name in ("name", "value"):
                continue  # every pybind11 enum has them (not recorded per enum)
            entry = get_attribute(manifest, cname, name)
            if name == "__iter__" and entry is None:
                # Python iterates a real Dims through __getitem__ + __len__ (sequence protocol).
                entry = get_attribute(manifest, cname, "__getitem__") and {"kind": "method"}
            if entry is None:
                extra.append(f"{cname}.{name}")
                continue
            sk, rk = _sim_kind(cls, name, raw), _real_kind(entry)
            if rk == "enum_member" and sk == "enum_member":
                continue
            if rk == "property" and not entry.get("settable") and sk in ("int", "str", "bool"):
                continue  # a plain value reads like a read-only (static) property: Dims.MAX_DIMS
            if sk != rk:
                kinds.append(f"{cname}.{name}: simulated {sk}, real {rk}")
            elif sk == "property" and raw.fset is not None and not entry.get("settable"):
                kinds.append(f"{cname}.{name}: settable in the simulator, read-only in real")
    assert not extra, f"simulated {_label(release)} has attributes the real API lacks: {extra}"
    known = {k for k, (rels, _) in KNOWN_KIND_DIVERGENCES.items() if release in rels}
    new = [k for k in kinds if k.split(":", 1)[0] not in known]
    fixed = sorted(known - {k.split(":", 1)[0] for k in kinds})
    assert not new, f"simulated {_label(release)}: kinds differ: {new}"
    assert not fixed, (
        f"simulated {_label(release)}: {fixed} now agree with the real API; remove them from "
        "KNOWN_KIND_DIVERGENCES"
    )


def test_enum_members_and_values_are_real(pair: tuple[str, Any, dict[str, Any]]) -> None:
    release, trt, manifest = pair
    bad = []
    checked = 0
    for cname, cls in sorted(_public_classes(trt).items()):
        if not _is_enum(cls) or cname not in manifest["classes"]:
            continue
        checked += 1
        sim = {n: int(m) for n, m in cls.__members__.items()}
        real = {
            n: a["value"]
            for n, a in manifest["classes"][cname]["attributes"].items()
            if a.get("kind") == "enum_member" and "enum" not in a
        }
        if cname == "ILogger.Severity":
            real = {
                n: a["value"]
                for n, a in manifest["classes"]["ILogger"]["attributes"].items()
                if a.get("enum") == "ILogger.Severity"
            } or real
        wrong = {n: (v, real[n]) for n, v in sim.items() if n in real and real[n] != v}
        extra = sorted(set(sim) - set(real))
        missing = sorted(set(real) - set(sim)) if release != "8.4.3" else []
        if wrong or extra or missing:
            bad.append(f"{cname}: values (sim, real) {wrong}, extra {extra}, missing {missing}")
    assert checked >= 10, f"only {checked} enums compared"
    assert not bad, f"simulated {_label(release)} enums differ from the real ones:\n" + "\n".join(
        bad
    )


# Signature divergences of the simulator found by this test and reported to its owner; each
# entry must still reproduce (a fixed one fails the test until removed from here).
KNOWN_SIGNATURE_DIVERGENCES: dict[str, tuple[frozenset[str], str]] = {}


def _param_problem(cname: str, name: str, fn: Any, manifest: dict[str, Any]) -> str | None:
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        return None
    params = list(sig.parameters.values())[1:]  # self
    if any(p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) for p in params):
        return None  # *args/**kwargs: accepts anything the real one does
    ours = [p.name for p in params]
    reals = overloads(manifest, cname, name)
    if name == "__init__" and reals:
        reals = [ps[1:] if ps and ps[0].name in ("self", "this") else ps for ps in reals]
    if not reals:
        return None
    for ps in reals:
        if len(ours) > len(ps):
            continue
        names_ok = all(o == r.name or r.name.startswith("arg") for o, r in zip(ours, ps))
        if names_ok and all(r.has_default for r in ps[len(ours) :]):
            return None
    return f"{cname}.{name}{tuple(ours)}: real {describe_overloads(reals)}"


def test_method_parameter_names_are_real(pair: tuple[str, Any, dict[str, Any]]) -> None:
    release, trt, manifest = pair
    bad = []
    checked = 0
    for cname, cls in sorted(_public_classes(trt).items()):
        if _is_enum(cls) or cname not in manifest["classes"]:
            continue
        for name, raw in sorted(_sim_attrs(cls).items()):
            if inspect.isfunction(raw) and get_attribute(manifest, cname, name) is not None:
                checked += 1
                problem = _param_problem(cname, name, raw, manifest)
                if problem:
                    bad.append(problem)
        init = cls.__dict__.get("__init__")
        if inspect.isfunction(init) and "__init__" in manifest["classes"][cname]["attributes"]:
            checked += 1
            problem = _param_problem(cname, "__init__", init, manifest)
            if problem:
                bad.append(problem)
    assert checked >= 50, f"only {checked} methods compared"
    known = {k for k, (releases, _) in KNOWN_SIGNATURE_DIVERGENCES.items() if release in releases}
    new = [b for b in bad if b.split("(", 1)[0] not in known]
    fixed = sorted(known - {b.split("(", 1)[0] for b in bad})
    assert not new, (
        f"simulated {_label(release)} methods take parameters the real ones do not:\n"
        + "\n".join(new)
    )
    assert not fixed, (
        f"simulated {_label(release)}: {fixed} now agree with the real API; remove them from "
        "KNOWN_SIGNATURE_DIVERGENCES"
    )


# ------------------------------------------------------------------------------------------
# What each release removed, from the manifests.
def _names(manifest: dict[str, Any]) -> set[str]:
    out = set()
    for cname, c in manifest["classes"].items():
        out.add(cname)
        out.update(f"{cname}.{a}" for a in c["attributes"])
    return out


TRT_LINE = [r for r in MANIFEST_RELEASES if not r.startswith("rtx-")]


def removed_by(release: str) -> set[str]:
    """Names of an earlier release (for RTX: of any TensorRT release) that ``release`` lacks."""
    if release == "8.4.3":
        return _names(reference_manifest("8.6.1")) - _names(reference_manifest("8.4.3"))
    if release.startswith("rtx-"):
        earlier = TRT_LINE  # what TensorRT has or had and RTX lacks
    else:
        earlier = TRT_LINE[: TRT_LINE.index(release)]
    now = _names(reference_manifest(release))
    gone: set[str] = set()
    for e in earlier:
        gone |= _names(reference_manifest(e)) - now
    return gone


def test_removed_names_derivation() -> None:
    """The diffs find the removals the release notes list (TensorRT 10.0 and 11.0 release notes,
    "Removed APIs"), so the next test is not vacuous."""
    assert "ICudaEngine.num_bindings" in removed_by("10.0.1")
    assert "IExecutionContext.execute_async_v2" in removed_by("10.0.1")
    assert "ICudaEngine.device_memory_size" in removed_by("11.4.0")
    assert "ICudaEngine.device_memory_size" not in removed_by("10.16.1")
    assert "IExecutionContext.set_input_shape" in removed_by("8.4.3")
    assert "TensorIOMode" in removed_by("8.4.3")
    assert "ICudaEngine.num_bindings" in removed_by("rtx-1.7.1")
    assert not removed_by("8.6.1")
    assert len(REFERENCE_8_4_3_DOCS) >= 2 and CLASSES_ADDED_AFTER_8_4 and ATTRS_ADDED_AFTER_8_4


def _sim_has(trt: Any, dotted: str) -> bool:
    parts = dotted.split(".")
    obj: Any = trt
    for i, p in enumerate(parts):
        if isinstance(obj, type) and i == len(parts) - 1 and p in PROTOCOL_DUNDERS:
            return any(p in vars(k) for k in obj.__mro__ if k not in (object, bytes))
        if p.startswith("__") and p not in PROTOCOL_DUNDERS:
            return False  # __init__/__enter__/__exit__: every class has them
        try:
            obj = getattr(obj, p)
        except AttributeError:
            return False
    return True


@pytest.mark.parametrize("release", [r for r in RELEASES if r != "8.6.1"])
def test_removed_names_are_absent(release: str) -> None:
    _assert_removed_absent(release, simulated_tensorrt(release))


def _assert_removed_absent(release: str, trt: Any) -> None:
    gone = removed_by(release)
    assert gone, f"no removals derived for {release}"
    still = sorted(n for n in gone if _sim_has(trt, n))
    assert not still, f"simulated {_label(release)} still has what the release removed: {still}"


# ------------------------------------------------------------------------------------------
def test_the_checks_catch_a_divergence() -> None:
    """Each check above fails, naming the class and attribute, on a simulator that diverges."""
    trt = simulated_tensorrt("10.0.1")
    pair = ("10.0.1", trt, reference_manifest("10.0.1"))
    type.__setattr__(trt.ICudaEngine, "num_bindings", property(lambda self: 0))
    with pytest.raises(AssertionError, match=r"ICudaEngine\.num_bindings"):
        test_class_attributes_are_real(pair)
    with pytest.raises(AssertionError, match=r"ICudaEngine\.num_bindings"):
        _assert_removed_absent("10.0.1", trt)
    type.__delattr__(trt.ICudaEngine, "num_bindings")

    def set_input_shape(self: Any, tensor: str, dims: Any) -> bool:
        return True

    type.__setattr__(trt.IExecutionContext, "set_input_shape", set_input_shape)
    with pytest.raises(AssertionError, match=r"IExecutionContext\.set_input_shape\('tensor'"):
        test_method_parameter_names_are_real(pair)

    severity = trt.ILogger.Severity
    member = severity.__members__["ERROR"]
    object.__setattr__(member, "value", 7)
    try:
        with pytest.raises(
            AssertionError,
            match=r"ILogger\.Severity: values \(sim, real\) "
            r"\{'ERROR': \(7, 1\)\}",
        ):
            test_enum_members_and_values_are_real(pair)
    finally:
        object.__setattr__(member, "value", 1)
