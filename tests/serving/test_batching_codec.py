"""Dynamic batching (which requests go together, concat and split) and the JSON encoding, in
trt_exec.serving: pure numpy, no Ray."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import trt_exec
from trt_exec.errors import ArrayError, BindingError, DTypeError, ShapeError
from trt_exec.serving import (
    batch_rows,
    batchable,
    concat,
    decode_array,
    decode_inputs,
    encode_array,
    max_rows,
    plan_batches,
    split,
)
from trt_exec.testing import DEMO_NETWORK, build_engine, simulated_tensorrt


@pytest.fixture(scope="module")
def io() -> Any:
    trt = simulated_tensorrt("10.16.1")
    with trt_exec.load(build_engine(trt, DEMO_NETWORK), tensorrt=trt) as ex:
        return ex.inputs, ex.outputs


def _req(rows: int, width: int = 4, dtype: Any = np.float32) -> dict[str, np.ndarray]:
    return {n: np.ones((rows, width), dtype) for n in ("x", "y")}


def test_the_demo_engine_is_batchable_up_to_its_largest_profile(io: Any) -> None:
    inputs, outputs = io
    assert batchable(inputs, outputs)
    assert max_rows(inputs) == 16  # profile 1: batch 4..16


def test_batch_rows_refuses_what_cannot_join_a_batch(io: Any) -> None:
    inputs, _ = io
    assert batch_rows(_req(3), inputs) == 3
    assert batch_rows({"x": np.ones((3, 4), np.float32)}, inputs) is None  # a missing input
    assert batch_rows(_req(3, dtype=np.float64), inputs) is None  # the wrong dtype
    assert (
        batch_rows({"x": np.ones((3, 4), np.float32), "y": np.ones((2, 4), np.float32)}, inputs)
        is None
    )
    assert batch_rows(_req(0), inputs) is None
    assert batch_rows([1, 2], inputs) is None


def test_plan_groups_compatible_requests_up_to_the_limit() -> None:
    reqs = [_req(3), _req(3, width=5), _req(3), _req(3), _req(20), _req(2)]
    rows = [3, 3, 3, 3, 20, 2]
    rows_none: list[int | None] = list(rows)
    rows_none[1] = None  # e.g. a malformed request
    assert plan_batches(rows_none, reqs, 8) == [[0, 2], [1], [3, 5], [4]]
    assert plan_batches(rows, reqs, 8) == [[0, 2], [1], [3, 5], [4]]


@settings(max_examples=50, deadline=None)
@given(st.lists(st.integers(1, 5), min_size=1, max_size=8))
def test_split_undoes_concat(rows: list[int]) -> None:
    rng = np.random.default_rng(len(rows))
    reqs = [{"a": rng.random((n, 3)), "b": rng.random((n, 2, 2))} for n in rows]
    back = split(concat(reqs), rows)
    assert len(back) == len(reqs)
    for got, want in zip(back, reqs):
        for name in want:
            np.testing.assert_array_equal(got[name], want[name])


def test_split_refuses_outputs_that_do_not_keep_rows() -> None:
    with pytest.raises(ShapeError, match="not the batch's 5 rows"):
        split({"y": np.ones((4, 2))}, [2, 3])


def test_json_round_trip_and_errors(io: Any) -> None:
    inputs, _ = io
    a = np.arange(8, dtype=np.float32).reshape(2, 4)
    enc = encode_array(a)
    assert enc == {"dtype": "float32", "shape": [2, 4], "data": a.tolist()}
    np.testing.assert_array_equal(decode_array("x", enc, inputs["x"]), a)
    flat = dict(enc, data=a.ravel().tolist())
    np.testing.assert_array_equal(decode_array("x", flat, inputs["x"]), a)
    empty = decode_array("x", encode_array(np.zeros((0, 4), np.float32)), inputs["x"])
    assert empty.shape == (0, 4)
    assert decode_array("x", [[1, 2, 3, 4]], inputs["x"]).dtype == np.float32  # engine's dtype
    with pytest.raises(DTypeError, match="'floot32'"):
        decode_array("x", {"dtype": "floot32", "data": [1]}, inputs["x"])
    with pytest.raises(ShapeError, match=r"shape \[3, 3\] does not fit 8"):
        decode_array("x", dict(enc, shape=[3, 3]), inputs["x"])
    with pytest.raises(ArrayError, match="no 'data'"):
        decode_array("x", {"dtype": "float32"}, inputs["x"])
    with pytest.raises(ArrayError, match="rectangular"):
        decode_array("x", [[1, 2], [3]], inputs["x"])
    with pytest.raises(BindingError, match="no 'inputs'"):
        decode_inputs({"x": [1]}, inputs)
