"""Every TensorRT attribute trt_exec touches exists in the real API of every release its backend
claims, and every call trt_exec makes binds to a real overload.

How "touches" is determined: a representative workload (the contract suite's: load from bytes,
a path and an ICudaEngine; infer in every profile; prepare + execute; set_profile; a pool; the
error paths; data-dependent outputs through the IOutputAllocator on V3; the inspect report;
close) runs against ``simulated_tensorrt(release, record_access=True)``. The simulator records
every public attribute read (``mod._sim.accesses``); ``helpers.install_call_recorder`` adds
each call's arguments and each attribute write. Only what trt_exec's library code does counts
(callers in ``trt_exec.*`` but not ``trt_exec.testing.*``, which builds engines for tests). A call
added anywhere in trt_exec is therefore checked without editing this file, against the releases
on which that code path runs - so ``device_memory_size`` (read before 10.1) and
``device_memory_size_v2`` (10.1+) are each checked where they are used.

Backends claim (issue 3): V2 8.4.3 and 8.6.1; V3 8.6.1, 10.0.1, 10.16.1, 11.4.0 and
TensorRT-RTX 1.7.1. TensorRT 8.4.3 has no binding wheel here: its reference is the 8.6.1
manifest less the 8.5/8.6 additions, following the documents in
``helpers.REFERENCE_8_4_3_DOCS`` (the TensorRT 8.4.3 Python API pages for ICudaEngine and
IExecutionContext, and the 8.5/8.6 release notes).
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest

import trt_exec
from trt_exec.cli.inspect import bindings_layout, device_memory
from trt_exec.errors import EngineLoadError, ExecutionError
from trt_exec.pool import Pool
from trt_exec.testing import (
    DEMO_NETWORK,
    EngineBuildError,
    InputSpec,
    NetworkSpec,
    OpSpec,
    build_engine,
    reference,
    simulated_tensorrt,
)

from ..helpers import profile_inputs
from .helpers import (
    CLAIMS,
    MANIFEST_RELEASES,
    REFERENCE_8_4_3_DOCS,
    Call,
    SetAttr,
    call_fits,
    describe_overloads,
    doc_def_params,
    get_attribute,
    install_call_recorder,
    is_library_module,
    library_subclasses,
    overloads,
    reference_manifest,
)

# One data-dependent output (non_zero) next to a static one.
DD_NETWORK = NetworkSpec(
    inputs=(InputSpec("x", "float32", (-1, 4)),),
    ops=(OpSpec("non_zero", ("x",), "nz"), OpSpec("unary", ("x",), "neg", "NEG")),
    outputs=("nz", "neg"),
    profiles=((((1, 4), (2, 4), (4, 4)),),),
)


def _check(got: dict[str, Any], spec: NetworkSpec, arrays: dict[str, Any]) -> None:
    want = reference(spec, arrays)
    assert set(got) == set(want)
    for name, value in want.items():
        np.testing.assert_allclose(np.asarray(got[name]), value, rtol=1e-6)


def run_workload(trt: Any, backend: str, tmp_path: Any) -> None:
    """The contract workload, plus the error paths, a pool and the inspect report."""
    plan = build_engine(trt, DEMO_NETWORK)
    ins = [i.name for i in DEMO_NETWORK.inputs]
    outs = list(DEMO_NETWORK.outputs)
    with trt_exec.load(
        plan, tensorrt=trt, backend=backend, expected_inputs=ins, expected_outputs=outs
    ) as ex:
        assert ex.backend == backend
        for k in range(ex.num_profiles):
            for which in range(3):
                arrays = profile_inputs(DEMO_NETWORK, k, which, seed=k)
                _check(ex.infer(arrays, profile=k), DEMO_NETWORK, arrays)
            arrays = profile_inputs(DEMO_NETWORK, k, 2)
            _check(ex.infer(arrays), DEMO_NETWORK, arrays)  # profile chosen from the shapes
        ex.set_profile(1)
        arrays = profile_inputs(DEMO_NETWORK, 1, 0)
        _check(ex.infer(arrays), DEMO_NETWORK, arrays)
        ex.set_profile(None)
        # prepare + execute on caller buffers (host pointers stand in for device memory).
        arrays = profile_inputs(DEMO_NETWORK, 0, 1)
        shapes = ex.prepare({n: a.shape for n, a in arrays.items()})
        bufs = {n: np.empty(s, dtype=ex.outputs[n].dtype) for n, s in shapes.items()}
        ex.execute({n: a.ctypes.data for n, a in {**arrays, **bufs}.items()}, 0)
        _check(bufs, DEMO_NETWORK, arrays)
        # caller outputs, and infer_async (synchronous in host mode).
        out = {n: np.empty(s, dtype=ex.outputs[n].dtype) for n, s in shapes.items()}
        ex.infer(arrays, outputs=out)
        _check(out, DEMO_NETWORK, arrays)
        result = ex.infer_async(arrays)
        _check(dict(result.outputs), DEMO_NETWORK, arrays)
        # the inspect report's TensorRT reads.
        assert device_memory(ex)["bytes"] is not None
        layout = bindings_layout(ex)
        assert (layout is None) == (backend == "v3")
        # Failures TensorRT reports by returning False: each is translated, then recovered from.
        enqueue = "execute_async_v2" if backend == "v2" else "execute_async_v3"
        shape_setter = "set_binding_shape" if backend == "v2" else "set_input_shape"
        for method in (enqueue, shape_setter, "set_optimization_profile_async"):
            trt._sim.inject_failure(method, times=1, message=f"injected {method}")
            k = 1 if ex.active_profile == 0 else 0
            arrays = profile_inputs(DEMO_NETWORK, k, 2, seed=3)
            with pytest.raises(ExecutionError):
                ex.infer(arrays)
            _check(ex.infer(arrays), DEMO_NETWORK, arrays)
        ex.close()
        ex.close()
    path = tmp_path / f"{trt._sim.version}-{backend}.engine"
    path.write_bytes(plan)
    with trt_exec.load(str(path), tensorrt=trt, backend=backend, profile=1) as ex:
        arrays = profile_inputs(DEMO_NETWORK, 1)
        _check(ex.infer(arrays), DEMO_NETWORK, arrays)
    runtime = trt.Runtime(trt.Logger(trt.Logger.WARNING))
    engine = runtime.deserialize_cuda_engine(plan)
    with trt_exec.load(engine, tensorrt=trt, backend=backend) as ex:
        arrays = profile_inputs(DEMO_NETWORK, 0)
        _check(ex.infer(arrays), DEMO_NETWORK, arrays)
    with Pool(plan, size=2, tensorrt=trt, backend=backend) as pool:
        arrays = profile_inputs(DEMO_NETWORK, 1)
        _check(pool.infer(arrays), DEMO_NETWORK, arrays)
    with pytest.raises(EngineLoadError):
        trt_exec.load(b"\x00" * 64, tensorrt=trt, backend=backend)
    trt._sim.inject_failure("create_execution_context", times=1)
    with pytest.raises(ExecutionError):
        trt_exec.load(plan, tensorrt=trt, backend=backend)
    if trt._sim.flavor == "rtx":
        # The real TensorRT-RTX 1.7.1 builder refuses NonZero (test_real_rtx.py).
        with pytest.raises(EngineBuildError, match="has no runners that implement it"):
            build_engine(trt, DD_NETWORK)
    elif backend == "v3":
        dd_plan = build_engine(trt, DD_NETWORK)
        with trt_exec.load(dd_plan, tensorrt=trt, backend=backend) as ex:
            for which in range(3):
                arrays = profile_inputs(DD_NETWORK, 0, which, seed=which)
                arrays["x"][0, :2] = 0  # some zeros, so non_zero has work to do
                got = ex.infer(arrays)
                want = reference(DD_NETWORK, arrays)
                np.testing.assert_array_equal(got["nz"].astype(np.int64), want["nz"])
                np.testing.assert_allclose(got["neg"], want["neg"])


# ------------------------------------------------------------------------------------------
@dataclass
class Run:
    release: str
    backend: str
    trt: Any
    accesses: list[tuple[str, str, str]]
    calls: list[Call]
    sets: list[SetAttr]
    subclasses: list[type]
    manifest: dict[str, Any]
    error: str | None = None  # the workload's exception, if it raised
    own_names: dict[str, set[str]] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return f"{self.backend} on {self.manifest['release']}"


def record(release: str, backend: str, workload: Any) -> Run:
    trt = simulated_tensorrt(release, record_access=True)
    calls, sets = install_call_recorder(trt)
    error = None
    try:
        workload(trt, backend)
    except Exception as exc:  # reported by the tests, with what was recorded until then
        error = f"{type(exc).__name__}: {exc}"
    accesses = sorted(a for a in trt._sim.accesses if is_library_module(a[0]))
    subs = library_subclasses(trt)
    run = Run(
        release, backend, trt, accesses, calls, sets, subs, reference_manifest(release), error
    )
    # Names trt_exec defines on its own subclasses (the logger bridge, the output allocator):
    # reading them is not a TensorRT access.
    for sub in subs:
        base = type.__getattribute__(sub, "_PUBLIC_NAME")
        run.own_names.setdefault(base, set()).update(n for n in vars(sub) if n[:1] != "_")
    for s in sets:
        if s.own_subclass:
            run.own_names.setdefault(s.owner, set()).add(s.attr)
    return run


@pytest.fixture(scope="module", params=CLAIMS, ids=[f"{b}-{r}" for r, b in CLAIMS])
def run(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Run:
    release, backend = request.param
    tmp = tmp_path_factory.mktemp(f"{backend}-{release}")
    return record(release, backend, lambda trt, b: run_workload(trt, b, tmp))


# ------------------------------------------------------------------------------------------
def _sim_lookup(trt: Any, owner: str) -> Any:
    obj = trt
    for part in owner.split("."):
        obj = type.__getattribute__(obj, part) if isinstance(obj, type) else vars(obj).get(part)
    return obj


def _real_has(manifest: dict[str, Any], owner: str, attr: str) -> bool:
    if owner == "tensorrt":
        return (
            (attr in manifest["classes"] and "." not in attr)
            or attr in manifest.get("functions", {})
            or attr in manifest.get("constants", {})
        )
    cls = manifest["classes"].get(owner)
    if cls is None:
        return False
    if cls.get("kind") == "enum" and attr in ("name", "value"):  # every pybind11 enum has them
        return True
    return get_attribute(manifest, owner, attr) is not None


def _sim_has(trt: Any, owner: str, attr: str) -> bool:
    if owner == "tensorrt":
        return attr in vars(trt)
    cls = _sim_lookup(trt, owner)
    return cls is not None and any(attr in vars(k) for k in type.__getattribute__(cls, "__mro__"))


def access_problems(run: Run) -> list[str]:
    """Reads of names the real release lacks; and names trt_exec looked up that the simulator
    lacks but the real release has (real TensorRT would take another path than the tested one).

    A name both lack is a probe (``getattr(engine, "device_memory_size_v2", None)``) that the
    simulator answers as the real release would - unless the workload then failed, when it is
    reported as an unguarded use."""
    problems = []
    for caller, owner, attr in run.accesses:
        if attr in run.own_names.get(owner, ()):
            continue
        real = _real_has(run.manifest, owner, attr)
        sim = _sim_has(run.trt, owner, attr)
        where = "the module" if owner == "tensorrt" else owner
        if sim and not real:
            problems.append(
                f"{run.label}: {caller} uses {where}.{attr}, which the real API lacks "
                f"(manifest {run.manifest['release']}); the simulator has it"
            )
        elif not real and not sim and run.error is not None:
            problems.append(
                f"{run.label}: {caller} uses {where}.{attr}, which the real API lacks "
                f"(manifest {run.manifest['release']}), and so does the simulator: the "
                f"workload failed with {run.error}"
            )
        elif real and not sim:
            problems.append(
                f"{run.label}: {caller} looked up {where}.{attr}, which the simulator lacks but "
                "the real API has: real TensorRT would take a path the simulator never ran"
            )
    return problems


def call_problems(run: Run) -> list[str]:
    """Calls whose arguments bind to no real overload, and calls of non-callables."""
    problems = []
    for c in sorted(set(run.calls)):
        entry = get_attribute(run.manifest, c.owner, c.attr)
        what = f"{c.owner}.{c.attr}(<{c.nargs} positional>"
        what += f", {', '.join(sorted(c.kwargs))}=…)" if c.kwargs else ")"
        if entry is None:
            problems.append(f"{run.label}: {c.caller} calls {what}, absent from the real API")
            continue
        if entry.get("kind") not in ("method", "staticmethod", "classmethod"):
            problems.append(
                f"{run.label}: {c.caller} calls {what}, but the real {c.owner}.{c.attr} is a "
                f"{entry.get('kind')}, not a method"
            )
            continue
        ovs = overloads(run.manifest, c.owner, c.attr)
        if ovs and not any(call_fits(ps, c.nargs, c.kwargs) for ps in ovs):
            problems.append(
                f"{run.label}: {c.caller} calls {what}, which binds to no real overload: "
                f"{describe_overloads(ovs)}"
            )
    return problems


def write_problems(run: Run) -> list[str]:
    """Attribute writes on TensorRT objects must be settable properties of the real API."""
    problems = []
    for s in sorted(set(run.sets)):
        if s.own_subclass:
            continue
        entry = get_attribute(run.manifest, s.owner, s.attr)
        if entry is None or entry.get("kind") != "property" or not entry.get("settable"):
            kind = "absent" if entry is None else f"a {entry.get('kind')}, not settable"
            problems.append(f"{run.label}: {s.caller} sets {s.owner}.{s.attr}, which is {kind}")
    return problems


def override_problems(run: Run, claimed: list[dict[str, Any]]) -> list[str]:
    """trt_exec's subclasses (ILogger bridge, IOutputAllocator): each method TensorRT calls
    back takes the arguments the real release passes (positionally, as pybind11 trampolines do);
    a method no claimed release knows is a typo that TensorRT would never call."""
    problems = []
    for sub in run.subclasses:
        base = type.__getattribute__(sub, "_PUBLIC_NAME")
        for name, fn in vars(sub).items():
            if name[:1] == "_" or not inspect.isfunction(fn):
                continue
            ours = [
                p
                for p in list(inspect.signature(fn).parameters.values())[1:]
                if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
            ]
            entry = get_attribute(run.manifest, base, name)
            if entry is not None and entry.get("kind") == "method":
                reals = overloads(run.manifest, base, name)
            else:
                d = doc_def_params(run.manifest, base, name)
                reals = [d] if d is not None else []
            if not reals:
                known = any(
                    get_attribute(m, base, name) or doc_def_params(m, base, name) is not None
                    for m in claimed
                )
                if not known:
                    problems.append(
                        f"{run.label}: {sub.__module__}.{sub.__qualname__}.{name} overrides "
                        f"nothing: no claimed release's {base} has {name!r}"
                    )
                continue
            if not any(len(ps) == len(ours) for ps in reals):
                problems.append(
                    f"{run.label}: {sub.__module__}.{sub.__qualname__}.{name} takes "
                    f"{[p.name for p in ours]}, but the real {base}.{name} is called with "
                    f"{describe_overloads(reals)}"
                )
    return problems


def _claimed_manifests(backend: str) -> list[dict[str, Any]]:
    return [reference_manifest(r) for r, b in CLAIMS if b == backend]


def test_every_claimed_release_but_8_4_3_has_a_real_manifest():
    """The claims are the contract matrix; each release of it is checked against a manifest read
    from a real wheel, except 8.4.3 (the documented reference)."""
    claimed = {r for r, _ in CLAIMS}
    assert claimed - set(MANIFEST_RELEASES) == {"8.4.3"}
    assert set(MANIFEST_RELEASES) <= claimed


# ------------------------------------------------------------------------------------------
def _fail_on(problems: list[str]) -> None:
    if problems:
        pytest.fail("\n".join(problems), pytrace=False)


def _needs_complete_run(run: Run) -> None:
    if run.error is not None:
        pytest.skip(f"the workload failed ({run.error}); see test_workload_completes")


def test_workload_completes(run: Run) -> None:
    if run.error is not None:
        _fail_on([f"{run.label}: the workload failed with {run.error}", *access_problems(run)])


def test_workload_touched_tensorrt(run: Run) -> None:
    """The recording works: the workload's core calls were seen (else the checks are vacuous)."""
    _needs_complete_run(run)
    seen = {(o, a) for _, o, a in run.accesses}
    core = {("ICudaEngine", "create_execution_context"), ("Runtime", "deserialize_cuda_engine")}
    if run.backend == "v2":
        core |= {("IExecutionContext", "execute_async_v2"), ("ICudaEngine", "num_bindings")}
    else:
        core |= {("IExecutionContext", "execute_async_v3"), ("ICudaEngine", "num_io_tensors")}
    assert core <= seen, f"not recorded: {sorted(core - seen)}"
    assert {(c.owner, c.attr) for c in run.calls} >= {("Runtime", "__init__")}
    assert run.subclasses, "trt_exec's ILogger subclass was not found"


def test_every_attribute_used_exists_in_the_real_release(run: Run) -> None:
    if run.release == "8.4.3":
        # Not a skip: checked against the documented 8.4.3 reference.
        assert REFERENCE_8_4_3_DOCS
    _fail_on(access_problems(run))


def test_every_call_binds_to_a_real_overload(run: Run) -> None:
    _fail_on(call_problems(run))


def test_attribute_writes_are_settable_properties(run: Run) -> None:
    _fail_on(write_problems(run))


def test_callbacks_match_what_tensorrt_calls(run: Run) -> None:
    _fail_on(override_problems(run, _claimed_manifests(run.backend)))


# Which device-memory API the executor and the inspect report read, per release: the
# version-dependent path must actually run (so the checks above cover it where it is used).
DEVICE_MEMORY_API = {
    "8.4.3": "device_memory_size",
    "8.6.1": "device_memory_size",
    "10.0.1": "device_memory_size",
    "10.16.1": "device_memory_size_v2",
    "11.4.0": "device_memory_size_v2",
    "rtx-1.7.1": "device_memory_size_v2",
}


def test_version_dependent_device_memory_api(run: Run) -> None:
    _needs_complete_run(run)
    used = {
        (caller, attr)
        for caller, owner, attr in run.accesses
        if owner == "ICudaEngine"
        and attr.startswith("device_memory_size")
        and _sim_has(run.trt, owner, attr)
    }
    want = DEVICE_MEMORY_API[run.release]
    assert ("trt_exec.backends.base", want) in used, sorted(used)
    assert {a for _, a in used} == {want}, sorted(used)
    assert _real_has(run.manifest, "ICudaEngine", want)


# ------------------------------------------------------------------------------------------
# The checker itself: each kind of mismatch is reported, naming the class, attribute and release.
def _bad_workload(trt: Any, backend: str) -> None:
    from trt_exec import _trtlog  # a library module, so its accesses count

    plan = build_engine(trt, DEMO_NETWORK)
    runtime = trt.Runtime(_trtlog.bridge_logger(trt))
    engine = runtime.deserialize_cuda_engine(plan)
    ctx = engine.create_execution_context()
    # Run the bad calls with a library module's globals, as if trt_exec made them.
    code = (
        "engine.num_io_tensors\n"
        "try:\n    ctx.set_input_shape(name='x', dims=(1, 4))\nexcept TypeError:\n    pass\n"
        "try:\n    ctx.set_optimization_profile_async(0)\nexcept TypeError:\n    pass\n"
        "try:\n    engine.name = 'renamed'\nexcept AttributeError:\n    pass\n"
        "engine.num_bindings\n"  # unguarded, gone in 10.0: the workload fails here
    )
    exec(code, {**vars(_trtlog), "engine": engine, "ctx": ctx})


def test_checker_reports_each_kind_of_mismatch() -> None:
    bad = record("10.0.1", "v3", _bad_workload)
    calls = "\n".join(call_problems(bad))
    assert "IExecutionContext.set_input_shape(<0 positional>, dims, name=…)" in calls
    assert "IExecutionContext.set_optimization_profile_async(<1 positional>)" in calls
    assert "v3 on 10.0.1" in calls
    writes = "\n".join(write_problems(bad))
    assert "sets ICudaEngine.name" in writes
    assert bad.error is not None and "num_bindings" in bad.error
    assert (
        "v3 on 10.0.1: trt_exec._trtlog uses ICudaEngine.num_bindings, which the real API lacks "
        "(manifest 10.0.1), and so does the simulator: the workload failed with AttributeError"
    ) in "\n".join(access_problems(bad))
    # A simulator that still had num_bindings on 10.0.1 would let trt_exec pass; the check
    # against the real API still fails:
    bad.error = None
    type.__setattr__(bad.trt.ICudaEngine, "num_bindings", property(lambda self: 0))
    accesses = "\n".join(access_problems(bad))
    assert (
        "v3 on 10.0.1: trt_exec._trtlog uses ICudaEngine.num_bindings, which the real API lacks"
        in accesses
    )
