"""trt_exec._gate.Gate, the executor's lock: threading.Lock's contract, with the per-call paths'
inlined take (deque.pop) and give (deque.append, then wake a waiter)."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from trt_exec import _gate
from trt_exec._gate import Gate
from trt_exec.testing import DEMO_NETWORK, reference, simulated_tensorrt

from .helpers import demo_inputs, load_demo


def _take(gate: Gate) -> None:
    # The inlined form the per-call paths use (trt_exec.cuda.steady, trt_exec.bound).
    try:
        gate.token.pop()
    except IndexError:
        gate.wait()


def _give(gate: Gate) -> None:
    gate.token.append(True)
    if gate.waiting:
        gate.wake()


def test_acquire_release_and_locked_as_threading_lock():
    gate = Gate()
    assert not gate.locked()
    assert gate.acquire()
    assert gate.locked()
    assert gate.acquire(blocking=False) is False  # not reentrant
    assert gate.acquire(timeout=0.01) is False
    gate.release()
    assert not gate.locked()
    with pytest.raises(RuntimeError, match="not held"):
        gate.release()
    with gate:
        assert gate.locked()
    assert not gate.locked()
    with pytest.raises(ValueError, match="timeout"):
        gate.acquire(timeout=-2)
    with pytest.raises(ValueError, match="non-blocking"):
        gate.acquire(blocking=False, timeout=1)
    assert not gate.locked()  # a refused acquire took nothing
    assert gate.waiting == 0 and "unlocked" in repr(gate)


def test_the_lock_is_given_back_when_the_body_raises():
    gate = Gate()
    with pytest.raises(KeyError):
        with gate:
            raise KeyError("x")
    assert not gate.locked()


def _hammer(take, give, threads: int = 8, rounds: int = 300) -> int:
    # A read-modify-write split by a thread switch (sleep(0)): without mutual exclusion some
    # increments are lost.
    box = [0]

    def work() -> None:
        for _ in range(rounds):
            take()
            try:
                seen = box[0]
                time.sleep(0)
                box[0] = seen + 1
            finally:
                give()

    pool = [threading.Thread(target=work) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join(60)
    assert not any(t.is_alive() for t in pool), "a thread hung on the gate"
    return box[0]


@pytest.mark.parametrize("inlined", [False, True])
def test_threads_exclude_each_other(inlined):
    gate = Gate()
    if inlined:
        total = _hammer(lambda: _take(gate), lambda: _give(gate))
    else:
        total = _hammer(gate.acquire, gate.release)
    assert total == 8 * 300
    assert not gate.locked() and gate.waiting == 0


def test_the_hammer_loses_increments_without_a_lock():
    # The check above can fail: without exclusion the same work loses updates.
    assert _hammer(lambda: None, lambda: None) < 8 * 300


def test_a_waiter_is_woken_by_the_give_not_by_its_recheck(monkeypatch):
    monkeypatch.setattr(_gate, "RECHECK", 30.0)  # a missed wake-up would show as a 30 s wait
    gate = Gate()
    _take(gate)
    got = []
    t = threading.Thread(target=lambda: (_take(gate), got.append(time.monotonic()), _give(gate)))
    t.start()
    deadline = time.monotonic() + 5
    while gate.waiting == 0 and time.monotonic() < deadline:
        time.sleep(0.001)
    assert gate.waiting == 1 and not got  # it waits
    given = time.monotonic()
    _give(gate)
    t.join(10)
    assert got and got[0] - given < 10
    assert gate.waiting == 0 and not gate.locked()


def test_a_lost_wake_up_costs_a_recheck_not_a_hang(monkeypatch):
    # A give that missed the waiter (appending without waking it: what a free-threaded build
    # could do) leaves the waiter to find the token on its next recheck.
    monkeypatch.setattr(_gate, "RECHECK", 0.02)
    gate = Gate()
    _take(gate)
    got = []
    t = threading.Thread(target=lambda: (gate.acquire(), got.append(1)))
    t.start()
    deadline = time.monotonic() + 5
    while gate.waiting == 0 and time.monotonic() < deadline:
        time.sleep(0.001)
    gate.token.append(True)  # given back without wake()
    t.join(10)
    assert got == [1] and gate.locked()  # the waiter took it


def test_a_timed_acquire_gives_up_and_leaves_no_waiter():
    gate = Gate()
    gate.acquire()
    start = time.monotonic()
    assert gate.acquire(timeout=0.05) is False
    assert time.monotonic() - start >= 0.04
    assert gate.waiting == 0 and gate.locked()


def test_an_executor_serializes_threads_through_its_gate():
    # Calls from many threads on one executor: every result right, the gate free afterwards.
    trt = simulated_tensorrt("10.16.1")
    with load_demo(trt, "v3") as ex:
        assert isinstance(ex._lock, Gate)
        errors: list[BaseException] = []

        def work(seed: int) -> None:
            try:  # shapes that change between threads: lanes, plans and full paths interleave
                for i in range(20):
                    inputs = demo_inputs(1 + (seed + i) % 3, seed=seed * 100 + i)
                    out = ex.infer(inputs)
                    for name, want in reference(DEMO_NETWORK, inputs).items():
                        np.testing.assert_allclose(out[name], want, rtol=1e-6, err_msg=name)
            except BaseException as exc:  # reported below
                errors.append(exc)

        pool = [threading.Thread(target=work, args=(s,)) for s in range(6)]
        for t in pool:
            t.start()
        for t in pool:
            t.join(120)
        assert not errors and not any(t.is_alive() for t in pool)
        assert not ex._lock.locked() and ex._lock.waiting == 0
