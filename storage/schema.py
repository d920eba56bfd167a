"""Tables of the event log, its signed checkpoints and the outbox (Alembic
migrations create them; ``migrations/`` holds the history).

Two storage choices serve the auditor's verification speed:

- ``payload`` is TEXT holding the canonical JSON the hash was computed over,
  so verifying an event hashes the stored bytes instead of re-encoding a
  parsed document (the JSON round trip is most of the cost of a verify);
- timestamps go through :class:`UtcTimestamp`: ``timestamptz`` on PostgreSQL,
  and on SQLite the very ISO-8601 UTC text the hash covers, so a raw row
  needs no parsing to be re-hashed and text order is time order.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import orjson

from sqlalchemy import BigInteger, Column, DateTime, Index, Integer, MetaData, String, Table, Text, UniqueConstraint, text
from sqlalchemy.types import TypeDecorator

metadata = MetaData()

# BIGINT on PostgreSQL; exactly INTEGER on SQLite, where only that spelling
# makes a primary key the rowid
POSITION = BigInteger().with_variant(Integer(), "sqlite")


_ZERO = timedelta(0)
_dumps = orjson.dumps


def ts_text(dt: datetime) -> str:
    """The one text form of an instant: UTC, microseconds, explicit offset
    (``isoformat(timespec="microseconds")`` of the instant in UTC).

    Written by orjson's C formatter, ~2.5x faster than the ``isoformat`` path: it
    was the largest single cost of encoding an event for the log. orjson leaves
    out a zero fraction, so that case gets its ".000000" back (property-tested
    equal to ``isoformat`` in tests/storage/test_ts_text.py)."""
    if dt.__class__ is datetime:
        off = dt.utcoffset()
        if off == _ZERO:
            s = _dumps(dt)  # b'"YYYY-MM-DDTHH:MM:SS[.ffffff]+00:00"'
            return (s[1:-1] if dt.microsecond else s[1:20] + b".000000" + s[20:-1]).decode()
        return ts_text(dt.replace(tzinfo=timezone.utc) if off is None else dt.astimezone(timezone.utc))
    return _ts_text_slow(dt)


def _ts_text_slow(dt: datetime) -> str:
    """Subclasses of datetime (orjson formats only datetime itself)."""
    off = dt.utcoffset()
    if off is None:
        dt = dt.replace(tzinfo=timezone.utc)
    elif off:
        dt = dt.astimezone(timezone.utc)
    text = dt.isoformat(timespec="microseconds")
    return text if text.endswith("+00:00") else dt.replace(tzinfo=timezone.utc).isoformat(timespec="microseconds")


class UtcTimestamp(TypeDecorator):
    """tz-aware in, tz-aware UTC out; naive values are taken as UTC."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def load_dialect_impl(self, dialect):
        if dialect.name == "sqlite":
            return dialect.type_descriptor(String(32))
        return dialect.type_descriptor(DateTime(timezone=True))

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if dialect.name == "sqlite":
            return ts_text(value)
        return value if value.tzinfo else value.replace(tzinfo=timezone.utc)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if isinstance(value, str):
            return datetime.fromisoformat(value).astimezone(timezone.utc)
        return value.astimezone(timezone.utc) if value.tzinfo else value.replace(tzinfo=timezone.utc)


events = Table(
    "events",
    metadata,
    Column("stream_id", String(200), nullable=False),
    Column("version", Integer, nullable=False),
    # the global position is the primary key: on SQLite an INTEGER PRIMARY KEY
    # is the rowid itself, so the table is stored in position order (appends go
    # to the rightmost page, a verify scan reads the table front to back, and
    # there is no separate position index to maintain)
    Column("position", POSITION, primary_key=True, autoincrement=False),
    Column("event_type", String(100), nullable=False),
    Column("schema_version", Integer, nullable=False),
    Column("occurred_at", UtcTimestamp, nullable=False),
    Column("recorded_at", UtcTimestamp, nullable=False),
    Column("actor_id", String(64)),
    Column("actor_role", String(32)),
    Column("reason", Text),
    Column("causation_id", String(200)),
    Column("payload", Text, nullable=False),  # canonical JSON, exactly as hashed
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
    UniqueConstraint("stream_id", "version", name="uq_events_stream_version"),
)
# no secondary index beyond (stream_id, version): each one is another B-tree
# page rewritten by every append, and nothing on a hot path queries by type
# (the campaign export's scan for review.started reads the log once anyway)

# the last global position handed out: bumped in the appending transaction right
# before its inserts, so positions are gap-free and in commit order (see
# storage/eventlog.py); a trigger lets it only grow
log_head = Table(
    "log_head",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("position", BigInteger, nullable=False),
)

# signed tree heads: the RFC 6962 Merkle root over the first ``tree_size`` event
# hashes in position order (see storage/checkpoints.py)
checkpoints = Table(
    "checkpoints",
    metadata,
    Column("tree_size", BigInteger, primary_key=True),
    Column("root_hash", String(64), nullable=False),
    Column("peaks", Text, nullable=False),  # JSON list of the compact range's subtree hashes, to extend without a rescan
    Column("signed_at", UtcTimestamp, nullable=False),
    Column("key_id", String(64), nullable=False),  # the Ed25519 verify key, hex
    Column("signature", String(128), nullable=False),
)

outbox = Table(
    "outbox",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("stream_id", String(200), nullable=False),
    Column("version", Integer, nullable=False),
    Column("recipient_id", String(64), nullable=False),
    Column("kind", String(40), nullable=False),
    Column("subject", Text, nullable=False),
    Column("body", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("delivered_at", DateTime(timezone=True)),
    # the mail relay's record of each message (storage/outbox.py, migration 0011)
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("next_attempt_at", DateTime(timezone=True)),  # held by a relay until then, or waiting out its backoff
    Column("failed_at", DateTime(timezone=True)),  # given up: last_error says why
    Column("last_error", Text),
    UniqueConstraint("stream_id", "version", "recipient_id", "kind", name="uq_outbox_event_recipient"),
)
Index("ix_outbox_recipient", outbox.c.recipient_id)
Index("ix_outbox_pending", outbox.c.id, sqlite_where=text("delivered_at IS NULL AND failed_at IS NULL"),
      postgresql_where=text("delivered_at IS NULL AND failed_at IS NULL"))

# The database refuses to change history: these triggers (created by migration
# 0002) reject UPDATE/DELETE/TRUNCATE of events and checkpoints and any move of
# the log head backwards. Tamper tests drop them by these names.
APPEND_ONLY_TRIGGERS: dict[str, tuple[tuple[str, str], ...]] = {
    # dialect: ((trigger, table), ...)
    "sqlite": (
        ("events_no_update", "events"),
        ("events_no_delete", "events"),
        ("checkpoints_no_update", "checkpoints"),
        ("checkpoints_no_delete", "checkpoints"),
        ("log_head_forward_only", "log_head"),
        ("log_head_no_delete", "log_head"),
    ),
    "postgresql": (
        ("events_append_only", "events"),
        ("events_no_truncate", "events"),
        ("checkpoints_append_only", "checkpoints"),
        ("checkpoints_no_truncate", "checkpoints"),
        ("log_head_forward_only", "log_head"),
        ("log_head_no_truncate", "log_head"),
    ),
}

# PostgreSQL role for the service: INSERT/SELECT on history, nothing more
SERVICE_ROLE = "pingyi_service"
