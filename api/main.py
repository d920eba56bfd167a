"""``create_app(ctx)``: the FastAPI application over one application context.
Routers per area under ``/api/v1``; OpenAPI at ``/api/v1/openapi.json``, docs
at ``/api/docs``; health and the codec server beside them. The pages are
added above it (``pages.site``)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.routing import APIRoute
from fastapi.middleware.cors import CORSMiddleware

from api import errors
from api.codec import codec_router
from api.health import health_router
from api.routers import audit, auth, campaigns, directory, outbox, reviews, tasks, users
from app.accounts import Accounts
from service.temporal import codec

API_PREFIX = "/api/v1"


def api_routers() -> list[APIRouter]:
    """The API's own routers, in the order they appear in the docs."""
    return [auth.router, reviews.router, tasks.router, outbox.router, directory.router, campaigns.router, audit.router, users.router]


def route_table(app: FastAPI) -> list[tuple[str, str]]:
    """Every (method, path) the application answers on an API route, from its
    route table (the authorization matrix is generated from this)."""
    try:
        from fastapi.routing import iter_route_contexts  # FastAPI >= 0.160 keeps included routers nested
    except ImportError:
        contexts = app.routes
    else:
        contexts = list(iter_route_contexts(app.routes))
    out = []
    for rc in contexts:
        route = getattr(rc, "route", rc)
        if isinstance(route, APIRoute):
            for method in sorted(getattr(rc, "methods", None) or route.methods):
                out.append((method, getattr(rc, "path", route.path)))
    return out


def create_app(ctx: Any, *, accounts: Accounts | None = None) -> FastAPI:
    settings = ctx.settings
    app = FastAPI(
        title="Pingyi (评议) API",
        version="1",
        description="Leadership reviews (领导点评): start and drive reviews, task lists, the directory, the audit log. "
        "Sign in with a session cookie (POST /api/v1/auth/sign-in) or send 'Authorization: Bearer <token>' "
        "(reviewctl users token issue). Every error is {\"error\": {code, field, message, message_zh}}.",
        openapi_url=f"{API_PREFIX}/openapi.json",
        docs_url="/api/docs",
        redoc_url=None,
    )
    app.state.ctx = ctx
    app.state.accounts = accounts or Accounts.of(ctx)
    errors.install(app)
    if settings.allowed_origins:
        app.add_middleware(
            CORSMiddleware, allow_origins=settings.allowed_origins, allow_credentials=True,
            allow_methods=["GET", "POST", "PUT", "DELETE"], allow_headers=["Authorization", "Content-Type", "X-CSRF-Token"],
        )
    for router in api_routers():
        app.include_router(router, prefix=API_PREFIX, responses=errors.COMMON_ERRORS)
    app.include_router(health_router(ctx))
    sealer = codec(settings)
    if sealer is not None:  # the codec server for the Temporal Web UI (TEMPORAL_CODEC_ENDPOINT=<this API>/codec)
        app.include_router(codec_router(sealer, settings), responses=errors.COMMON_ERRORS)  # its refusals, in the schema too
    return app
