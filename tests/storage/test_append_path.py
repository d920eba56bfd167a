"""What ``EventStore.append`` hands back and writes beside the events, pinned
where a mutation run (issue 13, point 9) found the contract loose: the records
it returns are built without validation (``storage.eventlog._stored``), the
outbox rows on SQLite are written with the driver's own SQL, and a successful
append on PostgreSQL is one statement on the writer's own connection. Run on
SQLite and PostgreSQL where both apply."""

from __future__ import annotations

import copy
import pickle

import pytest

from sqlalchemy import event, select

from domain.events import EventRecord
from log_builders import rec
from storage.eventlog import EventStore, OutboxMessage
from storage.schema import outbox


def test_the_records_an_append_returns_behave_as_the_records_read_back(engine):
    """``append`` builds its records without pydantic's per-call work, but a
    caller cannot tell them from validated ones: every field counts as set
    (``model_copy(update=...)`` and ``model_dump(exclude_unset=True)`` work as
    on a read record), they copy and pickle, and they hold the fields and
    nothing else. Without ``__pydantic_fields_set__`` or
    ``__pydantic_private__`` set, or with either under another name, one of
    these raises."""
    store = EventStore(engine)
    stored = store.append("rv-1", 0, [rec("rv-1", 1, n=1), rec("rv-1", 2, n=2)])
    read = store.read_stream("rv-1")
    assert stored == read
    for s, r in zip(stored, read):
        assert s.model_fields_set == r.model_fields_set == set(EventRecord.model_fields)
        assert s.model_dump(exclude_unset=True) == r.model_dump(exclude_unset=True) == r.model_dump()
        changed = s.model_copy(update={"reason": "edited copy"})
        assert changed.reason == "edited copy" and changed.model_fields_set == set(EventRecord.model_fields)
        assert copy.copy(s) == r and copy.deepcopy(s) == r
        assert pickle.loads(pickle.dumps(s)) == r
        assert set(vars(s)) == set(EventRecord.model_fields)
        assert s.__pydantic_private__ is None and s.__pydantic_extra__ is None


def test_an_outbox_rows_creation_time_on_sqlite_is_stored_as_the_column_stores_it(sqlite_engine):
    """SQLite has no timestamp type: the outbox's ``created_at`` is text in
    SQLAlchemy's format for the column (``YYYY-MM-DD HH:MM:SS.ffffff``, UTC,
    no offset), and queries compare that text. The writer inserts with the
    driver's own SQL, so it must format the time as the column would; the
    driver's default (``...+00:00``) sorts after the same instant written by
    SQLAlchemy, and a "created at or before t" query then misses the message."""
    store = EventStore(sqlite_engine)
    [stored] = store.append("rv-1", 0, [rec("rv-1", 1, n=1)], [OutboxMessage(version=1, recipient_id="p-1", kind="reminder", subject="s", body="b")])
    t = stored.recorded_at
    with sqlite_engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT created_at FROM outbox").scalar_one() == t.strftime("%Y-%m-%d %H:%M:%S.%f")
        assert conn.execute(select(outbox.c.created_at)).scalar_one() == t.replace(tzinfo=None)
        assert conn.execute(select(outbox.c.version).where(outbox.c.created_at <= t)).all() == [(1,)]
        assert conn.execute(select(outbox.c.version).where(outbox.c.created_at < t)).all() == []


def test_a_successful_append_reads_nothing_back_through_the_engine(engine):
    """A successful append is the writer's own statements on its own driver
    connection (on PostgreSQL one ``pingyi_append`` call: one round trip, one
    commit) and returns the records built from the answer. Only a taken
    version sends it to the pool, to read what is stored (the retry-or-conflict
    rule). Leaving the attempt loop with ``return`` instead of ``break`` made
    every append on PostgreSQL look like a conflict and read its own rows back
    from a pooled connection: the same records, one more connection and query."""
    store = EventStore(engine)
    store.append("rv-1", 0, [rec("rv-1", 1, n=1)])  # the writer's connection is taken once, first
    seen = []
    event.listen(engine, "before_cursor_execute", lambda conn, cursor, statement, *a: seen.append(statement))
    checkouts = []
    event.listen(engine, "checkout", lambda *a: checkouts.append(1))
    stored = store.append("rv-1", 1, [rec("rv-1", 2, n=2), rec("rv-1", 3, n=3)], [OutboxMessage(version=2, recipient_id="p-1", kind="k", subject="s", body="b")])
    assert seen == [] and checkouts == []
    assert [(r.version, r.position) for r in stored] == [(2, 2), (3, 3)]
    assert store.read_stream("rv-1")[1:] == stored


def test_a_batch_with_a_record_of_another_stream_or_out_of_order_is_refused_naming_it(engine):
    """Each record must be the stream's next version, in order: one that is
    not (another stream's, a version skipped) is a programming error, refused
    as ``ValueError`` before anything is written, naming the record (its
    index in the batch), what it is and what was expected there. Checking
    the stream *and* the version (not either alone) is what refuses a record
    of another stream at the right version."""
    store = EventStore(engine)
    store.append("rv-1", 0, [rec("rv-1", 1, n=1)])
    with pytest.raises(ValueError) as info:
        store.append("rv-1", 1, [rec("rv-1", 2, n=2), rec("rv-2", 3, n=3)])
    assert str(info.value) == "record 1 is rv-2@3, expected rv-1@3"
    with pytest.raises(ValueError) as info:
        store.append("rv-1", 1, [rec("rv-1", 2, n=2), rec("rv-1", 4, n=4)])
    assert str(info.value) == "record 1 is rv-1@4, expected rv-1@3"
    with pytest.raises(ValueError) as info:
        store.append("rv-1", 1, [rec("rv-2", 2, n=2)])
    assert str(info.value) == "record 0 is rv-2@2, expected rv-1@2"
    assert store.stream_version("rv-1") == 1 and store.stream_version("rv-2") == 0 and store.head_position() == 1
