"""Accounts, sign-in, standing roles and bearer tokens: the use cases behind
``reviewctl users …``, the API's auth and users routes, and the pages' sign-in.

An account belongs to a directory person (one account per person) and signs in
with the person id and a password. Standing roles are granted to it
(supervisor over a unit's subtree, auditor, administrator); review roles are
never granted, they come from each review's assignment. A system acts through
a bearer token of an account, limited to the token's scopes on top of the
account's roles. Every change and every sign-in attempt on an account is an
event on its stream in the event log (``account-<id>``).

Who may administer: a principal holding the administrator grant (a token of
such an account needs the ``accounts:admin`` scope), and ``reviewctl users``
run on the server itself (``via="cli"``): whoever can run it there can read the
database anyway, and someone has to create the first administrator.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import structlog
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, field_validator
from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError

from app.cursor import Page, after_of, page_of
from app.errors import BadInput, Conflict, Forbidden, NotFound, NotSignedIn, TooManyAttempts
from app.principal import Principal
from config.settings import Settings
from domain.accounts import (
    AccountCreated, FailureReason, PasswordChanged, RoleGranted, RoleRevoked, SignedIn, SignedOut, SignInFailed,
    SignInMethod, StandingRole, TokenIssued, TokenRevoked, TokenScope, UnknownLoginRefused, account_stream, unknown_login_stream,
)
from domain.events import DomainEvent, to_records
from domain.org import PersonId
from storage.accounts import AccountRow, AccountStore, TokenRow
from storage.eventlog import EventConflict, EventStore

log = structlog.get_logger("pingyi.accounts")

CLI_ADMIN = Principal(kind="person", person_id="cli", administrator=True, via="cli")
MIN_PASSWORD = 8
ALL_SCOPES = tuple(TokenScope)
_PERSON_ID = TypeAdapter(PersonId)


def _person_id_shaped(login: str) -> str | None:
    """``login`` if it looks like a person id, else None (see UnknownLoginRefused)."""
    try:
        return _PERSON_ID.validate_python(login)
    except ValidationError:
        return None


# ---- inputs and results ----------------------------------------------------


class Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


def _no_nul(v: str | None) -> str | None:
    if v is not None and "\x00" in v:
        raise ValueError("must not contain U+0000")
    return v


class PersonRef(Model):
    person_id: str = Field(min_length=1, max_length=64)
    _nul = field_validator("person_id")(_no_nul)


class AddAccount(PersonRef):
    password: str | None = Field(default=None, max_length=1024, description="none: the account cannot sign in with a password until one is set")


class SetPassword(PersonRef):
    password: str = Field(max_length=1024)
    current_password: str | None = Field(default=None, max_length=1024, description="needed when people change their own password")


class GrantRole(PersonRef):
    role: StandingRole
    scope: str | None = Field(default=None, max_length=64, description="supervisor: the unit whose subtree is supervised")
    _nul_scope = field_validator("scope")(_no_nul)


class IssueToken(PersonRef):
    name: str = Field(min_length=1, max_length=100, description="what the token is for, e.g. the portal")
    scopes: tuple[TokenScope, ...] = Field(min_length=1)
    days: float | None = Field(default=None, gt=0, le=3650, description="lifetime; default from settings")
    _nul_name = field_validator("name")(_no_nul)


class Grant(Model):
    role: StandingRole
    scope: str | None = None
    granted_at: datetime


class AccountView(Model):
    account_id: str
    person_id: str
    name: str | None
    has_password: bool
    disabled: bool
    created_at: datetime
    grants: tuple[Grant, ...]


class TokenView(Model):
    token_id: str
    account_id: str
    name: str
    scopes: tuple[TokenScope, ...]
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None
    state: str  # active, expired, revoked


class IssuedToken(TokenView):
    secret: str = Field(description="shown once; only its SHA-256 is stored")


class AccountPage(Page[AccountView]):
    pass


class TokenPage(Page[TokenView]):
    pass


@dataclass(frozen=True)
class SignedInSession:
    """What the interface puts in the cookie (``session_id``) and in forms (``csrf_token``)."""

    session_id: str
    csrf_token: str
    expires_at: datetime
    principal: Principal


@dataclass(frozen=True)
class SessionPrincipal:
    principal: Principal
    csrf_token: str


# ---- the use cases -------------------------------------------------------------


class Accounts:
    def __init__(self, settings: Settings, engine: Engine, events: EventStore, *, hasher: PasswordHasher | None = None) -> None:
        self.settings = settings
        self.store = AccountStore(engine)
        self.events = events
        self.hasher = hasher or PasswordHasher()  # argon2id, the library's RFC 9106 low-memory profile
        self._dummy_hash: str | None = None

    @classmethod
    def of(cls, ctx) -> "Accounts":
        """The accounts of an application context (its settings, engine and event store)."""
        return cls(ctx.settings, ctx.engine, ctx.events)

    @staticmethod
    def now() -> datetime:
        return datetime.now(timezone.utc)

    # ---- administration ---------------------------------------------------

    def add_account(self, principal: Principal, cmd: AddAccount) -> AccountView:
        _require_admin(principal)
        name = self.store.person_name(cmd.person_id)
        if name is None:
            raise NotFound(f"no person {cmd.person_id!r} in the directory", field="person_id", message_zh=f"目录中没有人员 {cmd.person_id!r}")
        if self.store.by_person(cmd.person_id) is not None:
            raise Conflict(f"{cmd.person_id!r} already has an account", field="person_id", message_zh=f"{cmd.person_id!r} 已有账户")
        hashed = self._hash(cmd.password) if cmd.password is not None else None
        account_id = f"a-{uuid.uuid4().hex[:12]}"
        now = self.now()
        try:
            self.store.add(account_id, cmd.person_id, hashed, now)
        except IntegrityError:
            raise Conflict(f"{cmd.person_id!r} already has an account", field="person_id", message_zh=f"{cmd.person_id!r} 已有账户") from None
        evs: list[DomainEvent] = [AccountCreated(occurred_at=now, actor_id=principal.person_id, account_id=account_id, person_id=cmd.person_id)]
        if hashed is not None:
            evs.append(PasswordChanged(occurred_at=now, actor_id=principal.person_id, account_id=account_id))
        self._record(account_id, evs)
        return self._view(self.store.get(account_id))

    def set_password(self, principal: Principal, cmd: SetPassword) -> AccountView:
        """An administrator sets anyone's password; a person signed in with a
        password changes their own by giving the current one. Every open session
        of the account ends."""
        own = principal.kind == "person" and principal.via in ("password", "development") and principal.person_id == cmd.person_id
        if not own:
            _require_admin(principal)
        acc = self._account_of(cmd.person_id)
        if own and acc.password_hash is not None and not _is_admin(principal):
            if cmd.current_password is None or not self._verify(acc.password_hash, cmd.current_password):
                raise BadInput("the current password is not right", field="current_password", message_zh="当前密码不正确")
        hashed = self._hash(cmd.password)
        now = self.now()
        self.store.set_password(acc.id, hashed)
        self.store.end_sessions_of(acc.id, now)
        self._record(acc.id, [PasswordChanged(occurred_at=now, actor_id=principal.person_id, account_id=acc.id)])
        return self._view(self.store.get(acc.id))

    def grant(self, principal: Principal, cmd: GrantRole) -> AccountView:
        _require_admin(principal)
        acc = self._account_of(cmd.person_id)
        scope = self._scope_for(cmd)
        now = self.now()
        if self.store.grant(acc.id, cmd.role.value, scope, now, principal.person_id):
            self._record(acc.id, [RoleGranted(occurred_at=now, actor_id=principal.person_id, account_id=acc.id, role=cmd.role, scope=scope)])
        return self._view(self.store.get(acc.id))

    def revoke_grant(self, principal: Principal, cmd: GrantRole) -> AccountView:
        _require_admin(principal)
        acc = self._account_of(cmd.person_id)
        scope = cmd.scope if cmd.role is StandingRole.SUPERVISOR else None
        if not self.store.revoke_grant(acc.id, cmd.role.value, scope):
            raise NotFound(f"{cmd.person_id!r} holds no {cmd.role.value} grant{' over ' + scope if scope else ''}", field="role", message_zh="该账户没有此授权")
        self._record(acc.id, [RoleRevoked(occurred_at=self.now(), actor_id=principal.person_id, account_id=acc.id, role=cmd.role, scope=scope)])
        return self._view(self.store.get(acc.id))

    def show_account(self, principal: Principal, person_id: str) -> AccountView:
        if not (_is_admin(principal) or principal.person_id == person_id):
            raise Forbidden("only an administrator may see another person's account", field="person_id", message_zh="只有管理员可以查看他人的账户")
        return self._view(self._account_of(person_id))

    def list_accounts(self, principal: Principal, cursor: str | None = None, limit: int = 50) -> AccountPage:
        _require_admin(principal)
        rows = self.store.page(after_of(cursor), _limit(limit) + 1)
        return page_of(AccountPage, [self._view(r) for r in rows], limit, key=lambda v: v.account_id)

    # ---- tokens ------------------------------------------------------------

    def issue_token(self, principal: Principal, cmd: IssueToken) -> IssuedToken:
        _require_admin(principal)
        acc = self._account_of(cmd.person_id)
        now = self.now()
        expires = now + timedelta(days=cmd.days if cmd.days is not None else self.settings.token_days)
        token_id = f"t-{uuid.uuid4().hex[:12]}"
        secret = "pgy_" + secrets.token_urlsafe(32)
        scopes = tuple(dict.fromkeys(cmd.scopes))
        self.store.add_token(token_id, acc.id, cmd.name, secret, tuple(s.value for s in scopes), now, expires)
        self._record(acc.id, [TokenIssued(occurred_at=now, actor_id=principal.person_id, account_id=acc.id, token_id=token_id, name=cmd.name, scopes=scopes, expires_at=expires)])
        view = _token_view(self.store.token(token_id), now)
        return IssuedToken(**view.model_dump(), secret=secret)

    def revoke_token(self, principal: Principal, token_id: str) -> TokenView:
        _require_admin(principal)
        row = self.store.token(token_id)
        if row is None:
            raise NotFound(f"no token {token_id!r}", field="token_id", message_zh=f"没有令牌 {token_id!r}")
        now = self.now()
        if not self.store.revoke_token(token_id, now):
            raise Conflict(f"token {token_id!r} was already revoked", field="token_id", message_zh=f"令牌 {token_id!r} 已被撤销")
        self._record(row.account_id, [TokenRevoked(occurred_at=now, actor_id=principal.person_id, account_id=row.account_id, token_id=token_id)])
        return _token_view(self.store.token(token_id), now)

    def list_tokens(self, principal: Principal, person_id: str | None = None, cursor: str | None = None, limit: int = 50) -> TokenPage:
        _require_admin(principal)
        account_id = self._account_of(person_id).id if person_id else None
        now = self.now()
        rows = self.store.tokens(account_id, after_of(cursor), _limit(limit) + 1)
        return page_of(TokenPage, [_token_view(r, now) for r in rows], limit, key=lambda v: v.token_id)

    # ---- sign-in -----------------------------------------------------------

    def sign_in(self, login: str, password: str, client: str) -> SignedInSession:
        """Check a password, within the rate limit per account and per client
        address. A login that names no account is refused the same way (and
        costs the same time: a hash check and an append) as a wrong password,
        so sign-in does not tell which person ids have accounts; it counts
        towards the same limits, and is an event of its own stream
        (``domain.accounts.unknown_login_stream``) with the login only if it has a person
        id's shape (what was typed may be a password in the wrong box)."""
        now = self.now()
        login = (login or "").strip()[:64]
        client = (client or "unknown")[:200]
        acc = self.store.by_person(login) if login else None
        since = now - timedelta(minutes=self.settings.sign_in_window_minutes)
        by_login, by_client = self.store.failures_since(login, client, since)
        limit = self.settings.sign_in_max_failures
        if by_login >= limit or by_client >= limit:
            self._record_failure(acc, login, FailureReason.RATE_LIMITED, client, now)
            log.warning("sign_in_rate_limited", login_failures=by_login, client_failures=by_client, client=client)
            minutes = self.settings.sign_in_window_minutes
            raise TooManyAttempts(
                f"too many failed sign-ins for this account or from this address; try again in {minutes:g} minutes",
                field="login", message_zh=f"登录失败次数过多，请 {minutes:g} 分钟后再试",
            )
        failure: FailureReason | None = None
        if acc is None or acc.password_hash is None:
            self._verify(self._dummy(), password)  # the same cost as a real check
            failure = FailureReason.NO_PASSWORD
        elif not self._verify(acc.password_hash, password):
            failure = FailureReason.BAD_PASSWORD
        elif acc.disabled:
            failure = FailureReason.DISABLED
        if failure is not None:
            self.store.record_failure(login, client, now)
            self._record_failure(acc, login, failure, client, now)
            log.info("sign_in_failed", account_id=acc.id if acc else None, failure=failure.value, client=client)
            raise NotSignedIn("the person id or the password is not right", field="password", message_zh="人员编号或密码不正确")
        if self.hasher.check_needs_rehash(acc.password_hash):
            self.store.set_password(acc.id, self._hash(password))
        self.store.clear_failures(login, client)
        return self._open_session(acc, SignInMethod.PASSWORD, client, now)

    def dev_sign_in(self, person_id: str, client: str) -> SignedInSession:
        """The embedded default's development sign-in: any directory person,
        no password (an account is made on first use). Refused unless the
        settings enable it, which production settings cannot."""
        if not self.settings.dev_sign_in_enabled:
            raise Forbidden("the development sign-in is not enabled here", field="person_id", message_zh="此处未启用开发登录")
        if self.store.person_name(person_id) is None:
            raise NotFound(f"no person {person_id!r} in the directory", field="person_id", message_zh=f"目录中没有人员 {person_id!r}")
        acc = self.store.by_person(person_id)
        now = self.now()
        if acc is None:
            account_id = f"a-{uuid.uuid4().hex[:12]}"
            try:
                self.store.add(account_id, person_id, None, now)
                self._record(account_id, [AccountCreated(occurred_at=now, actor_id=person_id, account_id=account_id, person_id=person_id)])
            except IntegrityError:
                pass  # a concurrent first sign-in made it
            acc = self.store.by_person(person_id)
        if acc.disabled:
            raise Forbidden("this account is disabled", field="person_id", message_zh="该账户已停用")
        return self._open_session(acc, SignInMethod.DEVELOPMENT, client, now)

    def sign_out(self, session_id: str) -> bool:
        row = self.store.session(session_id)
        now = self.now()
        if row is None or not self.store.end_session(session_id, now):
            return False
        self._record(row.account_id, [SignedOut(occurred_at=now, actor_id=self._person_of(row.account_id), account_id=row.account_id)])
        return True

    def session_principal(self, session_id: str) -> SessionPrincipal | None:
        """The principal of a live session (None: unknown, ended or expired)."""
        row = self.store.session(session_id)
        if row is None or row.ended_at is not None or row.expires_at <= self.now():
            return None
        acc = self.store.get(row.account_id)
        if acc is None or acc.disabled:
            return None
        via = "development" if row.method == SignInMethod.DEVELOPMENT.value else "password"
        return SessionPrincipal(self._principal(acc, kind="person", via=via), row.csrf_token)

    def token_principal(self, secret: str) -> Principal:
        """The principal of a bearer token; an unknown, expired or revoked
        token is :class:`NotSignedIn` saying which."""
        row = self.store.token_by_secret(secret)
        if row is None:
            raise NotSignedIn("the bearer token is not known", field="Authorization", message_zh="未知的访问令牌")
        if row.revoked_at is not None:
            raise NotSignedIn("the bearer token was revoked", field="Authorization", message_zh="访问令牌已被撤销")
        if row.expires_at <= self.now():
            raise NotSignedIn("the bearer token has expired", field="Authorization", message_zh="访问令牌已过期")
        acc = self.store.get(row.account_id)
        if acc is None or acc.disabled:
            raise NotSignedIn("the token's account is disabled", field="Authorization", message_zh="令牌所属账户已停用")
        return self._principal(acc, kind="system", via="token", token_scopes=row.scopes)

    # ---- inner workings -----------------------------------------------------

    def _open_session(self, acc: AccountRow, method: SignInMethod, client: str, now: datetime) -> SignedInSession:
        session_id = secrets.token_urlsafe(32)
        csrf = secrets.token_urlsafe(32)
        expires = now + timedelta(hours=self.settings.session_hours)
        self.store.add_session(session_id, acc.id, method.value, csrf, now, expires)
        self._record(acc.id, [SignedIn(occurred_at=now, actor_id=acc.person_id, account_id=acc.id, method=method, client=client)])
        via = "development" if method is SignInMethod.DEVELOPMENT else "password"
        return SignedInSession(session_id, csrf, expires, self._principal(acc, kind="person", via=via))

    def _principal(self, acc: AccountRow, *, kind: str, via: str, token_scopes: tuple[str, ...] | None = None) -> Principal:
        grants = self.store.grants(acc.id)
        return Principal(
            kind=kind, person_id=acc.person_id, account_id=acc.id,
            supervisor_scopes=tuple(g.scope for g in grants if g.role == StandingRole.SUPERVISOR and g.scope),
            auditor=any(g.role == StandingRole.AUDITOR for g in grants),
            administrator=any(g.role == StandingRole.ADMINISTRATOR for g in grants),
            token_scopes=token_scopes, via=via,
        )

    def _account_of(self, person_id: str) -> AccountRow:
        acc = self.store.by_person(person_id)
        if acc is None:
            raise NotFound(f"{person_id!r} has no account", field="person_id", message_zh=f"{person_id!r} 没有账户")
        return acc

    def _person_of(self, account_id: str) -> str | None:
        acc = self.store.get(account_id)
        return acc.person_id if acc else None

    def _scope_for(self, cmd: GrantRole) -> str | None:
        if cmd.role is StandingRole.SUPERVISOR:
            if not cmd.scope:
                raise BadInput("a supervisor grant needs a scope: the unit whose subtree they supervise", field="scope", message_zh="督导授权需要范围（所督导的单位）")
            if not self.store.unit_exists(cmd.scope):
                raise NotFound(f"no unit {cmd.scope!r} in the directory", field="scope", message_zh=f"目录中没有单位 {cmd.scope!r}")
            return cmd.scope
        if cmd.scope:
            raise BadInput(f"the {cmd.role.value} role takes no scope", field="scope", message_zh="该角色不需要范围")
        return None

    def _hash(self, password: str) -> str:
        if len(password) < MIN_PASSWORD:
            raise BadInput(f"a password needs at least {MIN_PASSWORD} characters", field="password", message_zh=f"密码至少需要 {MIN_PASSWORD} 个字符")
        if "\x00" in password:
            raise BadInput("a password must not contain U+0000", field="password", message_zh="密码不能包含 U+0000")
        return self.hasher.hash(password)

    def _verify(self, hashed: str, password: str) -> bool:
        try:
            return self.hasher.verify(hashed, password or "")
        except (VerificationError, InvalidHashError):
            return False

    def _dummy(self) -> str:
        if self._dummy_hash is None:
            self._dummy_hash = self.hasher.hash(secrets.token_urlsafe(16))
        return self._dummy_hash

    def _record_failure(self, acc: AccountRow | None, login: str, failure: FailureReason, client: str, now: datetime) -> None:
        if acc is not None:
            self._record(acc.id, [SignInFailed(occurred_at=now, actor_id=acc.person_id, account_id=acc.id, failure=failure, client=client)])
            return
        failure = FailureReason.RATE_LIMITED if failure is FailureReason.RATE_LIMITED else FailureReason.NO_ACCOUNT
        digest = hmac.new(self.settings.session_secret.encode(), login.encode(), hashlib.sha256).hexdigest()[:24]
        self._append(unknown_login_stream(digest), [UnknownLoginRefused(occurred_at=now, login=_person_id_shaped(login), failure=failure, client=client)])

    def _record(self, account_id: str, evs: list[DomainEvent]) -> None:
        self._append(account_stream(account_id), evs)

    def _append(self, stream: str, evs: list[DomainEvent]) -> None:
        """Append to an account's stream; another writer on the same stream
        (two sign-ins at once) only moves the expected version."""
        for _ in range(10):
            version = self.events.stream_version(stream)
            try:
                self.events.append(stream, version, to_records(stream, version, evs))
                return
            except EventConflict:
                continue
        raise Conflict("the account changed under us too often; try again", field=None, message_zh="账户正被频繁修改，请重试")

    def _view(self, acc: AccountRow | None) -> AccountView:
        assert acc is not None  # callers pass rows they just read or wrote
        return AccountView(
            account_id=acc.id, person_id=acc.person_id, name=self.store.person_name(acc.person_id),
            has_password=acc.password_hash is not None, disabled=acc.disabled, created_at=acc.created_at,
            grants=tuple(Grant(role=StandingRole(g.role), scope=g.scope, granted_at=g.granted_at) for g in self.store.grants(acc.id)),
        )


def _is_admin(p: Principal) -> bool:
    if not p.administrator:
        return False
    return p.token_scopes is None or TokenScope.ACCOUNTS_ADMIN.value in p.token_scopes


def _require_admin(p: Principal) -> None:
    if not p.signed_in:
        raise NotSignedIn("sign in first", message_zh="请先登录")
    if not _is_admin(p):
        raise Forbidden("only an administrator may manage accounts, grants and tokens", message_zh="只有管理员可以管理账户、授权和令牌")


def _limit(limit: int) -> int:
    if not 1 <= limit <= 500:
        raise BadInput("limit must be between 1 and 500", field="limit", message_zh="limit 必须在 1 到 500 之间")
    return limit


def _token_view(row: TokenRow | None, now: datetime) -> TokenView:
    assert row is not None
    state = "revoked" if row.revoked_at is not None else "expired" if row.expires_at <= now else "active"
    return TokenView(token_id=row.id, account_id=row.account_id, name=row.name, scopes=tuple(TokenScope(s) for s in row.scopes),
                     created_at=row.created_at, expires_at=row.expires_at, revoked_at=row.revoked_at, state=state)
