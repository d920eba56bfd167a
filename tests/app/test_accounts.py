"""Accounts, grants, tokens and sign-in at the application layer, on SQLite and
PostgreSQL: what is stored, what is refused (naming the field), and that every
change and every attempt is an event on the account's stream."""

from __future__ import annotations

from datetime import timedelta

import pytest
from argon2 import PasswordHasher
from pydantic import ValidationError

from app.accounts import CLI_ADMIN, Accounts, AddAccount, GrantRole, IssueToken, SetPassword
from app.errors import BadInput, Conflict, Forbidden, NotFound, NotSignedIn, TooManyAttempts
from app.principal import Principal
from config.settings import DEV_SESSION_SECRET, Settings
from directory.service import load_example
from domain.accounts import StandingRole, TokenScope, account_stream
from storage.eventlog import EventStore

REVIEWER = "P-000368"
OTHER = "P-000001"
FAST = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)


@pytest.fixture
def accounts(engine, tmp_path):
    load_example(engine)
    return Accounts(Settings(data_dir=tmp_path, sign_in_max_failures=3), engine, EventStore(engine), hasher=FAST)


def stream_types(accounts: Accounts, account_id: str) -> list[str]:
    return [r.event_type for r in accounts.events.read_stream(account_stream(account_id))]


def test_an_account_belongs_to_a_directory_person(accounts):
    view = accounts.add_account(CLI_ADMIN, AddAccount(person_id=REVIEWER, password="correct horse"))
    assert view.person_id == REVIEWER and view.has_password and view.name
    with pytest.raises(NotFound) as e:
        accounts.add_account(CLI_ADMIN, AddAccount(person_id="P-nobody"))
    assert e.value.field == "person_id"
    with pytest.raises(Conflict):
        accounts.add_account(CLI_ADMIN, AddAccount(person_id=REVIEWER))
    with pytest.raises(BadInput) as e:
        accounts.add_account(CLI_ADMIN, AddAccount(person_id=OTHER, password="short"))
    assert e.value.field == "password"
    assert stream_types(accounts, view.account_id) == ["account.created", "account.password_changed"]


def test_only_an_administrator_manages_accounts(accounts):
    accounts.add_account(CLI_ADMIN, AddAccount(person_id=REVIEWER, password="correct horse"))
    person = accounts.sign_in(REVIEWER, "correct horse", "10.0.0.1").principal
    with pytest.raises(Forbidden):
        accounts.add_account(person, AddAccount(person_id=OTHER))
    with pytest.raises(Forbidden):
        accounts.grant(person, GrantRole(person_id=REVIEWER, role=StandingRole.ADMINISTRATOR))
    with pytest.raises(NotSignedIn):
        accounts.list_accounts(Principal(kind="anonymous"))
    accounts.grant(CLI_ADMIN, GrantRole(person_id=REVIEWER, role=StandingRole.ADMINISTRATOR))
    admin = accounts.sign_in(REVIEWER, "correct horse", "10.0.0.1").principal
    assert admin.administrator
    assert accounts.add_account(admin, AddAccount(person_id=OTHER)).person_id == OTHER


def test_grants_shape_the_principal(accounts):
    acc = accounts.add_account(CLI_ADMIN, AddAccount(person_id=REVIEWER, password="correct horse"))
    with pytest.raises(BadInput) as e:
        accounts.grant(CLI_ADMIN, GrantRole(person_id=REVIEWER, role=StandingRole.SUPERVISOR))
    assert e.value.field == "scope"
    with pytest.raises(NotFound) as e:
        accounts.grant(CLI_ADMIN, GrantRole(person_id=REVIEWER, role=StandingRole.SUPERVISOR, scope="U-NOPE"))
    assert e.value.field == "scope"
    with pytest.raises(BadInput):
        accounts.grant(CLI_ADMIN, GrantRole(person_id=REVIEWER, role=StandingRole.AUDITOR, scope="U-AF01"))
    accounts.grant(CLI_ADMIN, GrantRole(person_id=REVIEWER, role=StandingRole.SUPERVISOR, scope="U-AF01"))
    accounts.grant(CLI_ADMIN, GrantRole(person_id=REVIEWER, role=StandingRole.SUPERVISOR, scope="U-AF01"))  # idempotent: one event
    accounts.grant(CLI_ADMIN, GrantRole(person_id=REVIEWER, role=StandingRole.AUDITOR))
    p = accounts.sign_in(REVIEWER, "correct horse", "10.0.0.1").principal
    assert p.supervisor_scopes == ("U-AF01",) and p.auditor and not p.administrator and p.via == "password"
    accounts.revoke_grant(CLI_ADMIN, GrantRole(person_id=REVIEWER, role=StandingRole.AUDITOR))
    with pytest.raises(NotFound):
        accounts.revoke_grant(CLI_ADMIN, GrantRole(person_id=REVIEWER, role=StandingRole.AUDITOR))
    assert not accounts.sign_in(REVIEWER, "correct horse", "10.0.0.1").principal.auditor
    types = stream_types(accounts, acc.account_id)
    assert types.count("account.role_granted") == 2 and types.count("account.role_revoked") == 1


def test_sign_in_and_its_events(accounts):
    acc = accounts.add_account(CLI_ADMIN, AddAccount(person_id=REVIEWER, password="correct horse"))
    with pytest.raises(NotSignedIn) as e:
        accounts.sign_in(REVIEWER, "wrong horse", "10.0.0.1")
    assert e.value.field == "password"
    with pytest.raises(NotSignedIn):
        accounts.sign_in("P-nobody", "whatever", "10.0.0.1")  # no account: the same answer
    session = accounts.sign_in(REVIEWER, "correct horse", "10.0.0.1")
    seen = accounts.session_principal(session.session_id)
    assert seen.principal.person_id == REVIEWER and seen.csrf_token == session.csrf_token
    assert accounts.session_principal("forged") is None
    assert accounts.sign_out(session.session_id)
    assert accounts.session_principal(session.session_id) is None
    types = stream_types(accounts, acc.account_id)
    assert types[-3:] == ["account.sign_in_failed", "account.signed_in", "account.signed_out"]
    failed = [r for r in accounts.events.read_stream(account_stream(acc.account_id)) if r.event_type == "account.sign_in_failed"]
    assert failed[0].payload["failure"] == "bad_password" and failed[0].payload["client"] == "10.0.0.1"


def test_a_new_password_ends_open_sessions(accounts):
    accounts.add_account(CLI_ADMIN, AddAccount(person_id=REVIEWER, password="correct horse"))
    session = accounts.sign_in(REVIEWER, "correct horse", "10.0.0.1")
    me = session.principal
    with pytest.raises(BadInput) as e:
        accounts.set_password(me, SetPassword(person_id=REVIEWER, password="battery staple", current_password="nope nope"))
    assert e.value.field == "current_password"
    accounts.set_password(me, SetPassword(person_id=REVIEWER, password="battery staple", current_password="correct horse"))
    assert accounts.session_principal(session.session_id) is None
    with pytest.raises(Forbidden):
        accounts.set_password(me, SetPassword(person_id=OTHER, password="battery staple"))
    assert accounts.sign_in(REVIEWER, "battery staple", "10.0.0.1")


def test_rate_limit_per_account_and_per_address(accounts):
    accounts.add_account(CLI_ADMIN, AddAccount(person_id=REVIEWER, password="correct horse"))
    accounts.add_account(CLI_ADMIN, AddAccount(person_id=OTHER, password="other horse"))
    for i in range(3):  # the limit is 3 here, each from another address
        with pytest.raises(NotSignedIn):
            accounts.sign_in(REVIEWER, "wrong", f"10.0.1.{i}")
    with pytest.raises(TooManyAttempts) as e:  # even the right password, from a fresh address
        accounts.sign_in(REVIEWER, "correct horse", "10.0.9.9")
    assert e.value.status == 429 and e.value.field == "login"
    assert accounts.sign_in(OTHER, "other horse", "10.0.9.9")  # another account is not locked
    for login in ("P-a", "P-b", "P-c"):  # one address trying many logins
        with pytest.raises(NotSignedIn):
            accounts.sign_in(login, "x", "10.6.6.6")
    with pytest.raises(TooManyAttempts):
        accounts.sign_in(OTHER, "other horse", "10.6.6.6")
    rec = accounts.events.read_stream(account_stream(accounts.store.by_person(REVIEWER).id))
    assert rec[-1].payload["failure"] == "rate_limited"


def test_rate_limit_window_passes(accounts, monkeypatch):
    accounts.add_account(CLI_ADMIN, AddAccount(person_id=REVIEWER, password="correct horse"))
    for _ in range(3):
        with pytest.raises(NotSignedIn):
            accounts.sign_in(REVIEWER, "wrong", "10.0.0.1")
    later = accounts.now() + timedelta(minutes=16)
    monkeypatch.setattr(accounts, "now", lambda: later)
    assert accounts.sign_in(REVIEWER, "correct horse", "10.0.0.1")


def test_tokens_expire_and_are_revoked(accounts, monkeypatch):
    acc = accounts.add_account(CLI_ADMIN, AddAccount(person_id=REVIEWER))
    issued = accounts.issue_token(CLI_ADMIN, IssueToken(person_id=REVIEWER, name="portal", scopes=(TokenScope.REVIEWS_READ,), days=1))
    assert issued.secret.startswith("pgy_") and issued.state == "active"
    assert accounts.store.token_by_secret(issued.secret).id == issued.token_id
    p = accounts.token_principal(issued.secret)
    assert p.kind == "system" and p.via == "token" and p.person_id == REVIEWER and p.token_scopes == ("reviews:read",)
    with pytest.raises(NotSignedIn, match="not known"):
        accounts.token_principal("pgy_forged")
    later = accounts.now() + timedelta(days=2)
    real_now = accounts.now
    monkeypatch.setattr(accounts, "now", lambda: later)
    with pytest.raises(NotSignedIn, match="expired"):
        accounts.token_principal(issued.secret)
    assert accounts.list_tokens(CLI_ADMIN).items[0].state == "expired"
    monkeypatch.setattr(accounts, "now", real_now)
    accounts.revoke_token(CLI_ADMIN, issued.token_id)
    with pytest.raises(NotSignedIn, match="revoked"):
        accounts.token_principal(issued.secret)
    with pytest.raises(Conflict):
        accounts.revoke_token(CLI_ADMIN, issued.token_id)
    with pytest.raises(NotFound):
        accounts.revoke_token(CLI_ADMIN, "t-nope")
    with pytest.raises(ValidationError):
        IssueToken(person_id=REVIEWER, name="x", scopes=())
    assert stream_types(accounts, acc.account_id)[-2:] == ["account.token_issued", "account.token_revoked"]


def test_lists_are_cursor_paginated(accounts):
    for pid in ("P-000001", "P-000002", "P-000003"):
        accounts.add_account(CLI_ADMIN, AddAccount(person_id=pid))
    first = accounts.list_accounts(CLI_ADMIN, limit=2)
    assert len(first.items) == 2 and first.next_cursor
    second = accounts.list_accounts(CLI_ADMIN, cursor=first.next_cursor, limit=2)
    assert len(second.items) == 1 and second.next_cursor is None
    assert {v.person_id for v in first.items + second.items} == {"P-000001", "P-000002", "P-000003"}
    with pytest.raises(BadInput) as e:
        accounts.list_accounts(CLI_ADMIN, cursor="%%%")
    assert e.value.field == "cursor"


def test_development_sign_in(accounts, tmp_path):
    s = accounts.dev_sign_in(REVIEWER, "127.0.0.1")
    assert s.principal.via == "development" and s.principal.person_id == REVIEWER
    assert accounts.session_principal(s.session_id).principal.via == "development"
    with pytest.raises(NotFound):
        accounts.dev_sign_in("P-nobody", "127.0.0.1")
    off = Accounts(Settings(data_dir=tmp_path, dev_sign_in=False), accounts.store.engine, accounts.events, hasher=FAST)
    with pytest.raises(Forbidden):
        off.dev_sign_in(REVIEWER, "127.0.0.1")


def test_production_settings_refuse_development_sign_in_and_secrets():
    prod = dict(environment="production", signing_key="k" * 40, session_secret="s" * 40)
    assert not Settings(**prod).dev_sign_in_enabled
    with pytest.raises(ValidationError, match="DEV_SIGN_IN"):
        Settings(**prod, dev_sign_in=True)
    with pytest.raises(ValidationError, match="SESSION_SECRET"):
        Settings(**{**prod, "session_secret": DEV_SESSION_SECRET})
    with pytest.raises(ValidationError, match="COOKIE_SECURE"):
        Settings(**prod, session_cookie_secure=False)


def unknown_login_events(accounts: Accounts) -> list:
    from sqlalchemy import select

    from domain.accounts import UNKNOWN_LOGIN_PREFIX
    from storage.schema import events

    with accounts.store.engine.connect() as conn:
        streams = sorted(set(conn.execute(select(events.c.stream_id).where(events.c.stream_id.like(f"{UNKNOWN_LOGIN_PREFIX}%"))).scalars()))
    return [r for s in streams for r in accounts.events.read_stream(s)]


def test_a_failed_sign_in_for_an_unknown_login_is_an_event_without_the_typed_text(accounts):
    accounts.add_account(CLI_ADMIN, AddAccount(person_id=REVIEWER, password="correct horse"))
    with pytest.raises(NotSignedIn) as known:
        accounts.sign_in(REVIEWER, "wrong horse", "10.0.0.1")
    with pytest.raises(NotSignedIn) as unknown:
        accounts.sign_in("P-nobody", "whatever", "10.0.0.2")
    assert unknown.value.as_dict() == known.value.as_dict()  # the answer does not tell which login has an account
    with pytest.raises(NotSignedIn):
        accounts.sign_in("correct horse battery", "x", "10.0.0.3")  # a password typed into the login box
    got = unknown_login_events(accounts)
    assert [(r.event_type, r.payload["failure"], r.payload["client"]) for r in sorted(got, key=lambda r: r.payload["client"])] == [
        ("account.unknown_login_refused", "no_account", "10.0.0.2"), ("account.unknown_login_refused", "no_account", "10.0.0.3")]
    logins = {r.payload["client"]: r.payload["login"] for r in got}
    assert logins == {"10.0.0.2": "P-nobody", "10.0.0.3": None}
    assert all("correct horse" not in r.stream_id and "correct horse" not in str(r.payload) for r in got)
    # the same unknown login again queues on its own stream
    with pytest.raises(NotSignedIn):
        accounts.sign_in("P-nobody", "again", "10.0.0.4")
    streams = {r.stream_id for r in unknown_login_events(accounts)}
    assert len(streams) == 2


def test_unknown_logins_are_rate_limited_and_each_refusal_recorded(accounts):
    for i in range(3):  # the limit is 3 here, each from another address
        with pytest.raises(NotSignedIn):
            accounts.sign_in("P-nobody", "guess", f"10.0.2.{i}")
    with pytest.raises(TooManyAttempts) as e:
        accounts.sign_in("P-nobody", "guess", "10.0.9.9")
    assert e.value.field == "login"
    failures = [r.payload["failure"] for r in unknown_login_events(accounts)]
    assert failures == ["no_account", "no_account", "no_account", "rate_limited"]
