"""The API over a real database (SQLite per test, the example organization
loaded), driven by httpx through the ASGI transport. ``https://`` base URL:
the session cookie is Secure, and httpx keeps such cookies for https only."""

from __future__ import annotations

import httpx
import pytest
import pytest_asyncio
from argon2 import PasswordHasher

from api.main import create_app
from app.accounts import CLI_ADMIN, Accounts, AddAccount, GrantRole, IssueToken
from config.settings import Settings
from directory.service import load_example
from domain.accounts import StandingRole, TokenScope
from storage.db import make_engine
from storage.eventlog import EventStore
from storage.migrate import upgrade

FAST = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
PASSWORD = "correct horse battery"
BASE = "https://testserver"


class LocalContext:
    """What the API needs of an application context, over one database."""

    def __init__(self, settings: Settings, engine) -> None:
        self.settings = settings
        self.engine = engine
        self.events = EventStore(engine)

    def close(self) -> None:
        self.engine.dispose()


@pytest.fixture
def api_settings(tmp_path) -> Settings:
    return Settings(data_dir=tmp_path, sign_in_max_failures=3)


@pytest.fixture
def ctx(tmp_path, api_settings):
    engine = make_engine(f"sqlite:///{tmp_path}/api.db")
    upgrade(engine)
    load_example(engine)
    c = LocalContext(api_settings, engine)
    yield c
    c.close()


@pytest.fixture
def accounts(ctx) -> Accounts:
    return Accounts(ctx.settings, ctx.engine, ctx.events, hasher=FAST)


@pytest.fixture
def api(ctx, accounts):
    return create_app(ctx, accounts=accounts)


@pytest_asyncio.fixture
async def client(api):
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=api), base_url=BASE) as c:
        yield c


def person(accounts: Accounts, person_id: str, *grants: tuple[StandingRole, str | None]) -> None:
    accounts.add_account(CLI_ADMIN, AddAccount(person_id=person_id, password=PASSWORD))
    for role, scope in grants:
        accounts.grant(CLI_ADMIN, GrantRole(person_id=person_id, role=role, scope=scope))


def token(accounts: Accounts, person_id: str, scopes=tuple(TokenScope), days: float = 30) -> str:
    return accounts.issue_token(CLI_ADMIN, IssueToken(person_id=person_id, name="test", scopes=tuple(scopes), days=days)).secret
