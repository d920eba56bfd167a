"""The tables of accounts, their standing-role grants, systems' bearer tokens,
sign-in sessions and recent sign-in failures, and the store that reads and
writes them (migration 0006 creates them).

Secrets are never stored: a password as its argon2id hash, a token and a
session id as the SHA-256 of a random 256-bit secret (a fast hash is enough for
a secret that long; argon2 is for what people choose). What changed is also an
event on the account's stream in the event log; these rows are the current
state the sign-in path reads quickly.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import (
    JSON, Boolean, Column, Connection, Engine, Index, Integer, MetaData, PrimaryKeyConstraint, String, Table, and_, delete,
    func, insert, select, update,
)

from storage.directory import people_t, units_t
from storage.schema import UtcTimestamp

metadata = MetaData()

accounts_t = Table(
    "accounts",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("person_id", String(64), nullable=False, unique=True),
    Column("password_hash", String(200)),
    Column("disabled", Boolean, nullable=False, default=False),
    Column("created_at", UtcTimestamp, nullable=False),
)

grants_t = Table(
    "account_grants",
    metadata,
    Column("account_id", String(40), nullable=False),
    Column("role", String(20), nullable=False),
    Column("scope", String(64), nullable=False, default=""),  # "" for roles without a scope
    Column("granted_at", UtcTimestamp, nullable=False),
    Column("granted_by", String(64)),
    PrimaryKeyConstraint("account_id", "role", "scope", name="pk_account_grants"),
)

tokens_t = Table(
    "api_tokens",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("account_id", String(40), nullable=False),
    Column("name", String(100), nullable=False),
    Column("secret_hash", String(64), nullable=False, unique=True),
    Column("scopes", JSON, nullable=False),
    Column("created_at", UtcTimestamp, nullable=False),
    Column("expires_at", UtcTimestamp, nullable=False),
    Column("revoked_at", UtcTimestamp),
)
Index("ix_api_tokens_account", tokens_t.c.account_id)

sessions_t = Table(
    "sign_in_sessions",
    metadata,
    Column("id_hash", String(64), primary_key=True),
    Column("account_id", String(40), nullable=False),
    Column("method", String(20), nullable=False),
    Column("csrf_token", String(64), nullable=False),
    Column("created_at", UtcTimestamp, nullable=False),
    Column("expires_at", UtcTimestamp, nullable=False),
    Column("ended_at", UtcTimestamp),
)
Index("ix_sign_in_sessions_account", sessions_t.c.account_id)

failures_t = Table(
    "sign_in_failures",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("login", String(64), nullable=False),
    Column("client", String(200), nullable=False),
    Column("at", UtcTimestamp, nullable=False),
)
Index("ix_sign_in_failures_login", failures_t.c.login, failures_t.c.at)
Index("ix_sign_in_failures_client", failures_t.c.client, failures_t.c.at)


def secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True)
class AccountRow:
    id: str
    person_id: str
    password_hash: str | None
    disabled: bool
    created_at: datetime


@dataclass(frozen=True)
class GrantRow:
    account_id: str
    role: str
    scope: str | None
    granted_at: datetime


@dataclass(frozen=True)
class TokenRow:
    id: str
    account_id: str
    name: str
    scopes: tuple[str, ...]
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None


@dataclass(frozen=True)
class SessionRow:
    account_id: str
    method: str
    csrf_token: str
    created_at: datetime
    expires_at: datetime
    ended_at: datetime | None


def _account(r) -> AccountRow:
    return AccountRow(r.id, r.person_id, r.password_hash, bool(r.disabled), r.created_at)


def _token(r) -> TokenRow:
    return TokenRow(r.id, r.account_id, r.name, tuple(r.scopes), r.created_at, r.expires_at, r.revoked_at)


class AccountStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def _reader(self) -> Connection:
        """On SQLite a deferred BEGIN: checking a session never waits for the writer lock."""
        conn = self.engine.connect()
        if self.engine.dialect.name == "sqlite":
            conn = conn.execution_options(sqlite_deferred=True)
        return conn

    # ---- the directory facts an account rests on ------------------------------

    def person_name(self, person_id: str) -> str | None:
        with self._reader() as conn:
            return conn.execute(select(people_t.c.name).where(people_t.c.id == person_id)).scalar_one_or_none()

    def unit_exists(self, unit_id: str) -> bool:
        with self._reader() as conn:
            return conn.execute(select(units_t.c.id).where(units_t.c.id == unit_id)).first() is not None

    # ---- accounts ----------------------------------------------------------

    def add(self, account_id: str, person_id: str, password_hash: str | None, now: datetime) -> None:
        with self.engine.begin() as conn:
            conn.execute(insert(accounts_t).values(id=account_id, person_id=person_id, password_hash=password_hash, disabled=False, created_at=now))

    def get(self, account_id: str) -> AccountRow | None:
        with self._reader() as conn:
            r = conn.execute(select(accounts_t).where(accounts_t.c.id == account_id)).first()
        return _account(r) if r else None

    def by_person(self, person_id: str) -> AccountRow | None:
        with self._reader() as conn:
            r = conn.execute(select(accounts_t).where(accounts_t.c.person_id == person_id)).first()
        return _account(r) if r else None

    def page(self, after: str | None, limit: int) -> list[AccountRow]:
        q = select(accounts_t).order_by(accounts_t.c.id).limit(limit)
        if after is not None:
            q = q.where(accounts_t.c.id > after)
        with self._reader() as conn:
            return [_account(r) for r in conn.execute(q)]

    def set_password(self, account_id: str, password_hash: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(update(accounts_t).where(accounts_t.c.id == account_id).values(password_hash=password_hash))

    # ---- grants ------------------------------------------------------------

    def grants(self, account_id: str) -> list[GrantRow]:
        with self._reader() as conn:
            rows = conn.execute(select(grants_t).where(grants_t.c.account_id == account_id).order_by(grants_t.c.role, grants_t.c.scope)).all()
        return [GrantRow(r.account_id, r.role, r.scope or None, r.granted_at) for r in rows]

    def grant(self, account_id: str, role: str, scope: str | None, now: datetime, by: str | None) -> bool:
        """False when the account already holds the grant."""
        with self.engine.begin() as conn:
            exists = conn.execute(
                select(func.count()).select_from(grants_t).where(and_(grants_t.c.account_id == account_id, grants_t.c.role == role, grants_t.c.scope == (scope or "")))
            ).scalar_one()
            if exists:
                return False
            conn.execute(insert(grants_t).values(account_id=account_id, role=role, scope=scope or "", granted_at=now, granted_by=by))
            return True

    def revoke_grant(self, account_id: str, role: str, scope: str | None) -> bool:
        with self.engine.begin() as conn:
            n = conn.execute(delete(grants_t).where(and_(grants_t.c.account_id == account_id, grants_t.c.role == role, grants_t.c.scope == (scope or "")))).rowcount
        return n > 0

    # ---- tokens ------------------------------------------------------------

    def add_token(self, token_id: str, account_id: str, name: str, secret: str, scopes: tuple[str, ...], now: datetime, expires_at: datetime) -> None:
        with self.engine.begin() as conn:
            conn.execute(insert(tokens_t).values(id=token_id, account_id=account_id, name=name, secret_hash=secret_hash(secret), scopes=list(scopes), created_at=now, expires_at=expires_at))

    def token_by_secret(self, secret: str) -> TokenRow | None:
        with self._reader() as conn:
            r = conn.execute(select(tokens_t).where(tokens_t.c.secret_hash == secret_hash(secret))).first()
        return _token(r) if r else None

    def token(self, token_id: str) -> TokenRow | None:
        with self._reader() as conn:
            r = conn.execute(select(tokens_t).where(tokens_t.c.id == token_id)).first()
        return _token(r) if r else None

    def tokens(self, account_id: str | None, after: str | None, limit: int) -> list[TokenRow]:
        q = select(tokens_t).order_by(tokens_t.c.id).limit(limit)
        if account_id is not None:
            q = q.where(tokens_t.c.account_id == account_id)
        if after is not None:
            q = q.where(tokens_t.c.id > after)
        with self._reader() as conn:
            return [_token(r) for r in conn.execute(q)]

    def revoke_token(self, token_id: str, now: datetime) -> bool:
        with self.engine.begin() as conn:
            n = conn.execute(update(tokens_t).where(and_(tokens_t.c.id == token_id, tokens_t.c.revoked_at.is_(None))).values(revoked_at=now)).rowcount
        return n > 0

    # ---- sessions ----------------------------------------------------------

    def add_session(self, session_id: str, account_id: str, method: str, csrf_token: str, now: datetime, expires_at: datetime) -> None:
        with self.engine.begin() as conn:
            conn.execute(insert(sessions_t).values(id_hash=secret_hash(session_id), account_id=account_id, method=method, csrf_token=csrf_token, created_at=now, expires_at=expires_at))

    def session(self, session_id: str) -> SessionRow | None:
        with self._reader() as conn:
            r = conn.execute(select(sessions_t).where(sessions_t.c.id_hash == secret_hash(session_id))).first()
        return SessionRow(r.account_id, r.method, r.csrf_token, r.created_at, r.expires_at, r.ended_at) if r else None

    def end_session(self, session_id: str, now: datetime) -> bool:
        with self.engine.begin() as conn:
            n = conn.execute(update(sessions_t).where(and_(sessions_t.c.id_hash == secret_hash(session_id), sessions_t.c.ended_at.is_(None))).values(ended_at=now)).rowcount
        return n > 0

    def end_sessions_of(self, account_id: str, now: datetime) -> int:
        """A new password ends every open session of the account."""
        with self.engine.begin() as conn:
            return conn.execute(update(sessions_t).where(and_(sessions_t.c.account_id == account_id, sessions_t.c.ended_at.is_(None))).values(ended_at=now)).rowcount

    # ---- failures (rate limiting) --------------------------------------------

    def record_failure(self, login: str, client: str, now: datetime) -> None:
        with self.engine.begin() as conn:
            conn.execute(insert(failures_t).values(login=login, client=client, at=now))

    def failures_since(self, login: str, client: str, since: datetime) -> tuple[int, int]:
        """Failures of this login, and from this client address, since ``since``."""
        with self._reader() as conn:
            by_login = conn.execute(select(func.count()).select_from(failures_t).where(and_(failures_t.c.login == login, failures_t.c.at >= since))).scalar_one()
            by_client = conn.execute(select(func.count()).select_from(failures_t).where(and_(failures_t.c.client == client, failures_t.c.at >= since))).scalar_one()
        return by_login, by_client

    def forget_failures(self, before: datetime) -> None:
        with self.engine.begin() as conn:
            conn.execute(delete(failures_t).where(failures_t.c.at < before))

    def clear_failures(self, login: str, client: str) -> None:
        """A successful sign-in forgets the failures of that login from that
        address (it proved the password there); others' attempts still count."""
        with self.engine.begin() as conn:
            conn.execute(delete(failures_t).where(and_(failures_t.c.login == login, failures_t.c.client == client)))
