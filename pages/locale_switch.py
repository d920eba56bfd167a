"""The language a request speaks: the router's dependency sets it for the
request (cookie, else Accept-Language, else zh-CN), and the switch in every
page header stores a person's choice in a cookie."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse

from pages import i18n

router = APIRouter(include_in_schema=False)

ONE_YEAR = 365 * 24 * 3600


async def use_locale(request: Request) -> str:
    """Router dependency: negotiate the locale and make gettext speak it.
    Async on purpose: a sync dependency runs in a worker thread, and the
    context variable it set would not reach the endpoint."""
    locale = i18n.negotiate(request.cookies.get(i18n.LANG_COOKIE), request.headers.get("accept-language"))
    request.state.locale = locale
    i18n.set_locale(locale)
    return locale


def safe_next(target: str | None) -> str:
    """Only a path on this site (no scheme, no host, no ``//``): a crafted
    ``next`` must not send a person elsewhere."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


@router.post("/lang")
def switch_language(lang: Annotated[str, Form()], next: Annotated[str, Form()] = "/") -> RedirectResponse:
    locale = i18n.normalize(lang) or i18n.DEFAULT_LOCALE
    resp = RedirectResponse(safe_next(next), status_code=303)
    resp.set_cookie(i18n.LANG_COOKIE, locale, max_age=ONE_YEAR, httponly=True, samesite="lax")
    return resp
