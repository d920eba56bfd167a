"""Sign in and out, and who am I. A password sign-in opens a server-side
session and sets its cookie; the response carries the session's CSRF token for
scripts (forms get it from the pages)."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from api.deps import AccountsDep, CurrentPrincipal, client_of, csrf_token_of
from api.errors import SIGN_IN_ERRORS
from api.security import clear_session_cookie, set_session_cookie
from app.accounts import SignedInSession
from app.principal import Principal

router = APIRouter(prefix="/auth", tags=["auth"])


class SignInInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    login: str = Field(min_length=1, max_length=64, description="the directory person id")
    password: str = Field(min_length=1, max_length=1024)


class DevSignInInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    person_id: str = Field(min_length=1, max_length=64)


class WhoAmI(BaseModel):
    kind: str
    person_id: str | None = None
    account_id: str | None = None
    supervisor_scopes: list[str] = []
    auditor: bool = False
    administrator: bool = False
    token_scopes: list[str] | None = None
    via: str
    csrf_token: str | None = Field(default=None, description="send as X-CSRF-Token with cookie requests that change something")


class SignedInResult(WhoAmI):
    expires_at: datetime


class SignedOutResult(BaseModel):
    signed_out: bool


def whoami_of(principal: Principal, csrf: str | None) -> WhoAmI:
    return WhoAmI(
        kind=principal.kind, person_id=principal.person_id, account_id=principal.account_id,
        supervisor_scopes=list(principal.supervisor_scopes), auditor=principal.auditor, administrator=principal.administrator,
        token_scopes=list(principal.token_scopes) if principal.token_scopes is not None else None, via=principal.via, csrf_token=csrf,
    )


def start_session(response: Response, accounts, session: SignedInSession) -> SignedInResult:
    """Set the session cookie (the pages' sign-in form calls this too)."""
    set_session_cookie(response, accounts.settings, session.session_id, session.expires_at)
    return SignedInResult(**whoami_of(session.principal, session.csrf_token).model_dump(), expires_at=session.expires_at)


@router.post("/sign-in", response_model=SignedInResult, responses=SIGN_IN_ERRORS, summary="Sign in with the person id and password")
async def sign_in(body: SignInInput, request: Request, response: Response, accounts: AccountsDep) -> SignedInResult:
    session = await run_in_threadpool(accounts.sign_in, body.login, body.password, client_of(request))
    return start_session(response, accounts, session)


@router.post("/dev-sign-in", response_model=SignedInResult, summary="DEVELOPMENT ONLY: sign in as any directory person, no password")
async def dev_sign_in(body: DevSignInInput, request: Request, response: Response, accounts: AccountsDep) -> SignedInResult:
    """Refused (403) unless the settings enable the development sign-in, which production settings cannot."""
    session = await run_in_threadpool(accounts.dev_sign_in, body.person_id, client_of(request))
    return start_session(response, accounts, session)


@router.post("/sign-out", response_model=SignedOutResult, summary="End this session")
async def sign_out(request: Request, response: Response, principal: CurrentPrincipal, accounts: AccountsDep) -> SignedOutResult:
    sid = getattr(request.state, "session_id", None)
    ended = await run_in_threadpool(accounts.sign_out, sid) if sid else False
    clear_session_cookie(response, accounts.settings)
    return SignedOutResult(signed_out=ended)


@router.get("/whoami", response_model=WhoAmI, summary="The acting principal (anonymous when nobody signed in)")
async def whoami(request: Request, principal: CurrentPrincipal) -> WhoAmI:
    return whoami_of(principal, csrf_token_of(request))
