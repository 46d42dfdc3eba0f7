"""The contract matrix: every simulated TensorRT release with the backends trt_exec runs on it.

One table, read by the demo (``trt-exec demo``), the contract suite, the fidelity checks and every
test that runs a release × backend grid, so that adding a release or a backend is one edit here.
``tests/test_matrix.py`` checks it against the simulator's releases and against backend
selection.
"""

from __future__ import annotations

# (simulated release, backends trt_exec runs on it): V2 (bindings) through 8.6, V3 (named
# tensors) from 8.5; TensorRT-RTX has named tensors only.
SIM_RUNS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("8.4.3", ("v2",)),
    ("8.6.1", ("v2", "v3")),
    ("10.0.1", ("v3",)),
    ("10.16.1", ("v3",)),
    ("11.4.0", ("v3",)),
    ("rtx-1.7.1", ("v3",)),
)

# The same table flattened: one (release, backend) pair per run.
SIM_MATRIX: tuple[tuple[str, str], ...] = tuple(
    (release, backend) for release, backends in SIM_RUNS for backend in backends
)

# Every release of the matrix, oldest first.
SIM_RELEASES: tuple[str, ...] = tuple(release for release, _ in SIM_RUNS)

_BACKENDS = dict(SIM_RUNS)


def backends_of(release: str) -> tuple[str, ...]:
    """The backends trt_exec runs on ``release`` (a simulator label such as ``"rtx-1.7.1"``)."""
    try:
        return _BACKENDS[release]
    except KeyError:
        raise ValueError(f"release={release!r} is not in the matrix {list(SIM_RELEASES)}") from None


def releases_with(backend: str) -> tuple[str, ...]:
    """The releases that run ``backend`` (``"v2"`` or ``"v3"``), oldest first."""
    found = tuple(release for release, backend_ in SIM_MATRIX if backend_ == backend)
    if not found:
        known = sorted({b for _, b in SIM_MATRIX})
        raise ValueError(f"backend={backend!r} runs on no release; the backends are {known}")
    return found


def subset(*pairs: tuple[str, str]) -> tuple[tuple[str, str], ...]:
    """``pairs`` unchanged, after checking that each (release, backend) is in the matrix: for
    tests that run a chosen few pairs instead of the whole matrix."""
    for pair in pairs:
        if pair not in SIM_MATRIX:
            raise ValueError(f"{pair!r} is not in the matrix {list(SIM_MATRIX)}")
    return pairs


def pair_id(pair: tuple[str, str]) -> str:
    """A test id for one (release, backend) pair: ``"10.16.1-v3"``."""
    release, backend = pair
    return f"{release}-{backend}"


__all__ = [
    "SIM_MATRIX",
    "SIM_RELEASES",
    "SIM_RUNS",
    "backends_of",
    "pair_id",
    "releases_with",
    "subset",
]
