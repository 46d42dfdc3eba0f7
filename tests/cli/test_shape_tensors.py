"""``trt-exec inspect`` and ``run`` on an engine with shape-tensor inputs and a host output."""

from __future__ import annotations

import numpy as np
import pytest

from trt_exec.cli.schemas import INSPECT_SCHEMA
from trt_exec.testing import simulated_tensorrt

from ..io_engines import SHAPE_PROFILES, shape_tensor_engine
from .helpers import conforms, run_cli


@pytest.fixture(scope="module")
def engine(tmp_path_factory):
    path = tmp_path_factory.mktemp("shape") / "shape.engine"
    path.write_bytes(shape_tensor_engine(simulated_tensorrt("10.16.1")))
    return path


def test_inspect_shows_profile_values(engine):
    r = run_cli("inspect", str(engine), "--tensorrt", "sim:10.16.1", "--json")
    assert r.rc == 0, r
    doc = r.json()
    conforms(doc, INSPECT_SCHEMA)
    io = {t["name"]: t for t in doc["io"]}
    assert io["s"]["shape_tensor"] and io["s"]["location"] == "host"
    assert [[p["min"], p["opt"], p["max"]] for p in io["s"]["profile_values"]] == [
        [list(b) for b in p["s"]] for p in SHAPE_PROFILES
    ]
    assert io["x"]["profile_values"] is None and io["xs"]["location"] == "host"
    text = run_cli("inspect", str(engine), "--tensorrt", "sim:10.16.1")
    assert "values [1, 1] / [2, 6] / [24, 24]" in text.out


def test_run_with_values_from_a_file_and_opt_values_by_default(engine, tmp_path):
    x = np.arange(12, dtype=np.float32).reshape(2, 6)
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "s.npy", np.array([3, 4], np.int32))
    r = run_cli(
        "run", str(engine), "--tensorrt", "sim:10.16.1",
        "--input", f"x={tmp_path / 'x.npy'}", "--input", f"s={tmp_path / 's.npy'}",
        "--save", str(tmp_path / "out.npz"),
    )  # fmt: skip
    assert r.rc == 0, r
    assert "opt values of profile 0 (not given; a shape tensor)" in r.out
    with np.load(tmp_path / "out.npz") as out:
        np.testing.assert_array_equal(out["y"], x.reshape(3, 4))
        np.testing.assert_array_equal(out["z"], x[:1, :3])  # n: profile 0's opt values (1, 3)
        np.testing.assert_array_equal(out["xs"], [2, 6])
