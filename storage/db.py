"""Engines for the event log and the directory: one code path for SQLite (the
embedded default) and PostgreSQL (production)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url


def make_engine(url: str, **kw) -> Engine:
    u = make_url(url)
    if u.get_backend_name() == "sqlite":
        if u.database and u.database != ":memory:":
            Path(u.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30}, **kw)

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_conn, _):
            dbapi_conn.isolation_level = None  # SQLAlchemy's "begin" event below issues BEGIN
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")  # readers never block the writer
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

        @event.listens_for(engine, "begin")
        def _begin(conn):
            # writers take the lock up front (no lock-upgrade deadlocks); long
            # readers such as verify/export ask for a deferred BEGIN instead
            deferred = conn.get_execution_options().get("sqlite_deferred", False)
            conn.exec_driver_sql("BEGIN" if deferred else "BEGIN IMMEDIATE")

        return engine
    if u.get_backend_name() == "postgresql" and u.drivername == "postgresql":
        url = u.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    return create_engine(url, pool_pre_ping=True, **kw)


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"
