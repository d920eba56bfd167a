"""Streaming reads of the raw log for the auditor's tools: a server-side cursor
on PostgreSQL (``yield_per`` → psycopg named cursor), a lazily stepped cursor
on SQLite, so verify and export never hold the log in memory.

One :func:`snapshot` connection serves all the queries of one verification,
so they see the same log even while appends continue (REPEATABLE READ on
PostgreSQL; a deferred read transaction on SQLite's WAL is a snapshot)."""

from __future__ import annotations

import uuid
from contextlib import contextmanager
from typing import Any, Iterator

from sqlalchemy import Engine
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


def rows(conn: Connection, *, where: str = "", params: tuple = (), order: str = "position", columns: str = RAW_COLUMNS, batch: int = BATCH) -> Iterator[tuple]:
    """Raw tuples straight from the driver's cursor (no type processing, no
    per-row SQLAlchemy work: this is the verifier's hot loop). ``where`` marks
    its parameters ``{p}``; ``params`` fills them in order."""
    sqlite = conn.dialect.name == "sqlite"
    cond = where.replace("{p}", "?" if sqlite else "%s")
    sql = f"SELECT {columns} FROM events {('WHERE ' + cond) if cond else ''} ORDER BY {order}"
    dbapi = conn.connection.driver_connection
    if sqlite:
        cur = dbapi.cursor()
    else:
        cur = dbapi.cursor(name=f"scan_{uuid.uuid4().hex[:12]}")  # server-side: PostgreSQL streams it
        cur.itersize = batch
    try:
        cur.execute(sql, params)
        while chunk := cur.fetchmany(batch):
            yield from chunk
    finally:
        cur.close()


def chunks(conn: Connection, sql: str, params: tuple = (), *, batch: int = BATCH) -> Iterator[list[tuple]]:
    """Lists of raw rows of any driver-level query (SQLite cursor; PostgreSQL
    named cursor), for loops that want to avoid even a generator step per row."""
    dbapi = conn.connection.driver_connection
    if conn.dialect.name == "sqlite":
        cur = dbapi.cursor()
    else:
        cur = dbapi.cursor(name=f"scan_{uuid.uuid4().hex[:12]}")
        cur.itersize = batch
    try:
        cur.execute(sql, params)
        while chunk := cur.fetchmany(batch):
            yield chunk
    finally:
        cur.close()

