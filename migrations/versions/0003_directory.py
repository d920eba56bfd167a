"""organization directory (units, people, memberships), its import history,
and the registered rubric versions

Revision ID: 0003_directory
Revises: 0001_event_log
"""
import sqlalchemy as sa
from alembic import op

revision = "0003_directory"
down_revision = "0001_event_log"
branch_labels = ("directory",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "directory_units",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("parent_id", sa.String(64)),
        sa.Column("tier", sa.SmallInteger, nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("category", sa.String(32), nullable=False),
        sa.Column("leader_id", sa.String(64)),
        sa.Column("overseen_by", sa.String(64)),
        sa.Column("guided_by", sa.String(64)),
        sa.Column("external", sa.Boolean, nullable=False, server_default=sa.false()),
    )
    op.create_index("ix_directory_units_parent", "directory_units", ["parent_id"])
    op.create_index("ix_directory_units_leader", "directory_units", ["leader_id"])
    op.create_table(
        "directory_people",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
    )
    op.create_table(
        "directory_memberships",
        sa.Column("person_id", sa.String(64), nullable=False),
        sa.Column("unit_id", sa.String(64), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.PrimaryKeyConstraint("person_id", "unit_id", "role", name="pk_directory_memberships"),
    )
    op.create_index("ix_directory_memberships_unit", "directory_memberships", ["unit_id"])
    op.create_table(
        "directory_imports",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("source", sa.String(500), nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("units", sa.Integer, nullable=False),
        sa.Column("people", sa.Integer, nullable=False),
        sa.Column("memberships", sa.Integer, nullable=False),
        sa.Column("summary", sa.JSON, nullable=False),
        sa.Column("changes", sa.JSON, nullable=False),
        sa.Column("changes_truncated", sa.Integer, nullable=False, server_default="0"),
    )
    op.create_table(
        "rubric_versions",
        sa.Column("version", sa.String(40), primary_key=True),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("data", sa.JSON, nullable=False),
        sa.Column("registered_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("rubric_versions")
    op.drop_table("directory_imports")
    op.drop_index("ix_directory_memberships_unit", table_name="directory_memberships")
    op.drop_table("directory_memberships")
    op.drop_table("directory_people")
    op.drop_index("ix_directory_units_leader", table_name="directory_units")
    op.drop_index("ix_directory_units_parent", table_name="directory_units")
    op.drop_table("directory_units")
