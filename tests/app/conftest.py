"""Use-case tests: the application layer against a real Temporal dev server,
a worker on a uuid task queue, and a migrated SQLite database holding the
example organization."""

from __future__ import annotations

import sys
import uuid
from pathlib import Path

import pytest
import pytest_asyncio
from temporalio.testing import WorkflowEnvironment

from app.context import AppContext
from config.settings import Settings
from directory.service import load_example
from service.temporal import data_converter
from storage.db import make_engine
from storage.migrate import upgrade
from worker import build_worker
from workflows import search_attributes as sa

BIN = Path(sys.executable).parent


@pytest_asyncio.fixture(scope="session")
async def app_env():
    env = await WorkflowEnvironment.start_local(data_converter=data_converter(), dev_server_existing_path=str(BIN / "temporal"), search_attributes=sa.ALL_KEYS)
    yield env
    await env.shutdown()


@pytest.fixture
def app_engine(tmp_path):
    eng = make_engine(f"sqlite:///{tmp_path}/app.db")
    upgrade(eng)
    load_example(eng)
    yield eng
    eng.dispose()


@pytest_asyncio.fixture
async def ctx(app_env, app_engine, tmp_path):
    """An AppContext on the test server with a worker polling its queue."""
    settings = Settings(database_url=str(app_engine.url), task_queue=f"tq-{uuid.uuid4()}", data_dir=tmp_path)
    context = AppContext(settings, engine=app_engine, client=app_env.client)
    async with build_worker(app_env.client, app_engine, settings.task_queue):
        yield context
