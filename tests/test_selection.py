"""select_backend: a pure function of (version, flavor, requested, TRT_EXEC_BACKEND)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from packaging.version import Version

from trt_exec import select_backend
from trt_exec.errors import BackendUnavailableError, InvalidBackendError
from trt_exec.selection import ENV_BACKEND, explain_backend

FLAVORS = ["tensorrt", "tensorrt_rtx", "tensorrt_lean", "tensorrt_dispatch"]
versions = st.one_of(
    st.text(max_size=12),
    st.builds(
        lambda a, b, c: f"{a}.{b}.{c}",
        st.integers(0, 12),
        st.integers(0, 20),
        st.integers(0, 30),
    ),
)
requests = st.one_of(
    st.none(), st.sampled_from(["auto", "v2", "v3", "V3", " v2 ", ""]), st.text(max_size=5)
)
# os.environ cannot hold NUL characters, so no environment value can contain one.
env_values = st.one_of(
    st.none(),
    st.sampled_from(["auto", "v2", "v3", "", "AUTO"]),
    st.text(st.characters(blacklist_characters="\x00"), max_size=5),
)


@given(version=versions, requested=requests, env=env_values, flavor=st.sampled_from(FLAVORS))
def test_select_backend_is_total(version, requested, env, flavor):
    mp = pytest.MonkeyPatch()
    try:
        if env is None:
            mp.delenv(ENV_BACKEND, raising=False)
        else:
            mp.setenv(ENV_BACKEND, env)
        try:
            result = select_backend(version, requested, flavor=flavor)
        except BackendUnavailableError:
            return
        assert result in ("v2", "v3")
    finally:
        mp.undo()


@given(major=st.integers(0, 12), minor=st.integers(0, 9), flavor=st.sampled_from(FLAVORS))
def test_auto_rule(major, minor, flavor):
    version = f"{major}.{minor}.0"
    import os

    saved = os.environ.pop(ENV_BACKEND, None)
    try:
        got = select_backend(version, flavor=flavor)
    finally:
        if saved is not None:
            os.environ[ENV_BACKEND] = saved
    if flavor == "tensorrt_rtx" or Version(version) >= Version("8.5"):
        assert got == "v3"
    else:
        assert got == "v2"


@pytest.mark.parametrize(
    ("version", "flavor", "requested", "fragment"),
    [
        ("10.0.1", "tensorrt", "v2", "removed in TensorRT 10.0"),
        ("11.4.0", "tensorrt", "v2", "removed in TensorRT 10.0"),
        ("1.7.1", "tensorrt_rtx", "v2", "TensorRT-RTX never had it"),
        ("8.4.3", "tensorrt", "v3", "arrived in TensorRT 8.5"),
    ],
)
def test_unavailable_backend_message(version, flavor, requested, fragment, monkeypatch):
    monkeypatch.delenv(ENV_BACKEND, raising=False)
    with pytest.raises(BackendUnavailableError) as info:
        select_backend(version, requested, flavor=flavor)
    msg = str(info.value)
    assert version in msg and fragment in msg and "backend=" in msg


def test_both_apis_on_86(monkeypatch):
    monkeypatch.delenv(ENV_BACKEND, raising=False)
    assert select_backend("8.6.1") == "v3"
    assert select_backend("8.6.1", "v2") == "v2"
    assert select_backend("8.5.0", "v3") == "v3"


def test_environment_read_at_call_time(monkeypatch):
    monkeypatch.setenv(ENV_BACKEND, "v2")
    assert select_backend("8.6.1") == "v2"
    monkeypatch.setenv(ENV_BACKEND, "v3")
    assert select_backend("8.6.1") == "v3"
    monkeypatch.setenv(ENV_BACKEND, "auto")
    assert select_backend("8.4.3") == "v2"


def test_argument_beats_environment(monkeypatch):
    monkeypatch.setenv(ENV_BACKEND, "v2")
    assert select_backend("8.6.1", "v3") == "v3"
    choice = explain_backend("8.6.1", "v3")
    assert choice.source == "argument"


def test_invalid_environment_lists_valid_values(monkeypatch):
    monkeypatch.setenv(ENV_BACKEND, "v4")
    with pytest.raises(InvalidBackendError) as info:
        select_backend("10.0.1")
    msg = str(info.value)
    assert "'v4'" in msg and "'auto'" in msg and "'v2'" in msg and "'v3'" in msg
    assert isinstance(info.value, ValueError)


def test_explain_sources(monkeypatch):
    monkeypatch.delenv(ENV_BACKEND, raising=False)
    assert explain_backend("10.16.1").source == "version"
    monkeypatch.setenv(ENV_BACKEND, "v3")
    c = explain_backend("8.6.1")
    assert (c.backend, c.source) == ("v3", "environment")
    assert ENV_BACKEND in c.reason


def test_invalid_version_is_backend_error(monkeypatch):
    monkeypatch.delenv(ENV_BACKEND, raising=False)
    with pytest.raises(BackendUnavailableError, match="not a version number"):
        select_backend("banana")
