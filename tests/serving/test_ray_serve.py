"""The Ray Serve deployment on the simulated TensorRT with a local Ray instance: 64 concurrent
requests through a handle, all correct; batching observed (fewer engine calls than requests); a
bad request gets its error and the deployment keeps serving; HTTP JSON with 4xx for refusals.
Skipped, with the reason, when Ray Serve is not installed (``pip install -e '.[serve]'``)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

import numpy as np
import pytest

pytest.importorskip("ray.serve", reason="Ray Serve is not installed (pip install trt-exec[serve])")

import ray  # noqa: E402
from ray import serve  # noqa: E402

from trt_exec.errors import ShapeError  # noqa: E402
from trt_exec.testing import DEMO_NETWORK, build_engine, reference, simulated_tensorrt  # noqa: E402

RELEASE = "10.16.1"
PORT = 18765


@pytest.fixture(scope="module")
def engine_path(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("serve") / "demo.engine"
    path.write_bytes(bytes(build_engine(simulated_tensorrt(RELEASE), DEMO_NETWORK)))
    return str(path)


@pytest.fixture(scope="module")
def ray_local() -> Any:
    # Small and local: CI has 2 cores. No dashboard, nothing reachable from outside.
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    serve.start(http_options={"host": "127.0.0.1", "port": PORT})
    yield
    serve.shutdown()
    ray.shutdown()


def _deploy(engine_path: str, name: str, **kwargs: Any) -> Any:
    from trt_exec.serve import TensorRTDeployment

    app = TensorRTDeployment.options(ray_actor_options={"num_cpus": 0.5}).bind(
        engine=engine_path, tensorrt=f"sim:{RELEASE}", **kwargs
    )
    return serve.run(app, name=name, route_prefix=f"/{name}")


def _request(i: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(i)
    batch = 1 + i % 3
    return {n: rng.uniform(-2, 2, (batch, 4)).astype(np.float32) for n in ("x", "y")}


def test_64_concurrent_requests_through_a_handle_are_batched(ray_local: None, engine_path: str):
    handle = _deploy(engine_path, "batched", pool_size=2, max_batch_size=16)
    requests = [_request(i) for i in range(64)]
    responses = [handle.remote(r) for r in requests]  # all in flight before any result
    for req, resp in zip(requests, responses):
        got = resp.result(timeout_s=60)
        want = reference(DEMO_NETWORK, req)
        assert set(got) == {"sum", "act"}
        for name in want:
            np.testing.assert_allclose(got[name], want[name], rtol=1e-6)
    stats = handle.stats.remote().result()
    assert stats["requests"] == 64 and stats["errors"] == 0
    assert stats["batched_calls"] >= 1
    assert stats["engine_calls"] < 64, stats


def test_without_max_batch_size_every_request_is_one_call(ray_local: None, engine_path: str):
    handle = _deploy(engine_path, "unbatched", pool_size=1)
    responses = [handle.remote(_request(i)) for i in range(8)]
    for r in responses:
        r.result(timeout_s=60)
    stats = handle.stats.remote().result()
    assert stats["engine_calls"] == stats["requests"] == 8 and stats["batched_calls"] == 0


def test_a_bad_request_gets_its_error_and_the_deployment_keeps_serving(
    ray_local: None, engine_path: str
):
    handle = _deploy(engine_path, "errors", max_batch_size=16)
    bad = {"x": np.ones((40, 4), np.float32), "y": np.ones((40, 4), np.float32)}  # > max 16
    good = [handle.remote(_request(i)) for i in range(6)]
    bad_response = handle.remote(bad)
    with pytest.raises(Exception) as info:
        bad_response.result(timeout_s=60)
    cause = getattr(info.value, "cause", info.value)
    assert isinstance(cause, ShapeError) or "ShapeError" in str(info.value)
    assert "(40, 4)" in str(info.value)
    for i, r in enumerate(good):
        np.testing.assert_allclose(
            r.result(timeout_s=60)["sum"], reference(DEMO_NETWORK, _request(i))["sum"], rtol=1e-6
        )
    after = handle.remote(_request(99)).result(timeout_s=60)
    np.testing.assert_allclose(after["act"], reference(DEMO_NETWORK, _request(99))["act"])


def _post(path: str, body: bytes) -> tuple[int, dict[str, Any]]:
    req = urllib.request.Request(
        f"http://127.0.0.1:{PORT}{path}", data=body, headers={"content-type": "application/json"}
    )
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


def test_http_json_round_trip_and_refusals(ray_local: None, engine_path: str):
    _deploy(engine_path, "http", max_batch_size=8)
    x = [[1.0, -2.0, 3.0, -4.0]]
    status, body = _post(
        "/http",
        json.dumps(
            {"inputs": {"x": {"dtype": "float32", "shape": [1, 4], "data": x}, "y": x}}
        ).encode(),
    )
    assert status == 200, body
    assert body["outputs"]["sum"] == {"dtype": "float32", "shape": [1, 4], "data": [[2, -4, 6, -8]]}
    assert body["outputs"]["act"]["data"] == [[1, -4, 9, -16]]

    status, body = _post("/http", json.dumps({"inputs": {"x": x}}).encode())
    assert status == 400 and body["type"] == "BindingError" and "'y'" in body["error"]
    status, body = _post(
        "/http", json.dumps({"inputs": {"x": {"dtype": "int64", "data": x}, "y": x}}).encode()
    )
    assert status == 400 and body["type"] == "DTypeError" and "int64" in body["error"]
    status, body = _post("/http", b"not json")
    assert status == 422
    status, body = _post("/http", json.dumps({"inputs": {"x": x, "y": x}}).encode())
    assert status == 200  # still serving
