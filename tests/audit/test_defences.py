"""Each defence of ``audit verify``, proven by a tamper that only it catches:
switch that one check off and the tamper passes (docs/mutation.md lists the
hand mutations these tests were run against). Run on SQLite and PostgreSQL.

- the ``prev_hash`` links: an event written after the last checkpoint, edited
  and re-hashed alone (its own hash checks out, no signed root covers it),
  is only caught because its successor's ``prev_hash`` no longer names it;
- the checkpoint signature: a history rewritten and re-chained end to end,
  with the checkpoint's root replaced by the new one, reproduces the stored
  root; only the signature (or the key) tells it was not the service's.
"""

from __future__ import annotations

import pytest
from sqlalchemy import text

from log_builders import drop_append_only_triggers, fill, position_of, raw, rec
from storage.canonical import GENESIS_HASH, RAW_COLUMNS, chain_hash, header_text, raw_hash, record_header
from storage.checkpoints import all_checkpoints, checkpoint_message, write_checkpoint
from storage.eventlog import EventStore
from storage.merkle import merkle_root
from storage.schema import ts_text
from storage.signing import Signer
from storage.verify import verify_log, verify_stream

STREAMS = {"rv-a": 6, "rv-b": 4, "rv-c": 5}  # positions 1..15, signed
AFTER = {"rv-d": 3}  # positions 16..18, after the checkpoint


@pytest.fixture
def store(engine, signer) -> EventStore:
    store = EventStore(engine)
    fill(store, STREAMS)
    write_checkpoint(engine, signer)
    fill(store, AFTER)
    assert verify_log(engine, signer.verifier()).ok
    drop_append_only_triggers(engine)
    return store


def _payload(engine, position: int) -> str:
    with engine.connect() as conn:
        return conn.execute(text("SELECT payload FROM events WHERE position = :p"), {"p": position}).scalar_one()


def _rehash(engine, rec, payload: str, prev: str) -> str:
    """Write ``payload`` into the stored event and give it the hash the recipe
    gives it (with ``prev`` as its predecessor): what an intruder who knows
    storage/canonical.py does."""
    h = chain_hash(prev, rec.position, record_header(rec, rec.recorded_at), payload)
    raw(engine, "UPDATE events SET payload = :pl, prev_hash = :prev, hash = :h WHERE position = :p", pl=payload, prev=prev, h=h, p=rec.position)
    return h


# --------------------------------------------------------------------------
# the prev_hash links
# --------------------------------------------------------------------------


def test_an_event_after_the_last_checkpoint_edited_and_rehashed_alone_fails_verify(engine, signer, store):
    v2 = store.read_stream("rv-d")[1]
    assert v2.position > 15  # no signed root covers it
    _rehash(engine, v2, _payload(engine, v2.position).replace("note", "n0te"), v2.prev_hash)
    successor = position_of(engine, "rv-d", 3)

    report = verify_log(engine, signer.verifier())
    assert not report.ok
    assert (report.first_bad.position, report.first_bad.kind, report.first_bad.stream_id, report.first_bad.version) == (successor, "edited", "rv-d", 3)
    assert "prev_hash" in report.first_bad.detail

    alone = verify_stream(engine, "rv-d")
    assert not alone.ok and alone.first_bad.position == successor and "prev_hash" in alone.first_bad.detail


def test_a_first_event_rehashed_onto_a_forged_genesis_fails_verify(engine, signer, store):
    """The link of a stream's first event is to the genesis hash."""
    v1 = store.read_stream("rv-d")[0]
    _rehash(engine, v1, _payload(engine, v1.position), "f" * 64)
    report = verify_log(engine, signer.verifier())
    assert not report.ok and report.first_bad.position == v1.position and "genesis" in report.first_bad.detail


# --------------------------------------------------------------------------
# the checkpoint signature
# --------------------------------------------------------------------------


def _rewrite_rv_b(engine, store) -> None:
    """Edit rv-b v2 and re-chain the rest of rv-b: every row hash and link checks out."""
    prev = GENESIS_HASH
    for r in store.read_stream("rv-b"):
        payload = '{"n":0,"text":"rewritten"}' if r.version == 2 else _payload(engine, r.position)
        prev = _rehash(engine, r, payload, prev)


def _root_of_first(engine, size: int) -> str:
    with engine.connect() as conn:
        hashes = conn.execute(text("SELECT hash FROM events WHERE position <= :n ORDER BY position"), {"n": size}).scalars().all()
    return merkle_root(hashes)


def test_a_forged_root_under_the_services_key_id_fails_verify(engine, signer, store):
    _rewrite_rv_b(engine, store)
    assert verify_stream(engine, "rv-b").ok  # the stream alone looks intact
    raw(engine, "UPDATE checkpoints SET root_hash = :r WHERE tree_size = 15", r=_root_of_first(engine, 15))

    report = verify_log(engine, signer.verifier())
    assert not report.ok
    assert report.first_bad.kind == "checkpoint" and "bad signature" in report.first_bad.detail
    assert report.checkpoints_verified == 0
    assert report.first_bad.detail == f"{_checkpoint_15(engine)}: bad signature"


def test_a_root_re_signed_with_another_key_fails_verify(engine, signer, store):
    _rewrite_rv_b(engine, store)
    rogue = Signer("someone-elses-key")
    root = _root_of_first(engine, 15)
    with engine.connect() as conn:
        signed_at = all_checkpoints(conn)[0].signed_at  # the instant the message covers
    raw(engine, "UPDATE checkpoints SET root_hash = :r, key_id = :k, signature = :s WHERE tree_size = 15",
        r=root, k=rogue.key_id, s=rogue.sign(checkpoint_message(15, root, signed_at)))

    report = verify_log(engine, signer.verifier())
    assert not report.ok
    assert report.first_bad.kind == "checkpoint" and "another key" in report.first_bad.detail
    # under the rogue key it would pass: the key, not the arithmetic, is the defence
    assert verify_log(engine, rogue.verifier()).ok


def test_a_defect_line_names_position_stream_version_kind_and_detail():
    from storage.verify import Defect

    assert Defect(position=3, kind="edited", stream_id="rv-a", version=2, detail="changed").line() == "position 3 (rv-a v2): edited: changed"
    assert Defect(position=9, kind="deleted", detail="gone").line() == "position 9: deleted: gone"
    assert Defect(position=0, kind="deleted", stream_id="rv-x", detail="none").line() == "position 0 (rv-x): deleted: none"


def test_a_clean_streams_report_counts_what_it_read(engine, signer, store):
    report = verify_stream(engine, "rv-d")
    assert report.ok and report.scope == "stream rv-d"
    assert (report.events, report.streams, report.last_position, report.head_position) == (3, 1, 18, 18)
    whole = verify_log(engine, signer.verifier())
    assert (whole.events, whole.streams, whole.last_position, whole.head_position, whole.checkpoints_verified) == (18, 4, 18, 18, 1)


# --------------------------------------------------------------------------
# every defect's exact words: ``audit verify`` prints them as they are, and an
# auditor acts on what they say (which positions, which stream, how many)
# --------------------------------------------------------------------------


def _lines(report) -> list[str]:
    return [d.line() for d in report.defects]


def _checkpoint_15(engine) -> str:
    with engine.connect() as conn:
        cp = all_checkpoints(conn)[0]
    assert cp.tree_size == 15
    return f"the checkpoint at size 15 (signed {cp.signed_at:%Y-%m-%d %H:%M:%S})"


def _root_mismatch(engine, changed_from: int) -> str:
    """What the verifier says when the events up to the checkpoint no longer
    reproduce its root (the root of what is left, against the signed one)."""
    with engine.connect() as conn:
        now = conn.execute(text("SELECT hash FROM events WHERE position <= 15 ORDER BY position")).scalars().all()
        signed = conn.execute(text("SELECT root_hash FROM checkpoints WHERE tree_size = 15")).scalar_one()
    return f"the first 15 events hash to root {merkle_root(now)[:16]}…, not {signed[:16]}… of {_checkpoint_15(engine)}: something in positions {changed_from}..15 was changed"


def _swap(engine, p: int, q: int) -> None:
    raw(engine, "UPDATE events SET position = -1 WHERE position = :p", p=p)
    raw(engine, "UPDATE events SET position = :p WHERE position = :q", p=p, q=q)
    raw(engine, "UPDATE events SET position = :q WHERE position = -1", q=q)


def test_one_deleted_event_is_named_with_its_stream_and_the_signed_root(engine, signer, store):
    p = position_of(engine, "rv-a", 3)
    raw(engine, "DELETE FROM events WHERE position = :p", p=p)
    report = verify_log(engine, signer.verifier())
    assert _lines(report) == [
        f"position {p}: deleted: position {p} missing: 1 event deleted",
        f"position {p}: checkpoint: {_root_mismatch(engine, 1)}",
        f"position {position_of(engine, 'rv-a', 4)} (rv-a v4): deleted: v3 of the stream missing before this event",
    ]
    assert report.defects_total == 3 and report.checkpoints_verified == 0
    assert (report.events, report.streams) == (17, 4)  # counted by the stream-order scan a defect sends it to


def test_a_deleted_stream_is_named_run_by_run(engine, signer, store):
    """rv-b's four events sit at 3, 4, 9, 10: two runs of two."""
    assert [position_of(engine, "rv-b", v) for v in (1, 2, 3, 4)] == [3, 4, 9, 10]
    raw(engine, "DELETE FROM events WHERE stream_id = 'rv-b'")
    assert _lines(verify_log(engine, signer.verifier())) == [
        "position 3: deleted: positions 3..4 missing: 2 events deleted",
        f"position 3: checkpoint: {_root_mismatch(engine, 1)}",
        "position 9: deleted: positions 9..10 missing: 2 events deleted",
    ]
    assert _lines(verify_stream(engine, "rv-b")) == ["position 0 (rv-b): deleted: the log holds no event of this stream"]


def test_a_stream_of_one_event_is_a_stream(engine, signer, store):
    store.append("rv-e", 0, [rec("rv-e", 1, n=1)])
    report = verify_stream(engine, "rv-e")
    assert report.ok and report.events == 1 and report.streams == 1


def test_a_tail_cut_says_where_the_log_ends_and_what_was_handed_out_or_signed(engine, signer, store):
    raw(engine, "DELETE FROM events WHERE position > 16")
    assert _lines(verify_log(engine, signer.verifier())) == ["position 17: deleted: the log ends at position 16 but the service handed out up to 18: the tail was deleted"]
    raw(engine, "DELETE FROM events WHERE position > 12")
    raw(engine, "UPDATE log_head SET position = 12")
    assert _lines(verify_log(engine, signer.verifier())) == [f"position 13: deleted: the log ends at position 12 and {_checkpoint_15(engine)} signed 15 events: the tail was deleted"]


def test_a_root_given_by_hand_for_a_longer_log_says_it_expects_the_events(engine, signer, store):
    report = verify_log(engine, signer.verifier(), expected=(20, "AB" * 32))
    assert _lines(report) == ["position 19: deleted: the log ends at position 18 and the root given by hand for size 20 expects 20 events: the tail was deleted"]


def _forge_after_head(engine, store, *, stored_text: bool = False) -> int:
    """A correctly chained event of rv-a, past the head. Its times are bound
    as datetimes: on PostgreSQL the row then hashes correctly; SQLite stores
    the driver's text for them, which is not the log's, so there the row's
    hash fails too. ``stored_text``: bind the log's own text (``ts_text``), so
    the row hashes correctly on SQLite as well."""
    last = store.read_stream("rv-a")[-1]
    pos = store.head_position() + 1
    at = ts_text(last.occurred_at)  # the very text stored: the forged row's hash checks out
    payload = '{"n":99}'
    h = chain_hash(last.hash, pos, header_text("rv-a", last.version + 1, "test.noted", 1, at, at, "p-forger", "reviewer", None, None), payload)
    raw(
        engine,
        "INSERT INTO events (stream_id, version, position, event_type, schema_version, occurred_at, recorded_at, actor_id, actor_role, reason, causation_id, payload, prev_hash, hash) "
        "VALUES ('rv-a', :v, :p, 'test.noted', 1, :t, :t, 'p-forger', 'reviewer', NULL, NULL, :payload, :prev, :h)",
        v=last.version + 1, p=pos, t=at if stored_text else last.occurred_at, payload=payload, prev=last.hash, h=h,
    )
    return pos


def test_an_event_past_the_head_is_inserted_in_the_log_and_in_its_stream(engine, signer, store):
    pos = _forge_after_head(engine, store)
    expected = [f"position {pos} (rv-a v7): inserted: position {pos} was never handed out by the service (its last is 18)"]
    assert _lines(verify_log(engine, signer.verifier())) == expected
    alone = verify_stream(engine, "rv-a")
    assert _lines(alone) == expected
    assert (alone.events, alone.streams, alone.last_position, alone.head_position) == (7, 1, pos, 18)
    assert verify_stream(engine, "rv-b").ok


def test_a_correctly_hashed_event_past_the_head_is_named_with_its_stream_on_sqlite_too(engine, signer, store):
    """The verifier names an inserted row by its stream and version whether
    or not its hash checks out: on SQLite the pass reads such a row back by
    its position (a row whose hash checks out is in no other list)."""
    pos = _forge_after_head(engine, store, stored_text=True)
    with engine.connect() as conn:
        stored = conn.execute(text(f"SELECT {RAW_COLUMNS} FROM events WHERE position = :p"), {"p": pos}).one()
    assert raw_hash(tuple(stored)) == stored[13]  # the forged row is hashed as the log hashes
    expected = [f"position {pos} (rv-a v7): inserted: position {pos} was never handed out by the service (its last is 18)"]
    assert _lines(verify_log(engine, signer.verifier())) == expected


def test_an_edited_event_past_the_head_is_inserted_not_edited(engine, signer, store):
    """An event moved past the head no longer hashes at its new position: it is
    named once, as inserted (the gap it left is the deletion)."""
    raw(engine, "UPDATE events SET position = 40 WHERE position = 18")
    assert _lines(verify_log(engine, signer.verifier())) == [
        "position 18: deleted: positions 18..39 missing: 22 events deleted",
        "position 40 (rv-d v3): inserted: position 40 was never handed out by the service (its last is 18)",
    ]
    raw(engine, "UPDATE log_head SET position = 40")
    assert _lines(verify_log(engine, signer.verifier())) == [
        "position 18: deleted: positions 18..39 missing: 22 events deleted",
        "position 40 (rv-d v3): edited: the stored columns do not match the event's hash (content, actor, time or chain link changed)",
    ]


def test_two_events_swapped_across_streams_are_named_as_a_pair(engine, signer, store):
    p, q = position_of(engine, "rv-a", 2), position_of(engine, "rv-c", 3)
    assert (p, q) == (2, 11)
    _swap(engine, p, q)
    assert _lines(verify_log(engine, signer.verifier())) == [
        "position 2 (rv-c v3): reordered: swapped with position 11 (rv-a v2): each event carries the hash of the other's slot",
        "position 2 (rv-c v3): reordered: v3 sits at position 2, before v2 at 6",
        f"position 2: checkpoint: {_root_mismatch(engine, 1)}",
        "position 7 (rv-a v3): reordered: v3 sits at position 7, before v2 at 11",
    ]


def test_an_edited_event_is_named_with_what_may_have_changed(engine, signer, store):
    p = position_of(engine, "rv-b", 2)
    raw(engine, "UPDATE events SET payload = replace(payload, 'note', 'n0te') WHERE position = :p", p=p)
    expected = [f"position {p} (rv-b v2): edited: the stored columns do not match the event's hash (content, actor, time or chain link changed)"]
    assert _lines(verify_log(engine, signer.verifier())) == expected
    assert _lines(verify_stream(engine, "rv-b")) == expected


def test_the_report_keeps_the_earliest_defects_and_counts_them_all():
    """A badly damaged log would fill memory with defects: the report keeps the
    KEEP_DEFECTS earliest by position (ties in the order found) and counts all."""
    import random

    from storage.verify import KEEP_DEFECTS, Defect, _Defects

    found = [(p, tag) for p in range(1, KEEP_DEFECTS + 101) for tag in ("a", "b")]
    random.Random(13).shuffle(found)
    kept = _Defects()
    for p, tag in found:
        kept.add(Defect(position=p, kind="edited", detail=tag))
    assert kept.total == len(found) == 2 * KEEP_DEFECTS + 200
    got = [(d.position, d.detail) for d in kept.sorted()]
    first_found = {}
    for p, tag in found:
        first_found.setdefault(p, []).append(tag)
    assert got == [(p, tag) for p in range(1, KEEP_DEFECTS // 2 + 1) for tag in first_found[p]]
    # found in order, then one more at the next-to-last kept position: it
    # displaces the last one (the latest position), whichever way the heap lies
    kept = _Defects()
    for p in range(1, KEEP_DEFECTS + 1):
        kept.add(Defect(position=p, kind="edited", detail="first"))
    kept.add(Defect(position=KEEP_DEFECTS - 1, kind="edited", detail="again"))
    assert [(d.position, d.detail) for d in kept.sorted()][-3:] == [(KEEP_DEFECTS - 2, "first"), (KEEP_DEFECTS - 1, "first"), (KEEP_DEFECTS - 1, "again")]


@pytest.mark.parametrize("edited,named", [(1, "v1's hash"), (2, "v2's hash")])
def test_a_broken_link_names_the_event_it_should_follow(engine, signer, store, edited, named):
    rec_ = store.read_stream("rv-d")[edited - 1]
    _rehash(engine, rec_, _payload(engine, rec_.position).replace("note", "n0te"), rec_.prev_hash)
    successor = position_of(engine, "rv-d", edited + 1)
    line = f"position {successor} (rv-d v{edited + 1}): edited: prev_hash does not match {named}: the earlier event was rewritten, or this one forged"
    assert _lines(verify_log(engine, signer.verifier())) == [line]
    assert _lines(verify_stream(engine, "rv-d")) == [line]


def test_a_first_event_off_the_genesis_hash_is_named_word_for_word(engine, signer, store):
    v1 = store.read_stream("rv-d")[0]
    _rehash(engine, v1, _payload(engine, v1.position), "f" * 64)
    assert _lines(verify_log(engine, signer.verifier())) == [
        f"position {v1.position} (rv-d v1): edited: prev_hash does not match the genesis hash: the earlier event was rewritten, or this one forged",
        f"position {v1.position + 1} (rv-d v2): edited: prev_hash does not match v1's hash: the earlier event was rewritten, or this one forged",
    ]


def test_versions_missing_from_a_stream_are_named_as_a_range(engine, signer, store):
    """rv-a v3 and v4 deleted (with the global gaps and the signed root they break)."""
    gone = [position_of(engine, "rv-a", v) for v in (3, 4)]
    raw(engine, "DELETE FROM events WHERE stream_id = 'rv-a' AND version IN (3, 4)")
    v5 = position_of(engine, "rv-a", 5)
    lines = _lines(verify_log(engine, signer.verifier()))
    assert f"position {v5} (rv-a v5): deleted: v3..v4 of the stream missing before this event" in lines
    assert lines[0] == f"position {gone[0]}: deleted: positions {gone[0]}..{gone[1]} missing: 2 events deleted"
    assert _lines(verify_stream(engine, "rv-a")) == [f"position {v5} (rv-a v5): deleted: v3..v4 of the stream missing before this event"]


# --------------------------------------------------------------------------
# the hash worker's answer is only taken when it read the same rows
# --------------------------------------------------------------------------

from storage import verify as verify_module  # noqa: E402

_REAL_ANSWER = "print(json.dumps(hash_pass(conn.cursor(), sql, last, keep)))"


@pytest.mark.parametrize("answer", [
    pytest.param("found, p, h = hash_pass(conn.cursor(), sql, last, keep); print(json.dumps([[], 'f' * 64, h]))", id="other positions, no suspects"),
    pytest.param("found, p, h = hash_pass(conn.cursor(), sql, last, keep); print(json.dumps([[], p, 'f' * 64]))", id="other hashes, no suspects"),
    pytest.param("print('not json')", id="garbage"),
    pytest.param("raise SystemExit(3)", id="failed"),
])
def test_a_hash_worker_that_read_other_rows_or_failed_is_redone_here(engine, signer, store, monkeypatch, answer):
    if engine.dialect.name != "sqlite":
        pytest.skip("the hash worker runs on SQLite")
    p = position_of(engine, "rv-b", 2)
    raw(engine, "UPDATE events SET payload = replace(payload, 'note', 'n0te') WHERE position = :p", p=p)
    alone = _lines(verify_log(engine, signer.verifier()))
    assert alone == [f"position {p} (rv-b v2): edited: the stored columns do not match the event's hash (content, actor, time or chain link changed)"]
    assert _REAL_ANSWER in verify_module._WORKER_MAIN
    monkeypatch.setattr(verify_module, "_WORKER_MAIN", verify_module._WORKER_MAIN.replace(_REAL_ANSWER, answer))
    monkeypatch.setattr(verify_module, "PARALLEL_MIN", 1)
    started = []
    real = verify_module._start_hash_worker
    monkeypatch.setattr(verify_module, "_start_hash_worker", lambda conn: started.append(real(conn)) or started[-1])
    assert _lines(verify_log(engine, signer.verifier())) == alone
    assert started and started[0] is not None


@pytest.mark.parametrize("threshold,starts", [(18, True), (19, False)])
def test_the_hash_worker_starts_from_a_log_of_parallel_min_events(engine, signer, store, monkeypatch, threshold, starts):
    if engine.dialect.name != "sqlite":
        pytest.skip("the hash worker runs on SQLite")
    monkeypatch.setattr(verify_module, "PARALLEL_MIN", threshold)
    started = []
    real = verify_module._start_hash_worker
    monkeypatch.setattr(verify_module, "_start_hash_worker", lambda conn: started.append(real(conn)) or started[-1])
    assert verify_log(engine, signer.verifier()).ok
    assert (started[0] is not None) is starts


def test_an_empty_log_verifies(engine, signer, monkeypatch):
    """Nothing appended yet: no events, no defect (and no hash worker to start)."""
    monkeypatch.setattr(verify_module, "PARALLEL_MIN", 1)
    report = verify_log(engine, signer.verifier())
    assert report.ok and (report.events, report.streams, report.last_position, report.head_position) == (0, 0, 0, 0)


def test_an_event_moved_below_the_first_position_is_inserted_not_a_negative_gap(engine, signer, store):
    """The service hands out positions from 1. A row moved to 0 or below used
    to read as 'position 1 missing: -1 event deleted'; it is an insertion, and
    the gap it left is named as it is."""
    raw(engine, "UPDATE events SET position = 0 WHERE position = 1")
    assert _lines(verify_log(engine, signer.verifier())) == [
        "position 0 (rv-a v1): inserted: position 0 was never handed out by the service (its last is 18)",
        "position 1: deleted: position 1 missing: 1 event deleted",
    ]
    assert _lines(verify_stream(engine, "rv-a")) == ["position 0 (rv-a v1): inserted: position 0 was never handed out by the service (its last is 18)"]
    p = position_of(engine, "rv-a", 3)
    raw(engine, "UPDATE events SET position = -5 WHERE position = :p", p=p)
    lines = _lines(verify_log(engine, signer.verifier()))
    assert lines[:2] == [
        "position -5 (rv-a v3): inserted: position -5 was never handed out by the service (its last is 18)",
        "position -5 (rv-a v3): reordered: v3 sits at position -5, before v2 at 2",
    ]
    assert "position 1: deleted: position 1 missing: 1 event deleted" in lines
    assert f"position {p}: deleted: position {p} missing: 1 event deleted" in lines
    assert not [x for x in lines if "missing: -" in x or "positions -" in x or "positions 0" in x]


# --------------------------------------------------------------------------
# telling a move from an edit
# --------------------------------------------------------------------------


def _swapped_pairs(report) -> list[tuple[int, int]]:
    import re

    return [(d.position, int(re.search(r"swapped with position (\d+)", d.detail).group(1))) for d in report.defects if "swapped with" in d.detail]


@pytest.mark.parametrize("swaps", [
    pytest.param([(2, 5), (8, 11)], id="one pair after another"),
    pytest.param([(2, 8), (5, 11)], id="pairs interleaved"),
])
def test_every_swapped_pair_is_named_however_the_pairs_lie(engine, signer, store, swaps):
    for p, q in swaps:
        _swap(engine, p, q)
    report = verify_log(engine, signer.verifier())
    assert _swapped_pairs(report) == sorted(swaps)
    assert not [d for d in report.defects if d.kind == "edited"]


def test_a_moved_event_that_was_also_edited_is_not_a_swap(engine, signer, store):
    """Only two rows that each carry the other's slot's hash were swapped; a
    row edited after the move carries no slot's hash, so both are edits."""
    _swap(engine, 5, 12)
    raw(engine, "UPDATE events SET payload = replace(payload, 'note', 'n0te') WHERE position = 12")
    report = verify_log(engine, signer.verifier())
    assert _swapped_pairs(report) == []
    assert {d.position for d in report.defects if d.kind == "edited" and "stored columns" in d.detail} == {5, 12}


@pytest.mark.parametrize("failing,paired", [(200, True), (201, False)])
def test_swaps_are_looked_for_among_at_most_pairing_limit_failed_rows(engine, signer, failing, paired):
    """Pairing is quadratic: with more failed rows than PAIRING_LIMIT each is an edit."""
    from storage.verify import PAIRING_LIMIT

    assert PAIRING_LIMIT == 200
    store = EventStore(engine)
    fill(store, {"rv-x": 110, "rv-y": 110}, per_append=10)
    drop_append_only_triggers(engine)
    _swap(engine, 1, 2)
    raw(engine, "UPDATE events SET payload = replace(payload, 'note', 'n0te') WHERE position > 2 AND position <= :n", n=failing)
    report = verify_log(engine, signer.verifier())
    assert _swapped_pairs(report) == ([(1, 2)] if paired else [])
    edited = {d.position for d in report.defects if "stored columns" in d.detail}
    assert ({1, 2} <= edited) is not paired and {3, 4, 5} <= edited


@pytest.mark.parametrize("gone", [1, 15])
def test_a_failed_checkpoint_is_placed_at_the_first_defect_of_its_range_even_at_its_ends(engine, signer, store, gone):
    """The signed root covers 1..15: a deletion at either end is where the
    checkpoint finding points."""
    raw(engine, "DELETE FROM events WHERE position = :p", p=gone)
    lines = _lines(verify_log(engine, signer.verifier()))
    assert lines[:2] == [
        f"position {gone}: deleted: position {gone} missing: 1 event deleted",
        f"position {gone}: checkpoint: {_root_mismatch(engine, 1)}",
    ]


def test_a_clean_log_is_verified_in_one_pass(engine, signer, store, monkeypatch):
    """Every event follows its stream's previous one in position order, so the
    links are checked in the global pass; the stream-order scan (a second read
    of the whole log) runs only for an irregular log."""
    def no_second_scan(*args, **kwargs):
        raise AssertionError("the stream-order scan ran on a clean log")

    monkeypatch.setattr(verify_module, "_check_stream_links", no_second_scan)
    report = verify_log(engine, signer.verifier())
    assert report.ok and report.scope == "log" and report.streams == 4
    monkeypatch.setattr(verify_module, "PARALLEL_MIN", 1)  # and with the hash worker (SQLite)
    assert verify_log(engine, signer.verifier()).ok


@pytest.mark.parametrize("moved,to", [(7, -5), (1, -1)])
def test_one_event_moved_below_1_is_named_once_and_its_slot_once(engine, signer, store, moved, to):
    stream, version = {7: ("rv-a", 3), 1: ("rv-a", 1)}[moved]
    raw(engine, "UPDATE events SET position = :to WHERE position = :p", to=to, p=moved)
    lines = _lines(verify_log(engine, signer.verifier()))
    inserted = f"position {to} ({stream} v{version}): inserted: position {to} was never handed out by the service (its last is 18)"
    gap = f"position {moved}: deleted: position {moved} missing: 1 event deleted"
    if moved == 1:  # the Merkle leaves are the same hashes in the same order: only the gap and the row
        assert lines == [inserted, gap]
    else:
        assert lines == [inserted, f"position {to} (rv-a v3): reordered: v3 sits at position {to}, before v2 at 2", gap, f"position {moved}: checkpoint: {_root_mismatch(engine, 1)}"]


def test_a_stream_s_first_event_moved_below_1_is_not_called_reordered(engine, signer, store):
    """The stream-order scan compares an event's position with its stream's
    previous event's; a stream's first event has none. Moved to -1 it was
    named 'reordered: v1 sits at position -1, before v0 at 0' (a v0 that does
    not exist) by verify_stream, and by verify_log whenever another defect
    sent it to that scan."""
    raw(engine, "UPDATE events SET position = -1 WHERE position = 1")
    inserted = "position -1 (rv-a v1): inserted: position -1 was never handed out by the service (its last is 18)"
    assert _lines(verify_stream(engine, "rv-a")) == [inserted]
    p = position_of(engine, "rv-c", 1)
    raw(engine, "DELETE FROM events WHERE position = :p", p=p)  # a second defect: the links go to the stream-order scan
    assert _lines(verify_log(engine, signer.verifier())) == [
        inserted,
        "position 1: deleted: position 1 missing: 1 event deleted",
        f"position 1: checkpoint: {_root_mismatch(engine, 1)}",
        f"position {p}: deleted: position {p} missing: 1 event deleted",
        f"position {position_of(engine, 'rv-c', 2)} (rv-c v2): deleted: v1 of the stream missing before this event",
    ]


def test_an_event_placed_before_its_stream_s_previous_one_names_that_one_when_a_version_between_is_deleted(engine, signer, store):
    """rv-a v2 deleted and v1 swapped with v3: v3 sits before v1, its stream's
    previous event (it named v2, which is gone)."""
    assert [position_of(engine, "rv-a", v) for v in (1, 2, 3)] == [1, 2, 7]
    raw(engine, "DELETE FROM events WHERE position = 2")
    _swap(engine, 1, 7)
    reordered = [line for line in _lines(verify_stream(engine, "rv-a")) if "sits at position" in line]
    assert reordered == ["position 1 (rv-a v3): reordered: v3 sits at position 1, before v1 at 7"]
    assert "position 1 (rv-a v3): reordered: v3 sits at position 1, before v1 at 7" in _lines(verify_log(engine, signer.verifier()))


def test_checkpoints_at_consecutive_sizes_all_verify(engine, signer):
    """Checkpoints at 14, 15 and 16 events, then more events: each is checked
    against exactly its own number of events."""
    store = EventStore(engine)
    fill(store, {"rv-a": 14})
    for _ in range(3):
        write_checkpoint(engine, signer)
        store.append("rv-b", store.stream_version("rv-b"), [rec("rv-b", store.stream_version("rv-b") + 1, n=1)])
    fill(store, {"rv-c": 2})
    with engine.connect() as conn:
        assert [cp.tree_size for cp in all_checkpoints(conn)] == [14, 15, 16]
    report = verify_log(engine, signer.verifier())
    assert report.ok and report.checkpoints_verified == 3 and report.events == 19


def test_a_hash_worker_that_read_the_same_rows_is_believed(engine, signer, store, monkeypatch):
    """When the worker's digests match what this process read, its suspects are
    taken as they are: the pass is not redone here."""
    if engine.dialect.name != "sqlite":
        pytest.skip("the hash worker runs on SQLite")
    p = position_of(engine, "rv-b", 2)
    raw(engine, "UPDATE events SET payload = replace(payload, 'note', 'n0te') WHERE position = :p", p=p)

    def not_here(*args, **kwargs):
        raise AssertionError("the hash pass was redone in this process")

    monkeypatch.setattr(verify_module, "PARALLEL_MIN", 1)
    monkeypatch.setattr(verify_module, "_hash_pass", not_here)
    assert _lines(verify_log(engine, signer.verifier())) == [
        f"position {p} (rv-b v2): edited: the stored columns do not match the event's hash (content, actor, time or chain link changed)"
    ]


def test_a_one_event_stream_off_the_genesis_hash_is_caught_in_the_single_pass(engine, signer, store):
    """No successor names it: only the first event's own link to the genesis
    hash tells (after the checkpoint, so no signed root covers it either)."""
    (lone,) = store.append("rv-e", 0, [rec("rv-e", 1, n=1)])
    _rehash(engine, lone, _payload(engine, lone.position), "f" * 64)
    assert _lines(verify_log(engine, signer.verifier())) == [
        f"position {lone.position} (rv-e v1): edited: prev_hash does not match the genesis hash: the earlier event was rewritten, or this one forged"
    ]


@pytest.mark.parametrize("cap,second_scan", [(4, False), (3, True)])
def test_more_open_streams_than_stream_cap_send_the_links_to_the_stream_order_scan(engine, signer, store, monkeypatch, cap, second_scan):
    """The single-pass link check keeps one entry per open stream, up to
    STREAM_CAP (memory stays bounded); beyond it the exact scan runs instead."""
    scans = []
    real = verify_module._check_stream_links
    monkeypatch.setattr(verify_module, "STREAM_CAP", cap)
    monkeypatch.setattr(verify_module, "_check_stream_links", lambda *a, **kw: scans.append(1) or real(*a, **kw))
    report = verify_log(engine, signer.verifier())
    assert report.ok and report.streams == 4
    assert bool(scans) is second_scan


def test_a_log_read_in_many_chunks_is_counted_whole(engine, signer, store, monkeypatch):
    import functools

    monkeypatch.setattr(verify_module.scan, "chunks", functools.partial(verify_module.scan.chunks, batch=4))
    report = verify_log(engine, signer.verifier())
    assert report.ok and (report.events, report.last_position, report.checkpoints_verified) == (18, 18, 1)


def test_when_the_hash_worker_s_answer_is_not_taken_the_redo_here_finds_every_edited_row(engine, signer, monkeypatch):
    """The in-process redo after a hash worker whose answer is not taken keeps
    as many suspects as the worker would (``KEEP_DEFECTS * 10``), not a tenth
    of the defects: 30 edited rows are 30 defects."""
    if engine.dialect.name != "sqlite":
        pytest.skip("the hash worker runs on SQLite")
    store = EventStore(engine)
    fill(store, {"rv-many": 40})
    drop_append_only_triggers(engine)
    raw(engine, "UPDATE events SET payload = replace(payload, 'note', 'n0te') WHERE position <= 30")
    monkeypatch.setattr(verify_module, "_WORKER_MAIN", verify_module._WORKER_MAIN.replace(_REAL_ANSWER, "raise SystemExit(3)"))  # the worker fails
    monkeypatch.setattr(verify_module, "PARALLEL_MIN", 1)
    lines = _lines(verify_log(engine, signer.verifier()))
    assert len(lines) == 30 and all(": edited: " in line for line in lines), lines
    assert verify_module.KEEP_DEFECTS // 10 < 30  # more than a tenth of what is kept: the cap would show
