"""campaigns: a launched campaign's spec and plan, entry by entry

Revision ID: 0008_campaigns
Revises: 0007_projections
"""
import sqlalchemy as sa
from alembic import op

revision = "0008_campaigns"
down_revision = "0007_projections"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "campaigns",
        sa.Column("campaign_id", sa.String(48), primary_key=True),
        sa.Column("plan_id", sa.String(64), nullable=False),
        sa.Column("spec", sa.JSON, nullable=False),
        sa.Column("total", sa.Integer, nullable=False),
        sa.Column("launched_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "campaign_entries",
        sa.Column("campaign_id", sa.String(48), nullable=False),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("subject_id", sa.String(64), nullable=False),
        sa.Column("tier", sa.Integer, nullable=False),
        sa.Column("level", sa.String(1), nullable=False),
        sa.Column("entry", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("campaign_id", "seq", name="pk_campaign_entries"),
    )


def downgrade() -> None:
    op.drop_table("campaign_entries")
    op.drop_table("campaigns")
