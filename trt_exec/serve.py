"""A Ray Serve deployment of a TensorRT engine, with dynamic batching (``pip install
trt-exec[serve]``). Import it only where you serve: ``import trt_exec`` never imports Ray.

>>> from ray import serve                                     # doctest: +SKIP
>>> from trt_exec.serve import TensorRTDeployment
>>> app = TensorRTDeployment.bind(engine="model.engine", max_batch_size=32)
>>> handle = serve.run(app)
>>> handle.remote({"x": x}).result()                          # {"y": numpy array, ...}

- Through a handle a request is a dict name -> numpy array; so is the response.
- Over HTTP a request is JSON ``{"inputs": {...}}`` and the response ``{"outputs": {...}}``, each
  array as ``{"dtype", "shape", "data"}`` (see :mod:`trt_exec.serving`). A refused request gets
  400 (422 for a body that is not JSON) with ``{"error": message, "type": error class}``; an
  execution failure gets 500.
- ``max_batch_size`` (rows) turns on dynamic batching: concurrent requests whose inputs share every
  dimension but the first are concatenated along it (Ray Serve's ``@serve.batch`` collects them),
  run once and split back; the rows of one call stay within ``max_batch_size`` and the largest
  profile maximum. Requests that cannot be batched together run alone.
- GPU placement is Ray's: ``TensorRTDeployment.options(ray_actor_options={"num_gpus": 1})``
  gives each replica a GPU (Ray sets ``CUDA_VISIBLE_DEVICES``, so the replica's device is 0);
  ``pool_size`` workers and ``devices`` are those of :class:`trt_exec.Pool` inside the replica.
- ``tensorrt="sim:<release>"`` runs it on the simulated TensorRT (CPU tests).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from typing import Any

import numpy as np
from ray import serve
from starlette.requests import Request
from starlette.responses import Response

from .errors import ExecutionError, TrtExecError
from .pool import Pool
from .serving import (
    batch_rows,
    batchable,
    concat,
    decode_inputs,
    encode_outputs,
    max_rows,
    plan_batches,
    split,
)

__all__ = ["TensorRTDeployment"]

# Server-side failures: the request was fine, the engine or the GPU was not.
_SERVER_ERRORS = (ExecutionError,)


def _json(status: int, content: Any) -> Response:
    # json.dumps, not Starlette's JSONResponse: that refuses NaN and Infinity.
    return Response(json.dumps(content), status_code=status, media_type="application/json")


@serve.deployment(max_ongoing_requests=256)
class TensorRTDeployment:
    """One replica: a :class:`trt_exec.Pool` of ``pool_size`` workers over ``engine``."""

    def __init__(
        self,
        engine: Any,
        tensorrt: str | None = None,
        pool_size: int = 1,
        max_batch_size: int | None = None,
        batch_wait_timeout_s: float = 0.005,
        devices: Any = None,
    ) -> None:
        self._pool = Pool(engine, size=pool_size, tensorrt=tensorrt, devices=devices)
        inputs, outputs = self._pool.inputs, self._pool.outputs
        self._limit = 0
        if max_batch_size is not None:
            if isinstance(max_batch_size, bool) or not isinstance(max_batch_size, int):
                raise TypeError(f"max_batch_size={max_batch_size!r} is not an int >= 1 or None")
            if max_batch_size < 1:
                raise ValueError(f"max_batch_size={max_batch_size!r} is not an int >= 1 or None")
            if batchable(inputs, outputs):
                self._limit = min(max_batch_size, max_rows(inputs))
        if self._limit:
            batched: Any = self._batched  # @serve.batch's wrapper carries these setters
            batched.set_max_batch_size(self._limit)
            batched.set_batch_wait_timeout_s(batch_wait_timeout_s)
        self._counts = {"requests": 0, "engine_calls": 0, "batched_calls": 0, "errors": 0}

    # --- entry points --------------------------------------------------------------------------
    async def __call__(self, request: Any) -> Any:
        """A handle call (dict name -> numpy array) or an HTTP request (JSON)."""
        if isinstance(request, Request):
            return await self._http(request)
        return await self.infer(request)

    async def infer(self, inputs: Mapping[str, Any]) -> dict[str, np.ndarray]:
        """Outputs for one request, batched with concurrent ones where possible."""
        self._counts["requests"] += 1
        try:
            if self._limit and batch_rows(inputs, self._pool.inputs) is not None:
                result = await self._batched(inputs)
                if isinstance(result, BaseException):
                    raise result
                return dict(result)
            return await self._run(inputs)
        except BaseException:
            self._counts["errors"] += 1
            raise

    def stats(self) -> dict[str, int]:
        """Requests served, engine calls made (fewer than requests when batching worked),
        batched calls and errors, since this replica started."""
        return dict(self._counts)

    def info(self) -> dict[str, Any]:
        """The pool behind this replica: size, devices, batching limit, IO names."""
        return {
            "pool_size": self._pool.size,
            "devices": list(self._pool.devices),
            "max_batch_rows": self._limit or None,
            "inputs": list(self._pool.inputs),
            "outputs": list(self._pool.outputs),
        }

    # --- execution -----------------------------------------------------------------------------
    async def _run(self, inputs: Mapping[str, Any]) -> dict[str, np.ndarray]:
        self._counts["engine_calls"] += 1
        return await self._pool.ainfer(inputs)

    @serve.batch(max_batch_size=8, batch_wait_timeout_s=0.005)  # type: ignore[untyped-decorator,unused-ignore]
    async def _batched(self, requests: list[Mapping[str, Any]]) -> list[Any]:
        """Ray Serve's batch of concurrent requests: one engine call per group of compatible
        requests; a failed group falls back to running its requests alone, so each gets its
        own result or error."""
        specs = self._pool.inputs
        rows = [batch_rows(r, specs) for r in requests]
        results: list[Any] = [None] * len(requests)

        async def alone(i: int) -> None:
            try:
                results[i] = await self._run(requests[i])
            except Exception as exc:  # handed to that request's caller
                results[i] = exc

        async def together(group: list[int]) -> None:
            counts = [rows[i] or 0 for i in group]
            try:
                self._counts["batched_calls"] += 1
                out = await self._run(concat([requests[i] for i in group]))
                for i, part in zip(group, split(out, counts)):
                    results[i] = part
            except TrtExecError:
                await asyncio.gather(*(alone(i) for i in group))

        groups = plan_batches(rows, requests, self._limit)
        await asyncio.gather(*(together(g) if len(g) > 1 else alone(g[0]) for g in groups))
        return results

    async def _http(self, request: Request) -> Response:
        try:
            body = await request.json()
        except ValueError as exc:
            return _json(422, {"error": f"the body is not JSON: {exc}", "type": "ValueError"})
        try:
            inputs = decode_inputs(body, self._pool.inputs)
            outputs = await self.infer(inputs)
        except TrtExecError as exc:
            status = 500 if isinstance(exc, _SERVER_ERRORS) else 400
            return _json(status, {"error": str(exc), "type": type(exc).__name__})
        return _json(200, encode_outputs(outputs))
