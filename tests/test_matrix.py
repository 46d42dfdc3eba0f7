"""The contract matrix (trt_exec.testing.matrix) agrees with the simulator's releases and with
backend selection, so every suite parametrized over it runs what trt_exec really supports."""

from __future__ import annotations

import pytest

from trt_exec import select_backend
from trt_exec.errors import BackendUnavailableError
from trt_exec.testing import SIMULATED_VERSIONS
from trt_exec.testing.matrix import (
    SIM_MATRIX,
    SIM_RELEASES,
    SIM_RUNS,
    backends_of,
    pair_id,
    releases_with,
    subset,
)

BACKENDS = ("v2", "v3")


def _version_flavor(release: str) -> tuple[str, str]:
    if release.startswith("rtx-"):
        return release.removeprefix("rtx-"), "tensorrt_rtx"
    return release, "tensorrt"


def test_the_matrix_covers_every_simulated_release_once():
    assert SIM_RELEASES == SIMULATED_VERSIONS
    assert len(set(SIM_MATRIX)) == len(SIM_MATRIX)
    assert SIM_MATRIX == tuple((r, b) for r, bs in SIM_RUNS for b in bs)


@pytest.mark.parametrize("release", SIMULATED_VERSIONS)
@pytest.mark.parametrize("backend", BACKENDS)
def test_a_pair_is_in_the_matrix_exactly_when_selection_accepts_it(release, backend, monkeypatch):
    monkeypatch.delenv("TRT_EXEC_BACKEND", raising=False)
    version, flavor = _version_flavor(release)
    if (release, backend) in SIM_MATRIX:
        assert select_backend(version, backend, flavor=flavor) == backend
    else:
        with pytest.raises(BackendUnavailableError):
            select_backend(version, backend, flavor=flavor)


def test_backends_of_and_releases_with_read_the_same_table():
    for release in SIM_RELEASES:
        assert backends_of(release) == tuple(b for r, b in SIM_MATRIX if r == release)
    for backend in BACKENDS:
        assert releases_with(backend) == tuple(r for r, b in SIM_MATRIX if b == backend)
    assert releases_with("v2") == ("8.4.3", "8.6.1")
    assert "8.4.3" not in releases_with("v3") and "rtx-1.7.1" in releases_with("v3")


def test_unknown_names_are_refused_with_what_is_allowed():
    with pytest.raises(ValueError, match=r"release='9\.9\.9'.*'8\.4\.3'"):
        backends_of("9.9.9")
    with pytest.raises(ValueError, match=r"backend='v4'.*'v2', 'v3'"):
        releases_with("v4")


def test_subset_keeps_matrix_pairs_and_refuses_others():
    assert subset(("10.16.1", "v3"), ("8.6.1", "v2")) == (("10.16.1", "v3"), ("8.6.1", "v2"))
    with pytest.raises(ValueError, match=r"\('10\.0\.1', 'v2'\) is not in the matrix"):
        subset(("10.16.1", "v3"), ("10.0.1", "v2"))
    assert pair_id(("rtx-1.7.1", "v3")) == "rtx-1.7.1-v3"
