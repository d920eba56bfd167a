"""PostgreSQL: the append as one server-side function (one round trip, one commit)

``pingyi_append`` does inside the database what ``EventStore.append`` did over
several round trips: check the stream's expected version, take the next
gap-free positions from ``log_head``, hash each event (SHA-256 over
``prev_hash ":" position`` followed by the writer's pre-encoded tail, the very
bytes :func:`storage.canonical.chain_hash_tail` hashes), insert the events and
their outbox rows, and return the first position, the stream's head hash and
the new hashes. Called in autocommit, the statement is the transaction.

A stale expected version raises SQLSTATE ``PY409`` with the stream's actual
version as the DETAIL; a concurrent writer that took the same versions first
surfaces as the unique violation of ``uq_events_stream_version``. Both lead
the caller to its idempotence check. The function runs with the caller's
rights (SECURITY INVOKER), so the triggers and the ``pingyi_service`` grants
still apply to everything it writes.

Revision ID: 0004_append_function
Revises: 0002_audit_log
"""
from alembic import op

revision = "0004_append_function"
down_revision = "0002_audit_log"
branch_labels = None
depends_on = None

ROLE = "pingyi_service"
SIGNATURE = (
    "text, integer, text[], integer[], timestamptz[], timestamptz, text[], text[], text[], text[], text[], bytea[], "
    "integer[], text[], text[], text[], text[], timestamptz"
)

PG_APPEND = r"""
CREATE OR REPLACE FUNCTION pingyi_append(
    p_stream text, p_expected integer,
    p_type text[], p_schema integer[], p_occurred timestamptz[], p_recorded timestamptz,
    p_actor text[], p_role text[], p_reason text[], p_causation text[], p_payload text[], p_tail bytea[],
    o_version integer[], o_recipient text[], o_kind text[], o_subject text[], o_body text[], o_created timestamptz,
    OUT first_position bigint, OUT head_hash text, OUT hashes text[])
LANGUAGE plpgsql AS $$
DECLARE
    n integer := cardinality(p_tail);
    cur integer;
    prev text;
    pos bigint;
    prevs text[] := '{}';
BEGIN
    SELECT e.version, e.hash INTO cur, prev FROM events e WHERE e.stream_id = p_stream ORDER BY e.version DESC LIMIT 1;
    IF NOT FOUND THEN
        cur := 0;
        prev := repeat('0', 64);
    END IF;
    IF cur <> p_expected THEN
        RAISE EXCEPTION 'stream % is at version %, not %', p_stream, cur, p_expected USING ERRCODE = 'PY409', DETAIL = cur::text;
    END IF;
    head_hash := prev;
    hashes := '{}';
    -- the critical section: the log_head row stays locked until commit, so
    -- positions are gap-free and handed out in commit order
    UPDATE log_head SET position = position + n WHERE id = 1 RETURNING position - n INTO pos;
    first_position := pos + 1;
    FOR i IN 1..n LOOP
        pos := pos + 1;
        prevs := prevs || prev;
        prev := encode(sha256(convert_to(prev || ':' || pos::text, 'UTF8') || p_tail[i]), 'hex');
        hashes := hashes || prev;
    END LOOP;
    INSERT INTO events (stream_id, version, position, event_type, schema_version, occurred_at, recorded_at, actor_id, actor_role, reason, causation_id, payload, prev_hash, hash)
    SELECT p_stream, p_expected + i, first_position + i - 1, p_type[i], p_schema[i], p_occurred[i], p_recorded, p_actor[i], p_role[i], p_reason[i], p_causation[i], p_payload[i], prevs[i], hashes[i]
    FROM generate_series(1, n) AS i;
    IF cardinality(o_version) > 0 THEN
        INSERT INTO outbox (stream_id, version, recipient_id, kind, subject, body, created_at)
        SELECT p_stream, v, r, k, s, b, o_created FROM unnest(o_version, o_recipient, o_kind, o_subject, o_body) AS m(v, r, k, s, b);
    END IF;
END $$;
"""

PG_GRANT = f"""
DO $$
BEGIN
    IF EXISTS (SELECT FROM pg_roles WHERE rolname = '{ROLE}') THEN
        EXECUTE 'GRANT EXECUTE ON FUNCTION pingyi_append({SIGNATURE}) TO {ROLE}';
    END IF;
END $$;
"""


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(PG_APPEND)
        op.execute(PG_GRANT)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP FUNCTION IF EXISTS pingyi_append({SIGNATURE})")
