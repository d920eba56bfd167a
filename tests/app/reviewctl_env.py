"""``reviewctl`` run in-process against a test's own database, Temporal server
and task queue, as a person's shell would point it there (the environment),
with its consoles wide enough for one table row per line.

Import as ``from reviewctl_env import ...`` from a test in ``tests/app``."""

from __future__ import annotations

import asyncio
from pathlib import Path

from rich.console import Console
from typer.testing import CliRunner

from cli.main import app as reviewctl
from config.settings import Settings, get_settings


def point_reviewctl(monkeypatch, settings: Settings, data_dir: Path, address: str) -> None:
    """Point the next ``reviewctl`` runs at ``settings``' database and task
    queue and the server at ``address``; the settings cache is cleared, so
    the environment is read again (clear it again after changing it)."""
    monkeypatch.setenv("PINGYI_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("PINGYI_DATA_DIR", str(data_dir))
    monkeypatch.setenv("PINGYI_TASK_QUEUE", settings.task_queue)
    monkeypatch.setenv("TEMPORAL_ADDRESS", address)
    import cli.audit
    import cli.common
    import cli.reviews
    import cli.service

    wide = Console(width=400)  # one table row per line
    for module in (cli.common, cli.reviews, cli.service, cli.audit):
        monkeypatch.setattr(module, "out", wide)
    get_settings.cache_clear()


async def reviewctl_run(args: list[str]):
    """One ``reviewctl`` invocation, off the event loop the test's worker runs on."""
    return await asyncio.to_thread(CliRunner().invoke, reviewctl, args, catch_exceptions=True)
