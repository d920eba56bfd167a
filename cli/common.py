"""What every reviewctl group needs: settings, the log database, a client, and
one way to print a rejection (field + reason) and exit non-zero."""

from __future__ import annotations

import asyncio
from typing import Any, Coroutine, TypeVar

import typer
from pydantic import ValidationError
from rich.console import Console

from config.logging import configure_logging
from config.settings import Settings, get_settings
from domain.errors import CommandRejected

out = Console()
err = Console(stderr=True)
T = TypeVar("T")


def settings() -> Settings:
    """The settings, or one line per setting that is wrong (never a traceback:
    a bad environment is a person's mistake)."""
    try:
        s = get_settings()
    except ValidationError as e:
        for item in e.errors():
            where = ".".join(str(p) for p in item["loc"])
            err.print(f"invalid setting{' PINGYI_' + where.upper() if where else ''}: {item['msg'].removeprefix('Value error, ')}", markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(2) from None
    configure_logging(s.effective_log_format, "WARNING")
    return s


def run(coro: Coroutine[Any, Any, T]) -> T:
    """Run a client call; turn the errors a person can fix into one clear line."""
    try:
        return asyncio.run(coro)
    except CommandRejected as e:
        err.print(f"[red]rejected[/red] {e.field}: {e.reason}")
        raise typer.Exit(2) from None
    except ValidationError as e:
        for item in e.errors():
            err.print(f"[red]invalid[/red] {'.'.join(str(p) for p in item['loc']) or '(input)'}: {item['msg']}")
        raise typer.Exit(2) from None
    except RuntimeError as e:
        if "Failed client connect" in str(e) or "connection" in str(e).lower():
            err.print(f"[red]cannot reach Temporal[/red] at {get_settings().address}: is 'make run' running? ({e})")
            raise typer.Exit(3) from None
        raise


def log_engine(url: str | None = None):
    """The database of the event log and the directory: ``url`` (a --db option)
    or the one the settings name."""
    from storage.db import make_engine

    return make_engine(url or get_settings().db_url)
