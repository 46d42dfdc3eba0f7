"""Issue 13 on a real GPU (the simulator's GPU mode): bound calls with torch and numpy, with and
without CUDA graphs; the torch fast path noticing a tensor changed in place; large outputs in
lent pinned blocks (never reused while an array views them) and parallel staged uploads."""

from __future__ import annotations

import gc

import numpy as np
import pytest

import trt_exec
from trt_exec.errors import StaleBindingError
from trt_exec.testing import DEMO_NETWORK, InputSpec, NetworkSpec, OpSpec, build_engine, reference

from ..helpers import demo_inputs

pytestmark = pytest.mark.gpu

ROW = 1024
BIG = NetworkSpec(
    inputs=(InputSpec("x", "float32", (-1, ROW)),),
    ops=(OpSpec("identity", ("x",), "y"),),
    outputs=("y",),
    profiles=((((1, ROW), (64, ROW), (4096, ROW)),),),  # up to 16 MiB
)


@pytest.fixture
def ex(gpu_trt):
    trt, backend = gpu_trt
    with trt_exec.load(build_engine(trt, DEMO_NETWORK), tensorrt=trt, backend=backend) as e:
        yield e


def _ref(inputs):
    return reference(DEMO_NETWORK, {k: np.asarray(v) for k, v in inputs.items()})


@pytest.mark.parametrize("graphs", [False, True])
def test_bound_call_torch_in_out(gpu_trt, graphs):
    torch = pytest.importorskip("torch")
    trt, backend = gpu_trt
    plan = build_engine(trt, DEMO_NETWORK)
    stream = torch.cuda.Stream()
    with trt_exec.load(plan, tensorrt=trt, backend=backend, cuda_graphs=graphs) as e:
        host = demo_inputs(3)
        tin = {k: torch.from_numpy(v).cuda() for k, v in host.items()}
        outs = {n: torch.empty((3, 4), device="cuda") for n in ("sum", "act")}
        torch.cuda.synchronize()
        call = e.bind(tin, outputs=outs, stream=stream)
        for seed in (1, 2, 3):
            fresh = demo_inputs(3, seed=seed)
            for k in tin:
                tin[k].copy_(torch.from_numpy(fresh[k]))
            torch.cuda.synchronize()
            res = call()
            assert res["sum"] is outs["sum"]
            for name, want in _ref(fresh).items():
                np.testing.assert_allclose(outs[name].cpu().numpy(), want, rtol=1e-6)
        event = call.launch()
        assert event is not None
        stream.synchronize()
        if graphs:
            stats = e.cuda_graphs
            assert stats is not None and stats["hits"] >= 2, stats


def test_bound_call_numpy_through_staging(ex):
    inputs = demo_inputs(4, seed=7)
    call = ex.bind(inputs)
    for seed in (8, 9):
        fresh = demo_inputs(4, seed=seed)
        for k in inputs:
            inputs[k][...] = fresh[k]
        out = call()
        for name, want in _ref(fresh).items():
            np.testing.assert_allclose(out[name], want, rtol=1e-6)


def test_bound_call_refuses_after_profile_switch_on_gpu(ex):
    call = ex.bind(demo_inputs(2), profile=0)
    ex.infer(demo_inputs(8))
    with pytest.raises(StaleBindingError):
        call()


def test_torch_tensor_changed_in_place_is_noticed(ex):
    torch = pytest.importorskip("torch")
    host = demo_inputs(2, seed=3)
    tin = {k: torch.from_numpy(v).cuda() for k, v in host.items()}
    out = ex.infer(tin)  # remembered after this call
    for name, want in _ref(host).items():
        np.testing.assert_allclose(out[name], want, rtol=1e-6)
    other = demo_inputs(2, seed=4)
    tin["x"].set_(torch.from_numpy(other["x"]).cuda())  # same object, new storage
    out = ex.infer(tin)
    want = _ref({"x": other["x"], "y": host["y"]})
    np.testing.assert_allclose(out["sum"], want["sum"], rtol=1e-6)
    tin["y"].resize_(4, 4).copy_(torch.ones(4, 4))  # same object, new shape
    with pytest.raises(trt_exec.ShapeError):
        ex.infer(tin)


def _ptr(arr: np.ndarray) -> int:
    return int(arr.__array_interface__["data"][0])


def test_large_outputs_come_in_lent_pinned_blocks(gpu_trt):
    trt, backend = gpu_trt
    with trt_exec.load(build_engine(trt, BIG), tensorrt=trt, backend=backend) as e:
        x = np.random.default_rng(0).standard_normal((4096, ROW), dtype=np.float32)  # 16 MiB
        a1 = e.infer({"x": x})["y"]
        np.testing.assert_array_equal(a1, x)
        p1 = _ptr(a1)
        a2 = e.infer({"x": x * 2})["y"]
        assert _ptr(a2) != p1  # a1 still views its block: never handed out again
        np.testing.assert_array_equal(a1, x)
        np.testing.assert_array_equal(a2, x * 2)
        del a1
        gc.collect()
        a3 = e.infer({"x": x * 3})["y"]
        assert _ptr(a3) == p1  # a1's block came back to the pool
        np.testing.assert_array_equal(a3, x * 3)
        into = np.empty_like(x)
        assert e.infer({"x": x}, outputs={"y": into})["y"] is into
        np.testing.assert_array_equal(into, x)
    np.testing.assert_array_equal(a2, x * 2)  # readable after close; freed when it goes
    del a2, a3
    gc.collect()
