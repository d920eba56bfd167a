"""Tables of the event log and the outbox (Alembic migrations create them;
``migrations/`` holds the history)."""

from __future__ import annotations

from sqlalchemy import JSON, BigInteger, Column, DateTime, Index, Integer, MetaData, String, Table, Text, UniqueConstraint

metadata = MetaData()

events = Table(
    "events",
    metadata,
    Column("stream_id", String(200), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("position", BigInteger, nullable=False, unique=True),
    Column("event_type", String(100), nullable=False),
    Column("schema_version", Integer, nullable=False),
    Column("occurred_at", DateTime(timezone=True), nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
    Column("actor_id", String(64)),
    Column("actor_role", String(32)),
    Column("reason", Text),
    Column("causation_id", String(200)),
    Column("payload", JSON, nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
)

# the next global position: taken in the appending transaction, so positions are
# gap-free and follow commit order (see storage/eventlog.py)
log_head = Table(
    "log_head",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("position", BigInteger, nullable=False),
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
    UniqueConstraint("stream_id", "version", "recipient_id", "kind", name="uq_outbox_event_recipient"),
)
Index("ix_outbox_recipient", outbox.c.recipient_id)
