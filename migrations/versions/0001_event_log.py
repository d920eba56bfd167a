"""event log, log head and outbox

The append-only guards, checkpoints and service role come in 0002_audit_log.

Revision ID: 0001_event_log
Revises:
"""
import sqlalchemy as sa
from alembic import op

revision = "0001_event_log"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "events",
        sa.Column("stream_id", sa.String(200), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        # INTEGER PRIMARY KEY on SQLite is the rowid: the table is kept in position order
        sa.Column("position", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True, autoincrement=False),
        sa.Column("event_type", sa.String(100), nullable=False),
        sa.Column("schema_version", sa.Integer, nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_id", sa.String(64)),
        sa.Column("actor_role", sa.String(32)),
        sa.Column("reason", sa.Text),
        sa.Column("causation_id", sa.String(200)),
        sa.Column("payload", sa.Text, nullable=False),  # canonical JSON, exactly as hashed
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.UniqueConstraint("stream_id", "version", name="uq_events_stream_version"),
    )
    op.create_table("log_head", sa.Column("id", sa.Integer, primary_key=True), sa.Column("position", sa.BigInteger, nullable=False))
    op.execute("INSERT INTO log_head (id, position) VALUES (1, 0)")
    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("stream_id", sa.String(200), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("recipient_id", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("subject", sa.Text, nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("delivered_at", sa.DateTime(timezone=True)),
        sa.UniqueConstraint("stream_id", "version", "recipient_id", "kind", name="uq_outbox_event_recipient"),
    )
    op.create_index("ix_outbox_recipient", "outbox", ["recipient_id"])


def downgrade() -> None:
    op.drop_table("outbox")
    op.drop_table("log_head")
    op.drop_table("events")
