"""``trt_exec._trtlog``'s error count: one process-wide counter read before each enqueue and
bind, and ``since(start)`` returning the calling thread's ERROR lines logged after it."""

from __future__ import annotations

import threading

from trt_exec import _trtlog


def _error(msg: str) -> None:
    _trtlog._record(1, msg)  # ILogger.Severity.ERROR


def test_since_returns_this_threads_lines_after_start_only():
    _error("before")
    start = _trtlog.errors.count
    assert _trtlog.since(start) == []
    ready, logged = threading.Event(), threading.Event()

    def other() -> None:
        ready.wait(5)
        _error("other thread")
        logged.set()

    t = threading.Thread(target=other)
    t.start()
    _error("mine 1")
    ready.set()
    logged.wait(5)
    _error("mine 2")
    t.join(5)
    assert _trtlog.errors.count == start + 3  # every thread's lines count
    assert _trtlog.since(start) == ["mine 1", "mine 2"]  # this thread's, in order
    assert _trtlog.since(_trtlog.errors.count) == []


def test_a_thread_that_never_logged_gets_no_lines():
    start = _trtlog.errors.count - 1
    got: list[list[str]] = []
    t = threading.Thread(target=lambda: got.append(_trtlog.since(start)))
    _error("main thread")
    t.start()
    t.join(5)
    assert got == [[]]


def test_warnings_are_not_counted():
    start = _trtlog.errors.count
    _trtlog._record(2, "a warning")  # ILogger.Severity.WARNING
    assert _trtlog.errors.count == start and _trtlog.since(start) == []
