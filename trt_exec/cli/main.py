"""The ``trt-exec`` command line (also ``python -m trt_exec``). The core never imports this module.

Commands: ``inspect``, ``run``, ``bench``, ``doctor``, ``demo``, one module each in this package;
``trt-exec COMMAND --help`` for each. Exit status (:data:`EXIT_CODES`):

* 0 - success;
* 1 - a failed check: ``run --compare`` found a mismatch, ``doctor`` found a problem, ``demo``
  saw an output differ from numpy;
* 2 - bad usage or input: an unknown option, a missing or unreadable engine or input file, a bad
  ``--input``, an unknown tensor name, a shape outside the profiles, a backend the TensorRT
  release lacks... (every :class:`~trt_exec.errors.TrtExecError`);
* 3 - an internal error (a bug in trt_exec: please report it with the ``--debug`` output);
* 130 - interrupted (Ctrl-C).

``--debug``, ``-v`` and ``--json`` work before or after COMMAND. Errors are one line on stderr,
``trt-exec: error: ...`` (the library's Python arguments spelled as flags: ``--profile``,
``--backend``), followed by the lines TensorRT logged
for the failing call; ``--debug`` adds the traceback. TensorRT's ILogger goes to the
``trt_exec.tensorrt`` logger: warnings are shown, ``-v`` adds INFO and ``-vv`` VERBOSE.
"""

from __future__ import annotations

import argparse
import errno
import io
import logging
import os
import sys
import traceback
from collections.abc import Sequence
from typing import NoReturn, TextIO, cast

from .._version import __version__
from ..errors import TrtExecError
from .exitcodes import EXIT_CODES, EXIT_INTERNAL, EXIT_INTERRUPTED, EXIT_USAGE
from .options import Handler, Subcommands, simulator_note
from .render import in_flags, printable

__all__ = ["main", "build_parser", "EXIT_CODES"]

_EXIT_EPILOG = (
    "exit status: 0 ok, 1 failed check (mismatch / problem found), 2 bad usage or input, "
    "3 internal error (a bug: rerun with --debug and report it), 130 interrupted"
)


class _Parser(argparse.ArgumentParser):
    """argparse's parser, whose usage errors escape what would drive the terminal (an unknown
    argument is the user's text, printed back). Subcommand parsers are of this class too."""

    def error(self, message: str) -> NoReturn:
        super().error(printable(message))


def build_parser(argv: Sequence[str] = ()) -> argparse.ArgumentParser:
    """The argument parser; ``argv`` is only read to say in the help when the simulator is used."""
    note = simulator_note(argv)
    epilog = "\n\n".join(p for p in (note, _EXIT_EPILOG) if p)
    parser = _Parser(
        prog="trt-exec",
        description="Inspect, run and benchmark TensorRT engines on any TensorRT release\n"
        "(8.x, 10.x, 11.x, TensorRT-RTX), or on the simulated TensorRT.",
        epilog=epilog,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"trt-exec {__version__}")
    g = parser.add_argument_group("options also accepted after COMMAND")
    g.add_argument("--debug", dest="top_debug", action="store_true", help="show tracebacks")
    g.add_argument(
        "-v", "--verbose", dest="top_verbose", action="count", default=0, help="TensorRT's log"
    )
    g.add_argument(
        "--json",
        dest="top_json",
        action="store_true",
        help="JSON output (inspect, run, bench, doctor)",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    commands = Subcommands(sub, epilog)
    # Imported here, inside main()'s handlers: Ctrl-C while they load is a clean exit 130.
    from . import bench, demo, doctor, inspect, run

    for module in (inspect, run, bench, doctor, demo):  # the order of the help
        module.add_parser(commands)
    return parser


# --- logging -----------------------------------------------------------------------------------
class _CliLogHandler(logging.Handler):
    """Shows trt_exec's log on stderr. ERROR lines are held back until the command ends: those
    attached to the exception that ends it are printed with that error, not twice."""

    def __init__(self, stream: TextIO) -> None:
        super().__init__()
        self.stream = stream
        self.held: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        try:
            msg = record.getMessage()
            if record.levelno >= logging.ERROR:
                self.held.append(msg)
                return
            self.stream.write(f"trt-exec: tensorrt {record.levelname.lower()}: {msg}\n")
        except Exception:  # pragma: no cover - logging must never raise
            self.handleError(record)

    def flush_held(self, shown: Sequence[str] = ()) -> None:
        for msg in self.held:
            if msg not in shown:
                self.stream.write(f"trt-exec: tensorrt error: {msg}\n")
        self.held.clear()


def _setup_logging(verbose: int, stream: TextIO) -> _CliLogHandler:
    handler = _CliLogHandler(stream)
    logger = logging.getLogger("trt_exec")
    logger.handlers[:] = [handler]
    logger.propagate = False
    logger.setLevel(
        logging.WARNING if verbose <= 0 else logging.INFO if verbose == 1 else logging.DEBUG
    )
    return handler


# --- running a command -------------------------------------------------------------------------
def _error(message: str, err: TextIO) -> None:
    # Names and paths in a message come from files: escape what would drive the terminal.
    err.write(f"trt-exec: error: {printable(message)}\n")


def _silence_stdout() -> None:
    """Point file descriptor 1 at the null device, so that the interpreter's final flush of
    what is still buffered cannot fail again and print a traceback (the recipe of Python's
    ``signal`` documentation for SIGPIPE)."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, AttributeError, ValueError):
        pass


def _stdout_error(exc: OSError, err: TextIO) -> int:
    _silence_stdout()
    if exc.errno == errno.EPIPE or isinstance(exc, BrokenPipeError):
        why = "it was closed before all the output was written (broken pipe)"
    else:
        why = exc.strerror or str(exc)
    _error(f"cannot write to standard output: {why}", err)
    return EXIT_USAGE


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (see :data:`EXIT_CODES`)."""
    err = sys.stderr
    debug = False
    log: _CliLogHandler | None = None
    shown: Sequence[str] = ()
    try:
        argv = list(sys.argv[1:] if argv is None else argv)
        debug = "--debug" in argv
        parser = build_parser(argv)
        args = parser.parse_args(argv)  # exits 2 on a usage error
        args.debug = args.debug or args.top_debug
        args.verbose += args.top_verbose
        if args.top_json:
            if not hasattr(args, "json"):
                parser.error(f"--json: the {args.command} command has no JSON output")
            args.json = True
        debug = args.debug
        log = _setup_logging(args.verbose, err)
        command: Handler = args.handler
        status = command(args, cast(TextIO, _Stdout(sys.stdout)))
        try:
            sys.stdout.flush()  # a full disk or a closed pipe is reported now, not at exit
        except OSError as exc:
            return _stdout_error(exc, err)
        return status
    except _StdoutError as exc:
        return _stdout_error(exc.cause, err)
    except TrtExecError as exc:
        shown = exc.tensorrt_log
        _error(in_flags(exc.message), err)
        for line in exc.tensorrt_log:
            err.write(f"trt-exec: tensorrt error: {printable(line)}\n")
        if debug:
            traceback.print_exc(file=err)
        return EXIT_USAGE
    except KeyboardInterrupt:
        # A progress bar, if any, was cleared; start on a fresh line all the same.
        _error("interrupted", err)
        return EXIT_INTERRUPTED
    except Exception as exc:
        return _internal(exc, debug, err)
    finally:
        if log is not None:
            log.flush_held(shown)


def _internal(exc: BaseException, debug: bool, err: TextIO) -> int:
    _error(
        f"internal error: {type(exc).__name__}: {exc}"
        + ("" if debug else " (rerun with --debug for the traceback, and please report it)"),
        err,
    )
    if debug:
        traceback.print_exc(file=err)
    return EXIT_INTERNAL


class _StdoutError(Exception):
    """Writing to standard output failed (a full disk, a closed pipe): the user's environment,
    not a bug; reported as exit status 2."""

    def __init__(self, cause: OSError) -> None:
        super().__init__(str(cause))
        self.cause = cause


class _Stdout(io.TextIOBase):
    """Standard output as the commands see it: a failed write raises :class:`_StdoutError`, so
    it is told apart from an OSError of trt_exec's own."""

    def __init__(self, stream: TextIO) -> None:
        super().__init__()
        self._stream = stream

    def write(self, text: str) -> int:
        try:
            return self._stream.write(text)
        except OSError as exc:
            raise _StdoutError(exc) from exc

    def flush(self) -> None:
        try:
            self._stream.flush()
        except OSError as exc:
            raise _StdoutError(exc) from exc

    def isatty(self) -> bool:
        try:
            return self._stream.isatty()
        except (AttributeError, ValueError):
            return False

    def writable(self) -> bool:
        return True


if __name__ == "__main__":
    sys.exit(main())
