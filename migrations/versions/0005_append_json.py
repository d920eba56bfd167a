"""PostgreSQL: ``pingyi_append`` takes the batch as one JSONB document

Same contract as 0004 (check the expected version, take gap-free positions
from ``log_head``, hash each event with the server's ``sha256`` over exactly
the bytes :func:`storage.canonical.chain_hash_tail` hashes, insert events and
outbox rows, return the first position, the stream's head hash and the new
hashes), with the events travelling as one JSONB array of
``[type, schema, occurred, actor, role, reason, causation, payload, header]``
instead of twelve binary arrays. Why: dumping the arrays was a fifth of an
append's time on the client (62 us of ~650 per 20-event call, psycopg's
per-element Python work), against 28 us for one document that orjson has
already written, and the server reads the JSONB elements no slower than array
subscripts. ``header`` and ``payload`` are the very texts the writer encoded,
so the hash input is ``prev ":" position "\\n" header "\\n" payload`` as before;
the other fields are the columns, taken from the same values the header holds.

A stale expected version still raises SQLSTATE ``PY409`` with the actual
version as DETAIL; a concurrent writer that took the same versions first is
the unique violation of ``uq_events_stream_version``. SECURITY INVOKER, so the
triggers and the ``pingyi_service`` grants apply to everything it writes.

Revision ID: 0005_append_json
Revises: 0004_append_function
"""
from alembic import op

revision = "0005_append_json"
down_revision = "0004_append_function"
branch_labels = None
depends_on = None

ROLE = "pingyi_service"
SIGNATURE = "text, integer, timestamptz, jsonb, jsonb"
OLD_SIGNATURE = (
    "text, integer, text[], integer[], timestamptz[], timestamptz, text[], text[], text[], text[], text[], bytea[], "
    "integer[], text[], text[], text[], text[], timestamptz"
)

PG_APPEND = r"""
CREATE OR REPLACE FUNCTION pingyi_append(
    p_stream text, p_expected integer, p_recorded timestamptz, p_events jsonb, p_outbox jsonb,
    OUT first_position bigint, OUT head_hash text, OUT hashes text[])
LANGUAGE plpgsql AS $$
DECLARE
    n integer := jsonb_array_length(p_events);
    cur integer;
    prev text;
    pos bigint;
    prevs text[];
    k integer := 0;
    e jsonb;
BEGIN
    SELECT ev.version, ev.hash INTO cur, prev FROM events ev WHERE ev.stream_id = p_stream ORDER BY ev.version DESC LIMIT 1;
    IF NOT FOUND THEN
        cur := 0;
        prev := repeat('0', 64);
    END IF;
    IF cur <> p_expected THEN
        RAISE EXCEPTION 'stream % is at version %, not %', p_stream, cur, p_expected USING ERRCODE = 'PY409', DETAIL = cur::text;
    END IF;
    head_hash := prev;
    -- the critical section: the log_head row stays locked until commit, so
    -- positions are gap-free and handed out in commit order
    UPDATE log_head SET position = position + n WHERE id = 1 RETURNING position - n INTO pos;
    first_position := pos + 1;
    FOR e IN SELECT x FROM jsonb_array_elements(p_events) AS x LOOP
        k := k + 1;
        pos := pos + 1;
        prevs[k] := prev;
        prev := encode(sha256(convert_to(prev || ':' || pos::text || E'\n' || (e->>8) || E'\n' || (e->>7), 'UTF8')), 'hex');
        hashes[k] := prev;
    END LOOP;
    INSERT INTO events (stream_id, version, position, event_type, schema_version, occurred_at, recorded_at, actor_id, actor_role, reason, causation_id, payload, prev_hash, hash)
    SELECT p_stream, p_expected + i, first_position + i - 1, j->>0, (j->>1)::integer, (j->>2)::timestamptz, p_recorded, j->>3, j->>4, j->>5, j->>6, j->>7, prevs[i], hashes[i]
    FROM jsonb_array_elements(p_events) WITH ORDINALITY AS t(j, i);
    IF p_outbox IS NOT NULL THEN
        INSERT INTO outbox (stream_id, version, recipient_id, kind, subject, body, created_at)
        SELECT p_stream, (m->>0)::integer, m->>1, m->>2, m->>3, m->>4, p_recorded FROM jsonb_array_elements(p_outbox) AS t(m);
    END IF;
END $$;
"""


def _grant(signature: str) -> str:
    return f"""
DO $$
BEGIN
    IF EXISTS (SELECT FROM pg_roles WHERE rolname = '{ROLE}') THEN
        EXECUTE 'GRANT EXECUTE ON FUNCTION pingyi_append({signature}) TO {ROLE}';
    END IF;
END $$;
"""


def _load_0004():
    """Revision 0004's module, found beside this file (Alembic loads revision
    files by path: they are not importable by name)."""
    import importlib.util
    from pathlib import Path

    spec = importlib.util.spec_from_file_location("pingyi_migration_0004", Path(__file__).with_name("0004_append_function.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP FUNCTION IF EXISTS pingyi_append({OLD_SIGNATURE})")
        op.execute(PG_APPEND)
        op.execute(_grant(SIGNATURE))


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        previous = _load_0004()
        op.execute(f"DROP FUNCTION IF EXISTS pingyi_append({SIGNATURE})")
        op.execute(previous.PG_APPEND)
        op.execute(previous.PG_GRANT)
