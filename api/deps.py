"""What routes (and the pages) depend on, as ``Annotated`` dependencies: the
application context, the accounts, and the acting principal, from a bearer
token or the session cookie, with CSRF checked for cookie requests that change
something.

The pages reuse these as they are::

    from api.deps import CurrentPrincipal, SignedInPrincipal, csrf_token_of
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool

from app.accounts import Accounts
from app.errors import Forbidden, NotSignedIn
from app.principal import ANONYMOUS, Principal
from api.security import SAFE_METHODS, client_address, session_id_from, submitted_csrf, tokens_match


def get_ctx(request: Request) -> Any:
    return request.app.state.ctx


def get_accounts(request: Request) -> Accounts:
    return request.app.state.accounts


Ctx = Annotated[Any, Depends(get_ctx)]
AccountsDep = Annotated[Accounts, Depends(get_accounts)]


def _resolve(request: Request, accounts: Accounts) -> Principal:
    """Bearer token first (a bad one is refused, never taken as anonymous),
    then the session cookie, else anonymous."""
    auth = request.headers.get("authorization")
    if auth:
        scheme, _, secret = auth.partition(" ")
        if scheme.lower() != "bearer" or not secret.strip():
            raise NotSignedIn("the Authorization header must be 'Bearer <token>'", field="Authorization", message_zh="Authorization 头应为 'Bearer <令牌>'")
        request.state.auth = "token"
        return accounts.token_principal(secret.strip())
    sid = session_id_from(request, accounts.settings)
    if sid:
        found = accounts.session_principal(sid)
        if found is not None:
            request.state.auth = "cookie"
            request.state.session_id = sid
            request.state.csrf_token = found.csrf_token
            return found.principal
    request.state.auth = None
    return ANONYMOUS


async def current_principal(request: Request, accounts: AccountsDep) -> Principal:
    """Who is acting (possibly anonymous). A cookie-authenticated request that
    changes something must carry the session's CSRF token, else 403."""
    principal = await run_in_threadpool(_resolve, request, accounts)
    if request.method not in SAFE_METHODS and getattr(request.state, "auth", None) == "cookie":
        await require_csrf(request)
    return principal


async def require_csrf(request: Request) -> None:
    """403 unless the request carries the session's CSRF token (header
    ``X-CSRF-Token`` or form field ``csrf_token``)."""
    if not tokens_match(getattr(request.state, "csrf_token", None), await submitted_csrf(request)):
        raise Forbidden("this request needs the session's CSRF token (header X-CSRF-Token or form field csrf_token)", field="csrf_token",
                        message_zh="请求缺少会话的 CSRF 令牌")


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


async def signed_in_principal(principal: CurrentPrincipal) -> Principal:
    if not principal.signed_in:
        raise NotSignedIn("sign in first (a session cookie or 'Authorization: Bearer <token>')", message_zh="请先登录")
    return principal


SignedInPrincipal = Annotated[Principal, Depends(signed_in_principal)]


def require_scope(scope: str):
    """A token acts only within its scopes (a person's session is limited by roles only)."""

    async def check(principal: SignedInPrincipal) -> Principal:
        if principal.token_scopes is not None and scope not in principal.token_scopes:
            raise Forbidden(f"this token lacks the {scope!r} scope", field="Authorization", message_zh=f"该令牌没有 {scope!r} 权限")
        return principal

    check.__name__ = f"scope_{scope.replace(':', '_')}"
    return check


def csrf_token_of(request: Request) -> str | None:
    """The session's CSRF token for a form's hidden field (after the principal was resolved)."""
    return getattr(request.state, "csrf_token", None)


def client_of(request: Request) -> str:
    return client_address(request)
