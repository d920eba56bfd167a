"""``reviewctl``: the command line for reviewers, subjects, supervisors and
auditors. Each group lives in its own module."""

from __future__ import annotations

import os
import sys

import typer

from cli import audit, campaigns, codec, directory, reviews, service, users

app = typer.Typer(name="reviewctl", help="Pingyi (评议): run and inspect leadership reviews.", no_args_is_help=True, pretty_exceptions_show_locals=False)
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
