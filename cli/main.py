"""``reviewctl``: the command line for reviewers, subjects, supervisors and
auditors. Each group lives in its own module."""

from __future__ import annotations

import os
import sys

from typing import Annotated, Optional

import typer

from cli import audit, campaigns, codec, directory, reviews, service, users
from cli.common import remote_options

app = typer.Typer(name="reviewctl", help="Pingyi (评议): run and inspect leadership reviews.", no_args_is_help=True, pretty_exceptions_show_locals=False)


@app.callback()
def remote(
    ctx: typer.Context,
    api: Annotated[Optional[str], typer.Option("--api", metavar="URL", help="act through this Pingyi API (default: PINGYI_API_URL; with a token alone, PINGYI_API_HOST/PORT)")] = None,
    token: Annotated[Optional[str], typer.Option("--token", metavar="TOKEN", help="your bearer token (default: PINGYI_API_TOKEN; 'reviewctl users token issue' makes one)")] = None,
) -> None:
    """Pingyi (评议): run and inspect leadership reviews. With --api and
    --token (or PINGYI_API_URL / PINGYI_API_TOKEN) the commands that act as a
    person (review, outbox, directory plan/explain, audit timeline/state/cross-check) go through the
    API as the token's person: the way to act in production."""
    remote_options(ctx, api, token)

service.register(app)  # serve, status, demo, outbox
app.add_typer(reviews.app, name="review")
app.add_typer(directory.app, name="directory")
app.add_typer(audit.app, name="audit")
app.add_typer(users.app, name="users")
app.add_typer(campaigns.app, name="campaign")
app.add_typer(codec.app, name="codec")

def main() -> None:
    """Run the CLI, then leave without interpreter teardown: the Temporal
    client's Rust runtime threads can crash a finalizing interpreter
    (temporalio/sdk-python#300), which would turn a finished command into a
    segfault exit code."""
    code = 0
    try:
        app()
    except SystemExit as e:
        code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    main()
