"""A Hypothesis fuzz test of the command line: random argument lists over random file contents.

Whatever the arguments and files, ``trt-exec``:

* exits 0, 1, 2 or 130 - never 3 (an internal error) and never with an uncaught exception;
* prints no traceback without ``--debug`` (which is never generated here);
* leaves no half-written file: no temporary ``*.partial`` file remains, and every ``.npz`` and
  engine in the folder is either the file that was there before or a complete new one.

It runs :func:`trt_exec.cli.main.main` in this process (a subprocess per example would cost a
second each). Deterministic in CI (``derandomize=True``, a fixed number of examples); set
``TRT_EXEC_SLOW_TESTS=1`` for the ``slow`` variant with many more.
"""

from __future__ import annotations

import contextlib
import importlib
import io
import os
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from trt_exec.sim._plan import MAGIC, Plan
from trt_exec.testing import DEMO_NETWORK, build_engine, simulated_tensorrt

cli_main = importlib.import_module("trt_exec.cli.main")

ENGINE_10 = build_engine(simulated_tensorrt("10.16.1"), DEMO_NETWORK)
ENGINE_8 = build_engine(simulated_tensorrt("8.4.3"), DEMO_NETWORK)


def _npy(arr: np.ndarray, allow_pickle: bool = False) -> bytes:
    buf = io.BytesIO()
    np.save(buf, arr, allow_pickle=allow_pickle)
    return buf.getvalue()


def _npz(members: dict[str, bytes], compress: bool = False) -> bytes:
    buf = io.BytesIO()
    kind = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
    with zipfile.ZipFile(buf, "w", kind) as zf:
        for name, data in members.items():
            zf.writestr(name + ".npy", data)
    return buf.getvalue()


def _huge_header() -> bytes:
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        buf, {"descr": "<f4", "fortran_order": False, "shape": (10**12, 4)}
    )
    return buf.getvalue()


GOOD = np.ones((2, 4), np.float32)
ARRAYS: list[bytes] = [
    _npy(GOOD),
    _npy(np.ones((9, 4), np.float32)),
    _npy(np.ones((2, 4), np.float64)),
    _npy(np.ones((2, 4), ">f4")),
    _npy(np.float32(1)),
    _npy(np.array([None, 1], dtype=object), allow_pickle=True),
    _npy(np.ones((2, 4), np.complex64)),
    _huge_header(),
    _npy(GOOD)[:-7],
    b"",
]
FILES: list[bytes] = [
    *ARRAYS,
    _npz({"x": ARRAYS[0], "y": ARRAYS[0]}),
    _npz({"x": ARRAYS[0], "y": ARRAYS[0]}, compress=True),
    _npz({"sum": ARRAYS[0], "act": ARRAYS[6]}),
    _npz({"x": ARRAYS[5], "z": ARRAYS[0]}),
    _npz({"x": ARRAYS[7]}),
    _npz({"x": ARRAYS[0]})[:-30],
    ENGINE_10,
    ENGINE_8,
    ENGINE_10[:-9] + b"\0" * 9,
]

NAMES = ["x", "y", "sum", "z", "", "x y", "a=b"]
SOURCES = [
    "random", "zeros:2x4", "ones:0x4", "random:3,4", "random:100000x100000x100", "random:a",
    "f.npy", "f.npz", "g.npz", "missing.npy", ":", "gauss:2", "e.engine",
]  # fmt: skip
PATHS = ["out.npz", "", "sub/", "missing/out.npz", "out", "f.npz", "p.png", "latency", "o.txt"]
ENGINES = ["e.engine"] * 8 + [
    "f.npy",
    "g.npz",
    "missing.engine",
    ".",
    "/dev/null",
    "",
    "crafted.engine",
]


def _option() -> st.SearchStrategy[list[str]]:
    value = st.sampled_from
    return st.one_of(
        st.tuples(st.just("--tensorrt"), value(["sim:10.16.1", "sim:8.4.3", "sim:9", "nope", ""])),
        st.tuples(st.just("--backend"), value(["v2", "v3", "auto", "v4"])),
        st.tuples(
            st.just("--input"),
            st.one_of(
                st.builds(lambda n, s: f"{n}={s}", value(NAMES), value(SOURCES)),
                value(["f.npz", "g.npz", "x", "=", "missing.npz"]),
            ),
        ),
        st.tuples(st.just("--profile"), value(["0", "1", "2", "-1", "a"])),
        st.tuples(st.just("--seed"), value(["0", "7", "-1", "x", "99999999999999999999999"])),
        st.tuples(value(["--save", "--save-inputs", "--plot"]), value(PATHS)),
        st.tuples(st.just("--compare"), value(["f.npz", "g.npz", "f.npy", "missing.npz", ""])),
        st.tuples(value(["--rtol", "--atol"]), value(["0", "1e-3", "-1", "nan", "x"])),
        st.tuples(value(["--warmup", "-n"]), value(["0", "1", "2", "-3", "x"])),
        st.tuples(st.just("--duration"), value(["0.001", "inf", "nan", "-1", "0", "x"])),
        st.tuples(st.just("--save-engine"), value(PATHS)),
        st.tuples(value(["--json", "--json", "-v", "--no-progress", "--cuda-graph", "--bogus"])),
    ).map(list)


# The options each command takes (others are dropped, so most examples get past argparse).
_COMMON = {"--tensorrt", "--backend", "--json", "-v"}
_INPUTS = {"--input", "--profile", "--seed"}
VALID = {
    "inspect": _COMMON,
    "run": _COMMON | _INPUTS | {"--save", "--save-inputs", "--compare", "--rtol", "--atol"},
    "bench": _COMMON
    | _INPUTS
    | {"--warmup", "-n", "--duration", "--cuda-graph", "--no-progress", "--plot"},
    "demo": {"--save-engine", "--tensorrt", "-v"},
}
KNOWN = set().union(*VALID.values()) | {"--compare", "--save-engine"}
COMMANDS = st.sampled_from(["inspect", "run", "run", "run", "bench", "bench", "demo", ""])


def _crafted() -> bytes:
    import json
    import struct
    import zlib

    (n,) = struct.unpack_from("<I", ENGINE_10, len(MAGIC))
    header = json.loads(ENGINE_10[len(MAGIC) + 4 : len(MAGIC) + 4 + n])
    header["inputs"][0][1] = 99
    body = json.dumps(header).encode()
    out = MAGIC + struct.pack("<I", len(body)) + body
    return out + struct.pack("<I", zlib.crc32(out))


CRAFTED = _crafted()


def _run(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            rc = cli_main.main(argv)
        except SystemExit as exc:  # argparse: --help (0) or a usage error (2)
            rc = exc.code if isinstance(exc.code, int) else 2
    return rc, out.getvalue(), err.getvalue()


def _check(command: str, engine: str, options: list[list[str]], contents: dict[str, bytes]) -> None:
    argv = [command] if command else []
    if command in ("inspect", "run", "bench"):
        argv.append(engine)
    if command in ("inspect", "run", "bench", "demo"):
        argv += ["--tensorrt", "sim:10.16.1"]  # the default; a generated --tensorrt wins
    for opt in options:
        if command not in VALID or opt[0] in VALID[command] or opt[0] not in KNOWN:
            argv += opt
    if command == "demo" and "--save-engine" not in argv:
        argv += ["--save-engine", "demo.engine"]  # the full demo is slow and takes no input
    if command == "bench":
        argv += ["-n", "2", "--warmup", "1", "--no-progress"]  # bounded: last value wins
        if "--duration" in argv:
            argv += ["--duration", "0.001"]
    with tempfile.TemporaryDirectory() as d:
        folder = Path(d)
        (folder / "sub").mkdir()
        before = {}
        for name, data in contents.items():
            (folder / name).write_bytes(data)
            before[name] = data
        (folder / "crafted.engine").write_bytes(CRAFTED)
        before["crafted.engine"] = CRAFTED
        cwd = os.getcwd()
        os.chdir(folder)
        try:
            rc, out, err = _run(argv)
        finally:
            os.chdir(cwd)
        assert rc in (0, 1, 2, 130), (argv, rc, err)
        assert "Traceback" not in err and "internal error" not in err, (argv, err)
        for path in folder.rglob("*"):
            assert not path.name.endswith(".partial"), (argv, path)
            if not path.is_file() or before.get(path.name) == path.read_bytes():
                continue
            _assert_complete(path.read_bytes(), argv, path)


def _assert_complete(data: bytes, argv: list[str], path: Path) -> None:
    """A file the command wrote is whole, whatever its name: an archive whose members all load,
    a simulated plan that deserializes, a PNG with its end chunk, or a real TensorRT-RTX plan
    (demo found the real builder), which is at least not empty."""
    if data.startswith(b"PK"):
        with np.load(io.BytesIO(data)) as z:
            for k in z.files:
                assert z[k].dtype != object, (argv, path)
    elif data.startswith(MAGIC):
        Plan.from_bytes(data)  # raises on a truncated plan
    elif data.startswith(b"\x89PNG"):
        assert data.endswith(b"IEND\xaeB`\x82"), (argv, path)
    else:
        assert data, (argv, path)


FILE_CONTENTS = st.fixed_dictionaries(
    {
        "e.engine": st.sampled_from([ENGINE_10] * 4 + [ENGINE_8, b"", b"\0" * 64]),
        "f.npy": st.sampled_from(ARRAYS) | st.binary(max_size=64),
        "f.npz": st.sampled_from(FILES),
        "g.npz": st.sampled_from(FILES) | st.binary(max_size=64),
        "out.npz": st.just(b"the previous results"),
    }
)

_ARGS = (
    COMMANDS,
    st.sampled_from(ENGINES),
    st.lists(_option(), max_size=5)
    | st.lists(st.text(max_size=8), max_size=3).map(lambda xs: [[x] for x in xs]),
    FILE_CONTENTS,
)
_SETTINGS: dict[str, Any] = {
    "deadline": None,
    "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large],
}


@settings(max_examples=500, derandomize=True, **_SETTINGS)
@given(*_ARGS)
def test_cli_fuzz(command, engine, options, contents):
    _check(command, engine, options, contents)


@pytest.mark.slow
@pytest.mark.skipif(
    not os.environ.get("TRT_EXEC_SLOW_TESTS"), reason="set TRT_EXEC_SLOW_TESTS=1 for the soak"
)
@settings(max_examples=3000, **_SETTINGS)
@given(*_ARGS)
def test_cli_fuzz_soak(command, engine, options, contents):
    _check(command, engine, options, contents)
