"""What every reviewctl group needs: settings, the log database, the acting
principal, and one way to run a use case and turn its typed error into one
line and a non-zero exit (never a traceback for a person's mistake).

User data (ids, reasons, subjects) is printed with Rich markup off or escaped:
a reason holding ``[red]x[/red]`` is shown as typed, not swallowed."""

from __future__ import annotations

import asyncio
from typing import Any, Awaitable, Callable, Coroutine, NoReturn, TypeVar

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.markup import escape

from config.logging import configure_logging
from config.settings import Settings, get_settings
from domain.errors import CommandRejected

out = Console()
err = Console(stderr=True, soft_wrap=True)
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


def principal_for(actor: str | None, s: Settings | None = None):
    """The principal a local CLI command acts as. In development ``--actor``
    names the person (Principal(kind="person", via="cli")); production
    settings refuse it: people act through the API with their own token."""
    from app.principal import Principal

    s = s or settings()
    if s.environment == "production":
        if actor is not None:
            err.print("refused --actor: in production a person acts through the API with their own token (reviewctl users token issue), not as a name typed here", markup=False)
            raise typer.Exit(2)
        return Principal(kind="person", person_id=None, auditor=True, via="cli")
    if actor is None:
        # reading from the local machine in development: the auditor's view
        return Principal(kind="person", person_id=None, auditor=True, via="cli")
    return Principal(kind="person", person_id=actor, via="cli")


def fail(code: int, label: str, text: str) -> NoReturn:
    err.print(f"[red]{escape(label)}[/red] {escape(text)}")
    raise typer.Exit(code)


def use_case(call: Callable[[Any], Awaitable[T]], s: Settings | None = None) -> T:
    """Run ``call(ctx)`` in a fresh context (one engine, one Temporal client for
    this process) and turn every error a person can fix into one line."""
    from app.context import AppContext
    from app.errors import AppError

    ctx = AppContext(s or settings())

    async def go():
        return await call(ctx)

    from sqlalchemy.exc import OperationalError, ProgrammingError

    from app.errors import database_unavailable

    try:
        return asyncio.run(go())
    except (OperationalError, ProgrammingError) as e:
        db = database_unavailable(e)
        fail(db.exit_code, "unavailable", db.message)
    except AppError as e:
        fail(e.exit_code, e.code.replace("_", " "), f"{e.field}: {e.message}" if e.field else e.message)
    except CommandRejected as e:
        fail(2, "rejected", f"{e.field}: {e.reason}")
    except ValidationError as e:
        first = e.errors(include_input=False, include_url=False)[0]
        fail(2, "invalid", f"{'.'.join(str(p) for p in first['loc']) or '(input)'}: {first['msg']}")
    finally:
        ctx.close()


def run(coro: Coroutine[Any, Any, T]) -> T:
    """Run a client call; turn the errors a person can fix into one clear line."""
    from app.errors import AppError

    try:
        return asyncio.run(coro)
    except AppError as e:
        fail(e.exit_code, e.code.replace("_", " "), f"{e.field}: {e.message}" if e.field else e.message)
    except CommandRejected as e:
        fail(2, "rejected", f"{e.field}: {e.reason}")
    except ValidationError as e:
        for item in e.errors():
            err.print(f"[red]invalid[/red] {escape('.'.join(str(p) for p in item['loc']) or '(input)')}: {escape(item['msg'])}")
        raise typer.Exit(2) from None
    except RuntimeError as e:
        if "Failed client connect" in str(e) or "connection" in str(e).lower():
            fail(3, "cannot reach Temporal", f"at {get_settings().address}: is 'make run' running? ({e})")
        raise


def log_engine(url: str | None = None):
    """The database of the event log and the directory: ``url`` (a --db option)
    or the one the settings name."""
    from storage.db import make_engine

    return make_engine(url or get_settings().db_url)
