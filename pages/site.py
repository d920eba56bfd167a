"""The site people reach: the API under /api/v1 and, beside it, the HTML
pages (one application: the same sign-in, sessions and CSRF). It is composed
here, above both, because the pages sit on the API's security; the API alone
(``api.main.create_app``) knows nothing of the pages.

``reviewctl serve`` runs :func:`site` in its own process; a deployment that
runs the site apart from the workers (docker-compose's pingyi-api) runs
``uvicorn --factory pages.site:create``."""

from __future__ import annotations

from fastapi import FastAPI

import pages
from api.main import create_app
from app.context import AppContext
from config.logging import configure_logging
from config.settings import get_settings


def site(ctx: AppContext, *, accounts=None) -> FastAPI:
    app = create_app(ctx, accounts=accounts)
    pages.install(app)
    return app


def create() -> FastAPI:
    settings = get_settings()
    configure_logging(settings.effective_log_format, settings.log_level)
    return site(AppContext(settings))
