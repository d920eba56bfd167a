"""Liveness and readiness of the API process, for the orchestrator's probes:
``/healthz`` answers while the process serves requests at all; ``/readyz``
only while the event-log database and the Temporal server both answer (a
load balancer then stops sending people to an API that cannot act)."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import text
from starlette.concurrency import run_in_threadpool

PROBE_TIMEOUT = 3.0


class Health(BaseModel):
    status: str
    checks: dict[str, str] = {}


def health_router(ctx: Any) -> APIRouter:
    router = APIRouter(tags=["health"])
    clients: list = []  # one Temporal client, connected on the first readiness probe

    def database() -> None:
        with ctx.engine.connect() as conn:
            conn.execute(text("SELECT 1"))

    async def temporal() -> None:
        from service.temporal import connect

        if not clients:
            clients.append(await connect(ctx.settings))
        await clients[0].service_client.check_health()

    async def probe(name: str, check) -> tuple[str, str]:
        try:
            await asyncio.wait_for(check(), PROBE_TIMEOUT)
            return name, "ok"
        except Exception as e:  # a probe reports every failure as "not ready", never raises
            return name, f"failing: {type(e).__name__}: {str(e)[:200]}"

    @router.get("/healthz", response_model=Health, summary="liveness: the process serves requests")
    async def healthz() -> Health:
        return Health(status="ok")

    @router.get("/readyz", response_model=Health, summary="readiness: the database and Temporal answer", responses={503: {"model": Health}})
    async def readyz():
        checks = dict(await asyncio.gather(probe("database", lambda: run_in_threadpool(database)), probe("temporal", temporal)))
        ready = all(v == "ok" for v in checks.values())
        body = Health(status="ready" if ready else "not ready", checks=checks)
        return body if ready else JSONResponse(body.model_dump(), status_code=503)

    return router
