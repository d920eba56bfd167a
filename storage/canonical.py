"""The canonical encoding of an event and its hash: the one definition shared
by the writer, the verifier, the checkpointer and the offline export check.

hash(event) = SHA-256( prev_hash ":" position "\\n" header "\\n" payload )

- ``header`` is a compact JSON array of the envelope (format tag, stream,
  version, type, schema version, occurred-at, recorded-at, actor, role,
  reason, causation id). JSON of scalars is unambiguous and self-delimiting.
- ``payload`` is the canonical JSON of the event's facts (sorted keys, no
  spaces, UTF-8), stored byte for byte in the ``payload`` column, so the
  verifier hashes what is stored without re-encoding.

Both are produced by orjson (sorted keys; no whitespace; UTF-8 text rather than
escape sequences), an order of magnitude faster than the stdlib encoder, which was the
largest cost of an append. Writer and verifiers all go through this module, so
the encoding is one definition.
- ``prev_hash`` chains the stream: editing, deleting or inserting one event
  breaks every later link of its stream.
- ``position`` binds the event to its slot in the global order, so moving an
  event (swapping two) breaks its hash even across streams.

Everything the writer decided or the store assigned is covered; only the
columns that are this encoding's inputs exist in the table.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

import orjson

from domain.events import EventRecord
from storage.schema import ts_text

FORMAT = 1
GENESIS_HASH = "0" * 64

_SORT = orjson.OPT_SORT_KEYS
_dumps = orjson.dumps


def _dumps_header(items: list) -> str:
    return orjson.dumps(items).decode()


def canonical_json(obj: Any) -> str:
    return orjson.dumps(obj, option=_SORT, default=str).decode()


def header_text(
    stream_id: str,
    version: int,
    event_type: str,
    schema_version: int,
    occurred_at: str,
    recorded_at: str,
    actor_id: str | None,
    actor_role: str | None,
    reason: str | None,
    causation_id: str | None,
) -> str:
    """Timestamps are passed already in :func:`storage.schema.ts_text` form."""
    return _dumps_header([FORMAT, stream_id, version, event_type, schema_version, occurred_at, recorded_at, actor_id, actor_role, reason, causation_id])


def chain_hash(prev_hash: str, position: int, header: str, payload_text: str) -> str:
    return hashlib.sha256(f"{prev_hash}:{position}\n{header}\n{payload_text}".encode()).hexdigest()


def chain_tail(header: str, payload_text: str) -> bytes:
    """The part of an event's hash input that does not depend on where it lands
    (its position and predecessor): encoded once, before the writer takes the
    log's lock, then finished by :func:`chain_hash_tail`."""
    return f"\n{header}\n{payload_text}".encode()


def encode_event(stream_id: str, version: int, event_type: str, schema_version: int, occurred_at: str, recorded_at: str, actor_id, actor_role, reason, causation_id, payload) -> tuple[bytes, bytes]:
    """``(canonical_json(payload), header_text(...))`` as orjson's UTF-8 bytes,
    in one step and without a text round trip: the writer's per-event
    encoding, byte for byte those definitions. The hash input's tail is
    ``b"\\n" + header + b"\\n" + payload`` (:func:`chain_tail`)."""
    return _dumps(payload, option=_SORT, default=str), _dumps([FORMAT, stream_id, version, event_type, schema_version, occurred_at, recorded_at, actor_id, actor_role, reason, causation_id])


def chain_hash_tail(prev_hash: str, position: int, tail: bytes) -> str:
    """``chain_hash(prev_hash, position, header, payload)`` from its :func:`chain_tail`."""
    return hashlib.sha256(f"{prev_hash}:{position}".encode() + tail).hexdigest()


def record_header(rec: EventRecord, recorded_at: datetime | str) -> str:
    """``recorded_at`` may come already in text form (one per batch)."""
    return header_text(
        rec.stream_id,
        rec.version,
        rec.event_type,
        rec.schema_version,
        ts_text(rec.occurred_at),
        recorded_at if isinstance(recorded_at, str) else ts_text(recorded_at),
        rec.actor_id,
        rec.actor_role,
        rec.reason,
        rec.causation_id,
    )


def record_hash(rec: EventRecord) -> str:
    """The hash a stored record (position, recorded_at, prev_hash filled) must carry."""
    if rec.position is None or rec.recorded_at is None or rec.prev_hash is None:
        raise ValueError(f"{rec.stream_id}@{rec.version} has not been stored yet")
    return chain_hash(rec.prev_hash, rec.position, record_header(rec, rec.recorded_at), canonical_json(rec.payload))


def content_key(rec: EventRecord) -> str:
    """What the writer decided (not what the store assigned): the basis of
    "same content" in the idempotence rule."""
    return _dumps_header(
        [rec.stream_id, rec.version, rec.event_type, rec.schema_version, ts_text(rec.occurred_at), rec.actor_id, rec.actor_role, rec.reason, rec.causation_id]
    ) + canonical_json(rec.payload)


# ---- raw rows: the verifier's and checkpointer's fast path --------------------

RAW_COLUMNS = "position, stream_id, version, event_type, schema_version, occurred_at, recorded_at, actor_id, actor_role, reason, causation_id, payload, prev_hash, hash"
"""Column order of a raw event row, as :func:`raw_hash` reads it."""


def raw_hash(r, position: int | None = None, prev_hash: str | None = None) -> str:
    """The hash a raw row must carry, from its stored columns as the driver
    returns them (SQLite: the timestamp text itself; PostgreSQL: datetimes).
    ``position``/``prev_hash`` override the row's own, to test a hypothesis
    such as "this row was moved here from position q"."""
    occurred, recorded = r[5], r[6]
    if occurred.__class__ is not str:
        occurred = ts_text(occurred)
    if recorded.__class__ is not str:
        recorded = ts_text(recorded)
    header = _dumps_header([FORMAT, r[1], r[2], r[3], r[4], occurred, recorded, r[7], r[8], r[9], r[10]])
    pos = r[0] if position is None else position
    prev = r[12] if prev_hash is None else prev_hash
    return hashlib.sha256(f"{prev}:{pos}\n{header}\n{r[11]}".encode()).hexdigest()


# ---- SQLite: the hash input assembled by the database --------------------------

SQLITE_HASH_INPUT = (
    "CAST(prev_hash || ':' || position || char(10) || "
    f"json_array({FORMAT}, stream_id, version, event_type, schema_version, occurred_at, recorded_at, actor_id, actor_role, reason, causation_id)"
    " || char(10) || payload AS BLOB)"
)
"""The bytes :func:`raw_hash` hashes, built by SQLite itself from a stored row
(on SQLite the timestamps are stored as the very text the hash covers). SQLite's
``json_array`` and orjson both write compact JSON with UTF-8 text, so for every
row the service wrote the two agree and the verifier only has to hash what it
fetches: one BLOB per row instead of fourteen Python objects. It is a fast path,
never the definition: a row whose SQL-built input does not hash to its stored
hash is re-checked with :func:`raw_hash` before it counts as edited (and JSON is
decodable, so two different rows cannot encode alike under either encoder)."""
