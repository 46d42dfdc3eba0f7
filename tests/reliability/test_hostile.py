"""The library against hostile and careless use (issue 15): fork, copy and pickle, released
results, malformed ``__cuda_array_interface__``, crafted engine plans, and host-mode arguments."""

from __future__ import annotations

import copy
import json
import os
import pickle
import struct
import sys
import threading
import time
import zlib
from typing import Any

import numpy as np
import pytest

import trt_exec
from trt_exec import errors
from trt_exec.results import DeviceTensor, _release_result, _ResultMemory
from trt_exec.sim._plan import MAGIC

from ..helpers import demo_inputs
from .helpers import assert_correct, assert_still_works, open_executor, plan, sim

RELEASE, BACKEND = "10.16.1", "v3"

posix_only = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork (POSIX)")


# --- fork ----------------------------------------------------------------------------------------
def _in_child(body: Any, timeout: float = 30.0) -> tuple[int, str]:
    """Fork; run ``body()`` in the child, which reports a line through a pipe and exits. Returns
    (the child's exit status, its line); a child that hangs is killed and fails the test."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never return into pytest
        status = 0
        try:
            os.close(read)
            msg = str(body())
        except BaseException as exc:  # noqa: BLE001 - reported to the parent
            status, msg = 1, f"{type(exc).__name__}: {exc}"
        os.write(write, msg.encode()[:4000])
        os._exit(status)
    os.close(write)
    deadline = time.monotonic() + timeout
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        if time.monotonic() > deadline:
            os.kill(pid, 9)
            os.waitpid(pid, 0)
            os.close(read)
            pytest.fail("the child hung after fork()")
        time.sleep(0.01)
    with os.fdopen(read, "rb") as f:
        msg = f.read().decode()
    return os.waitstatus_to_exitcode(status), msg


@posix_only
def test_fork_while_another_thread_is_inside_infer_raises_in_the_child():
    ex = open_executor(RELEASE, BACKEND)
    inside, leave = threading.Event(), threading.Event()

    def busy() -> None:
        # What a thread inside infer() holds: the executor's lock.
        with ex._lock:
            inside.set()
            leave.wait(30)

    t = threading.Thread(target=busy)
    t.start()
    inside.wait(10)
    arrays = demo_inputs(2)

    def child() -> str:
        try:
            ex.infer(arrays)
        except trt_exec.ClosedError as exc:
            assert "fork" in str(exc) and str(os.getppid()) in str(exc), exc
        else:
            raise AssertionError("the inherited executor ran in the child")
        ex.close()  # must not hang on the lock either
        with open_executor(RELEASE, BACKEND) as fresh:  # a new one works in the child
            assert_correct(fresh.infer(arrays), arrays)
        return "ok"

    try:
        status, msg = _in_child(child)
    finally:
        leave.set()
        t.join()
    assert (status, msg) == (0, "ok")
    assert_still_works(ex)  # the parent's executor is untouched
    ex.close()


@posix_only
def test_fork_while_every_pool_executor_is_busy_raises_in_the_child():
    pool = trt_exec.Pool(plan(RELEASE), size=2, tensorrt=sim(RELEASE))
    # every worker busy at the fork
    borrowed = [pool._dispatch.acquire()[0] for _ in range(pool.size)]
    arrays = demo_inputs(2)

    def child() -> str:
        with pytest.raises(trt_exec.ClosedError, match="fork"):
            pool.infer(arrays)
        return "ok"

    try:
        assert _in_child(child) == (0, "ok")
    finally:
        for i in borrowed:
            pool._dispatch.release(i)
    assert_correct(pool.infer(arrays), arrays)
    pool.close()


# --- copy and pickle -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    "action", [copy.copy, copy.deepcopy, pickle.dumps], ids=["copy", "deepcopy", "pickle"]
)
def test_executors_and_pools_refuse_copy_and_pickle(action):
    with open_executor(RELEASE, BACKEND) as ex:
        with pytest.raises(TypeError, match="execution context"):
            action(ex)
        assert_still_works(ex)
    with trt_exec.Pool(plan(RELEASE), size=1, tensorrt=sim(RELEASE)) as pool:
        with pytest.raises(TypeError, match="Pool"):
            action(pool)


# --- released results ----------------------------------------------------------------------------
def test_device_tensor_refuses_use_after_release():
    mem = _ResultMemory(ctx=None, pool=None)
    t = DeviceTensor(0x7F00, (2, 4), np.dtype(np.float32), 0, 0, object(), mem)
    assert t.ptr == 0x7F00 and t.__cuda_array_interface__["data"] == (0x7F00, False)
    _release_result(mem)  # what AsyncResult.release() does to the result's memory
    assert t.released and "released" in repr(t)
    for use in (lambda: t.ptr, lambda: t.__cuda_array_interface__, t.numpy):
        with pytest.raises(errors.ClosedError, match="release"):
            use()


# --- malformed __cuda_array_interface__ -----------------------------------------------------------
class _Cai:
    def __init__(self, cai: Any) -> None:
        self.__cuda_array_interface__ = cai


GOOD_CAI = {"shape": (2, 4), "typestr": "<f4", "data": (0x1000, False), "version": 3}


@pytest.mark.parametrize(
    "change",
    [
        {"shape": None},
        {"shape": (2, "4")},
        {"shape": (-2, 4)},
        {"typestr": 7},
        {"typestr": "not a type"},
        {"typestr": "|O"},
        {"data": None},
        {"data": (0x1000,)},
        {"data": ("0x1000", False)},
        {"strides": (16,)},
        {"stream": "junk"},
        {"mask": object()},
        "not a dict",
    ],
    ids=lambda c: next(iter(c)) + "=" + repr(next(iter(c.values()))) if isinstance(c, dict) else c,
)
def test_malformed_cuda_array_interface_is_an_array_error(change):
    cai = change if isinstance(change, str) else {**GOOD_CAI, **change}
    with open_executor(RELEASE, BACKEND) as ex:
        with pytest.raises(errors.ArrayError, match="__cuda_array_interface__") as info:
            ex.infer({"x": _Cai(cai), "y": demo_inputs(2)["y"]})
        assert "'x'" in str(info.value)
        assert_still_works(ex)


# --- crafted plans -------------------------------------------------------------------------------
def _craft(blob: bytes, mutate: Any) -> bytes:
    """The plan with its JSON header changed by ``mutate`` and a valid checksum again."""
    (n,) = struct.unpack_from("<I", blob, len(MAGIC))
    header = json.loads(blob[len(MAGIC) + 4 : len(MAGIC) + 4 + n])
    header = mutate(header)
    body = json.dumps(header).encode()
    out = MAGIC + struct.pack("<I", len(body)) + body
    return out + struct.pack("<I", zlib.crc32(out))


def _set(path: tuple[Any, ...], value: Any) -> Any:
    def mutate(h: Any) -> Any:
        node = h
        for key in path[:-1]:
            node = node[key]
        if value is KeyError:
            del node[path[-1]]
        else:
            node[path[-1]] = value
        return h

    return mutate


CRAFTED = {
    "no flavor": _set(("flavor",), KeyError),
    "no layers": _set(("layers",), KeyError),
    "header is a list": lambda h: [h],
    "input dtype 99": _set(("inputs", 0, 1), 99),
    "input shape text": _set(("inputs", 0, 2), "x"),
    "layer reads nothing": _set(("layers", 0, 2), ["ghost", "x"]),
    "layer kind": _set(("layers", 0, 0), "conv"),
    "elementwise op 999": _set(("layers", 0, 4), 999),
    "output not produced": _set(("outputs", 0, 0), "ghost"),
    "profile without y": lambda h: (h["profiles"][0].pop("y"), h)[1],
    "profile min > max": _set(("profiles", 0, "x"), [[9, 4], [2, 4], [1, 4]]),
    "profile rank": _set(("profiles", 0, "x"), [[1], [2], [4]]),
}


@pytest.mark.parametrize("name", list(CRAFTED))
def test_crafted_plan_with_a_valid_checksum_is_refused_at_load(name):
    blob = _craft(plan(RELEASE), CRAFTED[name])
    with pytest.raises(errors.EngineLoadError, match="could not deserialize") as info:
        trt_exec.load(blob, tensorrt=sim(RELEASE))
    assert any("Serialization" in line for line in info.value.tensorrt_log), info.value


def test_an_uncrafted_plan_still_loads():
    blob = _craft(plan(RELEASE), lambda h: h)
    with trt_exec.load(blob, tensorrt=sim(RELEASE)) as ex:
        assert_still_works(ex)


# --- host mode validates device= and stream= as on the GPU ----------------------------------------
@pytest.mark.parametrize(
    "kwargs",
    [{"device": -5}, {"device": "gpu"}, {"device": True}, {"stream": "junk"}, {"stream": 2.5}],
    ids=["device=-5", "device='gpu'", "device=True", "stream='junk'", "stream=2.5"],
)
def test_host_mode_validates_device_and_stream(kwargs):
    with pytest.raises(errors.TrtExecError) as info:
        trt_exec.load(plan(RELEASE), tensorrt=sim(RELEASE), **kwargs)
    value = next(iter(kwargs.values()))
    assert repr(value) in str(info.value)


def test_module_is_importable_without_fork(monkeypatch):
    """Windows has no os.register_at_fork: importing trt_exec._fork must not need it."""
    import importlib

    monkeypatch.delattr(os, "register_at_fork")
    monkeypatch.delitem(sys.modules, "trt_exec._fork")
    module = importlib.import_module("trt_exec._fork")
    assert callable(module.track)


# --- engine files --------------------------------------------------------------------------------
def test_engine_file_larger_than_memory_is_refused_unread(tmp_path):
    pages = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    path = tmp_path / "sparse.engine"
    with open(path, "wb") as f:
        f.truncate(pages + 1)  # sparse: no disk is used, and reading it would exhaust memory
    with pytest.raises(errors.EngineLoadError, match="more than this machine's memory"):
        trt_exec.load(path, tensorrt=sim(RELEASE))


@pytest.mark.parametrize(
    "path, error", [("", errors.EngineNotFoundError), ("a\0b", errors.EngineLoadError)]
)
def test_engine_path_edge_cases_are_typed(path, error):
    with pytest.raises(error):
        trt_exec.load(path, tensorrt=sim(RELEASE))


@pytest.mark.parametrize("module", ["trt_exec._trtlog", "trt_exec.backends.v3"])
def test_fork_while_a_module_lock_is_held_leaves_the_child_a_working_lock(module):
    """The module-level locks (the ILogger bridge, the output-allocator classes) are held for an
    instant during a load; a fork in that instant must not leave the child's copy held: the
    child loads and runs a new engine."""
    import importlib

    mod = importlib.import_module(module)
    arrays = demo_inputs(3)

    def child() -> str:
        with open_executor(RELEASE, BACKEND) as ex:
            assert_correct(ex.infer(arrays), arrays)
        if hasattr(mod, "_allocator_class"):  # taken for engines with data-dependent outputs
            mod._allocator_class(sim(RELEASE))
        return "ok"

    with mod._lock:  # held by this (parent) thread at the fork
        assert _in_child(child) == (0, "ok")
