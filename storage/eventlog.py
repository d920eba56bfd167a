"""The append-only, hash-chained event log.

Every event is one row keyed by ``(stream_id, version)``. Each row carries the
SHA-256 of a canonical encoding of itself chained to the previous event of the
same stream (``prev_hash``), and a global ``position``. Appends are idempotent
under retry: an activity that runs twice for the same command finds its events
already there (same ``causation_id``) and gets them back instead of writing again.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Iterable, Iterator, Sequence

from sqlalchemy import Engine, and_, func, insert, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from domain.events import EventRecord
from storage.schema import events as events_t
from storage.schema import log_head, outbox

GENESIS_HASH = "0" * 64


class EventConflict(Exception):
    """Another writer (or another command) already wrote these versions."""

    def __init__(self, stream_id: str, expected_version: int, actual_version: int, detail: str = "") -> None:
        self.stream_id = stream_id
        self.expected_version = expected_version
        self.actual_version = actual_version
        super().__init__(f"stream {stream_id!r}: expected version {expected_version}, found {actual_version}{': ' + detail if detail else ''}")


def canonical_json(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def _ts(dt: datetime) -> str:
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return dt.astimezone(timezone.utc).isoformat(timespec="microseconds")


def content_of(rec: EventRecord) -> dict[str, Any]:
    """The fields the hash covers (everything the writer decided; not the
    position or recorded_at, which the store assigns)."""
    return {
        "stream_id": rec.stream_id,
        "version": rec.version,
        "event_type": rec.event_type,
        "schema_version": rec.schema_version,
        "occurred_at": _ts(rec.occurred_at),
        "actor_id": rec.actor_id,
        "actor_role": rec.actor_role,
        "reason": rec.reason,
        "causation_id": rec.causation_id,
        "payload": rec.payload,
    }


def event_hash(rec: EventRecord, prev_hash: str) -> str:
    h = hashlib.sha256()
    h.update(prev_hash.encode())
    h.update(canonical_json(content_of(rec)).encode())
    return h.hexdigest()


@dataclass(frozen=True)
class OutboxMessage:
    version: int
    recipient_id: str
    kind: str
    subject: str
    body: str


def _row_to_record(row) -> EventRecord:
    m = row._mapping
    occurred = m["occurred_at"]
    recorded = m["recorded_at"]
    return EventRecord(
        stream_id=m["stream_id"],
        version=m["version"],
        event_type=m["event_type"],
        schema_version=m["schema_version"],
        occurred_at=occurred if occurred.tzinfo else occurred.replace(tzinfo=timezone.utc),
        actor_id=m["actor_id"],
        actor_role=m["actor_role"],
        reason=m["reason"],
        causation_id=m["causation_id"],
        payload=m["payload"],
        position=m["position"],
        recorded_at=recorded if recorded.tzinfo else recorded.replace(tzinfo=timezone.utc),
        prev_hash=m["prev_hash"],
        hash=m["hash"],
    )


class EventStore:
    """The recorder. ``append`` is the only write path the activities use."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    # ---- write -------------------------------------------------------------

    def append(
        self,
        stream_id: str,
        expected_version: int,
        records: Sequence[EventRecord],
        outbox_messages: Iterable[OutboxMessage] = (),
    ) -> list[EventRecord]:
        """Atomically append ``records`` (versions expected_version+1 …) and their
        outbox messages. Returns the records as stored. If the same command's
        events are already there (a retry), returns those and writes nothing."""
        if not records:
            return []
        for i, r in enumerate(records):
            if r.stream_id != stream_id or r.version != expected_version + i + 1:
                raise ValueError(f"record {i} is {r.stream_id}@{r.version}, expected {stream_id}@{expected_version + i + 1}")
        messages = list(outbox_messages)
        try:
            with self.engine.begin() as conn:
                current, head_hash = self._head(conn, stream_id)
                if current != expected_version:
                    existing = self._already_appended(conn, stream_id, expected_version, records)
                    if existing is not None:
                        return existing
                    raise EventConflict(stream_id, expected_version, current)
                return self._write(conn, stream_id, records, head_hash, messages)
        except IntegrityError:
            # a concurrent writer took the same versions between our read and insert
            with self.engine.begin() as conn:
                existing = self._already_appended(conn, stream_id, expected_version, records)
                if existing is not None:
                    return existing
                current, _ = self._head(conn, stream_id)
            raise EventConflict(stream_id, expected_version, current) from None

    def _head(self, conn: Connection, stream_id: str) -> tuple[int, str]:
        row = conn.execute(
            select(events_t.c.version, events_t.c.hash)
            .where(events_t.c.stream_id == stream_id)
            .order_by(events_t.c.version.desc())
            .limit(1)
        ).first()
        return (row.version, row.hash) if row else (0, GENESIS_HASH)

    def _already_appended(self, conn: Connection, stream_id: str, expected_version: int, records: Sequence[EventRecord]) -> list[EventRecord] | None:
        rows = conn.execute(
            select(events_t)
            .where(and_(events_t.c.stream_id == stream_id, events_t.c.version > expected_version, events_t.c.version <= expected_version + len(records)))
            .order_by(events_t.c.version)
        ).all()
        if len(rows) != len(records):
            return None
        stored = [_row_to_record(r) for r in rows]
        for s, r in zip(stored, records):
            same_command = r.causation_id is not None and s.causation_id == r.causation_id and s.event_type == r.event_type
            same_content = canonical_json(content_of(s)) == canonical_json(content_of(r))
            if not (same_command or same_content):
                return None
        return stored

    def _write(self, conn: Connection, stream_id: str, records: Sequence[EventRecord], head_hash: str, messages: list[OutboxMessage]) -> list[EventRecord]:
        n = len(records)
        last = conn.execute(update(log_head).where(log_head.c.id == 1).values(position=log_head.c.position + n).returning(log_head.c.position)).scalar_one_or_none()
        if last is None:
            conn.execute(insert(log_head).values(id=1, position=n))
            last = n
        first = last - n + 1
        now = datetime.now(timezone.utc)
        prev = head_hash
        out: list[EventRecord] = []
        rows = []
        for i, r in enumerate(records):
            h = event_hash(r, prev)
            stored = r.model_copy(update={"position": first + i, "recorded_at": now, "prev_hash": prev, "hash": h})
            rows.append({**content_of(stored), "occurred_at": r.occurred_at, "position": first + i, "recorded_at": now, "prev_hash": prev, "hash": h})
            out.append(stored)
            prev = h
        conn.execute(insert(events_t), rows)
        if messages:
            conn.execute(
                insert(outbox),
                [{"stream_id": stream_id, "version": m.version, "recipient_id": m.recipient_id, "kind": m.kind, "subject": m.subject, "body": m.body, "created_at": now} for m in messages],
            )
        return out

    # ---- read --------------------------------------------------------------

    def read_stream(self, stream_id: str, *, until: datetime | None = None) -> list[EventRecord]:
        q = select(events_t).where(events_t.c.stream_id == stream_id)
        if until is not None:
            q = q.where(events_t.c.occurred_at <= until)
        with self.engine.connect().execution_options(sqlite_deferred=True) as conn:
            return [_row_to_record(r) for r in conn.execute(q.order_by(events_t.c.version))]

    def read_all(self, *, after_position: int = 0, batch: int = 5000) -> Iterator[EventRecord]:
        """Every event in global order, streamed in keyset pages (never the whole log in memory)."""
        pos = after_position
        while True:
            with self.engine.connect().execution_options(sqlite_deferred=True) as conn:
                rows = conn.execute(select(events_t).where(events_t.c.position > pos).order_by(events_t.c.position).limit(batch)).all()
            if not rows:
                return
            for r in rows:
                yield _row_to_record(r)
            pos = rows[-1].position

    def stream_version(self, stream_id: str) -> int:
        with self.engine.connect().execution_options(sqlite_deferred=True) as conn:
            return conn.execute(select(func.coalesce(func.max(events_t.c.version), 0)).where(events_t.c.stream_id == stream_id)).scalar_one()
