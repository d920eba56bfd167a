"""audit log: append-only triggers, signed checkpoints, the service role

The database itself refuses to rewrite history: UPDATE, DELETE and TRUNCATE of
``events`` and ``checkpoints`` raise, and ``log_head`` may only move forward.
On PostgreSQL the service runs as ``pingyi_service``, which may only INSERT and
SELECT history (it needs UPDATE on ``log_head`` to hand out positions, and on
``outbox`` to mark deliveries). Grant it to the login the service uses:
``GRANT pingyi_service TO <login>``.

Revision ID: 0002_audit_log
Revises: 0001_event_log
"""
import sqlalchemy as sa
from alembic import op

revision = "0002_audit_log"
down_revision = "0001_event_log"
branch_labels = None
depends_on = None

ROLE = "pingyi_service"

SQLITE_TRIGGERS = {
    "events_no_update": "BEFORE UPDATE ON events BEGIN SELECT RAISE(ABORT, 'events are append-only: UPDATE refused'); END",
    "events_no_delete": "BEFORE DELETE ON events BEGIN SELECT RAISE(ABORT, 'events are append-only: DELETE refused'); END",
    "checkpoints_no_update": "BEFORE UPDATE ON checkpoints BEGIN SELECT RAISE(ABORT, 'checkpoints are append-only: UPDATE refused'); END",
    "checkpoints_no_delete": "BEFORE DELETE ON checkpoints BEGIN SELECT RAISE(ABORT, 'checkpoints are append-only: DELETE refused'); END",
    "log_head_forward_only": (
        "BEFORE UPDATE ON log_head WHEN NEW.position < OLD.position OR NEW.id <> OLD.id "
        "BEGIN SELECT RAISE(ABORT, 'log_head only moves forward'); END"
    ),
    "log_head_no_delete": "BEFORE DELETE ON log_head BEGIN SELECT RAISE(ABORT, 'log_head cannot be deleted'); END",
}

PG_FUNCTIONS = """
CREATE OR REPLACE FUNCTION pingyi_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP USING ERRCODE = 'insufficient_privilege';
END $$;

CREATE OR REPLACE FUNCTION pingyi_log_head_forward() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'UPDATE' OR NEW.position < OLD.position OR NEW.id <> OLD.id THEN
        RAISE EXCEPTION 'log_head only moves forward: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END $$;
"""

PG_TRIGGERS = [
    "CREATE TRIGGER events_append_only BEFORE UPDATE OR DELETE ON events FOR EACH ROW EXECUTE FUNCTION pingyi_refuse_change()",
    "CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON events FOR EACH STATEMENT EXECUTE FUNCTION pingyi_refuse_change()",
    "CREATE TRIGGER checkpoints_append_only BEFORE UPDATE OR DELETE ON checkpoints FOR EACH ROW EXECUTE FUNCTION pingyi_refuse_change()",
    "CREATE TRIGGER checkpoints_no_truncate BEFORE TRUNCATE ON checkpoints FOR EACH STATEMENT EXECUTE FUNCTION pingyi_refuse_change()",
    "CREATE TRIGGER log_head_forward_only BEFORE UPDATE OR DELETE ON log_head FOR EACH ROW EXECUTE FUNCTION pingyi_log_head_forward()",
    "CREATE TRIGGER log_head_no_truncate BEFORE TRUNCATE ON log_head FOR EACH STATEMENT EXECUTE FUNCTION pingyi_refuse_change()",
]

# roles are cluster-wide: create once, tolerate a migrator without CREATEROLE
PG_ROLE = f"""
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{ROLE}') THEN
        BEGIN
            CREATE ROLE {ROLE} NOLOGIN;
        EXCEPTION WHEN insufficient_privilege OR duplicate_object THEN
            RAISE NOTICE 'role {ROLE} not created: %', SQLERRM;
        END;
    END IF;
    IF EXISTS (SELECT FROM pg_roles WHERE rolname = '{ROLE}') THEN
        EXECUTE 'REVOKE ALL ON events, checkpoints, log_head, outbox FROM {ROLE}';
        EXECUTE 'GRANT SELECT, INSERT ON events, checkpoints TO {ROLE}';
        EXECUTE 'GRANT SELECT, UPDATE ON log_head TO {ROLE}';
        EXECUTE 'GRANT SELECT, INSERT, UPDATE ON outbox TO {ROLE}';
        EXECUTE 'GRANT USAGE ON SEQUENCE outbox_id_seq TO {ROLE}';
    END IF;
END $$;
"""


def upgrade() -> None:
    op.create_table(
        "checkpoints",
        sa.Column("tree_size", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("root_hash", sa.String(64), nullable=False),
        sa.Column("peaks", sa.Text, nullable=False),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("key_id", sa.String(64), nullable=False),
        sa.Column("signature", sa.String(128), nullable=False),
    )
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for name, body in SQLITE_TRIGGERS.items():
            op.execute(f"CREATE TRIGGER {name} {body}")
    elif dialect == "postgresql":
        op.execute(PG_FUNCTIONS)
        for stmt in PG_TRIGGERS:
            op.execute(stmt)
        op.execute(PG_ROLE)
    else:
        raise RuntimeError(f"the event log supports SQLite and PostgreSQL only: no append-only guards exist for {dialect}")


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for name in SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    else:
        for stmt in PG_TRIGGERS:
            name, table = stmt.split()[2], stmt.split(" ON ")[1].split()[0]
            op.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}")
        op.execute("DROP FUNCTION IF EXISTS pingyi_refuse_change()")
        op.execute("DROP FUNCTION IF EXISTS pingyi_log_head_forward()")
    op.drop_table("checkpoints")
