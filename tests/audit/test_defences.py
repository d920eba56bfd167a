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

from log_builders import drop_append_only_triggers, fill, position_of, raw
from storage.canonical import GENESIS_HASH, chain_hash, record_header
from storage.checkpoints import all_checkpoints, checkpoint_message, write_checkpoint
from storage.eventlog import EventStore
from storage.merkle import merkle_root
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


def test_a_clean_streams_report_counts_what_it_read(engine, signer, store):
    report = verify_stream(engine, "rv-d")
    assert report.ok and report.scope == "stream rv-d"
    assert (report.events, report.streams, report.last_position, report.head_position) == (3, 1, 18, 18)
    whole = verify_log(engine, signer.verifier())
    assert (whole.events, whole.streams, whole.last_position, whole.head_position, whole.checkpoints_verified) == (18, 4, 18, 18, 1)
