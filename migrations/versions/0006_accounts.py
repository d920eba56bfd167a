"""accounts of directory persons, standing-role grants, bearer tokens (hashed),
sign-in sessions (hashed ids) and recent sign-in failures (rate limiting)

Revision ID: 0006_accounts
Revises: 0005_append_json
"""
import sqlalchemy as sa
from alembic import op

revision = "0006_accounts"
down_revision = "0005_append_json"
branch_labels = None
depends_on = None

ROLE = "pingyi_service"
TABLES = ("accounts", "account_grants", "api_tokens", "sign_in_sessions", "sign_in_failures")

PG_GRANTS = f"""
DO $$
BEGIN
    IF EXISTS (SELECT FROM pg_roles WHERE rolname = '{ROLE}') THEN
        EXECUTE 'GRANT SELECT, INSERT, UPDATE, DELETE ON {", ".join(TABLES)} TO {ROLE}';
        EXECUTE 'GRANT USAGE ON SEQUENCE sign_in_failures_id_seq TO {ROLE}';
    END IF;
END $$;
"""


def upgrade() -> None:
    ts = sa.DateTime(timezone=True)
    op.create_table(
        "accounts",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("person_id", sa.String(64), nullable=False, unique=True),
        sa.Column("password_hash", sa.String(200)),
        sa.Column("disabled", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("created_at", ts, nullable=False),
    )
    op.create_table(
        "account_grants",
        sa.Column("account_id", sa.String(40), nullable=False),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("scope", sa.String(64), nullable=False, server_default=""),
        sa.Column("granted_at", ts, nullable=False),
        sa.Column("granted_by", sa.String(64)),
        sa.PrimaryKeyConstraint("account_id", "role", "scope", name="pk_account_grants"),
    )
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("account_id", sa.String(40), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("secret_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("scopes", sa.JSON, nullable=False),
        sa.Column("created_at", ts, nullable=False),
        sa.Column("expires_at", ts, nullable=False),
        sa.Column("revoked_at", ts),
    )
    op.create_index("ix_api_tokens_account", "api_tokens", ["account_id"])
    op.create_table(
        "sign_in_sessions",
        sa.Column("id_hash", sa.String(64), primary_key=True),
        sa.Column("account_id", sa.String(40), nullable=False),
        sa.Column("method", sa.String(20), nullable=False),
        sa.Column("csrf_token", sa.String(64), nullable=False),
        sa.Column("created_at", ts, nullable=False),
        sa.Column("expires_at", ts, nullable=False),
        sa.Column("ended_at", ts),
    )
    op.create_index("ix_sign_in_sessions_account", "sign_in_sessions", ["account_id"])
    op.create_table(
        "sign_in_failures",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("login", sa.String(64), nullable=False),
        sa.Column("client", sa.String(200), nullable=False),
        sa.Column("at", ts, nullable=False),
    )
    op.create_index("ix_sign_in_failures_login", "sign_in_failures", ["login", "at"])
    op.create_index("ix_sign_in_failures_client", "sign_in_failures", ["client", "at"])
    if op.get_bind().dialect.name == "postgresql":
        op.execute(PG_GRANTS)


def downgrade() -> None:
    for name in reversed(TABLES):
        op.drop_table(name)
