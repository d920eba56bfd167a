"""``read_stream`` runs in the driver's own SQL on the thread's connection
(every command a person sends reads its review's new events first). What
SQLAlchemy did for it must still hold: the records are exactly those the
append stored, the filters cut where they say, a write made through another
connection is seen at once (each read is its own transaction, not a snapshot
kept open), and on PostgreSQL a connection the server dropped is replaced."""

from __future__ import annotations

import threading
from datetime import timedelta

import psycopg
import pytest

from log_builders import T0, batch, rec
from storage.eventlog import EventStore
from test_lost_connection import _cut, stuck_on_a_lost_connection


def test_a_stream_reads_back_exactly_as_stored_and_its_filters_cut_where_they_say(engine):
    store = EventStore(engine)
    stored = store.append("rv-1", 0, batch("rv-1", 0, 3)) + store.append("rv-1", 3, [rec("rv-1", 4, n=4, actor=None, causation="cmd-4")])
    store.append("rv-2", 0, batch("rv-2", 0, 2))  # another stream between them is not read

    assert store.read_stream("rv-1") == stored  # every field, the timestamps as tz-aware UTC
    assert all(r.occurred_at.utcoffset() == timedelta(0) and r.recorded_at.utcoffset() == timedelta(0) for r in store.read_stream("rv-1"))
    assert [r.version for r in store.read_stream("rv-1", from_version=3)] == [3, 4]
    assert store.read_stream("rv-1", from_version=5) == []
    # until: events that occurred at or before it (rec puts version v at T0 + v minutes)
    assert [r.version for r in store.read_stream("rv-1", until=T0 + timedelta(minutes=2))] == [1, 2]
    assert [r.version for r in store.read_stream("rv-1", until=T0 + timedelta(minutes=2, seconds=59))] == [1, 2]
    assert [r.version for r in store.read_stream("rv-1", until=T0 + timedelta(minutes=3), from_version=2)] == [2, 3]
    assert store.read_stream("rv-1", until=T0) == []
    assert store.read_stream("rv-unknown") == []


def test_a_write_through_another_connection_is_read_at_once(engine):
    """The reader's connection stays open between reads: an append by another
    store (another process, here another connection) and by another thread
    must be in the very next read, not hidden behind a snapshot of the first."""
    reader, writer = EventStore(engine), EventStore(engine)
    writer.append("rv-1", 0, [rec("rv-1", 1, n=1)])
    assert [r.version for r in reader.read_stream("rv-1")] == [1]
    writer.append("rv-1", 1, [rec("rv-1", 2, n=2)])
    assert [r.version for r in reader.read_stream("rv-1", from_version=2)] == [2]

    t = threading.Thread(target=lambda: reader.append("rv-1", 2, [rec("rv-1", 3, n=3)]))
    t.start()
    t.join()
    assert [r.version for r in reader.read_stream("rv-1")] == [1, 2, 3]
    assert [r.version for r in writer.read_stream("rv-1")] == [1, 2, 3]


def test_a_read_on_a_connection_the_server_dropped_is_asked_again_on_a_new_one(pg_engine):
    store = EventStore(pg_engine)
    store.append("rv-1", 0, [rec("rv-1", 1, n=1)])
    assert [r.version for r in store.read_stream("rv-1")] == [1]
    lost = store._local.conn
    _cut(pg_engine, lost)

    assert [r.version for r in store.read_stream("rv-1")] == [1]
    assert store._local.conn is not lost and not store._local.conn.closed and lost.closed


def test_a_read_whose_connection_stays_lost_fails_after_one_retry(pg_engine, monkeypatch):
    store, handed_out = stuck_on_a_lost_connection(pg_engine, monkeypatch)
    with pytest.raises(psycopg.OperationalError):
        store.read_stream("rv-1")
    assert len(handed_out) == 2


def test_a_read_error_on_a_live_connection_is_not_retried(pg_engine):
    store = EventStore(pg_engine)
    store.append("rv-1", 0, [rec("rv-1", 1, n=1)])
    conn = store._local.conn
    conn.execute("SET statement_timeout = 1")
    with pytest.raises(psycopg.errors.QueryCanceled):
        store._read("SELECT pg_sleep(0.5)", ())
    assert store._local.conn is conn and not conn.closed
    conn.execute("SET statement_timeout = 0")
    assert [r.version for r in store.read_stream("rv-1")] == [1]


def test_a_reader_connection_closed_on_this_side_is_replaced_too(pg_engine):
    """Not only a server cut: a connection closed on the client side (psycopg
    calls it ``closed`` but not ``broken``) is replaced and the read asked again,
    not an error at every later read of that thread."""
    store = EventStore(pg_engine)
    store.append("rv-1", 0, [rec("rv-1", 1, n=1)])
    closed = store._local.conn
    closed.close()
    assert closed.closed and not closed.broken
    assert [r.version for r in store.read_stream("rv-1")] == [1]
    assert store._local.conn is not closed and not store._local.conn.closed


def test_the_records_are_utc_whatever_time_zone_the_server_hands_out(pg_engine):
    """PostgreSQL gives timestamps in the session's time zone (an office's server
    may well run on Asia/Shanghai); the records come back in UTC all the same, as
    the column's type promises."""
    store = EventStore(pg_engine)
    stored = store.append("rv-1", 0, batch("rv-1", 0, 2))
    store._connection().execute("SET TIME ZONE 'Asia/Shanghai'")
    read = store.read_stream("rv-1")
    assert read == stored
    assert all(r.occurred_at.utcoffset() == timedelta(0) and r.recorded_at.utcoffset() == timedelta(0) for r in read)
