"""``reviewctl users``: accounts of directory persons, their standing roles and
systems' bearer tokens. Run on the server itself, it acts as the local
administrator (someone has to create the first one); every change is an event
on the account's stream in the event log."""

from __future__ import annotations

import sys
from typing import Annotated, Callable, Optional, TypeVar

import typer
from pydantic import BaseModel, ValidationError
from rich.table import Table

from cli.common import err, out, settings
from domain.accounts import StandingRole, TokenScope

app = typer.Typer(help="Accounts, roles (supervisor, auditor, administrator) and bearer tokens.", no_args_is_help=True)
token_app = typer.Typer(help="Bearer tokens for other systems: issue, revoke, list.", no_args_is_help=True)
app.add_typer(token_app, name="token")
T = TypeVar("T")


def _accounts():
    from app.accounts import Accounts
    from cli.common import log_engine
    from storage.eventlog import EventStore
    from storage.migrate import upgrade

    from cli.common import local_only

    s = settings()
    local_only(s, "account commands (the server's local administrator)")
    engine = log_engine()
    upgrade(engine)
    return Accounts(s, engine, EventStore(engine))


def _do(fn: Callable[[], T]) -> T:
    """One use case; its typed error becomes one line naming the field."""
    from app.errors import AppError

    try:
        return fn()
    except AppError as e:
        err.print(f"[red]{e.code}[/red] {e.field + ': ' if e.field else ''}{e.message}")
        raise typer.Exit(e.exit_code) from None
    except ValidationError as e:
        for item in e.errors():
            err.print(f"[red]invalid[/red] {'.'.join(str(p) for p in item['loc']) or '(input)'}: {item['msg']}")
        raise typer.Exit(2) from None


def _password(from_stdin: bool, confirm: bool = True) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return typer.prompt("password", hide_input=True, confirmation_prompt=confirm)


def _print(model: BaseModel, as_json: bool, line: str) -> None:
    if as_json:
        print(model.model_dump_json())
    else:
        out.print(line)


def _grants(view) -> str:
    return ", ".join(f"{g.role.value}{' over ' + g.scope if g.scope else ''}" for g in view.grants) or "no standing roles"


@app.command()
def add(
    person_id: Annotated[str, typer.Argument(help="the directory person the account belongs to")],
    password_stdin: Annotated[bool, typer.Option("--password-stdin", help="read the password from the first line of stdin")] = False,
    no_password: Annotated[bool, typer.Option("--no-password", help="no password yet (tokens only, or set one later with passwd)")] = False,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Create the account of a directory person (who then signs in with the person id)."""
    from app.accounts import CLI_ADMIN, AddAccount

    pw = None if no_password else _password(password_stdin)
    accounts = _accounts()
    view = _do(lambda: accounts.add_account(CLI_ADMIN, AddAccount(person_id=person_id, password=pw)))
    _print(view, as_json, f"account [bold]{view.account_id}[/bold] for {view.person_id} ({view.name}){'' if view.has_password else ', no password yet'}")


@app.command()
def passwd(
    person_id: str,
    password_stdin: Annotated[bool, typer.Option("--password-stdin")] = False,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Set an account's password; its open sessions end."""
    from app.accounts import CLI_ADMIN, SetPassword

    pw = _password(password_stdin)
    accounts = _accounts()
    view = _do(lambda: accounts.set_password(CLI_ADMIN, SetPassword(person_id=person_id, password=pw)))
    _print(view, as_json, f"password of {view.person_id} set; open sessions ended")


@app.command()
def grant(
    person_id: str,
    role: Annotated[StandingRole, typer.Argument(help="supervisor (needs --scope), auditor or administrator")],
    scope: Annotated[Optional[str], typer.Option(help="supervisor: the unit whose subtree they supervise")] = None,
    revoke: Annotated[bool, typer.Option("--revoke", help="take the grant away instead")] = False,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Grant (or, with --revoke, take away) a standing role."""
    from app.accounts import CLI_ADMIN, GrantRole

    accounts = _accounts()
    cmd = _do(lambda: GrantRole(person_id=person_id, role=role, scope=scope))
    view = _do(lambda: (accounts.revoke_grant if revoke else accounts.grant)(CLI_ADMIN, cmd))
    _print(view, as_json, f"{view.person_id}: {_grants(view)}")


@app.command("list")
def list_accounts(
    cursor: Annotated[Optional[str], typer.Option()] = None,
    limit: Annotated[int, typer.Option(min=1, max=500)] = 50,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Accounts and their standing roles."""
    from app.accounts import CLI_ADMIN

    accounts = _accounts()
    page = _do(lambda: accounts.list_accounts(CLI_ADMIN, cursor, limit))
    if as_json:
        print(page.model_dump_json())
        return
    t = Table("account", "person", "name", "password", "roles")
    for v in page.items:
        t.add_row(v.account_id, v.person_id, v.name or "", "yes" if v.has_password else "no", _grants(v))
    out.print(t)
    if page.next_cursor:
        out.print(f"more: --cursor {page.next_cursor}")


@token_app.command("issue")
def token_issue(
    person_id: Annotated[str, typer.Argument(help="the account the system acts as")],
    name: Annotated[str, typer.Option(help="what the token is for, e.g. portal")],
    scope: Annotated[Optional[list[TokenScope]], typer.Option("--scope", help="repeatable; default reviews:read and reviews:write")] = None,
    days: Annotated[Optional[float], typer.Option(help="lifetime in days (default from settings)")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Issue a bearer token; the secret is printed once and only its hash is kept."""
    from app.accounts import CLI_ADMIN, IssueToken

    scopes = tuple(scope or (TokenScope.REVIEWS_READ, TokenScope.REVIEWS_WRITE))
    accounts = _accounts()
    cmd = _do(lambda: IssueToken(person_id=person_id, name=name, scopes=scopes, days=days))
    issued = _do(lambda: accounts.issue_token(CLI_ADMIN, cmd))
    if as_json:
        print(issued.model_dump_json())
        return
    out.print(f"token [bold]{issued.token_id}[/bold] for {person_id} ({', '.join(s.value for s in issued.scopes)}), expires {issued.expires_at:%Y-%m-%d %H:%M} UTC")
    out.print("secret (shown once; send it as 'Authorization: Bearer <secret>'):")
    print(issued.secret)


@token_app.command("revoke")
def token_revoke(token_id: str, as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Revoke a token: the next request with it is refused."""
    from app.accounts import CLI_ADMIN

    accounts = _accounts()
    view = _do(lambda: accounts.revoke_token(CLI_ADMIN, token_id))
    _print(view, as_json, f"token {view.token_id} revoked")


@token_app.command("list")
def token_list(
    person_id: Annotated[Optional[str], typer.Option("--person", help="only this person's tokens")] = None,
    cursor: Annotated[Optional[str], typer.Option()] = None,
    limit: Annotated[int, typer.Option(min=1, max=500)] = 50,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Tokens (never their secrets): name, scopes, expiry, state."""
    from app.accounts import CLI_ADMIN

    accounts = _accounts()
    page = _do(lambda: accounts.list_tokens(CLI_ADMIN, person_id, cursor, limit))
    if as_json:
        print(page.model_dump_json())
        return
    t = Table("token", "account", "name", "scopes", "expires", "state")
    for v in page.items:
        t.add_row(v.token_id, v.account_id, v.name, ", ".join(s.value for s in v.scopes), f"{v.expires_at:%Y-%m-%d %H:%M}", v.state)
    out.print(t)
    if page.next_cursor:
        out.print(f"more: --cursor {page.next_cursor}")

