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

from app.errors import AppError
from app.principal import Principal
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


def settings_for(db: str | None) -> Settings:
    """The settings, with a command's --db naming another database."""
    s = settings()
    return s.model_copy(update={"database_url": db}) if db else s


def principal_for(actor: str | None, s: Settings | None = None):
    """The principal a local CLI command acts as. In development ``--actor``
    names the person (Principal(kind="person", via="cli")); production
    settings refuse it: people act through the API with their own token."""
    s = s or settings()
    if s.environment == "production":
        if actor is not None:
            err.print("refused --actor: in production a person acts through the API with their own token (reviewctl users token issue), not as a name typed here", markup=False)
            raise typer.Exit(2)
        return LOCAL_OPERATOR
    if actor is None:
        # reading from the local machine in development: the auditor's view
        return LOCAL_OPERATOR
    return Principal(kind="person", person_id=actor, via="cli")


# whoever runs reviewctl on the server itself, with no --actor: reads as an
# auditor, acts as nobody (the log-wide audit tools run as this one)
LOCAL_OPERATOR = Principal(kind="person", person_id=None, auditor=True, via="cli")


class _Given:
    """``reviewctl --api URL --token TOKEN`` of the invocation running now."""

    api: str | None = None
    token: str | None = None


def remote_options(ctx: typer.Context, api: str | None, token: str | None) -> None:
    """Keep the top-level --api/--token for this invocation's commands, and
    forget them when it ends (in-process runners invoke many times)."""
    _Given.api, _Given.token = api, token

    def forget() -> None:
        _Given.api = _Given.token = None

    ctx.call_on_close(forget)


def remote_for(s: Settings):
    """The API to act through (cli.remote.Remote), or None for local mode:
    --api/--token, else PINGYI_API_URL/PINGYI_API_TOKEN; a token alone goes to
    the configured API address."""
    from cli.remote import TOKEN_HELP, Remote

    url = _Given.api or s.remote_api_url
    token = _Given.token or (s.api_token.get_secret_value() if s.api_token else None)
    if url is None and token is None:
        return None
    if not token:
        fail(2, "missing", f"--token: remote mode acts with your own bearer token (--token or PINGYI_API_TOKEN); {TOKEN_HELP}")
    url = url or s.api_url
    from urllib.parse import urlsplit

    where = urlsplit(url)
    if where.scheme not in ("http", "https") or not where.hostname:
        fail(2, "invalid", f"--api: {url!r} is not an http(s) URL of the API, e.g. https://pingyi.example.org")
    if s.environment == "production" and where.scheme == "http" and where.hostname not in ("localhost", "127.0.0.1", "::1"):
        fail(2, "refused", f"--api: {url} is plain http: in production a token crosses the network over https only")
    return Remote(url, token)


def local_only(s: Settings, what: str) -> None:
    """Commands with no API route run on the server itself: with --api (or
    PINGYI_API_URL/TOKEN) they refuse rather than quietly act on this
    machine's database."""
    if remote_for(s) is not None:
        fail(2, "refused", f"--api: {what} have no API route yet: run them on the server itself, without --api or PINGYI_API_URL/PINGYI_API_TOKEN")


def act(use: Callable[..., Awaitable[T]], inp: Any, s: Settings, *, actor: str | None = None, default_actor: str | None = None,
        needs_person: str | None = None, reads_nothing: bool = False, server_tool: bool = False, db: str | None = None, engine=None,
        as_principal=None, session: Session | None = None) -> T:
    """Run a use case that acts as a person: through the API with the token in
    remote mode, else here as ``--actor`` (development) or the local operator.
    Production without a token says how to get one (a person's acts need an
    authenticated principal). ``needs_person``: the line to print when local
    mode has nobody to act as; ``default_actor``: who acts locally in
    development when --actor is left out; ``reads_nothing``: the use case reads no review
    (runs here in production too); ``server_tool``: a log-wide tool with no
    API route, run on the server itself as the local operator (in production
    too; with --api it says it has no route); ``db``: a --db given (local
    only); ``engine``: the database to run on here, or what opens it (default: the settings');
    ``as_principal``: who a server tool acts as here (default: the local operator);
    ``session``: run here in that session's context (its own database opener), kept between calls."""
    remote = remote_for(s)
    if remote is not None:
        from cli.remote import ROUTES, no_route

        if use not in ROUTES:
            report(no_route(use))
        if actor is not None:
            fail(2, "refused", "--actor: with --api the token's own person acts; leave --actor out")
        if db is not None:
            fail(2, "refused", "--db: with --api the server reads its own database; leave --db out")
        try:
            return remote.call(use, inp)
        except AppError as e:
            report(e)
    if s.environment == "production" and not (reads_nothing or server_tool):
        from cli.remote import TOKEN_HELP

        if actor is not None:
            principal_for(actor, s)  # refuses --actor, in its own words
        fail(2, "missing", f"--token: in production a person acts through the API with their own bearer token (--api URL --token TOKEN, or PINGYI_API_URL and PINGYI_API_TOKEN); {TOKEN_HELP}")
    principal = as_principal or principal_for(actor if actor is not None or s.environment == "production" else default_actor, s)
    if needs_person and principal.person_id is None:
        fail(2, "missing", needs_person)
    call = (lambda ctx: use(ctx, principal, inp)) if inp is not None else (lambda ctx: use(ctx, principal))
    if session is not None:
        return use_case(call, s, session=session)
    here = engine() if callable(engine) else engine  # opened (and migrated) only when the command runs here
    return use_case(call, s, engine=here)


def fail(code: int, label: str, text: str) -> NoReturn:
    err.print(f"[red]{escape(label)}[/red] {escape(text)}")
    raise typer.Exit(code)


def report(e: AppError) -> NoReturn:
    """A use case's typed error as one line (the field, then the reason) and
    its exit code; an error that lists its problems (a refused import) adds
    one line for each."""
    details = getattr(e, "details", ())
    if details:
        err.print(f"[red]{escape(e.code.replace('_', ' '))}[/red] {escape(e.field + ': ' if e.field else '')}{escape(e.message)}")
        for line in details:
            err.print("  " + line, markup=False, highlight=False)
        raise typer.Exit(e.exit_code)
    fail(e.exit_code, e.code.replace("_", " "), f"{e.field}: {e.message}" if e.field else e.message)


class Session:
    """One event loop and one application context for a whole command that
    runs use cases again and again (a launch's progress bar, ``status
    --watch``): one Temporal connection and one database engine for the
    command, not a new connection per poll. ``engine``: the database, or what
    opens it (opened on the first call that runs here)."""

    def __init__(self, engine=None) -> None:
        self._engine = engine
        self._runner: asyncio.Runner | None = None
        self.ctx = None

    def run(self, s: Settings, call: Callable[[Any], Awaitable[T]]) -> T:
        if self._runner is None:
            from app.context import AppContext

            self._runner = asyncio.Runner()
            self.ctx = AppContext(s, engine=self._engine() if callable(self._engine) else self._engine)
        return self._runner.run(call(self.ctx))

    def close(self) -> None:
        if self.ctx is not None:
            self.ctx.close()
        if self._runner is not None:
            self._runner.close()
        self._runner = self.ctx = None

    def __enter__(self) -> "Session":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def use_case(call: Callable[[Any], Awaitable[T]], s: Settings | None = None, *, engine=None, session: Session | None = None) -> T:
    """Run ``call(ctx)`` in a fresh context (one engine, one Temporal client for
    this call; ``engine``: one the command already holds), or in ``session``'s
    (kept for the next call), and turn every error a person can fix into one
    line."""
    from sqlalchemy.exc import OperationalError, ProgrammingError

    from app.errors import database_unavailable

    own = session is None
    session = session or Session(engine)
    try:
        return session.run(s or settings(), call)
    except (OperationalError, ProgrammingError) as e:
        db = database_unavailable(e)
        fail(db.exit_code, "unavailable", db.message)
    except AppError as e:
        report(e)
    except CommandRejected as e:
        fail(2, "rejected", f"{e.field}: {e.reason}")
    except ValidationError as e:
        first = e.errors(include_input=False, include_url=False)[0]
        fail(2, "invalid", f"{'.'.join(str(p) for p in first['loc']) or '(input)'}: {first['msg']}")
    finally:
        if own:
            session.close()


def run(coro: Coroutine[Any, Any, T]) -> T:
    """Run a client call; turn the errors a person can fix into one clear line."""
    try:
        return asyncio.run(coro)
    except AppError as e:
        report(e)
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
