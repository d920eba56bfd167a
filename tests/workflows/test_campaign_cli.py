"""``reviewctl campaign`` and ``reviewctl audit redraw`` as a person types
them, on the dev server with a worker: plan prints the plan id, launch with
it starts the reviews (a progress bar), status counts them, cancel needs a
reason, redraw reproduces the draw; a bad option is one line naming it."""

from __future__ import annotations

import asyncio
import os
import re
import sys
import uuid
from pathlib import Path

import pytest
from conftest import running_worker
from typer.testing import CliRunner

from cli.main import app
from config.settings import get_settings
from directory.service import load_example
from service.campaigns import workflow_id_of
from storage.db import make_engine
from storage.migrate import upgrade
from workflows.campaign_messages import CampaignProgress

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def cli_env(tmp_path, monkeypatch, dev_env):
    db = f"sqlite:///{tmp_path}/log.db"
    tq = f"tq-{uuid.uuid4()}"
    for k, v in {"TEMPORAL_ADDRESS": dev_env.client.service_client.config.target_host, "PINGYI_DATABASE_URL": db, "PINGYI_TASK_QUEUE": tq, "PINGYI_DATA_DIR": str(tmp_path)}.items():
        monkeypatch.setenv(k, v)
    get_settings.cache_clear()
    engine = make_engine(db)
    upgrade(engine)
    load_example(engine)
    yield engine, tq
    get_settings.cache_clear()
    engine.dispose()


def invoke(*args: str):
    return CliRunner().invoke(app, list(args), catch_exceptions=False)


async def invoked(*args: str):
    """``invoke`` from a test's event loop (a command runs its own loop)."""
    return await asyncio.to_thread(invoke, *args)


class Ran:
    def __init__(self, code: int, output: str) -> None:
        self.exit_code, self.output = code, output


async def in_process(*args: str) -> Ran:
    """reviewctl as its own process, as a person runs it (a CliRunner in this
    process would swap the streams the running worker logs to)."""
    proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "cli.main", *args, cwd=ROOT, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT, env={**os.environ, "COLUMNS": "200"})
    out, _ = await asyncio.wait_for(proc.communicate(), timeout=120)
    return Ran(proc.returncode, out.decode())


async def watched_status(campaign_id: str, polls: int) -> tuple[object, int]:
    """``campaign status --watch`` run here for ``polls`` refreshes (then the
    Ctrl-C a person would press), counting the connections it opens."""
    import cli.campaigns
    import service.temporal

    real, opened, slept = service.temporal.connect, [], []

    async def counted(*a, **kw):
        opened.append(1)
        return await real(*a, **kw)

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        if len(slept) >= polls:
            raise KeyboardInterrupt

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(service.temporal, "connect", counted)
        mp.setattr(cli.campaigns, "_sleep", sleep)
        ran = await invoked("campaign", "status", campaign_id, "--watch", "--every", "0.2")
    return ran, len(opened)


async def test_plan_launch_status_cancel_and_redraw(dev_env, cli_env):
    engine, tq = cli_env
    cid = f"cli-{uuid.uuid4().hex[:6]}"
    opts = ["--period", "2026-H2", "--unit", "U-HQ-D08", "--method", "random", "--sample-size", "5", "--seed", "42"]
    planned = await invoked("campaign", "plan", cid, *opts)
    assert planned.exit_code == 0, planned.output
    plan_id = re.search(r"plan id ([0-9a-f]{32})", planned.output).group(1)
    assert "5 reviews drawn from 12 (seed 42)" in planned.output
    async with running_worker(dev_env, engine, tq):
        launched = await in_process("campaign", "launch", cid, *opts, "--plan-id", plan_id, "--batch-size", "2")
        assert launched.exit_code == 0, launched.output
        assert "5 reviews" in launched.output
        status = await in_process("campaign", "status", cid)
        assert status.exit_code == 0 and "started 5" in status.output and "5 started" in status.output, status.output
        watched, connections = await watched_status(cid, polls=3)
        assert watched.exit_code == 0 and watched.output.count("started 5") == 3, watched.output
        assert connections == 1  # one connection for the whole watch, not one per poll
        refused = await in_process("campaign", "cancel", cid, "--reason", "  ")
        assert refused.exit_code == 2 and "reason" in refused.output
        cancelled = await in_process("campaign", "cancel", cid, "--reason", "replaced")
        assert cancelled.exit_code == 0, cancelled.output
        # the cancel is accepted at once and its batches cancel the reviews on this
        # worker: the campaign ends when they are done (leaving the worker before
        # would strand the batch's updates with no worker to run them)
        ended = await asyncio.wait_for(dev_env.client.get_workflow_handle(workflow_id_of(cid), result_type=CampaignProgress).result(), timeout=120)
        assert ended.state == "cancelled" and ended.reviews_cancelled == 5, ended
    redrawn = await invoked("audit", "redraw", cid)
    assert redrawn.exit_code == 0 and "reproduced" in redrawn.output, redrawn.output
    ledger = await invoked("campaign", "ledger", "2026-H2", "--show", "0")
    assert ledger.exit_code == 0 and "subjects covered" in ledger.output, ledger.output
    name = f"s-{uuid.uuid4().hex[:6]}"
    created = await in_process("campaign", "schedule", "create", name, "--round", "year_end", "--unit", "U-HQ-D08")
    assert created.exit_code == 0 and "year_end over U-HQ-D08" in created.output and "-12-07T01:00" in created.output, created.output
    listed = await in_process("campaign", "schedule", "list")
    assert name in listed.output
    paused = await in_process("campaign", "schedule", "pause", name)
    assert "paused" in paused.output
    deleted = await in_process("campaign", "schedule", "delete", name)
    assert deleted.exit_code == 0
    gone = await in_process("campaign", "schedule", "trigger", name)
    assert gone.exit_code == 2 and "prefix" in gone.output


def test_wrong_plan_id_and_bad_options_are_one_line(cli_env):
    wrong = invoke("campaign", "launch", "c-x", "--period", "2026-H2", "--unit", "U-HQ-D08", "--plan-id", "0" * 32, "--no-wait")
    assert wrong.exit_code == 2 and "plan_id" in wrong.output and "Traceback" not in wrong.output
    bad = invoke("campaign", "plan", "c-x", "--period", "2026-H2", "--levels", "D")
    assert bad.exit_code == 2 and "scope.levels" in bad.output
    unknown = invoke("campaign", "status", "nope")
    assert unknown.exit_code == 2 and "campaign_id" in unknown.output
