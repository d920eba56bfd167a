"""The session cookie and CSRF protection, shared by the API and the pages.

A signed-in person carries one cookie: the session id (a 256-bit random
secret, stored server-side only as its SHA-256, see ``storage.accounts``),
signed with the session secret (itsdangerous) so a forged or truncated value is
refused before any database read. The cookie is HttpOnly, SameSite=Lax and
Secure (development over plain http may turn Secure off; production may not).

CSRF: a request that changes something and is authenticated by the cookie
must carry the session's synchronizer token, in the ``X-CSRF-Token`` header
(scripts, the JSON API) or the ``csrf_token`` form field (HTML forms). Bearer
tokens are not sent by browsers on their own, so token requests need none.
The sign-in form has no session yet: it uses a double-submit token (a
``pingyi_login_csrf`` cookie echoed in the form), which stops a foreign site
from signing a visitor into the attacker's account. A JSON sign-in needs
neither: a foreign page cannot send ``application/json`` across origins
without a CORS preflight, and CORS allows only the configured origins.
"""

from __future__ import annotations

import hmac
import secrets
from datetime import datetime

from fastapi import Request, Response
from itsdangerous import BadSignature, URLSafeSerializer

from config.settings import Settings

SESSION_COOKIE = "pingyi_session"
LOGIN_CSRF_COOKIE = "pingyi_login_csrf"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data", "text/plain")


def _signer(settings: Settings) -> URLSafeSerializer:
    return URLSafeSerializer(settings.session_secret, salt="pingyi-session")


def session_id_from(request: Request, settings: Settings) -> str | None:
    """The session id in the request's cookie, if its signature holds."""
    raw = request.cookies.get(SESSION_COOKIE)
    if not raw:
        return None
    try:
        value = _signer(settings).loads(raw)
    except BadSignature:
        return None
    return value if isinstance(value, str) else None


def session_cookie_value(settings: Settings, session_id: str) -> str:
    return _signer(settings).dumps(session_id)


def set_session_cookie(response: Response, settings: Settings, session_id: str, expires_at: datetime) -> None:
    response.set_cookie(
        SESSION_COOKIE, session_cookie_value(settings, session_id), expires=expires_at, path="/",
        httponly=True, samesite="lax", secure=settings.session_cookie_secure,
    )


def clear_session_cookie(response: Response, settings: Settings) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="lax", secure=settings.session_cookie_secure)


def is_form(request: Request) -> bool:
    return request.headers.get("content-type", "").split(";")[0].strip().lower() in FORM_TYPES


async def submitted_csrf(request: Request) -> str | None:
    """The CSRF token the request carries: the header, else the form field."""
    token = request.headers.get(CSRF_HEADER)
    if token:
        return token
    if is_form(request):
        form = await request.form()
        value = form.get(CSRF_FIELD)
        return value if isinstance(value, str) else None
    return None


def tokens_match(expected: str | None, given: str | None) -> bool:
    return bool(expected) and bool(given) and hmac.compare_digest(expected.encode(), given.encode())


def issue_login_csrf(response: Response, settings: Settings) -> str:
    """A fresh double-submit token for a sign-in form: set as a cookie, and
    returned for the form's hidden ``csrf_token`` field."""
    token = secrets.token_urlsafe(24)
    response.set_cookie(LOGIN_CSRF_COOKIE, token, max_age=3600, path="/", httponly=True, samesite="lax", secure=settings.session_cookie_secure)
    return token


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"
