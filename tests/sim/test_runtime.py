"""Deserialization: bad or foreign bytes give None and a logged ERROR, never an exception."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from trt_exec.testing import SIMULATED_VERSIONS, simulated_tensorrt

from .helpers import Harness, make_logger

H = {v: Harness(v) for v in ("10.0.1", "8.6.1")}


def _fresh(version: str) -> tuple[object, object]:
    trt = simulated_tensorrt(version)
    logger = make_logger(trt)
    return trt.Runtime(logger), logger


def test_roundtrip_and_serialize() -> None:
    h = H["10.0.1"]
    blob = bytes(h.engine.serialize())
    assert blob == h.blob
    again = h.runtime.deserialize_cuda_engine(bytearray(blob))
    assert again is not None and again.num_io_tensors == 4
    assert h.runtime.deserialize_cuda_engine(memoryview(blob)) is not None


def test_empty_bytes() -> None:
    rt, logger = _fresh("10.0.1")
    assert rt.deserialize_cuda_engine(b"") is None  # type: ignore[attr-defined]
    assert logger.errors  # type: ignore[attr-defined]


@settings(max_examples=50, deadline=None)
@given(st.binary(max_size=600))
def test_random_bytes(data: bytes) -> None:
    rt, logger = _fresh("10.0.1")
    assert rt.deserialize_cuda_engine(data) is None  # type: ignore[attr-defined]
    assert logger.errors  # type: ignore[attr-defined]


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_truncated_or_bit_flipped(data: st.DataObject) -> None:
    blob = H["10.0.1"].blob
    if data.draw(st.booleans()):
        bad = blob[: data.draw(st.integers(0, len(blob) - 1))]
    else:
        pos = data.draw(st.integers(0, len(blob) * 8 - 1))
        ba = bytearray(blob)
        ba[pos // 8] ^= 1 << (pos % 8)
        bad = bytes(ba)
    rt, logger = _fresh("10.0.1")
    assert rt.deserialize_cuda_engine(bad) is None  # type: ignore[attr-defined]
    assert logger.errors  # type: ignore[attr-defined]


def test_cross_version_plans_are_refused() -> None:
    plans = {v: Harness(v).blob for v in SIMULATED_VERSIONS}
    for built, blob in plans.items():
        for loader in SIMULATED_VERSIONS:
            rt, logger = _fresh(loader)
            engine = rt.deserialize_cuda_engine(blob)  # type: ignore[attr-defined]
            if built == loader:
                assert engine is not None
            else:
                assert engine is None
                text = " ".join(logger.errors)  # type: ignore[attr-defined]
                assert "not compatible with this version" in text
                assert "please rebuild" in text


def test_failure_injection_on_deserialize() -> None:
    h = Harness("11.4.0")
    h.trt._sim.inject_failure("deserialize_cuda_engine", message="boom")
    assert h.runtime.deserialize_cuda_engine(h.blob) is None
    assert "boom" in h.errors
    assert h.runtime.deserialize_cuda_engine(h.blob) is not None
