"""The recorder's contract, written once and run on each backend (the
pyeventsourcing pattern: an abstract test case subclassed per recorder)."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from log_builders import T0, batch, rec
from storage.canonical import GENESIS_HASH, record_hash
from storage.eventlog import EventConflict, EventStore, OutboxMessage
from storage.schema import outbox


class RecorderContract:
    """Subclasses provide the ``engine`` fixture for their backend."""

    @pytest.fixture
    def store(self, engine) -> EventStore:
        return EventStore(engine)

    def test_append_returns_stored_records_chained_and_positioned(self, store):
        stored = store.append("rv-1", 0, batch("rv-1", 0, 3))
        assert [r.version for r in stored] == [1, 2, 3]
        assert [r.position for r in stored] == [1, 2, 3]
        assert stored[0].prev_hash == GENESIS_HASH
        assert [r.prev_hash for r in stored[1:]] == [r.hash for r in stored[:-1]]
        assert all(record_hash(r) == r.hash for r in stored)
        assert store.read_stream("rv-1") == stored
        assert store.stream_version("rv-1") == 3

    def test_positions_are_global_and_gap_free_across_streams(self, store):
        store.append("a", 0, batch("a", 0, 2))
        store.append("b", 0, batch("b", 0, 1))
        store.append("a", 2, batch("a", 2, 1))
        assert [(r.stream_id, r.position) for r in store.read_all()] == [("a", 1), ("a", 2), ("b", 3), ("a", 4)]
        assert [r.position for r in store.read_all(after_position=2)] == [3, 4]
        assert store.head_position() == 4

    def test_same_command_twice_is_a_noop_returning_the_stored_events(self, store):
        first = store.append("rv-1", 0, batch("rv-1", 0, 2, causation="update:u1"))
        # a retried activity re-decides the same update after a crash: later occurred_at
        retry = [r.model_copy(update={"occurred_at": r.occurred_at + timedelta(seconds=5)}) for r in batch("rv-1", 0, 2, causation="update:u1")]
        again = store.append("rv-1", 0, retry)
        assert again == first
        assert store.head_position() == 2

    def test_identical_content_without_causation_is_a_noop(self, store):
        first = store.append("rv-1", 0, batch("rv-1", 0, 1))
        assert store.append("rv-1", 0, batch("rv-1", 0, 1)) == first
        assert store.head_position() == 1

    def test_different_content_at_taken_versions_is_a_conflict(self, store):
        store.append("rv-1", 0, batch("rv-1", 0, 1, causation="update:u1"))
        with pytest.raises(EventConflict):
            store.append("rv-1", 0, [rec("rv-1", 1, n=99, causation="update:u2")])
        with pytest.raises(EventConflict):
            store.append("rv-1", 0, [rec("rv-1", 1, n=99)])
        assert store.stream_version("rv-1") == 1

    def test_stale_expected_version_is_a_conflict(self, store):
        store.append("rv-1", 0, batch("rv-1", 0, 2))
        with pytest.raises(EventConflict) as err:
            store.append("rv-1", 1, [rec("rv-1", 2, n=7, causation="update:late")])
        assert err.value.actual_version == 2

    def test_outbox_rows_are_written_with_the_events(self, store, engine):
        msgs = [OutboxMessage(version=1, recipient_id="p-1", kind="reminder", subject="s", body="b")]
        store.append("rv-1", 0, batch("rv-1", 0, 2), msgs)
        with engine.connect() as conn:
            assert conn.execute(select(outbox.c.stream_id, outbox.c.version, outbox.c.recipient_id)).all() == [("rv-1", 1, "p-1")]

    def test_failed_batch_writes_nothing_and_gives_its_positions_back(self, store, engine):
        store.append("rv-1", 0, batch("rv-1", 0, 1))
        # an outbox row violating its unique key aborts the whole append
        dup = OutboxMessage(version=2, recipient_id="p-1", kind="k", subject="s", body="b")
        with pytest.raises(Exception):
            store.append("rv-1", 1, batch("rv-1", 1, 2), [dup, dup])
        assert store.stream_version("rv-1") == 1
        stored = store.append("rv-2", 0, batch("rv-2", 0, 1))
        assert stored[0].position == 2

    def test_read_stream_until_uses_workflow_time(self, store):
        store.append("rv-1", 0, [rec("rv-1", 1, at=T0), rec("rv-1", 2, at=T0 + timedelta(hours=2))])
        assert [r.version for r in store.read_stream("rv-1", until=T0 + timedelta(hours=1))] == [1]
        assert [r.version for r in store.read_stream("rv-1", until=T0 + timedelta(hours=2))] == [1, 2]  # at or before

    def test_concurrent_writers_get_distinct_gap_free_positions(self, store):
        errors = []

        def writer(sid):
            try:
                for i in range(10):
                    store.append(sid, i * 2, batch(sid, i * 2, 2))
            except Exception as exc:  # surfaced below
                errors.append(exc)

        threads = [threading.Thread(target=writer, args=(f"s{k}",)) for k in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        positions = [r.position for r in store.read_all()]
        assert positions == list(range(1, 81))
        for k in range(4):
            assert [r.version for r in store.read_stream(f"s{k}")] == list(range(1, 21))

    def test_racing_appends_to_one_stream_one_wins(self, store):
        results, errors = [], []

        def writer(n):
            try:
                results.append(store.append("rv-1", 0, [rec("rv-1", 1, n=n, causation=f"update:{n}")]))
            except EventConflict as exc:
                errors.append(exc)

        threads = [threading.Thread(target=writer, args=(n,)) for n in range(1, 5)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert len(results) == 1 and len(errors) == 3
        assert store.head_position() == 1

    # ---- append-only, enforced by the database ---------------------------------

    def test_update_through_plain_sql_is_refused(self, store, engine):
        store.append("rv-1", 0, batch("rv-1", 0, 1))
        with pytest.raises(DBAPIError, match="append-only"):
            with engine.begin() as conn:
                conn.execute(text("UPDATE events SET actor_id = 'p-intruder'"))
        assert store.read_stream("rv-1")[0].actor_id == "p-reviewer"

    def test_delete_through_plain_sql_is_refused(self, store, engine):
        store.append("rv-1", 0, batch("rv-1", 0, 1))
        with pytest.raises(DBAPIError, match="append-only"):
            with engine.begin() as conn:
                conn.execute(text("DELETE FROM events"))
        assert store.stream_version("rv-1") == 1

    def test_log_head_cannot_move_back(self, store, engine):
        store.append("rv-1", 0, batch("rv-1", 0, 2))
        with pytest.raises(DBAPIError, match="forward"):
            with engine.begin() as conn:
                conn.execute(text("UPDATE log_head SET position = 1"))

    def test_checkpoints_cannot_be_rewritten(self, store, engine):
        from storage.checkpoints import write_checkpoint
        from storage.signing import Signer

        store.append("rv-1", 0, batch("rv-1", 0, 2))
        write_checkpoint(engine, Signer("test-key"))
        for sql in ("UPDATE checkpoints SET root_hash = 'x'", "DELETE FROM checkpoints"):
            with pytest.raises(DBAPIError, match="append-only"):
                with engine.begin() as conn:
                    conn.execute(text(sql))


class TestSQLiteRecorder(RecorderContract):
    @pytest.fixture
    def engine(self, sqlite_engine):
        return sqlite_engine


@pytest.mark.postgres
class TestPostgresRecorder(RecorderContract):
    @pytest.fixture
    def engine(self, pg_engine):
        return pg_engine

    def test_truncate_is_refused(self, store, engine):
        store.append("rv-1", 0, batch("rv-1", 0, 1))
        with pytest.raises(DBAPIError, match="append-only"):
            with engine.begin() as conn:
                conn.execute(text("TRUNCATE events"))

    def test_service_role_may_only_insert_and_select(self, store, engine):
        from log_builders import drop_append_only_triggers

        store.append("rv-1", 0, batch("rv-1", 0, 1))
        drop_append_only_triggers(engine)  # the privilege, not the trigger, must stop it
        for sql in ("UPDATE events SET actor_id = 'x'", "DELETE FROM events", "TRUNCATE events", "DELETE FROM checkpoints"):
            with pytest.raises(DBAPIError, match="permission denied"):
                with engine.begin() as conn:
                    conn.execute(text("SET LOCAL ROLE pingyi_service"))
                    conn.execute(text(sql))
        with engine.begin() as conn:
            conn.execute(text("SET LOCAL ROLE pingyi_service"))
            assert conn.execute(text("SELECT count(*) FROM events")).scalar_one() == 1
        # and the service's own append path works under the role
        with engine.begin() as conn:
            conn.execute(text("SET LOCAL ROLE pingyi_service"))
            conn.execute(text("UPDATE log_head SET position = position"))


@pytest.mark.postgres
def test_pg_function_hashes_are_the_python_definition(pg_engine, signer=None):
    """pingyi_append hashes in SQL (sha256 over prev ":" position and the
    writer's pre-encoded tail): the bytes must be the ones Python hashes, so
    the Python verifier recomputes every hash the database wrote."""
    from storage.canonical import chain_hash, record_header, canonical_json
    from storage.signing import Signer
    from storage.verify import verify_log

    store = EventStore(pg_engine)
    stored = store.append("rv-1", 0, batch("rv-1", 0, 3), [OutboxMessage(version=2, recipient_id="p-1", kind="k", subject="s", body="b")])
    stored += store.append("rv-2", 0, [rec("rv-2", 1, n=5, causation="c", actor=None, note="引号 \"q\" \\ back")])
    stored += store.append("rv-1", 3, batch("rv-1", 3, 1))
    # text that JSON escapes, twice over: inside the payload and again inside the document
    tricky = "tab\t newline\n ctl\x01 quote\" back\\ line-sep\u2028 emoji \U0001F600 中文"
    stored += store.append("rv-3", 0, [rec("rv-3", 1, causation=tricky, note=tricky).model_copy(update={"reason": tricky, "actor_id": tricky[:60]})], [OutboxMessage(version=1, recipient_id="p-2", kind="k", subject=tricky, body=tricky)])
    for r in stored:
        assert r.hash == chain_hash(r.prev_hash, r.position, record_header(r, r.recorded_at), canonical_json(r.payload))
    assert store.read_stream("rv-1") == [r for r in stored if r.stream_id == "rv-1"]
    assert store.read_stream("rv-3") == [r for r in stored if r.stream_id == "rv-3"]
    with pg_engine.connect() as c:
        assert c.execute(select(outbox.c.subject, outbox.c.body).where(outbox.c.stream_id == "rv-3")).one() == (tricky, tricky)
    assert verify_log(pg_engine, Signer("k").verifier()).ok
    with pytest.raises(EventConflict) as err:
        store.append("rv-1", 1, [rec("rv-1", 2, n=77, causation="other")])
    assert err.value.actual_version == 4


@pytest.mark.postgres
def test_pg_append_function_migrates_down_and_up(pg_engine):
    """0005 replaces 0004's array-taking ``pingyi_append`` with the JSONB one;
    a downgrade puts the old one back, and upgrading again works."""
    from alembic import command

    from storage.migrate import alembic_config, upgrade

    def signatures() -> set[str]:
        with pg_engine.connect() as c:
            return {r[0] for r in c.execute(text("SELECT pg_get_function_identity_arguments(oid) FROM pg_proc WHERE proname = 'pingyi_append'"))}

    (new,) = signatures()
    assert new.startswith("p_stream text, p_expected integer, p_recorded timestamp with time zone, p_events jsonb, p_outbox jsonb")
    with pg_engine.connect() as conn:
        cfg = alembic_config()
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0004_append_function")
        conn.commit()
    (old,) = signatures()
    assert "p_tail bytea[]" in old
    upgrade(pg_engine)
    store = EventStore(pg_engine)
    assert [r.version for r in store.append("rv-1", 0, batch("rv-1", 0, 2))] == [1, 2]


def test_sqlite_batches_larger_than_one_insert_statement(sqlite_engine):
    """SQLite writes a batch as multi-row INSERTs of at most ROWS_PER_INSERT
    rows: a batch spanning several statements stays one atomic, chained append."""
    store = EventStore(sqlite_engine)
    store.ROWS_PER_INSERT = 3
    stored = store.append("rv-1", 0, batch("rv-1", 0, 7))
    stored += store.append("rv-1", 7, batch("rv-1", 7, 3))
    assert [r.position for r in stored] == list(range(1, 11))
    assert all(record_hash(r) == r.hash for r in stored)
    assert EventStore(sqlite_engine).read_stream("rv-1") == stored
    # a row forged at position 15 makes the batch's fifth row (second statement) clash:
    # the first statement's rows must go too
    with sqlite_engine.begin() as c:
        c.execute(text("INSERT INTO events (stream_id, version, position, event_type, schema_version, occurred_at, recorded_at, payload, prev_hash, hash) "
                       "VALUES ('forged', 1, 15, 't', 1, 'x', 'x', '{}', 'p', 'h')"))
    with pytest.raises(EventConflict):
        store.append("rv-2", 0, batch("rv-2", 0, 5))
    assert store.stream_version("rv-2") == 0 and store.head_position() == 10
    assert store.append("rv-2", 0, batch("rv-2", 0, 4))[-1].position == 14
