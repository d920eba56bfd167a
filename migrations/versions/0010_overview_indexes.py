"""supervisor overview: a covering index by unit (counts by step x tier,
reviews and overdue per unit, coverage's subjects) replacing the bare unit
index, and one in the dashboard's order of urgency (overdue first, then the
soonest due) for its lists

Revision ID: 0010_overview_indexes
Revises: 0009_campaign_counts_index
"""
import sqlalchemy as sa
from alembic import op

revision = "0010_overview_indexes"
down_revision = "0009_campaign_counts_index"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_review_summaries_overview", "review_summaries", ["unit_id", "status", "step", "tier", "overdue", "campaign_id", "subject_id"])
    op.drop_index("ix_review_summaries_unit", table_name="review_summaries")
    op.create_index("ix_review_summaries_urgency", "review_summaries", [sa.text("overdue DESC"), "due_at", "review_id", "status", "step", "tier", "unit_id", "campaign_id"])


def downgrade() -> None:
    op.drop_index("ix_review_summaries_urgency", table_name="review_summaries")
    op.create_index("ix_review_summaries_unit", "review_summaries", ["unit_id"])
    op.drop_index("ix_review_summaries_overview", table_name="review_summaries")
