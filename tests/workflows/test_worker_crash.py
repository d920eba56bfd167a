"""A worker process killed with SIGKILL in the middle of a command, and a new
one started in its place: the review finishes, and the log holds every command
exactly once — versions 1..N with no gap and no duplicate, the hash chain
intact, and the fold of the log equal to the workflow's queried state.

The worker runs as its own process (``python -m worker``, the ``pingyi-worker``
entry point) against the local dev server, on a SQLite file the test migrates
first. The kill is aimed at the narrowest window: the moment the command's
events are committed by the local activity, before the worker could report
its workflow task complete — so Temporal must re-run the update on the new
worker, and the append must recognise its own events instead of writing them
twice.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from collections import defaultdict
from datetime import date
from pathlib import Path

from specs import branch_spec
from stream_checks import assert_stream_intact, folded, outbox_rows
from temporalio.api.enums.v1 import EventType

from domain.procedure import Step
from service.demo import findings, next_command
from service.reviews import get_state, send, start_review
from storage.db import make_engine
from storage.eventlog import EventStore
from storage.migrate import upgrade

ROOT = Path(__file__).resolve().parents[2]
MAX_CRASHES = 3  # kill attempts until one lands between the commit and the task's completion


class WorkerProcess:
    def __init__(self, env: dict[str, str], log_path: Path) -> None:
        self.log = open(log_path, "ab")
        self.proc = subprocess.Popen([sys.executable, "-m", "worker"], cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT)

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)
        assert self.proc.returncode == -signal.SIGKILL

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


def stream_version(db_path: Path, review_id: str) -> int:
    """Read the log head the way a bystander would (autocommit, no write lock)."""
    conn = sqlite3.connect(db_path, isolation_level=None, timeout=5)
    try:
        return conn.execute("SELECT COALESCE(MAX(version), 0) FROM events WHERE stream_id = ?", (review_id,)).fetchone()[0]
    finally:
        conn.close()


async def update_ids_in_history(client, review_id, event_type) -> list[str]:
    events = (await client.get_workflow_handle(review_id).fetch_history()).events
    out = []
    for e in events:
        if e.event_type == event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED:
            out.append(e.workflow_execution_update_accepted_event_attributes.accepted_request.meta.update_id)
        elif e.event_type == event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED:
            out.append(e.workflow_execution_update_completed_event_attributes.meta.update_id)
    return out


async def test_worker_killed_mid_command_and_restarted(dev_env, tmp_path):
    client, spec = dev_env.client, branch_spec()
    rid, tq, db_path = spec.review_id, f"tq-{uuid.uuid4()}", tmp_path / "log.db"
    engine = make_engine(f"sqlite:///{db_path}")
    upgrade(engine)
    store = EventStore(engine)
    env = {
        **os.environ,
        "TEMPORAL_ADDRESS": dev_env.client.service_client.config.target_host,
        "PINGYI_DATABASE_URL": f"sqlite:///{db_path}",
        "PINGYI_TASK_QUEUE": tq,
        "PINGYI_DATA_DIR": str(tmp_path),
        "PINGYI_LOG_LEVEL": "WARNING",
    }
    worker = WorkerProcess(env, tmp_path / "worker.log")
    sent: list[str] = []  # update ids, in order
    crashes: list[dict] = []
    try:
        handle = await start_review(client, spec, tq)
        # the first command doubles as the readiness check of the new process
        sent.append(f"cmd-{uuid.uuid4()}")
        await asyncio.wait_for(send(client, rid, findings(spec), update_id=sent[-1]), timeout=60)
        state = await get_state(client, rid)

        while (cmd := next_command(state, date.today())) is not None:
            update_id = f"cmd-{uuid.uuid4()}"
            sent.append(update_id)
            hit = any(c["committed"] and not c["completed"] for c in crashes)
            if hit or len(crashes) >= MAX_CRASHES:
                await send(client, rid, cmd, update_id=update_id)
            else:
                before = stream_version(db_path, rid)
                in_flight = asyncio.create_task(send(client, rid, cmd, update_id=update_id))
                give_up = time.monotonic() + 15
                while stream_version(db_path, rid) == before and not in_flight.done() and time.monotonic() < give_up:
                    await asyncio.sleep(0.001)
                worker.kill()
                completed = update_id in await update_ids_in_history(client, rid, EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED)
                crashes.append({"kind": cmd.kind, "committed": stream_version(db_path, rid) > before, "completed": completed})
                worker = WorkerProcess(env, tmp_path / "worker.log")
                result = await asyncio.wait_for(in_flight, timeout=60)
                assert result.version == stream_version(db_path, rid)
            state = await get_state(client, rid)
        outcome = await asyncio.wait_for(handle.result(), timeout=30)
        final = await get_state(client, rid)
        accepted = await update_ids_in_history(client, rid, EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED)
    finally:
        worker.stop()
    print(f"crashes: {crashes}")

    assert crashes, "the worker was never killed"
    assert any(c["committed"] and not c["completed"] for c in crashes), f"no kill landed between the commit and the task's completion: {crashes}"
    assert final.step is Step.CLOSED and outcome.final_step is Step.CLOSED and outcome.version == final.version

    records = store.read_stream(rid)
    assert len(records) == final.version
    assert_stream_intact(records)  # versions 1..N, no gap, no duplicate; the chain links
    assert folded(store, rid) == final  # the auditor's fold equals the workflow's state

    # every command was accepted once and recorded once, as one contiguous batch
    assert sorted(accepted) == sorted(sent)
    batches: dict[str, list[int]] = defaultdict(list)
    for r in records:
        batches[r.causation_id].append(r.version)
    assert sorted(k.removeprefix("update:") for k in batches if k.startswith("update:")) == sorted(sent)
    for versions in batches.values():
        assert versions == list(range(versions[0], versions[0] + len(versions)))
    kinds = [(r["version"], r["recipient_id"], r["kind"]) for r in outbox_rows(engine, rid)]
    assert len(kinds) == len(set(kinds))
    engine.dispose()
