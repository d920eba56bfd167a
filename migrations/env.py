"""Alembic environment: the URL comes from settings (or the caller), never from alembic.ini."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Engine

from storage.db import make_engine
from storage.schema import metadata

config = context.config


def _migrate(connection) -> None:
    context.configure(connection=connection, target_metadata=metadata, compare_type=True, render_as_batch=connection.dialect.name == "sqlite")
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    given = config.attributes.get("connection")
    if given is not None:  # the caller holds the connection (and its migration lock)
        _migrate(given)
        return
    connectable = config.attributes.get("engine")
    if connectable is None:
        url = config.get_main_option("sqlalchemy.url")
        if not url:
            from config.settings import get_settings

            url = get_settings().db_url
        connectable = make_engine(url)
    assert isinstance(connectable, Engine)
    with connectable.connect() as connection:
        _migrate(connection)


run_migrations_online()
