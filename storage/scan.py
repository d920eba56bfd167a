"""Streaming reads of the raw log for the auditor's tools: a server-side cursor
on PostgreSQL (``yield_per`` → psycopg named cursor), a lazily stepped cursor
on SQLite, so verify and export never hold the log in memory.

One :func:`snapshot` connection serves all the queries of one verification,
so they see the same log even while appends continue (REPEATABLE READ on
PostgreSQL; a deferred read transaction on SQLite's WAL is a snapshot)."""

from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Iterator

from sqlalchemy import Engine, text
from sqlalchemy.engine import Connection

from storage.canonical import RAW_COLUMNS

BATCH = 5000


@contextmanager
def snapshot(engine: Engine) -> Iterator[Connection]:
    opts: dict[str, Any] = {"sqlite_deferred": True}
    if engine.dialect.name == "postgresql":
        opts["isolation_level"] = "REPEATABLE READ"
    with engine.connect().execution_options(**opts) as conn:
        with conn.begin():
            yield conn


def rows(conn: Connection, *, where: str = "", params: dict[str, Any] | None = None, order: str = "position", columns: str = RAW_COLUMNS, batch: int = BATCH) -> Iterator[tuple]:
    """Raw tuples (no type processing: that is the verifier's hot loop)."""
    sql = f"SELECT {columns} FROM events {('WHERE ' + where) if where else ''} ORDER BY {order}"
    result = conn.execution_options(yield_per=batch).execute(text(sql), params or {})
    try:
        for part in result.partitions():
            yield from part
    finally:
        result.close()
