"""Accounts, standing roles and tokens: the words, and the events the audit log
keeps of them. Every sign-in, failed sign-in, grant and token change is an
event on the account's stream (``account-<id>``), hash-chained with the
reviews' events, so the auditor verifies who could act with the same tools that
verify what they did.

Review roles (reviewer, co-reviewer, subject) are never granted: they come from
a review's assignment. Only the standing roles below are granted to an account.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import Field

from domain.events import DomainEvent, event


class StandingRole(StrEnum):
    SUPERVISOR = "supervisor"  # within a scope: the subtree of one unit
    AUDITOR = "auditor"  # reads everything, changes nothing
    ADMINISTRATOR = "administrator"  # accounts and grants, no review content


class TokenScope(StrEnum):
    """What a system's bearer token may do, on top of what its account's roles
    allow (a token never widens them)."""

    REVIEWS_READ = "reviews:read"
    REVIEWS_WRITE = "reviews:write"
    DIRECTORY_READ = "directory:read"
    AUDIT_READ = "audit:read"
    OUTBOX_READ = "outbox:read"
    CAMPAIGNS_READ = "campaigns:read"  # a campaign's status, the coverage ledger, round schedules
    CAMPAIGNS_WRITE = "campaigns:write"  # plan, launch, pause, resume, cancel; change round schedules
    ACCOUNTS_ADMIN = "accounts:admin"


def account_stream(account_id: str) -> str:
    return f"account-{account_id}"


UNKNOWN_LOGIN_PREFIX = "account-unknown-"


def unknown_login_stream(digest: str) -> str:
    """Failed sign-ins whose login names no account belong to no account's
    stream, yet an auditor must see someone probing for accounts: one stream
    per login, named by a keyed digest of it (what was typed never appears
    in a stream id), so attempts on one login queue on one stream as a known
    account's do, and attempts on many logins do not queue on one."""
    return f"{UNKNOWN_LOGIN_PREFIX}{digest}"


class SignInMethod(StrEnum):
    PASSWORD = "password"
    DEVELOPMENT = "development"


class FailureReason(StrEnum):
    BAD_PASSWORD = "bad_password"
    NO_PASSWORD = "no_password"
    DISABLED = "disabled"
    RATE_LIMITED = "rate_limited"
    NO_ACCOUNT = "no_account"  # the login names no account (recorded on unknown_login_stream)


@event("account.created")
class AccountCreated(DomainEvent):
    account_id: str
    person_id: str


@event("account.password_changed")
class PasswordChanged(DomainEvent):
    account_id: str


@event("account.signed_in")
class SignedIn(DomainEvent):
    account_id: str
    method: SignInMethod
    client: str | None = Field(default=None, max_length=200)


@event("account.sign_in_failed")
class SignInFailed(DomainEvent):
    account_id: str
    failure: FailureReason
    client: str | None = Field(default=None, max_length=200)


@event("account.unknown_login_refused")
class UnknownLoginRefused(DomainEvent):
    """A sign-in refused because its login names no account (or refused by the
    rate limit before that was looked at). ``login`` is kept only when it has
    the shape of a person id: anything else may be a password typed into the
    wrong box, and the log keeps no password."""

    login: str | None = Field(default=None, max_length=64)
    failure: FailureReason
    client: str | None = Field(default=None, max_length=200)


@event("account.signed_out")
class SignedOut(DomainEvent):
    account_id: str


@event("account.role_granted")
class RoleGranted(DomainEvent):
    account_id: str
    role: StandingRole
    scope: str | None = None  # the unit whose subtree a supervisor supervises


@event("account.role_revoked")
class RoleRevoked(DomainEvent):
    account_id: str
    role: StandingRole
    scope: str | None = None


@event("account.token_issued")
class TokenIssued(DomainEvent):
    account_id: str
    token_id: str
    name: str
    scopes: tuple[TokenScope, ...]
    expires_at: datetime


@event("account.token_revoked")
class TokenRevoked(DomainEvent):
    account_id: str
    token_id: str
