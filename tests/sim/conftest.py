"""Fixtures for the simulator's own tests."""

from __future__ import annotations

from typing import Any

import pytest

from trt_exec.testing import SIMULATED_VERSIONS

from .helpers import NAMED_VERSIONS


@pytest.fixture(params=SIMULATED_VERSIONS)
def version(request: Any) -> str:
    return request.param  # type: ignore[no-any-return]


@pytest.fixture(params=NAMED_VERSIONS)
def named_version(request: Any) -> str:
    return request.param  # type: ignore[no-any-return]
