"""Checkpoints an insider cannot quietly delete (issue 13, point 5): each
signed checkpoint is also kept in an append-only witness file outside the
database (and optionally posted to a second store); ``verify`` checks the log
against the witnessed checkpoints, against a size and root given by hand, and
calls a log whose unsigned tail is older than the checkpoint interval allows
a defect. Tampered the way an intruder with SQL access would, on SQLite and
PostgreSQL."""

from __future__ import annotations

import json
import threading
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

import cli.audit
from cli.audit import app
from log_builders import drop_append_only_triggers, fill, position_of, raw
from storage.canonical import chain_hash, header_text
from storage.checkpoints import all_checkpoints, write_checkpoint
from storage.eventlog import EventStore
from storage.schema import ts_text
from storage.signing import Signer
from storage.verify import verify_log
from storage.witness import Witness, WitnessFailed, read_witness

STREAMS = {"rv-a": 6, "rv-b": 4, "rv-c": 5}  # positions 1..15
LATER = {"rv-d": 3}  # positions 16..18
DAY_LATER = datetime.now(timezone.utc) + timedelta(days=1)
LAG = timedelta(minutes=2)


@pytest.fixture
def witness(tmp_path) -> Witness:
    return Witness(tmp_path / "witness")


@pytest.fixture
def log(engine, signer, witness):
    """Two signed and witnessed checkpoints (15 and 18 events); then the
    intruder drops the append-only triggers."""
    store = EventStore(engine)
    fill(store, STREAMS)
    write_checkpoint(engine, signer, witness)
    fill(store, LATER)
    write_checkpoint(engine, signer, witness)
    assert verify_log(engine, signer.verifier(), witnessed=read_witness(witness.directory), max_unsigned_age=LAG, now=DAY_LATER).ok
    drop_append_only_triggers(engine)
    return store


def verified(engine, signer, witness=None, **kw):
    return verify_log(engine, signer.verifier(), witnessed=read_witness(witness.directory) if witness else None, **kw)


def rehash_stream(engine, store, stream_id: str, edit_version: int) -> None:
    """Rewrite one event's payload and re-chain the rest of its stream, as an
    intruder who knows the hash recipe would: every row hash checks out."""
    prev = None
    for r in store.read_stream(stream_id):
        with engine.connect() as conn:
            payload = conn.execute(text("SELECT payload FROM events WHERE position = :p"), {"p": r.position}).scalar_one()
        if r.version == edit_version:
            payload = '{"n":0,"text":"rewritten"}'
        prev = prev or r.prev_hash
        h = chain_hash(prev, r.position, header_text(r.stream_id, r.version, r.event_type, r.schema_version, ts_text(r.occurred_at), ts_text(r.recorded_at), r.actor_id, r.actor_role, r.reason, r.causation_id), payload)
        raw(engine, "UPDATE events SET payload = :pl, prev_hash = :prev, hash = :h WHERE position = :p", pl=payload, prev=prev, h=h, p=r.position)
        prev = h


# ---- writing the witness ----------------------------------------------------


def test_each_new_checkpoint_is_appended_once(engine, signer, witness):
    store = EventStore(engine)
    fill(store, STREAMS)
    a = write_checkpoint(engine, signer, witness)
    write_checkpoint(engine, signer, witness)  # nothing new: no second line
    fill(store, LATER)
    b = write_checkpoint(engine, signer, witness)
    lines = witness.file.read_text().splitlines()
    assert [json.loads(x)["tree_size"] for x in lines] == [15, 18]
    got = read_witness(witness.directory)
    assert [c.model_dump() for c in got.checkpoints] == [a.model_dump(), b.model_dump()] and got.bad_lines == []


def test_an_empty_witness_gets_the_newest_checkpoint_at_once(engine, signer, tmp_path):
    """A witness set up after checkpoints were signed starts with the newest."""
    fill(EventStore(engine), STREAMS)
    write_checkpoint(engine, signer)
    late = Witness(tmp_path / "late")
    write_checkpoint(engine, signer, late)
    assert read_witness(late.file).newest.tree_size == 15


def test_a_witness_that_cannot_be_written_is_an_error(engine, signer, tmp_path):
    fill(EventStore(engine), STREAMS)
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    with pytest.raises(WitnessFailed, match="not written to the witness file"):
        write_checkpoint(engine, signer, Witness(blocker / "witness"))


class _Store(BaseHTTPRequestHandler):
    received: list = []
    fail = False

    def do_POST(self):  # noqa: N802 (http.server's name)
        body = self.rfile.read(int(self.headers["Content-Length"]))
        if type(self).fail:
            self.send_response(503)
        else:
            type(self).received.append(json.loads(body))
            self.send_response(201)
        self.end_headers()

    def log_message(self, *args):
        pass


def test_checkpoints_are_posted_to_a_second_store_and_retried(sqlite_url, signer, tmp_path):
    from storage.db import make_engine
    from storage.migrate import upgrade

    engine = make_engine(sqlite_url)
    upgrade(engine)
    server = HTTPServer(("127.0.0.1", 0), _Store)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        _Store.received, _Store.fail = [], True
        w = Witness(tmp_path / "w", url=f"http://127.0.0.1:{server.server_port}/checkpoints")
        store = EventStore(engine)
        fill(store, STREAMS)
        with pytest.raises(WitnessFailed, match="not accepted by the witness store"):
            write_checkpoint(engine, signer, w)
        assert read_witness(w.file).newest.tree_size == 15  # the file has it regardless
        _Store.fail = False
        fill(store, LATER)
        write_checkpoint(engine, signer, w)
        assert [d["tree_size"] for d in _Store.received] == [15, 18]  # the missed one first
    finally:
        server.shutdown()
        engine.dispose()


# ---- tampering ---------------------------------------------------------------


def test_all_checkpoints_deleted_is_caught_by_the_witness(engine, signer, witness, log):
    raw(engine, "DELETE FROM checkpoints")
    assert verified(engine, signer).ok  # the database alone cannot tell
    report = verified(engine, signer, witness)
    assert not report.ok
    assert report.first_bad.kind == "checkpoint"
    assert "the database has no checkpoint at that size: checkpoint rows were deleted" in report.first_bad.detail


def test_all_checkpoints_deleted_from_an_old_log_is_a_defect_even_without_a_witness(engine, signer, log):
    raw(engine, "DELETE FROM checkpoints")
    assert verified(engine, signer, max_unsigned_age=LAG).ok  # a young log may not be signed yet
    report = verified(engine, signer, max_unsigned_age=LAG, now=DAY_LATER)
    [d] = report.defects
    assert (d.position, d.kind) == (1, "checkpoint")
    assert "positions 1..18" in d.detail and "no checkpoint exists" in d.detail


def test_checkpoints_after_an_edit_deleted(engine, signer, witness, log):
    """The intruder edits an event of the last stream, re-chains it and deletes
    the checkpoint that covered it; the older one still verifies."""
    p = position_of(engine, "rv-d", 2)
    rehash_stream(engine, log, "rv-d", 2)
    raw(engine, "DELETE FROM checkpoints WHERE tree_size > 15")
    assert verified(engine, signer).ok  # the database alone cannot tell
    report = verified(engine, signer, witness)
    assert not report.ok
    kinds = {d.kind for d in report.defects}
    assert kinds == {"checkpoint"}
    [root] = [d for d in report.defects if "hash to root" in d.detail]
    assert root.position == 16 and "witnessed checkpoint at size 18" in root.detail and "positions 16..18 was changed" in root.detail
    assert p in range(16, 19)
    stale = verified(engine, signer, max_unsigned_age=LAG, now=DAY_LATER)
    assert "the newest checkpoint covers only 15 events" in stale.first_bad.detail


def test_re_signing_with_a_different_key(engine, signer, witness, log):
    """The intruder rewrites a stream and replaces every checkpoint with ones
    signed by a key of their own."""
    rehash_stream(engine, log, "rv-b", 2)
    raw(engine, "DELETE FROM checkpoints")
    intruder = Signer("the intruder's own key")
    write_checkpoint(engine, intruder)
    report = verified(engine, signer)
    assert not report.ok and "signed by another key" in report.first_bad.detail
    report = verified(engine, signer, witness)
    details = [d.detail for d in report.defects]
    assert any("witnessed checkpoint at size 15" in d and "hash to root" in d for d in details)
    assert any("the database has a different checkpoint at that size" in d or "no checkpoint at that size" in d for d in details)


def test_a_tail_cut_names_where_the_log_ends_and_what_was_signed(engine, signer, witness, log):
    raw(engine, "DELETE FROM events WHERE position > 16")
    raw(engine, "UPDATE log_head SET position = 16 WHERE id = 1")
    raw(engine, "DELETE FROM checkpoints WHERE tree_size > 15")
    report = verified(engine, signer, witness)
    tail = [d for d in report.defects if d.kind == "deleted"]
    assert tail and "the log ends at position 16 and the witnessed checkpoint at size 18" in tail[0].detail and "signed 18 events" in tail[0].detail


def test_an_edited_witness_line_is_a_defect(engine, signer, witness, log):
    with open(witness.file, "a") as f:
        f.write("not a checkpoint\n")
    report = verified(engine, signer, witness)
    assert any("line 3 of the witness" in d.detail for d in report.defects)


def test_a_size_and_root_given_by_hand(engine, signer, log):
    """No witness at all: the size and root an auditor noted earlier."""
    with engine.connect() as conn:
        size, root = conn.execute(text("SELECT tree_size, root_hash FROM checkpoints ORDER BY tree_size DESC LIMIT 1")).one()
    assert verified(engine, signer, expected=(size, root)).ok
    rehash_stream(engine, log, "rv-d", 2)
    raw(engine, "DELETE FROM checkpoints WHERE tree_size > 15")
    report = verified(engine, signer, expected=(size, root))
    assert not report.ok and "the root given by hand for size 18" in report.first_bad.detail


# ---- the command line ------------------------------------------------------------


@pytest.fixture
def cli_log(engine, signer, witness, log, monkeypatch):
    monkeypatch.setattr(cli.audit, "_engine", lambda db: engine)
    monkeypatch.setattr(cli.audit, "_trusted", lambda key: signer.verifier())
    monkeypatch.setattr(cli.audit, "_witness_default", lambda: witness.directory)
    return log


def test_cli_verify_uses_the_configured_witness(engine, signer, witness, cli_log):
    clean = CliRunner().invoke(app, ["verify"])
    assert clean.exit_code == 0 and "witness up to size 18" in clean.output, clean.output
    raw(engine, "DELETE FROM checkpoints")
    res = CliRunner().invoke(app, ["verify"])
    assert res.exit_code == 1 and "checkpoint rows were deleted" in res.output


def test_cli_verify_names_a_missing_witness(engine, signer, witness, cli_log, tmp_path):
    res = CliRunner().invoke(app, ["verify", "--witness", str(tmp_path / "nowhere.jsonl")])
    assert res.exit_code == 2 and "no witness file at" in res.output
    cli.audit._witness_default = lambda: tmp_path / "unset"  # (the fixture's monkeypatch restores the original)
    res = CliRunner().invoke(app, ["verify"])
    assert res.exit_code == 0 and "note: no witness file at" in res.output


def test_cli_verify_expect_size_and_root(engine, signer, witness, cli_log):
    with engine.connect() as conn:
        root = conn.execute(text("SELECT root_hash FROM checkpoints WHERE tree_size = 15")).scalar_one()
    assert CliRunner().invoke(app, ["verify", "--expect-size", "15", "--expect-root", root]).exit_code == 0
    res = CliRunner().invoke(app, ["verify", "--expect-size", "15", "--expect-root", "ab" * 32])
    assert res.exit_code == 1 and "the root given by hand for size 15: that root is not this log's" in " ".join(res.output.split())  # the checkpoint at 15 verified
    res = CliRunner().invoke(app, ["verify", "--expect-size", "15"])
    assert res.exit_code == 2 and "--expect-root" in res.output
    res = CliRunner().invoke(app, ["verify", "--expect-size", "15", "--expect-root", "xyz"])
    assert res.exit_code == 2 and "not a 64-digit hex" in res.output


def _recorded_at(engine, position: int) -> datetime:
    from storage.eventlog import EventStore as _Store

    [r] = [r for r in _Store(engine).read_all(after_position=position - 1) if r.position == position]
    return r.recorded_at if r.recorded_at.tzinfo else r.recorded_at.replace(tzinfo=timezone.utc)


@pytest.mark.parametrize("deleted,first,what", [
    ("", 1, "no checkpoint exists (none in the database)"),
    ("WHERE tree_size > 15", 16, "the newest checkpoint covers only 15 events"),
])
def test_an_unsigned_tail_too_old_is_named_word_for_word(engine, signer, log, deleted, first, what):
    raw(engine, f"DELETE FROM checkpoints {deleted}")
    at = _recorded_at(engine, first)
    report = verified(engine, signer, max_unsigned_age=LAG, now=DAY_LATER)
    minutes = (DAY_LATER - at).total_seconds() / 60
    assert [d.line() for d in report.defects] == [
        f"position {first}: checkpoint: positions {first}..18 were recorded from {at:%Y-%m-%d %H:%M:%S} UTC on, {minutes:.0f} min ago, "
        f"longer than checkpoints may lag (2 min), but {what}: checkpoints were deleted, or no checkpointer has run"
    ]
    # the allowed lag in minutes, as given
    assert "checkpoints may lag (90 min)" in verified(engine, signer, max_unsigned_age=timedelta(minutes=90), now=DAY_LATER).first_bad.detail
    # exactly as old as allowed is not yet a defect; a moment older is
    assert verified(engine, signer, max_unsigned_age=DAY_LATER - at, now=DAY_LATER).ok
    assert not verified(engine, signer, max_unsigned_age=DAY_LATER - at - timedelta(microseconds=1), now=DAY_LATER).ok


def test_a_fully_signed_log_has_no_unsigned_tail_however_old(engine, signer, log):
    assert verified(engine, signer, max_unsigned_age=timedelta(0), now=DAY_LATER + timedelta(days=365)).ok


def _signed_at(witness, size: int) -> str:
    [cp] = [cp for cp in read_witness(witness.directory).checkpoints if cp.tree_size == size]
    return f"{cp.signed_at:%Y-%m-%d %H:%M:%S}"


def test_checkpoints_the_database_lost_are_named_word_for_word(engine, signer, witness, log):
    raw(engine, "DELETE FROM checkpoints")
    report = verified(engine, signer, witness)
    assert [d.line() for d in report.defects] == [
        f"position {n}: checkpoint: the witness {witness.file} holds a checkpoint at size {n} (signed {_signed_at(witness, n)}); "
        "the database has no checkpoint at that size: checkpoint rows were deleted or replaced"
        for n in (15, 18)
    ]
    # the witnessed copies are still checked against the log, and hold
    assert (report.checkpoints_verified, report.witnessed_size, report.notes) == (2, 18, [])


def test_checkpoints_replaced_under_another_key_are_named_word_for_word(engine, signer, witness, log):
    raw(engine, "DELETE FROM checkpoints")
    intruder = Signer("the intruder's own key")
    write_checkpoint(engine, intruder)
    report = verified(engine, signer, witness)
    with engine.connect() as conn:
        [forged] = all_checkpoints(conn)
    forged_at = forged.signed_at
    assert [d.line() for d in report.defects] == [
        f"position 15: checkpoint: the witness {witness.file} holds a checkpoint at size 15 (signed {_signed_at(witness, 15)}); "
        "the database has no checkpoint at that size: checkpoint rows were deleted or replaced",
        f"position 16: checkpoint: the checkpoint at size 18 (signed {forged_at:%Y-%m-%d %H:%M:%S}): "
        f"signed by another key ({intruder.key_id[:16]}…, not the trusted {signer.key_id[:16]}…)",
        f"position 18: checkpoint: the witness {witness.file} holds a checkpoint at size 18 (signed {_signed_at(witness, 18)}); "
        "the database has a different checkpoint at that size: checkpoint rows were deleted or replaced",
    ]
    assert report.checkpoints_verified == 2  # the two witnessed ones


def test_an_edited_witness_line_is_named_word_for_word(engine, signer, witness, log):
    with open(witness.file, "a") as f:
        f.write("not a checkpoint\n")
    assert [d.line() for d in verified(engine, signer, witness).defects] == [
        f"position 0: checkpoint: line 3 of the witness {witness.file} is not a checkpoint: the witness file was edited"
    ]


def test_a_witness_behind_the_database_is_a_note_not_a_defect(engine, signer, witness, log):
    level = verified(engine, signer, witness)
    assert level.ok and level.notes == [] and level.witnessed_size == 18  # as far as the database: nothing to note
    fill(log, {"rv-e": 2})
    write_checkpoint(engine, signer)  # not witnessed
    report = verified(engine, signer, witness)
    assert report.ok and report.witnessed_size == 18 and report.checkpoints_verified == 3
    assert report.notes == [f"the database has checkpoints up to size 20, the witness {witness.file} only up to 18: the later ones were checked against the database alone"]
    assert verified(engine, signer).notes == [] and verified(engine, signer).witnessed_size is None


def test_a_witness_with_nothing_yet_reads_as_size_zero(engine, signer, tmp_path, log):
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    report = verify_log(engine, signer.verifier(), witnessed=read_witness(empty))
    assert report.ok and report.witnessed_size == 0
    assert report.notes == [f"the database has checkpoints up to size 18, the witness {empty} only up to 0: the later ones were checked against the database alone"]


def test_no_checkpoint_anywhere_says_where_it_looked(engine, signer, tmp_path, log):
    """The finding names the witness when one was read (and held nothing), and
    only the database when the auditor gave a root by hand instead."""
    with engine.connect() as conn:
        size, root = conn.execute(text("SELECT tree_size, root_hash FROM checkpoints ORDER BY tree_size DESC LIMIT 1")).one()
    raw(engine, "DELETE FROM checkpoints")
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    looked = verify_log(engine, signer.verifier(), witnessed=read_witness(empty), max_unsigned_age=LAG, now=DAY_LATER)
    [d] = looked.defects
    assert "but no checkpoint exists (none in the database, none witnessed): checkpoints were deleted" in d.detail and d.position == 1
    by_hand = verify_log(engine, signer.verifier(), expected=(size, root), max_unsigned_age=LAG, now=DAY_LATER)
    [d] = by_hand.defects
    assert "but no checkpoint exists (none in the database): checkpoints were deleted" in d.detail and d.position == 1


def test_the_unsigned_tail_starts_at_its_first_position_whatever_the_tables_order(engine, signer, log):
    """The first event no checkpoint covers is found by position, not by where
    its row lies (on PostgreSQL an updated row moves to the end of the table)."""
    raw(engine, "DELETE FROM checkpoints")
    raw(engine, "UPDATE events SET reason = 'moved' WHERE position = 1")
    report = verified(engine, signer, max_unsigned_age=LAG, now=DAY_LATER)
    [tail] = [d for d in report.defects if d.kind == "checkpoint"]
    assert tail.position == 1 and "positions 1..18" in tail.detail


def test_a_checkpoint_kept_in_both_places_is_named_as_the_checkpoint(engine, signer, witness, log):
    """A checkpoint the database and the witness both hold, no longer matched
    by the log, is 'the checkpoint', as a database-only one is."""
    rehash_stream(engine, log, "rv-b", 2)
    with engine.connect() as conn:
        signed_at = next(cp.signed_at for cp in all_checkpoints(conn) if cp.tree_size == 15)
    report = verified(engine, signer, witness)
    [root] = [d for d in report.defects if "hash to root" in d.detail and "size 15" in d.detail]
    assert root.detail.endswith(f"of the checkpoint at size 15 (signed {signed_at:%Y-%m-%d %H:%M:%S}): something in positions 1..15 was changed")


def test_a_root_given_by_hand_for_the_size_a_checkpoint_verified_is_named_as_not_this_log_s(engine, signer):
    """A signed checkpoint at the log's last size verifies, and a root typed by
    hand for that same size does not match: the log is as signed, so what is
    wrong is the typed root, and the finding says so (it named an empty
    range of positions, 19..18, before)."""
    store = EventStore(engine)
    fill(store, {"rv-a": 10, "rv-b": 8})
    cp = write_checkpoint(engine, signer)
    assert cp.tree_size == 18
    report = verify_log(engine, signer.verifier(), expected=(18, "ab" * 32))
    assert report.checkpoints_verified == 1
    assert [d.line() for d in report.defects] == [
        f"position 18: checkpoint: the first 18 events hash to root {cp.root_hash[:16]}…, as the checkpoint verified at size 18 signed, "
        f"not to {'ab' * 8}… of the root given by hand for size 18: that root is not this log's"
    ]
