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


# ---- a real Temporal and a worker, for the routes that reach the engine ------------


@pytest_asyncio.fixture(scope="session")
async def api_env():
    import sys
    from pathlib import Path

    from temporalio.testing import WorkflowEnvironment

    from service.temporal import data_converter
    from workflows import search_attributes as sa

    env = await WorkflowEnvironment.start_local(
        data_converter=data_converter(), dev_server_existing_path=str(Path(sys.executable).parent / "temporal"), search_attributes=sa.ALL_KEYS,
    )
    yield env
    await env.shutdown()


@pytest_asyncio.fixture
async def live(api_env, tmp_path):
    """An AppContext on the dev server, a worker polling its own queue, the
    API over it, and the accounts."""
    import uuid

    from app.context import AppContext
    from worker import build_worker

    engine = make_engine(f"sqlite:///{tmp_path}/live.db")
    upgrade(engine)
    load_example(engine)
    settings = Settings(database_url=str(engine.url), task_queue=f"tq-{uuid.uuid4()}", data_dir=tmp_path, sign_in_max_failures=50,
                        temporal_address=api_env.client.service_client.config.target_host)
    context = AppContext(settings, engine=engine, client=api_env.client)
    accounts = Accounts(settings, engine, context.events, hasher=FAST)
    app = create_app(context, accounts=accounts)
    async with build_worker(api_env.client, engine, settings.task_queue):
        yield Live(context, accounts, app)
    engine.dispose()


class Live:
    def __init__(self, ctx, accounts: Accounts, app) -> None:
        self.ctx = ctx
        self.accounts = accounts
        self.app = app

    def client(self, **headers) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=httpx.ASGITransport(app=self.app), base_url=BASE, headers=headers)
