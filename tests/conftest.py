"""Shared fixtures: a fresh database per test, on SQLite and on the real
PostgreSQL server (127.0.0.1:5432, trust auth). Each PostgreSQL test creates and
drops its own database. Without a reachable server the PostgreSQL cases are
skipped locally and fail under CI (CI=true), where .ci/run guarantees one."""

from __future__ import annotations

import base64
import os
import socket
import uuid

import pytest
from sqlalchemy import create_engine, text

from storage.db import make_engine
from storage.migrate import upgrade

# every test's converter seals payloads (service.temporal.data_converter reads
# the settings): one random key per run, set before any Settings is built
os.environ.setdefault("PINGYI_CODEC_KEYS", "test-run:" + base64.b64encode(os.urandom(32)).decode())

PG_HOST = os.environ.get("PINGYI_TEST_PG_HOST", "127.0.0.1")
PG_PORT = int(os.environ.get("PINGYI_TEST_PG_PORT", "5432"))
PG_ADMIN_URL = f"postgresql+psycopg://postgres@{PG_HOST}:{PG_PORT}/postgres"


def pg_available() -> bool:
    s = socket.socket()
    s.settimeout(1)
    try:
        s.connect((PG_HOST, PG_PORT))
        return True
    except OSError:
        return False
    finally:
        s.close()


def require_pg() -> None:
    if not pg_available():
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL is not reachable on {PG_HOST}:{PG_PORT} (CI must provide it)")
        pytest.skip(f"PostgreSQL is not reachable on {PG_HOST}:{PG_PORT}")


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path}/pingyi-test.db"


@pytest.fixture
def pg_url():
    require_pg()
    name = f"pingyi_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield f"postgresql+psycopg://postgres@{PG_HOST}:{PG_PORT}/{name}"
    finally:
        with admin.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request) -> str:
    if request.param == "sqlite":
        return request.getfixturevalue("sqlite_url")
    return request.getfixturevalue("pg_url")


@pytest.fixture
def engine(db_url):
    """A migrated database on each engine in turn."""
    eng = make_engine(db_url)
    upgrade(eng)
    yield eng
    eng.dispose()


def pytest_collection_modifyitems(session, config, items):
    """The browser tests run last. Playwright's sync API keeps an event loop
    running on the main thread while its browser is open (and its teardown can
    leave it so), and any async test after it would then fail to start
    ('Runner.run() cannot be called from a running event loop')."""
    pages = [i for i in items if i.path.parent.name == "pages" and i.path.parent.parent.name == "tests"]
    if pages:
        last = set(map(id, pages))
        items[:] = [i for i in items if id(i) not in last] + pages
