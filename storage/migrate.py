"""Apply the Alembic migrations programmatically (the run command and tests),
so nobody has to remember an alembic command line."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"


def alembic_config(engine: Engine | None = None, url: str | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    if url:
        cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    if engine is not None:
        cfg.attributes["engine"] = engine
    return cfg


# any constant will do: it only has to be the same for every process migrating
MIGRATION_LOCK_KEY = 0x5049_4E47_5949  # "PINGYI"


def upgrade(engine: Engine) -> None:
    """Bring the database to every head (the event-log and directory branches).
    On PostgreSQL several workers may start at once: an advisory lock lets one
    migrate while the others wait, then find nothing to do."""
    if engine.dialect.name != "postgresql":
        command.upgrade(alembic_config(engine), "heads")
        return
    with engine.connect() as conn:
        conn.exec_driver_sql(f"SELECT pg_advisory_lock({MIGRATION_LOCK_KEY})")
        conn.commit()
        try:
            cfg = alembic_config()
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "heads")
            conn.commit()
        finally:
            conn.exec_driver_sql(f"SELECT pg_advisory_unlock({MIGRATION_LOCK_KEY})")
            conn.commit()
