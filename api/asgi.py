"""The API as a standalone ASGI application, for a deployment that runs the
API apart from the workers (docker-compose's pingyi-api):
``uvicorn --factory api.asgi:create``. ``reviewctl serve`` runs the same
application in its own process instead."""

from __future__ import annotations

from fastapi import FastAPI

from api.main import create_app
from app.context import AppContext
from config.logging import configure_logging
from config.settings import get_settings


def create() -> FastAPI:
    settings = get_settings()
    configure_logging(settings.effective_log_format, settings.log_level)
    return create_app(AppContext(settings))
