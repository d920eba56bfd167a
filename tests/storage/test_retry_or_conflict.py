"""The retry-or-conflict rule of ``EventStore.append`` when the versions are
taken, field by field: a retry of the same command (same causation id and the
same event type) or of byte-identical content is a no-op; anything else at
those versions is a different command and a conflict. Each case differs from
the stored event in one thing only, so leaving that thing out of the
comparison lets it through and fails here. Run on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest

from log_builders import rec
from storage.eventlog import EventConflict, EventStore


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request) -> EventStore:
    engine = request.getfixturevalue("sqlite_engine" if request.param == "sqlite" else "pg_engine")
    return EventStore(engine)


def _stored(store: EventStore, **kw):
    return store.append("rv-1", 0, [rec("rv-1", 1, n=1, **kw)])


# ---- the same command, retried (a causation id) ------------------------------


def test_a_retry_of_the_same_command_with_another_event_type_is_a_conflict(store):
    _stored(store, causation="update:u1")
    with pytest.raises(EventConflict):
        store.append("rv-1", 0, [rec("rv-1", 1, n=1, causation="update:u1", event_type="test.other")])
    assert store.stream_version("rv-1") == 1 and store.head_position() == 1


def test_a_retry_of_another_command_with_the_same_content_otherwise_is_a_conflict(store):
    _stored(store, causation="update:u1")
    with pytest.raises(EventConflict):
        store.append("rv-1", 0, [rec("rv-1", 1, n=1, causation="update:u2")])


def test_a_retry_of_the_same_command_re_decided_later_is_the_same(store):
    """By design: the re-decided events may carry a later time and facts that
    depend on it (a deadline computed from now); the command is the same."""
    first = _stored(store, causation="update:u1")
    later = rec("rv-1", 1, n=1, causation="update:u1", at=first[0].occurred_at + timedelta(seconds=5), due="later")
    assert store.append("rv-1", 0, [later]) == first


# ---- no causation id: only identical content is the same ---------------------


def test_identical_content_without_causation_is_the_same(store):
    first = _stored(store)
    assert store.append("rv-1", 0, [rec("rv-1", 1, n=1)]) == first
    assert store.head_position() == 1


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(dict(payload_extra="changed"), id="payload"),
        pytest.param(dict(event_type="test.other"), id="event_type"),
        pytest.param(dict(schema_version=2), id="schema_version"),
        pytest.param(dict(occurred_shift=1), id="occurred_at"),
        pytest.param(dict(actor_id="p-other"), id="actor_id"),
        pytest.param(dict(actor_role="supervisor"), id="actor_role"),
        pytest.param(dict(reason="another reason"), id="reason"),
    ],
)
def test_content_differing_in_one_field_without_causation_is_a_conflict(store, change):
    first = _stored(store)[0]
    update: dict = {}
    if "payload_extra" in change:
        update["payload"] = {**first.payload, "text": change["payload_extra"]}
    if "occurred_shift" in change:
        update["occurred_at"] = first.occurred_at + timedelta(microseconds=change["occurred_shift"])
    update.update({k: v for k, v in change.items() if k not in ("payload_extra", "occurred_shift")})
    retry = rec("rv-1", 1, n=1).model_copy(update=update)
    with pytest.raises(EventConflict):
        store.append("rv-1", 0, [retry])
    assert store.stream_version("rv-1") == 1 and store.head_position() == 1


def test_one_differing_event_in_a_batch_makes_the_whole_retry_a_conflict(store):
    store.append("rv-1", 0, [rec("rv-1", 1, n=1), rec("rv-1", 2, n=2)])
    with pytest.raises(EventConflict):
        store.append("rv-1", 0, [rec("rv-1", 1, n=1), rec("rv-1", 2, n=2, extra="x")])


def test_a_shorter_retry_over_a_longer_append_is_a_conflict(store):
    store.append("rv-1", 0, [rec("rv-1", 1, n=1), rec("rv-1", 2, n=2)])
    with pytest.raises(EventConflict):
        store.append("rv-1", 1, [rec("rv-1", 2, n=2), rec("rv-1", 3, n=3)])


def test_a_stale_writer_is_told_the_streams_actual_version(request):
    """Two stores on one SQLite file: the first one's cached head is stale, its
    insert fails on the (stream_id, version) key, and the conflict reads the
    stream's head from the database."""
    engine = request.getfixturevalue("sqlite_engine")
    first, second = EventStore(engine), EventStore(engine)
    first.append("rv-1", 0, [rec("rv-1", 1, n=1)])
    second.append("rv-1", 1, [rec("rv-1", 2, n=2)])
    with pytest.raises(EventConflict) as info:
        first.append("rv-1", 1, [rec("rv-1", 2, n=99)])
    assert (info.value.expected_version, info.value.actual_version) == (1, 2)
    # and its cache is dropped: the next append reads the true head
    assert first.append("rv-1", 2, [rec("rv-1", 3, n=3)])[0].version == 3


def test_reading_the_log_on_sqlite_does_not_wait_for_a_writer(request, sqlite_url):
    """``read_all`` pages are deferred read transactions: a writer holding the
    write lock (BEGIN IMMEDIATE) does not hold readers up. A read that asked
    for the write lock itself would wait out the busy timeout, then fail."""
    import sqlite3

    engine = request.getfixturevalue("sqlite_engine")
    store = EventStore(engine)
    store.append("rv-1", 0, [rec("rv-1", 1, n=1), rec("rv-1", 2, n=2), rec("rv-1", 3, n=3)])
    writer = sqlite3.connect(sqlite_url.removeprefix("sqlite:///"), isolation_level=None, timeout=0.1)
    try:
        writer.execute("BEGIN IMMEDIATE")
        assert [r.version for r in store.read_all(batch=2)] == [1, 2, 3]
        assert [r.version for r in store.read_stream("rv-1")] == [1, 2, 3]
        assert store.stream_version("rv-1") == 3 and store.head_position() == 3
    finally:
        writer.execute("ROLLBACK")
        writer.close()


def test_an_append_refused_by_the_database_for_another_reason_stores_nothing(store):
    """Two copies of one outbox message break the outbox's key: the whole
    append is refused, as a conflict naming the stream's actual version (none
    yet), and neither the event nor the position is kept."""
    from storage.eventlog import OutboxMessage

    twice = [OutboxMessage(1, "p-reviewer", "task", "s", "b")] * 2
    with pytest.raises(EventConflict) as info:
        store.append("rv-1", 0, [rec("rv-1", 1, n=1)], twice)
    assert (info.value.stream_id, info.value.expected_version, info.value.actual_version) == ("rv-1", 0, 0)
    assert store.stream_version("rv-1") == 0 and store.head_position() == 0
    assert store.append("rv-1", 0, [rec("rv-1", 1, n=1)])[0].position == 1


def test_a_conflict_says_which_stream_what_was_expected_and_what_was_found():
    assert str(EventConflict("rv-1", 0, 2)) == "stream 'rv-1': expected version 0, found 2"
    assert str(EventConflict("rv-1", 3, 3, "review.started opens a stream")) == "stream 'rv-1': expected version 3, found 3: review.started opens a stream"


def test_a_second_opening_is_refused_saying_why(store):
    store.append("rv-1", 0, [rec("rv-1", 1, n=1)])
    with pytest.raises(EventConflict) as info:
        store.append("rv-1", 1, [rec("rv-1", 2, n=2, event_type="review.started")])
    assert str(info.value) == "stream 'rv-1': expected version 1, found 1: review.started opens a stream and can only be its first event"


def test_a_retry_of_a_later_append_is_the_same(store):
    """The comparison reads only the versions the retry would write, not the
    stream's earlier ones."""
    store.append("rv-1", 0, [rec("rv-1", 1, n=1)])
    second = store.append("rv-1", 1, [rec("rv-1", 2, n=2), rec("rv-1", 3, n=3)])
    assert store.append("rv-1", 1, [rec("rv-1", 2, n=2), rec("rv-1", 3, n=3)]) == second


def test_a_writer_whose_cached_head_is_behind_appends_after_the_true_head(request):
    """Two stores on one SQLite file: the first one's cache still says v1 when
    it appends at v2 (it read the stream first); its event must chain to v2's
    hash from the database, not to the cached v1."""
    from storage.canonical import record_hash

    engine = request.getfixturevalue("sqlite_engine")
    first, second = EventStore(engine), EventStore(engine)
    first.append("rv-1", 0, [rec("rv-1", 1, n=1)])
    (v2,) = second.append("rv-1", 1, [rec("rv-1", 2, n=2)])
    (v3,) = first.append("rv-1", 2, [rec("rv-1", 3, n=3)])
    assert v3.prev_hash == v2.hash and record_hash(v3) == v3.hash
    assert [r.prev_hash for r in first.read_stream("rv-1")][1:] == [r.hash for r in first.read_stream("rv-1")][:-1]
