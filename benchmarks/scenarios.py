"""Scenarios A-E and their contenders, for one simulated release in one process.

Engine: one input ``x`` (float32, (batch, 1024), batch 1..16384: 4 KB to 64 MB) and one output
``y = identity(x)``, with two identical optimization profiles (for scenario E). In GPU mode the
simulator enqueues the identity as one ``cuMemcpyDtoDAsync``, the stand-in the issue names; in
CPU mode the null device does no work at all, so only host-side overhead is measured.

Contenders for each scenario (each with its own execution context, on the same engine bytes):

- ``raw v3``: the minimal per-call sequence by hand: ``set_input_shape``, ``set_tensor_address``
  for x and y, ``execute_async_v3`` (plus ``set_optimization_profile_async`` in E, and the copies
  in B). This is the floor. ``raw v3 bound once`` (A only) binds once at set-up and calls only
  ``execute_async_v3``: the least any wrapper could do.
- ``raw v2``: ``set_binding_shape``, a bindings list, ``execute_async_v2`` (8.6 only).
- ``trt_exec v3`` / ``trt_exec v2``: the public API a user would call for that scenario.
- ``polygraphy``: ``TrtRunner.infer`` with ``copy_outputs_to_host`` at its default (True).
"""

from __future__ import annotations

import ctypes
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from benchmarks import polygraphy_setup
from benchmarks.harness import Contender

__all__ = ["BENCH_NETWORK", "Scenario", "build_scenarios", "SCENARIO_TITLES"]

ROW = 1024  # float32 elements per batch row: 4 KB
SMALL = (1, ROW)  # 4 KB
LARGE = (16384, ROW)  # 64 MB
SCENARIO_TITLES = {
    "A": "A. Hot path: device-resident in/out, static shape, async, no host sync",
    "B-4KB": "B. numpy in, numpy out, synchronous, 4 KB",
    "B-64MB": "B. numpy in, numpy out, synchronous, 64 MB",
    "C": "C. Shape change on every call (batch 1 <-> 2, one profile), device-resident, async",
    "D": "D. CUDA-graph replay + stream sync vs raw cudaGraphLaunch + sync (4 KB)",
    "E": "E. Profile switch on every call (0 <-> 1), device-resident, async",
}


def _network() -> Any:
    from trt_exec.testing import InputSpec, NetworkSpec, OpSpec

    bounds = ((1, ROW), (1, ROW), LARGE)
    return NetworkSpec(
        inputs=(InputSpec("x", "float32", (-1, ROW)),),
        ops=(OpSpec("identity", ("x",), "y"),),
        outputs=("y",),
        profiles=((bounds,), (bounds,)),
    )


BENCH_NETWORK = _network()


@dataclass
class Scenario:
    id: str
    title: str
    floor: str
    contenders: list[Contender] = field(default_factory=list)
    skipped: str = ""  # why the scenario does not run in this mode
    large: bool = False  # fewer calls


# --- memory: host stand-ins (CPU mode) or CUDA (GPU mode) ---------------------------------------
class _DevArray:
    """The cheapest device array trt_exec accepts: a fixed ``__cuda_array_interface__``."""

    def __init__(self, ptr: int, shape: tuple[int, ...]) -> None:
        self.__cuda_array_interface__ = {
            "shape": shape,
            "typestr": "<f4",
            "data": (ptr, False),
            "strides": None,
            "version": 3,
        }


class HostMemory:
    """CPU mode: the simulator's host mode takes host pointers as device addresses."""

    gpu = False

    def __init__(self) -> None:
        self._keep: list[np.ndarray] = []
        self.stream = 0

    def device(self, nbytes: int) -> int:
        buf = np.zeros(nbytes, np.uint8)
        self._keep.append(buf)
        return int(buf.ctypes.data)

    def array(self, ptr: int, shape: tuple[int, ...]) -> Any:
        """What a caller passes as a device-resident array (host mode: a numpy view)."""
        n = int(np.prod(shape))
        buf = (ctypes.c_float * n).from_address(ptr)
        return np.frombuffer(buf, np.float32, n).reshape(shape)

    def sync(self) -> None:
        return None

    def close(self) -> None:
        self._keep.clear()


class CudaMemory:
    """GPU mode: cuda-python driver allocations on one non-default stream."""

    gpu = True

    def __init__(self) -> None:
        from trt_exec.cuda.driver import check, context_for, driver

        self.drv = driver()
        self.check = check
        context_for(0)
        self.stream = int(check("cuStreamCreate", self.drv.cuStreamCreate(0)))
        self._dev: list[int] = []
        self._host: list[int] = []

    def device(self, nbytes: int) -> int:
        ptr = int(self.check("cuMemAlloc", self.drv.cuMemAlloc(nbytes)))
        self._dev.append(ptr)
        return ptr

    def pinned(self, nbytes: int) -> tuple[int, np.ndarray]:
        ptr = int(self.check("cuMemHostAlloc", self.drv.cuMemHostAlloc(nbytes, 0)))
        self._host.append(ptr)
        view = np.frombuffer((ctypes.c_uint8 * nbytes).from_address(ptr), np.uint8)
        return ptr, view

    def array(self, ptr: int, shape: tuple[int, ...]) -> Any:
        return _DevArray(ptr, shape)

    def sync(self) -> None:
        self.check("cuStreamSynchronize", self.drv.cuStreamSynchronize(self.stream))

    def close(self) -> None:
        self.sync()
        for p in self._dev:
            self.drv.cuMemFree(p)
        for p in self._host:
            self.drv.cuMemFreeHost(p)
        self._dev.clear()
        self._host.clear()


# --- hand-written floors ------------------------------------------------------------------------
class Raw:
    """One execution context driven by hand: what a careful user writes against the module."""

    def __init__(self, trt: Any, plan: bytes, mem: Any) -> None:
        self.runtime = trt.Runtime(trt.Logger(trt.Logger.WARNING))
        self.engine = self.runtime.deserialize_cuda_engine(plan)
        self.ctx = self.engine.create_execution_context()
        self.mem = mem
        self.s = mem.stream

    def v3(
        self, shape: tuple[int, ...], px: int, py: int, profile: int | None = None
    ) -> Callable[[], Any]:
        ctx, s = self.ctx, self.s
        set_shape, set_addr, run = ctx.set_input_shape, ctx.set_tensor_address, ctx.execute_async_v3
        if profile is None:

            def call() -> None:
                set_shape("x", shape)
                set_addr("x", px)
                set_addr("y", py)
                run(s)

            return call
        switch = ctx.set_optimization_profile_async
        toggle = itertools.cycle((0, 1))

        def call_e() -> None:
            switch(next(toggle), s)
            set_shape("x", shape)
            set_addr("x", px)
            set_addr("y", py)
            run(s)

        return call_e

    def v3_shapes(self, shapes: list[tuple[int, ...]], px: int, py: int) -> Callable[[], Any]:
        ctx, s = self.ctx, self.s
        set_shape, set_addr, run = ctx.set_input_shape, ctx.set_tensor_address, ctx.execute_async_v3
        cycle = itertools.cycle(shapes)

        def call() -> None:
            set_shape("x", next(cycle))
            set_addr("x", px)
            set_addr("y", py)
            run(s)

        return call

    def v2(
        self, shapes: list[tuple[int, ...]], px: int, py: int, switch_profiles: bool = False
    ) -> Callable[[], Any]:
        ctx, s = self.ctx, self.s
        io = 2
        nb = int(self.engine.num_bindings)
        set_shape, run = ctx.set_binding_shape, ctx.execute_async_v2
        cycle = itertools.cycle(shapes)
        if not switch_profiles:

            def call() -> None:
                set_shape(0, next(cycle))
                bindings = [px, py] + [0] * (nb - io)
                run(bindings, s)

            return call
        switch = ctx.set_optimization_profile_async
        toggle = itertools.cycle((0, 1))

        def call_e() -> None:
            k = next(toggle)
            switch(k, s)
            set_shape(k * io, next(cycle))
            bindings = [0] * nb
            bindings[k * io] = px
            bindings[k * io + 1] = py
            run(bindings, s)

        return call_e


def _raw_roundtrip(
    raw: Raw, mem: Any, x: np.ndarray, py_host_or_dev: int, px_dev: int | None
) -> Callable[[], np.ndarray]:
    """B's floor: numpy in, numpy out, synchronous."""
    ctx, s = raw.ctx, raw.s
    shape, n = x.shape, x.nbytes
    if not mem.gpu:
        out = np.empty(n // 4, np.float32)
        py = int(out.ctypes.data)

        def call_cpu() -> np.ndarray:
            # Host mode: the input is read in place, the output copied into a new array.
            ctx.set_input_shape("x", shape)
            ctx.set_tensor_address("x", int(x.ctypes.data))
            ctx.set_tensor_address("y", py)
            ctx.execute_async_v3(s)
            return out.reshape(shape).copy()

        return call_cpu
    drv, check = mem.drv, mem.check
    hin, vin = mem.pinned(n)
    hout, vout = mem.pinned(n)
    pyd = py_host_or_dev
    assert px_dev is not None
    flat = x.reshape(-1).view(np.uint8)

    def call_gpu() -> np.ndarray:
        np.copyto(vin, flat)
        check("cuMemcpyHtoDAsync", drv.cuMemcpyHtoDAsync(px_dev, hin, n, s))
        ctx.set_input_shape("x", shape)
        ctx.set_tensor_address("x", px_dev)
        ctx.set_tensor_address("y", pyd)
        ctx.execute_async_v3(s)
        check("cuMemcpyDtoHAsync", drv.cuMemcpyDtoHAsync(hout, pyd, n, s))
        check("cuStreamSynchronize", drv.cuStreamSynchronize(s))
        return vout.view(np.float32).reshape(shape).copy()

    return call_gpu


# --- building every scenario --------------------------------------------------------------------
@dataclass
class Setup:
    trt: Any
    plan: bytes
    mem: Any
    backends: tuple[str, ...]
    polygraphy: bool
    gaps: list[str]
    closers: list[Callable[[], Any]] = field(default_factory=list)


def _load(st: Setup, backend: str, **kw: Any) -> Any:
    import trt_exec

    if st.mem.gpu:
        kw.setdefault("stream", st.mem.stream)
    ex = trt_exec.load(st.plan, tensorrt=st.trt, backend=backend, **kw)
    st.closers.append(ex.close)
    return ex


def _runner(st: Setup) -> Any:
    runner = polygraphy_setup.make_runner(st.trt, st.plan, st.gaps)
    st.closers.append(runner.deactivate)
    return runner


def _device_view(st: Setup, ptr: int, shape: tuple[int, ...]) -> Any:
    from polygraphy import cuda as pcuda

    return pcuda.DeviceView(ptr, shape, np.float32)


def build_scenarios(st: Setup, only: set[str] | None = None) -> list[Scenario]:
    mem = st.mem
    after = mem.sync if mem.gpu else None
    n_small = int(np.prod(SMALL)) * 4
    px, py = mem.device(n_small * 2), mem.device(n_small * 2)
    x_dev = {s: mem.array(px, s) for s in (SMALL, (2, ROW))}
    y_dev = {s: mem.array(py, s) for s in (SMALL, (2, ROW))}
    if not mem.gpu:
        x_dev[SMALL][...] = np.arange(ROW, dtype=np.float32)
    scenarios: list[Scenario] = []

    def want(sid: str) -> bool:
        return only is None or sid in only or sid.split("-")[0] in only

    # A: hot path ---------------------------------------------------------------------------
    if want("A"):
        sc = Scenario("A", SCENARIO_TITLES["A"], floor="raw v3")
        sc.contenders.append(
            Contender("raw v3", "floor", Raw(st.trt, st.plan, mem).v3(SMALL, px, py), after)
        )
        once = Raw(st.trt, st.plan, mem)
        once.ctx.set_input_shape("x", SMALL)
        once.ctx.set_tensor_address("x", px)
        once.ctx.set_tensor_address("y", py)
        ctx1, s = once.ctx, once.s
        sc.contenders.append(
            Contender(
                "raw v3 bound once",
                "floor",
                lambda: ctx1.execute_async_v3(s),
                after,
                note="addresses and shape set once at set-up; execute_async_v3 only",
            )
        )
        if "v2" in st.backends:
            sc.contenders.append(
                Contender("raw v2", "floor", Raw(st.trt, st.plan, mem).v2([SMALL], px, py), after)
            )
        inputs, outputs = {"x": x_dev[SMALL]}, {"y": y_dev[SMALL]}
        for b in st.backends:
            ex = _load(st, b)
            sc.contenders.append(
                Contender(
                    f"trt_exec {b} infer_async",
                    "trt_exec",
                    lambda ex=ex: ex.infer_async(inputs, outputs=outputs),
                    after,
                    note="infer_async(inputs, outputs=caller arrays)",
                )
            )
            ex2 = _load(st, b)
            ex2.prepare({"x": SMALL})
            addrs = {"x": px, "y": py}
            sc.contenders.append(
                Contender(
                    f"trt_exec {b} execute",
                    "trt_exec",
                    lambda ex2=ex2, addrs=addrs: ex2.execute(addrs, mem.stream),
                    after,
                    note="execute(addresses, stream) after prepare()",
                )
            )
        if st.polygraphy:
            r = _runner(st)
            feed = {"x": _device_view(st, px, SMALL)}
            sc.contenders.append(
                Contender(
                    "polygraphy",
                    "polygraphy",
                    lambda: r.infer(feed),
                    None,
                    note="device input; copy_outputs_to_host=True (default) so it also copies "
                    "the output to host and synchronizes",
                )
            )
        scenarios.append(sc)

    # B: numpy round trip -------------------------------------------------------------------
    for sid, shape in (("B-4KB", SMALL), ("B-64MB", LARGE)):
        if not want(sid):
            continue
        sc = Scenario(
            sid,
            SCENARIO_TITLES[sid],
            floor="raw v3 (pinned)" if mem.gpu else "raw v3",
            large=shape == LARGE,
        )
        n = int(np.prod(shape)) * 4
        x = np.random.default_rng(0).standard_normal(shape, dtype=np.float32)
        bpx, bpy = (mem.device(n), mem.device(n)) if mem.gpu else (None, 0)
        sc.contenders.append(
            Contender(
                sc.floor,
                "floor",
                _raw_roundtrip(Raw(st.trt, st.plan, mem), mem, x, bpy, bpx),
                note="pinned staging, cuMemcpyHtoDAsync, enqueue, cuMemcpyDtoHAsync, sync, copy out"
                if mem.gpu
                else "input read in place, output copied to a new array",
            )
        )
        feed_np = {"x": x}
        for b in st.backends:
            ex = _load(st, b)
            sc.contenders.append(
                Contender(f"trt_exec {b} infer", "trt_exec", lambda ex=ex, f=feed_np: ex.infer(f))
            )
        if st.polygraphy:
            r = _runner(st)
            sc.contenders.append(
                Contender(
                    "polygraphy",
                    "polygraphy",
                    lambda r=r, f=feed_np: r.infer(f),
                    note="returns a view of its reused host buffer",
                )
            )
        scenarios.append(sc)

    # C: shape change every call --------------------------------------------------------------
    if want("C"):
        sc = Scenario("C", SCENARIO_TITLES["C"], floor="raw v3")
        shapes = [SMALL, (2, ROW)]
        sc.contenders.append(
            Contender("raw v3", "floor", Raw(st.trt, st.plan, mem).v3_shapes(shapes, px, py), after)
        )
        if "v2" in st.backends:
            sc.contenders.append(
                Contender("raw v2", "floor", Raw(st.trt, st.plan, mem).v2(shapes, px, py), after)
            )
        feeds = [({"x": x_dev[s]}, {"y": y_dev[s]}) for s in shapes]
        for b in st.backends:
            ex = _load(st, b)
            cyc = itertools.cycle(feeds)

            def call_c(ex: Any = ex, cyc: Any = cyc) -> Any:
                i, o = next(cyc)
                return ex.infer_async(i, outputs=o)

            sc.contenders.append(Contender(f"trt_exec {b} infer_async", "trt_exec", call_c, after))
        if st.polygraphy:
            r = _runner(st)
            pfeeds = itertools.cycle([{"x": _device_view(st, px, s)} for s in shapes])
            sc.contenders.append(
                Contender(
                    "polygraphy",
                    "polygraphy",
                    lambda: r.infer(next(pfeeds)),
                    note="copies outputs to host (default)",
                )
            )
        scenarios.append(sc)

    # D: CUDA graphs ----------------------------------------------------------------------------
    if want("D"):
        sc = Scenario("D", SCENARIO_TITLES["D"], floor="raw graph launch + sync")
        if not mem.gpu:
            sc.skipped = (
                "CUDA graphs need the CUDA data path; in host mode trt_exec raises "
                "CudaUnavailableError (run with --mode gpu)"
            )
        else:
            _graph_contenders(st, sc, px, py, x_dev[SMALL], y_dev[SMALL])
        scenarios.append(sc)

    # E: profile switch every call ------------------------------------------------------------
    if want("E"):
        sc = Scenario("E", SCENARIO_TITLES["E"], floor="raw v3")
        sc.contenders.append(
            Contender(
                "raw v3", "floor", Raw(st.trt, st.plan, mem).v3(SMALL, px, py, profile=0), after
            )
        )
        if "v2" in st.backends:
            sc.contenders.append(
                Contender(
                    "raw v2",
                    "floor",
                    Raw(st.trt, st.plan, mem).v2([SMALL], px, py, switch_profiles=True),
                    after,
                )
            )
        inputs, outputs = {"x": x_dev[SMALL]}, {"y": y_dev[SMALL]}
        for b in st.backends:
            ex = _load(st, b)
            tog = itertools.cycle((0, 1))
            sc.contenders.append(
                Contender(
                    f"trt_exec {b} infer_async",
                    "trt_exec",
                    lambda ex=ex, tog=tog: ex.infer_async(
                        inputs, outputs=outputs, profile=next(tog)
                    ),
                    after,
                    note="infer_async(..., profile=k)",
                )
            )
        if st.polygraphy:
            r = _runner(st)
            feed = {"x": _device_view(st, px, SMALL)}
            tog_p = itertools.cycle((0, 1))

            def call_pe() -> Any:
                r.set_profile(next(tog_p))
                return r.infer(feed)

            sc.contenders.append(
                Contender(
                    "polygraphy",
                    "polygraphy",
                    call_pe,
                    note="set_profile(k) then infer; copies outputs to host",
                )
            )
        scenarios.append(sc)
    return scenarios


def _graph_contenders(st: Setup, sc: Scenario, px: int, py: int, x: Any, y: Any) -> None:
    mem = st.mem
    drv, check, s = mem.drv, mem.check, mem.stream
    raw = Raw(st.trt, st.plan, mem)
    ctx = raw.ctx
    ctx.set_input_shape("x", SMALL)
    ctx.set_tensor_address("x", px)
    ctx.set_tensor_address("y", py)
    ctx.execute_async_v3(s)  # TensorRT needs one enqueue after a shape change before capture
    mem.sync()
    mode = drv.CUstreamCaptureMode.CU_STREAM_CAPTURE_MODE_THREAD_LOCAL
    check("cuStreamBeginCapture", drv.cuStreamBeginCapture(s, mode))
    ctx.execute_async_v3(s)
    graph = check("cuStreamEndCapture", drv.cuStreamEndCapture(s))
    gexec = check("cuGraphInstantiate", drv.cuGraphInstantiate(graph, 0))
    launch, sync = drv.cuGraphLaunch, drv.cuStreamSynchronize

    def raw_graph() -> None:
        launch(gexec, s)
        sync(s)

    sc.contenders.append(
        Contender(
            "raw graph launch + sync",
            "floor",
            raw_graph,
            note="cuGraphLaunch of a captured execute_async_v3, cuStreamSynchronize",
        )
    )
    raw2 = Raw(st.trt, st.plan, mem)
    c2 = raw2.ctx
    c2.set_input_shape("x", SMALL)
    c2.set_tensor_address("x", px)
    c2.set_tensor_address("y", py)

    def raw_enqueue() -> None:
        c2.execute_async_v3(s)
        sync(s)

    sc.contenders.append(
        Contender("raw execute_async_v3 + sync", "floor", raw_enqueue, note="no graph; bound once")
    )
    inputs, outputs = {"x": x}, {"y": y}
    for b in st.backends:
        ex = _load(st, b, cuda_graphs=True)

        def with_graph(ex: Any = ex) -> None:
            ex.infer_async(inputs, outputs=outputs)
            sync(s)

        sc.contenders.append(
            Contender(
                f"trt_exec {b} graphs",
                "trt_exec",
                with_graph,
                note="load(cuda_graphs=True); infer_async + sync",
            )
        )
    ex = _load(st, "v3")

    def without_graph() -> None:
        ex.infer_async(inputs, outputs=outputs)
        sync(s)

    sc.contenders.append(
        Contender(
            "trt_exec v3 no graphs",
            "trt_exec",
            without_graph,
            note="infer_async + sync, cuda_graphs off",
        )
    )
