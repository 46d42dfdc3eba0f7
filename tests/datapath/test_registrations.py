"""``trt_exec.cuda.pinned.Registrations`` with a recording driver (no GPU): large numpy inputs
page-locked in place on their second use, unregistered when the array goes, when more than
two are kept, or at close; refusals fall back to staging. On a GPU the same is checked through
CUDA itself in ``tests/gpu/test_bound_and_pinned.py``."""

from __future__ import annotations

import gc

import numpy as np

from trt_exec.cuda.pinned import Registrations


class _Driver:
    def __init__(self, refuse: bool = False) -> None:
        self.registered: set[int] = set()
        self.refuse = refuse
        self.calls: list[str] = []

    def cuMemHostRegister(self, ptr, nbytes, flags):
        self.calls.append("register")
        assert flags == 1  # portable: every context may use it
        if self.refuse or ptr in self.registered:
            return (1,)
        self.registered.add(ptr)
        return (0,)

    def cuMemHostUnregister(self, ptr):
        self.calls.append("unregister")
        self.registered.remove(ptr)  # raises (and fails the test) on a double unregister
        return (0,)

    def cuCtxSetCurrent(self, ctx):
        self.current = ctx
        return (0,)

    def cuCtxGetCurrent(self):
        return (0, getattr(self, "current", None))


def _ptr(a: np.ndarray) -> int:
    return int(a.__array_interface__["data"][0])


def test_second_use_registers_and_collection_unregisters():
    drv = _Driver()
    reg = Registrations(drv, "ctx")
    x = np.ones(1 << 20, np.float32)
    assert reg.host_pointer("x", x) is None  # first use: staged
    assert drv.calls == []
    assert reg.host_pointer("x", x) == _ptr(x)  # second: registered in place
    assert reg.host_pointer("x", x) == _ptr(x)  # and kept
    assert drv.calls == ["register"]
    p = _ptr(x)
    drv.current = "the caller's context"
    del x
    gc.collect()
    assert p not in drv.registered  # unregistered when the array went
    assert drv.current == "the caller's context"  # and the thread's context left as it was


def test_views_of_numpy_memory_qualify_foreign_buffers_do_not():
    drv = _Driver()
    reg = Registrations(drv, None)
    base = np.zeros(2 << 20, np.uint8)
    view = base[: 1 << 20]
    reg.host_pointer("x", view)
    assert reg.host_pointer("x", view) == _ptr(view)
    foreign = np.frombuffer(bytearray(1 << 20), np.uint8)
    reg.host_pointer("x", foreign)
    assert reg.host_pointer("x", foreign) is None  # a bytearray's memory: never registered


def test_at_most_two_kept_per_input_and_close_unregisters_the_rest():
    drv = _Driver()
    reg = Registrations(drv, None)
    arrays = [np.full(1 << 18, i, np.float32) for i in range(3)]
    for a in arrays:
        reg.host_pointer("x", a)
        assert reg.host_pointer("x", a) == _ptr(a)
    assert drv.registered == {_ptr(arrays[1]), _ptr(arrays[2])}  # the oldest went first
    assert reg.host_pointer("x", arrays[0]) is None  # seen again: a candidate once more
    reg.close()
    assert drv.registered == set()
    assert reg.host_pointer("x", arrays[2]) is None  # closed: staged from now on
    del arrays
    gc.collect()  # their callbacks find nothing left to undo (no double unregister)


def test_a_refused_registration_stages():
    drv = _Driver(refuse=True)
    reg = Registrations(drv, None)
    x = np.ones(1 << 18, np.float32)
    reg.host_pointer("x", x)
    assert reg.host_pointer("x", x) is None
    assert drv.registered == set()


def test_rotating_more_arrays_than_remembered_never_registers():
    drv = _Driver()
    reg = Registrations(drv, None)
    arrays = [np.ones(1 << 16, np.float32) for _ in range(5)]
    for _ in range(3):
        for a in arrays:
            assert reg.host_pointer("x", a) is None
    assert drv.calls == []


def test_arrays_in_turn_within_the_memory_are_registered():
    drv = _Driver()
    reg = Registrations(drv, None)
    arrays = [np.full(1 << 16, i, np.float32) for i in range(3)]
    for a in arrays:  # three in turn: each is still remembered when it comes again
        assert reg.host_pointer("x", a) is None
    for a in arrays:
        assert reg.host_pointer("x", a) == _ptr(a)
    assert drv.registered == {_ptr(arrays[1]), _ptr(arrays[2])}  # two kept, the oldest went
