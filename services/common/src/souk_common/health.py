"""Liveness and readiness endpoints.

``/healthz`` answers as long as the process serves HTTP. ``/readyz`` runs every registered
readiness check (PostgreSQL reachable, Redis reachable, migrations at head) concurrently with a
timeout and answers 503 naming what failed, so Kubernetes stops routing to a broken pod.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

ReadinessCheck = Callable[[], Awaitable[None]]
CHECK_TIMEOUT_SECONDS = 2.0


async def _run_check(check: ReadinessCheck) -> str | None:
    try:
        await asyncio.wait_for(check(), CHECK_TIMEOUT_SECONDS)
    except TimeoutError:
        return "timed out"
    except Exception as error:
        return f"{type(error).__name__}: {error}"[:200]
    return None


def health_router() -> APIRouter:
    """Return the router serving ``/healthz`` and ``/readyz``."""
    router = APIRouter(include_in_schema=False)

    @router.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @router.get("/readyz")
    async def readyz(request: Request) -> JSONResponse:
        checks: dict[str, ReadinessCheck] = getattr(request.app.state, "readiness_checks", {})
        results = await asyncio.gather(*(_run_check(check) for check in checks.values()))
        failures = {name: error for name, error in zip(checks, results, strict=True) if error}
        body = {
            "status": "ready" if not failures else "not_ready",
            "checks": {name: failures.get(name, "ok") for name in checks},
        }
        return JSONResponse(body, status_code=503 if failures else 200)

    return router
