"""The projector: reads the event log by global position and applies each
event to the projections that handle it, one page per transaction together
with the tracking records (see the package docstring for why this is
restartable, idempotent and safe with two projectors at once)."""

from __future__ import annotations

import asyncio
from datetime import datetime, timezone
from typing import Iterable, Protocol

import structlog
from sqlalchemy import Connection, Engine, Table, delete, insert, select, update

from app.projections.schema import tracking
from domain.events import EventRecord
from storage.eventlog import EventStore

log = structlog.get_logger("pingyi.projections")


class Projection(Protocol):
    name: str
    handles: frozenset[str]  # event types this projection reads; empty: every type
    tables: tuple[Table, ...]  # what a rebuild empties

    def apply(self, conn: Connection, record: EventRecord) -> None: ...

    # optional: begin_page(conn, records) before a page's events (what it will
    # apply, in order), flush(conn) at the end of each page, discard() when its
    # transaction failed


class Projector:
    PAGE = 2000  # events per transaction

    def __init__(self, engine: Engine, store: EventStore, projections: Iterable[Projection]) -> None:
        self.engine = engine
        self.store = store
        self.projections = list(projections)

    def _positions(self, conn: Connection, lock: bool = False) -> dict[str, int]:
        q = select(tracking.c.name, tracking.c.position)
        if lock and self.engine.dialect.name == "postgresql":
            q = q.with_for_update()
        got = {r[0]: r[1] for r in conn.execute(q)}
        return {p.name: got.get(p.name, -1) for p in self.projections}

    def positions(self) -> dict[str, int]:
        """How far each projection got (0: nothing applied yet)."""
        with self.engine.connect().execution_options(sqlite_deferred=True) as conn:
            return {k: max(v, 0) for k, v in self._positions(conn).items()}

    def behind(self) -> bool:
        head = self.store.head_position()
        return any(p < head for p in self.positions().values())

    def catch_up(self, *, max_events: int | None = None) -> int:
        """Apply every event not applied yet (or up to ``max_events``); returns
        how many events were read. Safe to call from several processes."""
        start = min(self.positions().values(), default=0)
        done = 0
        while max_events is None or done < max_events:
            size = self.PAGE if max_events is None else min(self.PAGE, max_events - done)
            page = list(_take(self.store.read_all(after_position=start, batch=size), size))
            if not page:
                break
            self._apply_page(page)
            done += len(page)
            start = page[-1].position
        return done

    def _apply_page(self, page: list[EventRecord]) -> None:
        last = page[-1].position
        now = datetime.now(timezone.utc)
        try:
            self._write_page(page, last, now)
        except BaseException:
            for p in self.projections:
                discard = getattr(p, "discard", None)
                if discard is not None:
                    discard()
            raise

    def _write_page(self, page: list[EventRecord], last: int, now: datetime) -> None:
        with self.engine.begin() as conn:
            positions = self._positions(conn, lock=True)  # re-read inside the transaction: another projector may have gone first
            for p in self.projections:
                at = positions[p.name]
                if at >= last:
                    continue
                mine = [rec for rec in page if rec.position > at and (not p.handles or rec.event_type in p.handles)]
                begin = getattr(p, "begin_page", None)
                if begin is not None:
                    begin(conn, mine)
                for rec in mine:
                    p.apply(conn, rec)
                flush = getattr(p, "flush", None)
                if flush is not None:
                    flush(conn)
                if at < 0:
                    conn.execute(insert(tracking).values(name=p.name, position=last, updated_at=now))
                else:
                    conn.execute(update(tracking).where(tracking.c.name == p.name).values(position=last, updated_at=now))

    def rebuild(self, name: str | None = None) -> int:
        """Empty one projection (or all) and replay it from position 0."""
        chosen = [p for p in self.projections if name is None or p.name == name]
        if not chosen:
            raise KeyError(f"no projection named {name!r}; known: {', '.join(p.name for p in self.projections)}")
        with self.engine.begin() as conn:
            for p in chosen:
                for t in p.tables:
                    conn.execute(delete(t))
                conn.execute(delete(tracking).where(tracking.c.name == p.name))
        return self.catch_up()

    async def run(self, stop: asyncio.Event, every: float = 1.0) -> None:
        """Keep the projections current until ``stop`` is set (the service's
        background task); a failing page is logged and retried next round."""
        while not stop.is_set():
            try:
                n = await asyncio.to_thread(self.catch_up)
                if n:
                    log.debug("projected", events=n)
            except Exception as exc:  # a broken database must not end the service; the next round retries
                log.warning("projection_failed", error=str(exc))
            try:
                await asyncio.wait_for(stop.wait(), every)
            except asyncio.TimeoutError:
                pass


def _take(it, n):
    for i, x in enumerate(it):
        if i >= n:
            return
        yield x
