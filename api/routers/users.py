"""Accounts, standing-role grants and bearer tokens (administrators; a person
may read their own account and change their own password)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from api.deps import AccountsDep, SignedInPrincipal, require_scope
from app.accounts import AccountPage, AccountView, GrantRole, IssuedToken, IssueToken, SetPassword, TokenPage, TokenView
from app.accounts import AddAccount
from app.principal import Principal
from domain.accounts import StandingRole, TokenScope

router = APIRouter(tags=["users"])
Admin = Annotated[Principal, Depends(require_scope(TokenScope.ACCOUNTS_ADMIN.value))]
PersonId = Annotated[str, Path(min_length=1, max_length=64, description="the directory person id")]
Cursor = Annotated[str | None, Query(max_length=200, description="next_cursor of the previous page")]
Limit = Annotated[int, Query(ge=1, le=500)]


class PasswordInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    password: str = Field(max_length=1024)
    current_password: str | None = Field(default=None, max_length=1024)


class GrantInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: StandingRole
    scope: str | None = Field(default=None, max_length=64)


class TokenInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    person_id: str = Field(min_length=1, max_length=64)
    name: str = Field(min_length=1, max_length=100)
    scopes: list[TokenScope] = Field(min_length=1)
    days: float | None = Field(default=None, gt=0, le=3650)


@router.get("/users", response_model=AccountPage, summary="Accounts (administrators)")
async def list_accounts(principal: Admin, accounts: AccountsDep, cursor: Cursor = None, limit: Limit = 50) -> AccountPage:
    return await run_in_threadpool(accounts.list_accounts, principal, cursor, limit)


@router.post("/users", response_model=AccountView, status_code=201, summary="Create the account of a directory person")
async def add_account(body: AddAccount, principal: Admin, accounts: AccountsDep) -> AccountView:
    return await run_in_threadpool(accounts.add_account, principal, body)


@router.get("/users/{person_id}", response_model=AccountView, summary="One account (administrators, or its own person)")
async def show_account(person_id: PersonId, principal: SignedInPrincipal, accounts: AccountsDep) -> AccountView:
    return await run_in_threadpool(accounts.show_account, principal, person_id)


@router.put("/users/{person_id}/password", response_model=AccountView, summary="Set a password (administrators, or one's own with the current one)")
async def set_password(person_id: PersonId, body: PasswordInput, principal: SignedInPrincipal, accounts: AccountsDep) -> AccountView:
    cmd = SetPassword(person_id=person_id, password=body.password, current_password=body.current_password)
    return await run_in_threadpool(accounts.set_password, principal, cmd)


@router.post("/users/{person_id}/grants", response_model=AccountView, summary="Grant a standing role")
async def grant(person_id: PersonId, body: GrantInput, principal: Admin, accounts: AccountsDep) -> AccountView:
    return await run_in_threadpool(accounts.grant, principal, GrantRole(person_id=person_id, role=body.role, scope=body.scope))


@router.delete("/users/{person_id}/grants/{role}", response_model=AccountView, summary="Take a standing role away")
async def revoke_grant(
    person_id: PersonId, role: StandingRole, principal: Admin, accounts: AccountsDep,
    scope: Annotated[str | None, Query(max_length=64, description="supervisor: which scope")] = None,
) -> AccountView:
    return await run_in_threadpool(accounts.revoke_grant, principal, GrantRole(person_id=person_id, role=role, scope=scope))


@router.get("/tokens", response_model=TokenPage, summary="Bearer tokens, never their secrets")
async def list_tokens(
    principal: Admin, accounts: AccountsDep, cursor: Cursor = None, limit: Limit = 50,
    person_id: Annotated[str | None, Query(max_length=64)] = None,
) -> TokenPage:
    return await run_in_threadpool(accounts.list_tokens, principal, person_id, cursor, limit)


@router.post("/tokens", response_model=IssuedToken, status_code=201, summary="Issue a bearer token (its secret is in this response only)")
async def issue_token(body: TokenInput, principal: Admin, accounts: AccountsDep) -> IssuedToken:
    cmd = IssueToken(person_id=body.person_id, name=body.name, scopes=tuple(body.scopes), days=body.days)
    return await run_in_threadpool(accounts.issue_token, principal, cmd)


@router.delete("/tokens/{token_id}", response_model=TokenView, summary="Revoke a bearer token")
async def revoke_token(token_id: Annotated[str, Path(min_length=1, max_length=40)], principal: Admin, accounts: AccountsDep) -> TokenView:
    return await run_in_threadpool(accounts.revoke_token, principal, token_id)
