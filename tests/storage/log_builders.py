"""Records and logs for event-store tests: plain ``EventRecord``s (the store
does not interpret types), and helpers to tamper with a database the way an
intruder with SQL access would — after dropping the append-only triggers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, text

from domain.events import EventRecord
from storage.eventlog import EventStore
from storage.schema import APPEND_ONLY_TRIGGERS

T0 = datetime(2010, 12, 7, 9, 0, tzinfo=UTC)


def rec(stream_id: str, version: int, *, n: int = 0, causation: str | None = None, actor: str | None = "p-reviewer", event_type: str = "test.noted", at: datetime | None = None, **payload) -> EventRecord:
    return EventRecord(
        stream_id=stream_id,
        version=version,
        event_type=event_type,
        schema_version=1,
        occurred_at=at or T0 + timedelta(minutes=version),
        actor_id=actor,
        actor_role="reviewer" if actor else None,
        reason=f"reason {n}" if n else None,
        causation_id=causation,
        payload={"n": n, "text": "意见 note", **payload},
    )


def batch(stream_id: str, after: int, count: int, *, causation: str | None = None) -> list[EventRecord]:
    return [rec(stream_id, after + i + 1, n=after + i + 1, causation=causation) for i in range(count)]


def fill(store: EventStore, streams: dict[str, int], per_append: int = 2) -> None:
    """Append ``streams[s]`` events to each stream, round robin, ``per_append`` at a time,
    so streams interleave in the global order."""
    done = {s: 0 for s in streams}
    while any(done[s] < streams[s] for s in streams):
        for s, total in streams.items():
            if done[s] < total:
                k = min(per_append, total - done[s])
                store.append(s, done[s], batch(s, done[s], k, causation=f"cmd-{s}-{done[s]}"))
                done[s] += k


def drop_append_only_triggers(engine: Engine) -> None:
    with engine.begin() as conn:
        for name, table in APPEND_ONLY_TRIGGERS[engine.dialect.name]:
            if engine.dialect.name == "sqlite":
                conn.exec_driver_sql(f"DROP TRIGGER {name}")
            else:
                conn.exec_driver_sql(f"DROP TRIGGER {name} ON {table}")


def raw(engine: Engine, sql: str, **params) -> None:
    with engine.begin() as conn:
        conn.execute(text(sql), params)


def position_of(engine: Engine, stream_id: str, version: int) -> int:
    with engine.connect() as conn:
        return conn.execute(text("SELECT position FROM events WHERE stream_id = :s AND version = :v"), {"s": stream_id, "v": version}).scalar_one()
