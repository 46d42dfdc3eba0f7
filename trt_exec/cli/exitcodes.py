"""The exit statuses of ``trt-exec``; :mod:`trt_exec.cli.main` documents when each is used."""

from __future__ import annotations

__all__ = [
    "EXIT_OK",
    "EXIT_FAILED",
    "EXIT_USAGE",
    "EXIT_INTERNAL",
    "EXIT_INTERRUPTED",
    "EXIT_CODES",
]

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERNAL, EXIT_INTERRUPTED = 0, 1, 2, 3, 130
EXIT_CODES = {
    EXIT_OK: "success",
    EXIT_FAILED: "a failed check (run --compare mismatch, doctor problem, demo mismatch)",
    EXIT_USAGE: "bad usage or input (options, engine, --input, tensor names, shapes)",
    EXIT_INTERNAL: "internal error (a bug; rerun with --debug and report it)",
    EXIT_INTERRUPTED: "interrupted",
}
