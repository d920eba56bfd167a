"""One migrated database per test on each backend, for the contract tests that
are subclassed per backend (as pyeventsourcing does for its recorders)."""

from __future__ import annotations

import pytest

from storage.db import make_engine
from storage.migrate import upgrade


@pytest.fixture
def sqlite_engine(sqlite_url):
    eng = make_engine(sqlite_url)
    upgrade(eng)
    yield eng
    eng.dispose()


@pytest.fixture
def pg_engine(pg_url):
    eng = make_engine(pg_url)
    upgrade(eng)
    yield eng
    eng.dispose()
