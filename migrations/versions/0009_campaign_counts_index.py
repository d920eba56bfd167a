"""campaign counts: a covering index over the review summaries, so counting a
campaign's reviews by step x tier (and its overdue ones) reads the index alone

Revision ID: 0009_campaign_counts_index
Revises: 0008_campaigns
"""
from alembic import op

revision = "0009_campaign_counts_index"
down_revision = "0008_campaigns"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_review_summaries_campaign_counts", "review_summaries", ["campaign_id", "status", "step", "tier", "overdue"])


def downgrade() -> None:
    op.drop_index("ix_review_summaries_campaign_counts", table_name="review_summaries")
