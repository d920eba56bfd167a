"""The HTML pages: server-rendered Jinja2 over the application layer, progressively
enhanced with htmx, in zh-CN first and English. One router
(``include_in_schema=False``: pages are not the API's contract) that
:func:`install` adds to the FastAPI application beside the API; every route
calls one ``app/`` use case with the signed-in principal and renders its typed
result or its typed error."""

from __future__ import annotations

from fastapi import APIRouter, Depends, FastAPI
from fastapi.staticfiles import StaticFiles

from pages import assets, locale_switch
from pages.routes import audit, dashboard, outbox, reviews, session, tasks
from pages.web import PageError, page_error

router = APIRouter(include_in_schema=False, dependencies=[Depends(locale_switch.use_locale)])
for part in (assets, locale_switch, session, tasks, reviews, dashboard, audit, outbox):
    router.include_router(part.router)


def install(app: FastAPI) -> None:
    """Serve the pages and their static files from ``app``."""
    app.mount("/static/pages", StaticFiles(directory=str(assets.OWN_STATIC)), name="pages-static")
    app.include_router(router)
    app.add_exception_handler(PageError, page_error)
    missing = assets.missing_vendor_files()
    if missing:
        assets.log.warning("front_end_packages_missing", missing=missing, hint="run 'make' (npm ci); pages still read without JavaScript")
