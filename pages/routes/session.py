"""Signing in and out from the browser, on the API's accounts and sessions:
the password form, the development sign-in (only where the settings enable
it), and the start page, which sends a person to their work."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from api.deps import AccountsDep, client_of
from api.security import LOGIN_CSRF_COOKIE, clear_session_cookie, issue_login_csrf, set_session_cookie, tokens_match
from app.errors import AppError, Forbidden
from pages.error_text import text_of
from pages.i18n import gettext as _
from pages.locale_switch import safe_next
from pages.rendering import render
from pages.web import Who, form_dict

router = APIRouter()

EXAMPLES_SHOWN = 8


def _signin_page(request: Request, accounts, *, next_url: str, errors=None, form=None, status_code: int = 200) -> Response:
    cookie = Response()
    token = issue_login_csrf(cookie, accounts.settings)  # a double-submit token: the cookie and the form's field
    response = render(request, "signin.html", {
        "next": next_url, "errors": errors or {}, "form": form or {},
        "dev_sign_in": accounts.settings.dev_sign_in_enabled,
        "examples": _examples(request) if accounts.settings.dev_sign_in_enabled else [],
        "csrf_token": token,
    }, status_code=status_code)
    response.headers.append("set-cookie", cookie.headers["set-cookie"])
    return response


def _examples(request: Request) -> list[dict[str, str]]:
    """A few people of the directory to sign in as in development (reviewers first)."""
    try:
        from app.people import example_people
    except ImportError:
        return []
    try:
        return example_people(request.app.state.ctx, EXAMPLES_SHOWN)
    except AppError:
        return []


@router.get("/")
async def start(request: Request, who: Who) -> Response:
    return RedirectResponse("/tasks" if who.signed_in else "/signin", status_code=303)


@router.get("/signin")
async def signin_form(request: Request, accounts: AccountsDep, who: Who, next: str = "/tasks") -> Response:
    return _signin_page(request, accounts, next_url=safe_next(next))


async def _login_csrf_ok(request: Request) -> bool:
    form = await request.form()
    given = form.get("csrf_token")
    return tokens_match(request.cookies.get(LOGIN_CSRF_COOKIE), given if isinstance(given, str) else None)


@router.post("/signin")
async def signin(request: Request, accounts: AccountsDep) -> Response:
    form = await request.form()
    next_url = safe_next(form.get("next") if isinstance(form.get("next"), str) else None)
    shown = form_dict(form)
    shown.pop("password", None)
    if not await _login_csrf_ok(request):
        return _signin_page(request, accounts, next_url=next_url, errors={"form": _("The sign-in form expired; please try again.")}, form=shown, status_code=403)
    try:
        session = await run_in_threadpool(accounts.sign_in, str(form.get("person_id") or ""), str(form.get("password") or ""), client_of(request))
    except AppError as err:
        return _signin_page(request, accounts, next_url=next_url, errors={"form": text_of(err)}, form=shown, status_code=err.status)
    return _signed_in(accounts, session, next_url)


@router.post("/signin/dev")
async def signin_dev(request: Request, accounts: AccountsDep) -> Response:
    form = await request.form()
    next_url = safe_next(form.get("next") if isinstance(form.get("next"), str) else None)
    shown = form_dict(form)
    if not await _login_csrf_ok(request):
        return _signin_page(request, accounts, next_url=next_url, errors={"form": _("The sign-in form expired; please try again.")}, form=shown, status_code=403)
    try:
        session = await run_in_threadpool(accounts.dev_sign_in, str(form.get("person_id") or "").strip(), client_of(request))
    except AppError as err:
        msg = _("The development sign-in is not enabled here.") if isinstance(err, Forbidden) else text_of(err)
        return _signin_page(request, accounts, next_url=next_url, errors={"form": msg, "person_id": msg}, form=shown, status_code=err.status)
    return _signed_in(accounts, session, next_url)


def _signed_in(accounts, session, next_url: str) -> Response:
    response = RedirectResponse(next_url, status_code=303)
    set_session_cookie(response, accounts.settings, session.session_id, session.expires_at)
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/")
    return response


@router.post("/signout")
async def signout(request: Request, accounts: AccountsDep, who: Who) -> Response:
    sid = getattr(request.state, "session_id", None)
    if sid:
        await run_in_threadpool(accounts.sign_out, sid)
    response = RedirectResponse("/signin", status_code=303)
    clear_session_cookie(response, accounts.settings)
    return response
