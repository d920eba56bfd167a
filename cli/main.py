"""``reviewctl``: the command line for reviewers, subjects, supervisors and
auditors. Each group lives in its own module."""

from __future__ import annotations

import typer

from cli import audit, directory, reviews, service

app = typer.Typer(name="reviewctl", help="Pingyi (评议): run and inspect leadership reviews.", no_args_is_help=True, pretty_exceptions_show_locals=False)
service.register(app)  # serve, status, demo, outbox
app.add_typer(reviews.app, name="review")
app.add_typer(directory.app, name="directory")
app.add_typer(audit.app, name="audit")

if __name__ == "__main__":
    app()
