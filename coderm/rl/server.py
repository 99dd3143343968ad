"""The reward server: an ASGI app (starlette) over one RewardFunction.

Endpoints: POST /reward (coderm's request), POST /get_reward (OpenRLHF ``--remote_rm_url``),
GET /health, GET /metrics (Prometheus text). Requests over ``max_body_bytes`` get 413, more
than ``max_concurrency`` requests admitted at once get 503 (the trainer retries) instead of an
unbounded queue, and a malformed request gets 4xx with the reason. Each admitted request runs in
a worker thread on the shared executor, concurrently: the executor serves the requests' tasks
round robin (executor.scheduler), so a small request is not queued behind a big one, and the event
loop stays free for health checks. On shutdown uvicorn stops accepting,
in-flight batches finish, then the lifespan closes the executor.
"""
from __future__ import annotations

import asyncio
import contextlib
import json
import threading
import time
from typing import Any, Callable

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from coderm.pipeline import close_shared
from coderm.rl.adapters import RequestError, native_reward, openrlhf_reward
from coderm.rl.ground_truth import GroundTruthError
from coderm.rl.reward import RewardFunction


class _Metrics:
    """Counters for /metrics; updated from the event loop and the batch thread."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.requests = 0
        self.rejected = {"413": 0, "400": 0, "422": 0, "503": 0}
        self.completions = 0
        self.batch_seconds = 0.0
        self.in_flight = 0

    def render(self) -> str:
        with self.lock:
            lines = [
                "# TYPE coderm_requests_total counter", f"coderm_requests_total {self.requests}",
                "# TYPE coderm_rejected_total counter",
                *(f'coderm_rejected_total{{code="{c}"}} {n}' for c, n in self.rejected.items()),
                "# TYPE coderm_rewards_total counter", f"coderm_rewards_total {self.completions}",
                "# TYPE coderm_batch_seconds_total counter", f"coderm_batch_seconds_total {self.batch_seconds:.6f}",
                "# TYPE coderm_in_flight gauge", f"coderm_in_flight {self.in_flight}",
            ]
        return "\n".join(lines) + "\n"


def create_app(reward_fn: RewardFunction | None = None, max_body_bytes: int = 32 << 20,
               max_concurrency: int = 8) -> Starlette:
    """The ASGI app. ``max_concurrency``: requests admitted at once (running or waiting for the executor)."""
    rf = reward_fn or RewardFunction()
    metrics = _Metrics()
    admitted = 0

    def error(code: int, reason: str) -> JSONResponse:
        with metrics.lock:
            metrics.rejected[str(code)] = metrics.rejected.get(str(code), 0) + 1
        return JSONResponse({"error": reason}, status_code=code)

    async def read_json(request: Request) -> Any:
        declared = request.headers.get("content-length")
        if declared is not None and not declared.isdigit():
            raise _Reject(400, f"bad Content-Length header {declared!r}")
        if declared is not None and int(declared) > max_body_bytes:
            raise _Reject(413, f"request body over the limit of {max_body_bytes} bytes")
        body = bytearray()
        async for chunk in request.stream():  # also bounds chunked bodies without a length
            body += chunk
            if len(body) > max_body_bytes:
                raise _Reject(413, f"request body over the limit of {max_body_bytes} bytes")
        try:
            return json.loads(body)
        except (json.JSONDecodeError, UnicodeDecodeError) as e:
            raise _Reject(400, f"body is not valid JSON: {e}") from None

    def endpoint(handler: Callable[[RewardFunction, Any], dict[str, Any]]):
        async def route(request: Request) -> Response:
            nonlocal admitted
            with metrics.lock:
                metrics.requests += 1
            if admitted >= max_concurrency:
                response = error(503, f"server busy: {max_concurrency} requests already admitted; retry")
                response.headers["Retry-After"] = "1"
                return response
            admitted += 1
            try:
                payload = await read_json(request)
                body = await run_in_threadpool(run_batch, handler, payload)
            except _Reject as e:
                return error(e.code, e.reason)
            except (RequestError, GroundTruthError) as e:
                return error(422, str(e))
            finally:
                admitted -= 1
            return JSONResponse(body)
        return route

    def run_batch(handler: Callable[[RewardFunction, Any], dict[str, Any]], payload: Any) -> dict[str, Any]:
        with metrics.lock:
            metrics.in_flight += 1
        start = time.perf_counter()
        try:
            body = handler(rf, payload)
        finally:
            with metrics.lock:
                metrics.in_flight -= 1
                metrics.batch_seconds += time.perf_counter() - start
        with metrics.lock:
            metrics.completions += len(body["rewards"])
        return body

    async def health(request: Request) -> Response:
        return JSONResponse({"status": "ok", "in_flight": metrics.in_flight, "admitted": admitted})

    async def metrics_endpoint(request: Request) -> Response:
        return PlainTextResponse(metrics.render(), media_type="text/plain; version=0.0.4")

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette):
        await asyncio.to_thread(lambda: rf.pipeline.executor.start())  # warm workers before the first step
        try:
            yield
        finally:
            await asyncio.to_thread(close_shared)

    return Starlette(routes=[
        Route("/reward", endpoint(native_reward), methods=["POST"]),
        Route("/get_reward", endpoint(openrlhf_reward), methods=["POST"]),
        Route("/health", health, methods=["GET"]),
        Route("/metrics", metrics_endpoint, methods=["GET"]),
    ], lifespan=lifespan)


class _Reject(Exception):
    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code, self.reason = code, reason
