"""Tampering the way an intruder with SQL access would: drop the append-only
triggers, change the table with raw SQL, then ``verify`` must name the first
bad position and what is wrong. Run on SQLite and PostgreSQL."""

from __future__ import annotations

import os

import pytest
from typer.testing import CliRunner

from cli.audit import app
from log_builders import drop_append_only_triggers, fill, position_of, raw
from storage.canonical import GENESIS_HASH, chain_hash, header_text
from storage.checkpoints import write_checkpoint
from storage.eventlog import EventStore
from storage import verify as verify_module
from storage.verify import verify_log, verify_stream

STREAMS = {"rv-a": 6, "rv-b": 4, "rv-c": 5}  # interleaved two at a time: positions 1..15


@pytest.fixture(params=["one process", "hash worker"])
def verify_processes(request, engine, monkeypatch):
    """Every scenario is verified by the single process and, on SQLite, also
    with the hash recomputation in the worker process (normally only for logs
    of 100k events and more) — the reports must be the same."""
    if request.param == "one process":
        yield
        return
    if engine.dialect.name != "sqlite" or (os.cpu_count() or 1) < 2:
        pytest.skip("the hash worker runs on SQLite with two CPUs")
    started = []
    real = verify_module._start_hash_worker

    def spy(conn):
        worker = real(conn)
        started.append(worker)
        return worker

    monkeypatch.setattr(verify_module, "PARALLEL_MIN", 1)
    monkeypatch.setattr(verify_module, "_start_hash_worker", spy)
    yield
    assert any(w is not None for w in started), "the hash worker never ran"


@pytest.fixture
def log(engine, signer, verify_processes):
    store = EventStore(engine)
    fill(store, STREAMS)
    write_checkpoint(engine, signer)
    fill_more = {"rv-d": 3}
    fill(store, fill_more)  # 16..18: after the checkpoint
    assert verify_log(engine, signer.verifier()).ok
    drop_append_only_triggers(engine)
    return store


def first_bad(engine, signer):
    report = verify_log(engine, signer.verifier())
    assert not report.ok
    return report.first_bad


def test_edit_payload(engine, signer, log):
    p = position_of(engine, "rv-b", 2)
    raw(engine, "UPDATE events SET payload = replace(payload, 'note', 'n0te') WHERE position = :p", p=p)
    bad = first_bad(engine, signer)
    assert (bad.position, bad.kind, bad.stream_id, bad.version) == (p, "edited", "rv-b", 2)


def test_edit_actor(engine, signer, log):
    p = position_of(engine, "rv-c", 4)
    raw(engine, "UPDATE events SET actor_id = 'p-someone-else' WHERE position = :p", p=p)
    bad = first_bad(engine, signer)
    assert (bad.position, bad.kind) == (p, "edited")
    assert verify_stream(engine, "rv-c").first_bad.position == p


def test_delete_one_event(engine, signer, log):
    p = position_of(engine, "rv-a", 3)
    raw(engine, "DELETE FROM events WHERE position = :p", p=p)
    bad = first_bad(engine, signer)
    assert (bad.position, bad.kind) == (p, "deleted")
    assert verify_stream(engine, "rv-a").first_bad.kind == "deleted"


def test_delete_whole_stream(engine, signer, log):
    first = position_of(engine, "rv-b", 1)
    raw(engine, "DELETE FROM events WHERE stream_id = 'rv-b'")
    bad = first_bad(engine, signer)
    assert (bad.position, bad.kind) == (first, "deleted")


def test_delete_tail_of_the_log_and_rewind_the_head(engine, signer, log):
    raw(engine, "DELETE FROM events WHERE position > 12")
    raw(engine, "UPDATE log_head SET position = 12")
    bad = first_bad(engine, signer)
    assert (bad.position, bad.kind) == (13, "deleted")  # the signed checkpoint covered 15


def test_insert_forged_event(engine, signer, log):
    """The best forgery: correctly chained and hashed, appended after the head."""
    store = log
    last = store.read_stream("rv-a")[-1]
    pos = store.head_position() + 1
    header = header_text("rv-a", last.version + 1, "test.noted", 1, "2010-12-08T09:00:00.000000+00:00", "2010-12-08T09:00:00.000000+00:00", "p-forger", "reviewer", None, None)
    payload = '{"n":99}'
    h = chain_hash(last.hash, pos, header, payload)
    raw(
        engine,
        "INSERT INTO events (stream_id, version, position, event_type, schema_version, occurred_at, recorded_at, actor_id, actor_role, reason, causation_id, payload, prev_hash, hash) "
        "VALUES ('rv-a', :v, :p, 'test.noted', 1, :t, :t, 'p-forger', 'reviewer', NULL, NULL, :payload, :prev, :h)",
        v=last.version + 1, p=pos, t=last.occurred_at, payload=payload, prev=last.hash, h=h,
    )
    bad = first_bad(engine, signer)
    assert (bad.position, bad.kind) == (pos, "inserted")


def test_swap_two_events_across_streams(engine, signer, log):
    p, q = position_of(engine, "rv-a", 2), position_of(engine, "rv-c", 3)
    raw(engine, "UPDATE events SET position = -1 WHERE position = :p", p=p)
    raw(engine, "UPDATE events SET position = :p WHERE position = :q", p=p, q=q)
    raw(engine, "UPDATE events SET position = :q WHERE position = -1", q=q)
    bad = first_bad(engine, signer)
    assert (bad.position, bad.kind) == (min(p, q), "reordered")
    assert f"position {max(p, q)}" in bad.detail


def test_swap_two_events_of_one_stream(engine, signer, log):
    p, q = position_of(engine, "rv-b", 2), position_of(engine, "rv-b", 3)
    raw(engine, "UPDATE events SET position = -1 WHERE position = :p", p=p)
    raw(engine, "UPDATE events SET position = :p WHERE position = :q", p=p, q=q)
    raw(engine, "UPDATE events SET position = :q WHERE position = -1", q=q)
    bad = first_bad(engine, signer)
    assert (bad.position, bad.kind) == (p, "reordered")


def test_rewrite_and_rehash_a_stream_is_caught_by_the_signed_checkpoint(engine, signer, log):
    """An intruder who knows the hash recipe edits an event and re-chains the
    rest of its stream: every row hash checks out, the signed root does not."""
    store = log
    recs = store.read_stream("rv-b")
    prev = GENESIS_HASH
    for r in recs:
        payload = '{"n":0,"text":"rewritten"}' if r.version == 2 else None
        with engine.connect() as conn:
            from sqlalchemy import text

            row = conn.execute(text("SELECT payload FROM events WHERE position = :p"), {"p": r.position}).scalar_one()
        payload = payload or row
        from storage.schema import ts_text

        h = chain_hash(prev, r.position, header_text(r.stream_id, r.version, r.event_type, r.schema_version, ts_text(r.occurred_at), ts_text(r.recorded_at), r.actor_id, r.actor_role, r.reason, r.causation_id), payload)
        raw(engine, "UPDATE events SET payload = :pl, prev_hash = :prev, hash = :h WHERE position = :p", pl=payload, prev=prev, h=h, p=r.position)
        prev = h
    assert verify_stream(engine, "rv-b").ok  # the stream alone looks intact
    bad = first_bad(engine, signer)
    assert (bad.position, bad.kind) == (1, "checkpoint")
    assert "positions 1..15" in bad.detail


def test_cli_verify_exits_non_zero_and_names_the_position(engine, signer, log, monkeypatch, tmp_path):
    import cli.audit

    monkeypatch.setattr(cli.audit, "_engine", lambda db: engine)
    monkeypatch.setattr(cli.audit, "_trusted", lambda key: signer.verifier())
    monkeypatch.setattr(cli.audit, "_witness_default", lambda: tmp_path / "witness")
    clean = CliRunner().invoke(app, ["verify"])
    assert clean.exit_code == 0, clean.output
    p = position_of(engine, "rv-a", 4)
    raw(engine, "UPDATE events SET reason = 'changed' WHERE position = :p", p=p)
    res = CliRunner().invoke(app, ["verify"])
    assert res.exit_code == 1
    assert f"first bad position {p}: edited" in res.output
