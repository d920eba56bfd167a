"""The PostgreSQL writer keeps one connection per thread (``EventStore._connection``).
When the server drops it (a restart, a failover, an administrator's
``pg_terminate_backend``), the next append must notice, throw that connection
away for good and retry once on a fresh one: ``append`` is idempotent, so the
retry is safe whether or not the first attempt committed. The server end is
cut here with ``pg_terminate_backend``, what a restart does to each client,
without restarting the server the other tests share."""

from __future__ import annotations

import time

import psycopg
import pytest
from sqlalchemy import text

from log_builders import rec
from storage.eventlog import EventStore


def _cut(engine, conn) -> None:
    """End the server side of ``conn`` and wait until the server has let it go."""
    pid = conn.info.backend_pid
    with engine.connect() as admin:
        assert admin.execute(text("SELECT pg_terminate_backend(:p)"), {"p": pid}).scalar_one()
        deadline = time.monotonic() + 30  # a loaded server takes its time to end a backend (2 s was once not enough)
        while time.monotonic() < deadline:
            # pg_stat_activity is a snapshot taken once per transaction: each
            # look ends the transaction, or a backend alive at the first look
            # would never be seen gone
            gone = not admin.execute(text("SELECT count(*) FROM pg_stat_activity WHERE pid = :p"), {"p": pid}).scalar_one()
            admin.rollback()
            if gone:
                return
            time.sleep(0.02)
    pytest.fail(f"backend {pid} still running 30 s after pg_terminate_backend")


def test_an_append_on_a_connection_the_server_dropped_is_retried_on_a_new_one(pg_engine):
    store = EventStore(pg_engine)
    store.append("rv-1", 0, [rec("rv-1", 1, n=1)])
    lost, lost_fairy = store._local.conn, store._local.fairy
    _cut(pg_engine, lost)

    stored = store.append("rv-1", 1, [rec("rv-1", 2, n=2)])

    assert [(r.version, r.position) for r in stored] == [(2, 2)]
    assert [r.version for r in store.read_stream("rv-1")] == [1, 2] and store.head_position() == 2
    fresh = store._local.conn
    assert fresh is not lost and not fresh.closed and fresh.info.backend_pid != lost.info.backend_pid
    # the lost one is invalidated, not just forgotten: SQLAlchemy lets go of
    # its DBAPI connection (a broken psycopg connection ignores close())
    assert lost.closed and not lost_fairy.is_valid
    assert store._local.fairy is not lost_fairy and store._local.fairy.is_valid
    # and the fresh connection is the thread's own from now on
    store.append("rv-1", 2, [rec("rv-1", 3, n=3)])
    assert store._local.conn is fresh


def test_a_writer_connection_closed_on_this_side_is_replaced_too(pg_engine):
    """Not only a server cut: a connection closed on the client side (psycopg
    calls it ``closed`` but not ``broken``, a word kept for a connection the
    server lost) is as unusable, and the next append replaces it and goes
    through, once. Requiring both words would raise "the connection is
    closed" at every later append of that thread."""
    store = EventStore(pg_engine)
    store.append("rv-1", 0, [rec("rv-1", 1, n=1)])
    closed = store._local.conn
    closed.close()
    assert closed.closed and not closed.broken

    stored = store.append("rv-1", 1, [rec("rv-1", 2, n=2)])

    assert [(r.version, r.position) for r in stored] == [(2, 2)]
    assert store._local.conn is not closed and not store._local.conn.closed
    assert [r.version for r in store.read_stream("rv-1")] == [1, 2] and store.head_position() == 2


def stuck_on_a_lost_connection(pg_engine, monkeypatch) -> tuple[EventStore, list]:
    """A store with one event whose thread connection the server cut and that
    is handed that same connection every time (a server that stays away);
    the list records each hand-out."""
    store = EventStore(pg_engine)
    store.append("rv-1", 0, [rec("rv-1", 1, n=1)])
    lost = store._local.conn
    _cut(pg_engine, lost)
    handed_out: list = []

    def always_the_lost_one():
        handed_out.append(lost)
        return lost

    monkeypatch.setattr(store, "_connection", always_the_lost_one)
    return store, handed_out


def test_a_connection_that_stays_lost_fails_the_append_after_one_retry(pg_engine, monkeypatch):
    """Two attempts, not a loop: a server that stays away is an error the
    activity's own retry policy deals with."""
    store, handed_out = stuck_on_a_lost_connection(pg_engine, monkeypatch)
    with pytest.raises(psycopg.OperationalError):
        store.append("rv-1", 1, [rec("rv-1", 2, n=2)])
    assert len(handed_out) == 2
    monkeypatch.undo()
    assert [r.version for r in store.read_stream("rv-1")] == [1]


def test_an_error_on_a_live_connection_is_not_retried(pg_engine):
    """Only a lost connection is retried: an operational error the server
    reports on a healthy connection (here a statement timeout while another
    transaction holds the log head) is raised as it is, and the writer keeps
    its connection."""
    store = EventStore(pg_engine)
    store.append("rv-1", 0, [rec("rv-1", 1, n=1)])
    conn = store._local.conn
    conn.execute("SET statement_timeout = 200")
    with pg_engine.connect() as holder:
        holder.execute(text("SELECT position FROM log_head WHERE id = 1 FOR UPDATE"))
        with pytest.raises(psycopg.errors.QueryCanceled):
            store.append("rv-1", 1, [rec("rv-1", 2, n=2)])
        holder.rollback()
    assert store._local.conn is conn and not conn.closed
    conn.execute("SET statement_timeout = 0")
    assert store.stream_version("rv-1") == 1
    assert store.append("rv-1", 1, [rec("rv-1", 2, n=2)])[0].position == 2
