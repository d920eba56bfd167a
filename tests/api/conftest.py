"""The API over a real database (SQLite per test, the example organization
loaded), driven by httpx through the ASGI transport. ``https://`` base URL:
the session cookie is Secure, and httpx keeps such cookies for https only."""

from __future__ import annotations

import httpx
import pytest
import pytest_asyncio
from api_support import BASE, FAST, LocalContext

from api.main import create_app
from app.accounts import Accounts
from config.settings import Settings
from directory.service import load_example
from storage.db import make_engine
from storage.migrate import upgrade


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
