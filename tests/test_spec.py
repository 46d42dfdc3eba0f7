"""The pure core: TensorSpec shape checks and profile choice."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from trt_exec.errors import ProfileError, ShapeError
from trt_exec.spec import ProfileShape, TensorSpec, check_shape, choose_profile

X = TensorSpec(
    "x",
    True,
    np.dtype(np.float32),
    (-1, 4),
    (ProfileShape((1, 4), (2, 4), (4, 4)), ProfileShape((5, 4), (8, 4), (16, 4))),
)
Y = TensorSpec(
    "y",
    True,
    np.dtype(np.float32),
    (-1,),
    (ProfileShape((1,), (2,), (4,)), ProfileShape((1,), (8,), (16,))),
)


def test_check_shape_rank_static_negative():
    assert check_shape(X, (3, 4)) == (3, 4)
    with pytest.raises(ShapeError, match="rank 1"):
        check_shape(X, (3,))
    with pytest.raises(ShapeError, match="static"):
        check_shape(X, (3, 5))
    with pytest.raises(ShapeError, match="negative"):
        check_shape(X, (-2, 4))


@given(st.integers(1, 16))
def test_choose_profile_admits(batch):
    k = choose_profile({"x": X}, {"x": (batch, 4)}, 2)
    assert X.profile_shapes[k].admits((batch, 4))
    assert k == (0 if batch <= 4 else 1)


def test_best_fit_prefers_nearest_opt():
    # (4,) fits both profiles of y; profile 0's opt (2) is nearer than profile 1's (8).
    assert choose_profile({"y": Y}, {"y": (4,)}, 2) == 0
    assert choose_profile({"y": Y}, {"y": (7,)}, 2) == 1


@given(st.integers(17, 1000))
def test_outside_every_profile_names_tensor(batch):
    with pytest.raises(ShapeError) as info:
        choose_profile({"x": X}, {"x": (batch, 4)}, 2)
    msg = str(info.value)
    assert "'x'" in msg and f"({batch}, 4)" in msg and "profile 0" in msg and "profile 1" in msg


def test_no_common_profile():
    with pytest.raises(ShapeError, match="no single optimization profile"):
        # x=2 needs profile 0, y=10 needs profile 1.
        choose_profile({"x": X, "y": Y}, {"x": (2, 4), "y": (10,)}, 2)


def test_requested_profile_checked():
    assert choose_profile({"x": X}, {"x": (2, 4)}, 2, requested=0) == 0
    with pytest.raises(ShapeError, match="outside optimization profile 1"):
        choose_profile({"x": X}, {"x": (2, 4)}, 2, requested=1)
    with pytest.raises(ProfileError, match=r"out of range \[0, 1\]"):
        choose_profile({"x": X}, {"x": (2, 4)}, 2, requested=2)
    with pytest.raises(ProfileError):
        choose_profile({"x": X}, {"x": (2, 4)}, 2, requested=-1)


def test_spec_is_frozen():
    with pytest.raises(AttributeError):
        X.name = "z"  # type: ignore[misc]
    assert X.is_dynamic and X.rank == 2 and X.nbytes((3, 4)) == 48
