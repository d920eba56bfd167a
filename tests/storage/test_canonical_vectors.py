"""Fixed test vectors for the canonical encoding (storage/canonical.py): a known
event, its header and payload texts and its expected hash, written out as
literals. Every stored hash depends on these bytes, so any change to the
encoding (key order, spacing, escaping, timestamp form, the field order of the
header, the hash input's separators, the genesis hash) breaks a log already
written and must fail here first, even when writer and verifier change
together. The literals were computed once and are checked by hand below
(``hashlib`` over the spelled-out input), not by the module under test."""

from __future__ import annotations

import hashlib
import sqlite3
from datetime import UTC, datetime, timedelta, timezone

import pytest

from domain.events import EventRecord
from domain.procedure import Step
from storage import canonical as cn
from storage.schema import ts_text

KNOWN = EventRecord(
    stream_id="rv-vector",
    version=2,
    event_type="review.findings_recorded",
    schema_version=1,
    occurred_at=datetime(2010, 12, 7, 17, 0, 0, 123456, tzinfo=timezone(timedelta(hours=8))),  # Beijing time: stored as UTC
    actor_id="p-reviewer",
    actor_role="reviewer",
    reason="现场检查 on site",
    causation_id="update:u-1",
    payload={"z": {"y": 1, "x": "2010"}, "a": '意见 "quoted"\n', "b": [1, 2.5, None, True]},
    position=17,
    recorded_at=datetime(2010, 12, 7, 9, 0, 1, tzinfo=UTC),
    prev_hash="ab" * 32,
)
KNOWN_PAYLOAD = '{"a":"意见 \\"quoted\\"\\n","b":[1,2.5,null,true],"z":{"x":"2010","y":1}}'
KNOWN_HEADER = (
    '[1,"rv-vector",2,"review.findings_recorded",1,"2010-12-07T09:00:00.123456+00:00",'
    '"2010-12-07T09:00:01.000000+00:00","p-reviewer","reviewer","现场检查 on site","update:u-1"]'
)
KNOWN_HASH = "af2011d8231d6def5176a6158f8ad5cd3ca8c72e9ccadebd47ff7d5cb1915c66"
KNOWN_CONTENT_KEY = (
    '["rv-vector",2,"review.findings_recorded",1,"2010-12-07T09:00:00.123456+00:00","p-reviewer","reviewer","现场检查 on site","update:u-1"]'
    + KNOWN_PAYLOAD
)

GENESIS = EventRecord(
    stream_id="rv-1",
    version=1,
    event_type="review.started",
    schema_version=1,
    occurred_at=datetime(2010, 12, 7, 9, 0, tzinfo=UTC),
    payload={},
    position=1,
    recorded_at=datetime(2010, 12, 7, 9, 0, tzinfo=UTC),
    prev_hash="0" * 64,
)
GENESIS_HEADER = '[1,"rv-1",1,"review.started",1,"2010-12-07T09:00:00.000000+00:00","2010-12-07T09:00:00.000000+00:00",null,null,null,null]'
GENESIS_EVENT_HASH = "3fe2181988e05ccc1f0f5d59229aded9769394a4c5a93929d056aeb96e7484bd"


def by_hand(prev: str, position: int, header: str, payload: str) -> str:
    return hashlib.sha256(f"{prev}:{position}\n{header}\n{payload}".encode("utf-8")).hexdigest()


def test_the_literals_are_the_spelled_out_recipe():
    assert by_hand("ab" * 32, 17, KNOWN_HEADER, KNOWN_PAYLOAD) == KNOWN_HASH
    assert by_hand("0" * 64, 1, GENESIS_HEADER, "{}") == GENESIS_EVENT_HASH


def test_format_tag_and_genesis_hash():
    assert cn.FORMAT == 1
    assert cn.GENESIS_HASH == "0" * 64


def test_timestamps_are_utc_with_microseconds():
    assert ts_text(KNOWN.occurred_at) == "2010-12-07T09:00:00.123456+00:00"
    assert ts_text(KNOWN.recorded_at) == "2010-12-07T09:00:01.000000+00:00"


def test_payload_text():
    assert cn.canonical_json(KNOWN.payload) == KNOWN_PAYLOAD
    assert cn.canonical_json({}) == "{}"


def test_header_text():
    assert cn.record_header(KNOWN, KNOWN.recorded_at) == KNOWN_HEADER
    assert cn.record_header(KNOWN, "2010-12-07T09:00:01.000000+00:00") == KNOWN_HEADER
    assert cn.record_header(GENESIS, GENESIS.recorded_at) == GENESIS_HEADER


def test_event_hash():
    assert cn.record_hash(KNOWN) == KNOWN_HASH
    assert cn.record_hash(GENESIS) == GENESIS_EVENT_HASH
    assert cn.chain_hash("ab" * 32, 17, KNOWN_HEADER, KNOWN_PAYLOAD) == KNOWN_HASH


def test_the_writers_encoding_is_the_same_bytes():
    payload, header = cn.encode_event(
        KNOWN.stream_id, KNOWN.version, KNOWN.event_type, KNOWN.schema_version, ts_text(KNOWN.occurred_at), ts_text(KNOWN.recorded_at),
        KNOWN.actor_id, KNOWN.actor_role, KNOWN.reason, KNOWN.causation_id, KNOWN.payload,
    )
    assert payload == KNOWN_PAYLOAD.encode() and header == KNOWN_HEADER.encode()
    assert cn.chain_tail(KNOWN_HEADER, KNOWN_PAYLOAD) == f"\n{KNOWN_HEADER}\n{KNOWN_PAYLOAD}".encode()
    assert cn.chain_hash_tail("ab" * 32, 17, b"\n" + header + b"\n" + payload) == KNOWN_HASH


def _raw_row(rec: EventRecord, payload: str, h: str) -> tuple:
    return (rec.position, rec.stream_id, rec.version, rec.event_type, rec.schema_version, ts_text(rec.occurred_at), ts_text(rec.recorded_at),
            rec.actor_id, rec.actor_role, rec.reason, rec.causation_id, payload, rec.prev_hash, h)


def test_the_verifiers_raw_row_hash():
    row = _raw_row(KNOWN, KNOWN_PAYLOAD, KNOWN_HASH)
    assert cn.raw_hash(row) == KNOWN_HASH
    # the same row as PostgreSQL returns it: datetimes, not text
    pg_row = (*row[:5], KNOWN.occurred_at, KNOWN.recorded_at, *row[7:])
    assert cn.raw_hash(pg_row) == KNOWN_HASH
    assert cn.raw_hash(row, position=18) == by_hand("ab" * 32, 18, KNOWN_HEADER, KNOWN_PAYLOAD)
    assert cn.raw_hash(row, prev_hash="cd" * 32) == by_hand("cd" * 32, 17, KNOWN_HEADER, KNOWN_PAYLOAD)


def test_sqlites_own_hash_input_is_the_same_bytes():
    """The verifier's SQLite fast path builds the hash input in SQL."""
    cols = [c.strip() for c in cn.RAW_COLUMNS.split(",")]
    conn = sqlite3.connect(":memory:")
    try:
        for rec, payload, h in ((KNOWN, KNOWN_PAYLOAD, KNOWN_HASH), (GENESIS, "{}", GENESIS_EVENT_HASH)):
            row = _raw_row(rec, payload, h)
            select = ", ".join(f"? AS {c}" for c in cols)
            data = conn.execute(f"SELECT {cn.SQLITE_HASH_INPUT} FROM (SELECT {select})", row).fetchone()[0]
            assert hashlib.sha256(data).hexdigest() == h
    finally:
        conn.close()


def test_content_key():
    assert cn.content_key(KNOWN) == KNOWN_CONTENT_KEY


@pytest.mark.parametrize("missing", ["position", "recorded_at", "prev_hash"])
def test_an_event_not_stored_yet_has_no_hash(missing):
    with pytest.raises(ValueError) as info:
        cn.record_hash(KNOWN.model_copy(update={missing: None}))
    assert str(info.value) == "rv-vector@2 has not been stored yet"


def test_a_value_json_has_no_form_for_is_written_as_its_text():
    """A Decimal or a set in a payload is stored as ``str()`` of it, on the
    writer's and the verifier's side alike, rather than refused mid-append."""
    from decimal import Decimal

    payload = {"amount": Decimal("1.50"), "step": Step.REVIEW}
    assert cn.canonical_json(payload) == '{"amount":"1.50","step":"review"}'
    written, _ = cn.encode_event("rv-1", 1, "t", 1, "x", "y", None, None, None, None, payload)
    assert written == b'{"amount":"1.50","step":"review"}'
