"""``read_all`` pages by position: each page must come in position order, or
the next page's ``position > last`` would skip events. Nothing guarantees the
table's physical order: on PostgreSQL an updated row (here a tamper, with the
append-only triggers dropped) moves to the end of the heap, and a read without
ORDER BY returns it last."""

from __future__ import annotations

import pytest
from sqlalchemy import event

from log_builders import batch, drop_append_only_triggers, raw, rec
from storage.eventlog import EventStore


@pytest.mark.parametrize("engine_fixture", ["sqlite_engine", "pg_engine"])
def test_every_page_of_the_log_comes_in_position_order(request, engine_fixture):
    engine = request.getfixturevalue(engine_fixture)
    store = EventStore(engine)
    store.append("rv-1", 0, batch("rv-1", 0, 6))
    drop_append_only_triggers(engine)
    raw(engine, "UPDATE events SET reason = 'moved' WHERE position IN (1, 3)")
    for size in (1, 2, 4, 5000):
        assert [r.position for r in store.read_all(batch=size)] == [1, 2, 3, 4, 5, 6]
    assert [r.position for r in store.read_all(after_position=2, batch=2)] == [3, 4, 5, 6]
    assert [r.version for r in store.read_stream("rv-1")] == [1, 2, 3, 4, 5, 6]


@pytest.mark.parametrize("engine_fixture", ["sqlite_engine", "pg_engine"])
def test_a_stream_and_a_retry_come_in_version_order_whatever_order_the_database_returns_rows(request, engine_fixture):
    """``read_stream`` promises version order, and the retry rule compares the
    stored events with the retried ones pairwise, in version order: both rely
    on ``ORDER BY version`` alone. Without it each engine happens to return a
    stream's rows by its ``(stream_id, version)`` key, so here the database is
    made to return them otherwise, as it may: SQLite's
    ``reverse_unordered_selects`` (made for finding such queries), and on
    PostgreSQL rows moved in the heap (an UPDATE that changes nothing, triggers
    dropped) read with index scans off."""
    engine = request.getfixturevalue(engine_fixture)

    @event.listens_for(engine, "checkout")
    def _unordered(dbapi_conn, record, proxy):
        cur = dbapi_conn.cursor()
        if engine.dialect.name == "sqlite":
            cur.execute("PRAGMA reverse_unordered_selects = ON")
        else:
            cur.execute("SET enable_indexscan = off; SET enable_indexonlyscan = off; SET enable_bitmapscan = off")
            dbapi_conn.commit()  # a session setting: it outlives the transaction SET opened
        cur.close()

    engine.dispose()  # every connection from here on is set so
    store = EventStore(engine)
    store.append("rv-1", 0, [rec("rv-1", 1, n=1)])
    second = store.append("rv-1", 1, [rec("rv-1", 2, n=2), rec("rv-1", 3, n=3), rec("rv-1", 4, n=4)])
    if engine.dialect.name == "postgresql":
        drop_append_only_triggers(engine)
        raw(engine, "UPDATE events SET hash = hash WHERE version IN (1, 2)")
    assert [r.version for r in store.read_stream("rv-1")] == [1, 2, 3, 4]
    assert [r.version for r in store.read_stream("rv-1", from_version=2)] == [2, 3, 4]
    # a retry of the three-event append is the same (no causation id: compared by content, pairwise)
    assert store.append("rv-1", 1, [rec("rv-1", 2, n=2), rec("rv-1", 3, n=3), rec("rv-1", 4, n=4)]) == second
