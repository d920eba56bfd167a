"""mail delivery: a person's optional e-mail address in the directory, and
per outbox message what the relay did with it (attempts, when it may try
next or holds it, when it gave up and why); a partial index over the
messages still to deliver, so the relay's scan does not read the delivered

Revision ID: 0011_mail_delivery
Revises: 0010_overview_indexes
"""
import sqlalchemy as sa
from alembic import op

revision = "0011_mail_delivery"
down_revision = "0010_overview_indexes"
branch_labels = None
depends_on = "0003_directory"  # the directory_people table gets its column

PENDING = "delivered_at IS NULL AND failed_at IS NULL"


def upgrade() -> None:
    op.add_column("directory_people", sa.Column("email", sa.String(254)))
    op.add_column("outbox", sa.Column("attempts", sa.Integer, nullable=False, server_default="0"))
    op.add_column("outbox", sa.Column("next_attempt_at", sa.DateTime(timezone=True)))
    op.add_column("outbox", sa.Column("failed_at", sa.DateTime(timezone=True)))
    op.add_column("outbox", sa.Column("last_error", sa.Text))
    op.create_index("ix_outbox_pending", "outbox", ["id"], sqlite_where=sa.text(PENDING), postgresql_where=sa.text(PENDING))


def downgrade() -> None:
    op.drop_index("ix_outbox_pending", table_name="outbox")
    with op.batch_alter_table("outbox") as t:
        for name in ("last_error", "failed_at", "next_attempt_at", "attempts"):
            t.drop_column(name)
    with op.batch_alter_table("directory_people") as t:
        t.drop_column("email")
