"""read models: projection tracking, review summaries, review people, task inbox

Revision ID: 0007_projections
Revises: 0006_accounts
"""
import sqlalchemy as sa
from alembic import op

from storage.schema import UtcTimestamp

revision = "0007_projections"
down_revision = "0006_accounts"
branch_labels = None
depends_on = None

ROLE = "pingyi_service"
TABLES = ("projection_tracking", "review_summaries", "review_people", "review_tasks")


def upgrade() -> None:
    op.create_table(
        "projection_tracking",
        sa.Column("name", sa.String(100), primary_key=True),
        sa.Column("position", sa.BigInteger, nullable=False),
        sa.Column("updated_at", UtcTimestamp, nullable=False),
    )
    op.create_table(
        "review_summaries",
        sa.Column("review_id", sa.String(200), primary_key=True),
        sa.Column("campaign_id", sa.String(100), nullable=False),
        sa.Column("subject_id", sa.String(64), nullable=False),
        sa.Column("subject_kind", sa.String(16), nullable=False),
        sa.Column("subject_name", sa.String(200)),
        sa.Column("unit_id", sa.String(64), nullable=False),
        sa.Column("tier", sa.SmallInteger, nullable=False),
        sa.Column("level", sa.String(4), nullable=False),
        sa.Column("reviewer_id", sa.String(64), nullable=False),
        sa.Column("co_reviewer_ids", sa.Text, nullable=False),
        sa.Column("subject_person_ids", sa.Text, nullable=False),
        sa.Column("step", sa.String(32), nullable=False),
        sa.Column("due_at", UtcTimestamp),
        sa.Column("overdue", sa.Boolean, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("started_at", UtcTimestamp, nullable=False),
        sa.Column("last_event_type", sa.String(100), nullable=False),
        sa.Column("last_event_at", UtcTimestamp, nullable=False),
        sa.Column("last_position", sa.BigInteger, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("state", sa.Text, nullable=False),
    )
    op.create_index("ix_review_summaries_campaign", "review_summaries", ["campaign_id", "review_id"])
    op.create_index("ix_review_summaries_unit", "review_summaries", ["unit_id"])
    op.create_index("ix_review_summaries_reviewer", "review_summaries", ["reviewer_id"])
    op.create_table(
        "review_people",
        sa.Column("person_id", sa.String(64), nullable=False),
        sa.Column("review_id", sa.String(200), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.PrimaryKeyConstraint("person_id", "review_id", "role", name="pk_review_people"),
    )
    op.create_index("ix_review_people_review", "review_people", ["review_id"])
    op.create_table(
        "review_tasks",
        sa.Column("person_id", sa.String(64), nullable=False),
        sa.Column("review_id", sa.String(200), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("step", sa.String(32), nullable=False),
        sa.Column("due_at", UtcTimestamp, nullable=False),
        sa.Column("overdue", sa.Boolean, nullable=False),
        sa.Column("actions", sa.Text, nullable=False),
        sa.Column("why", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("person_id", "review_id", name="pk_review_tasks"),
    )
    op.create_index("ix_review_tasks_inbox", "review_tasks", ["person_id", "due_at", "review_id"])
    op.create_index("ix_review_tasks_review", "review_tasks", ["review_id"])
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"""
DO $$
BEGIN
    IF EXISTS (SELECT FROM pg_roles WHERE rolname = '{ROLE}') THEN
        EXECUTE 'GRANT SELECT, INSERT, UPDATE, DELETE ON {", ".join(TABLES)} TO {ROLE}';
    END IF;
END $$;
""")


def downgrade() -> None:
    for t in reversed(TABLES):
        op.drop_table(t)
