"""Record the Temporal histories the replay test replays (tests/replay/histories).

Run from the repository root after a change to the workflow that is meant to
be history-compatible has been released, and commit the JSON files:

    .venv/bin/python tests/replay/record_histories.py [NAME ...]

(with names, e.g. ``engine_cancelled``, only those scenarios are recorded:
a new scenario must not re-record the old files, which hold what running
reviews of older revisions did).

Each file is one complete review run by the real worker against a real server
(``history.to_json()``); its name (without ``.json``) is the workflow id:

- ``rv-replay-on-time``: the nine commands of an on-time review (local dev
  server, search attributes upserted at every step);
- ``rv-replay-late``: a reminder, the deadline extended (the running timer
  cancelled), a second reminder, overdue, the late work, then the opinion
  deadline closing its step by itself (time-skipping server);
- ``rv-replay-cancelled``: a reminder, then a supervisor cancels (time-skipping
  server);
- ``rv-replay-rework``: the rectification plan returned once and the
  report-back judged "needs more work" once (local dev server);
- ``rv-replay-engine-cancelled``: findings recorded, then the workflow is
  cancelled in Temporal (as the Web UI's "Request Cancellation" does) and
  records the cancellation itself (local dev server);
- ``rv-replay-engine-cancelled-before-r2``: the same, recorded by the workflow
  before it recorded such cancellations (no event, no local activity): kept to
  prove the ``workflow.patched`` guard; not re-recorded by this script.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from datetime import timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
for p in (ROOT, ROOT / "tests" / "workflows"):
    if str(p) not in sys.path:
        sys.path.insert(0, str(p))

from temporalio.testing import WorkflowEnvironment  # noqa: E402

from domain import commands as c  # noqa: E402
from domain.procedure import Step  # noqa: E402
from domain.review import ReviewState, reminder_at  # noqa: E402
from service import demo  # noqa: E402
from service.reviews import get_state, send, start_review  # noqa: E402
from service.temporal import data_converter  # noqa: E402
from specs import branch_spec  # noqa: E402
from storage.db import make_engine  # noqa: E402
from storage.migrate import upgrade  # noqa: E402
from worker import build_worker  # noqa: E402
from workflows import search_attributes as sa  # noqa: E402

HISTORIES = HERE / "histories"
BIN = Path(sys.executable).parent
SUPERVISOR = "P-OFFICE"


async def wait_until(client, review_id, predicate, what: str, timeout: float = 30.0) -> ReviewState:
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    state = await get_state(client, review_id)
    while not predicate(state):
        if loop.time() > end:
            raise SystemExit(f"{review_id}: timed out waiting for {what} (step {state.step}, version {state.version})")
        await asyncio.sleep(0.05)
        state = await get_state(client, review_id)
    return state


async def advance_to(env, when) -> None:
    now = await env.get_current_time()
    if when > now:
        await env.sleep(when - now)


async def finish(client, review_id, *, rework: bool = False) -> ReviewState:
    """Play every actor until the review closes; with ``rework`` the reviewer
    returns the first plan and judges the first report-back insufficient."""
    state = await get_state(client, review_id)
    returned = judged = False
    while (cmd := demo.next_command(state, state.last_event_at.date())) is not None:
        if rework and isinstance(cmd, c.AcceptRectificationPlan) and not returned:
            cmd, returned = c.ReturnRectificationPlan(actor_id=cmd.actor_id, reason="措施不够具体, 请补充时间节点"), True
        elif rework and isinstance(cmd, c.EvaluateReportBack) and not judged:
            cmd, judged = c.EvaluateReportBack(actor_id=cmd.actor_id, outcome="needs_more_work", comments="台账制度尚未落实到位"), True
        await send(client, review_id, cmd)
        state = await get_state(client, review_id)
    if rework:
        assert returned and judged and state.plan_version == 2 and len(state.evaluations) == 2
    return state


async def on_time(env: WorkflowEnvironment, tq: str) -> str:
    spec = branch_spec(review_id="rv-replay-on-time")
    handle = await start_review(env.client, spec, tq)
    await finish(env.client, spec.review_id)
    await handle.result()
    return spec.review_id


async def rework(env: WorkflowEnvironment, tq: str) -> str:
    spec = branch_spec(review_id="rv-replay-rework")
    handle = await start_review(env.client, spec, tq)
    await finish(env.client, spec.review_id, rework=True)
    await handle.result()
    return spec.review_id


async def late(env: WorkflowEnvironment, tq: str) -> str:
    spec = branch_spec(review_id="rv-replay-late")
    rid, step = spec.review_id, Step.INVESTIGATE
    handle = await start_review(env.client, spec, tq, visible=False)
    state = await get_state(env.client, rid)
    await advance_to(env, reminder_at(state, step) + timedelta(minutes=5))
    await wait_until(env.client, rid, lambda s: step in s.reminded, "the first reminder")
    await send(env.client, rid, c.ExtendDeadline(actor_id=SUPERVISOR, step=step, due_at=state.due[step] + timedelta(days=3), reason="集中培训"))
    state = await get_state(env.client, rid)
    await advance_to(env, reminder_at(state, step) + timedelta(minutes=5))
    await wait_until(env.client, rid, lambda s: step in s.reminded, "the second reminder")
    await advance_to(env, state.due[step] + timedelta(minutes=5))
    await wait_until(env.client, rid, lambda s: step in s.overdue, "the extended deadline")
    await send(env.client, rid, demo.findings(spec))
    await send(env.client, rid, c.CloseInvestigation(actor_id=spec.reviewer_id))
    await send(env.client, rid, demo.opinions(spec))
    state = await get_state(env.client, rid)
    await advance_to(env, state.due[Step.SOLICIT_OPINIONS] + timedelta(minutes=5))
    await wait_until(env.client, rid, lambda s: s.step is Step.REVIEW, "the opinion deadline")
    await finish(env.client, rid)
    await handle.result()
    return rid


async def cancelled(env: WorkflowEnvironment, tq: str) -> str:
    spec = branch_spec(review_id="rv-replay-cancelled")
    rid, step = spec.review_id, Step.INVESTIGATE
    handle = await start_review(env.client, spec, tq, visible=False)
    state = await get_state(env.client, rid)
    await send(env.client, rid, demo.findings(spec))
    await advance_to(env, reminder_at(state, step) + timedelta(minutes=5))
    await wait_until(env.client, rid, lambda s: step in s.reminded, "the reminder")
    await send(env.client, rid, c.CancelReview(actor_id=SUPERVISOR, reason="被点评单位撤并"))
    await handle.result()
    return rid


async def engine_cancelled(env: WorkflowEnvironment, tq: str) -> str:
    spec = branch_spec(review_id="rv-replay-engine-cancelled")
    handle = await start_review(env.client, spec, tq)
    await send(env.client, spec.review_id, demo.findings(spec))
    await handle.cancel(reason="recorded for the replay test")
    try:
        await handle.result()
    except Exception:  # WorkflowFailureError(CancelledError): the run ended cancelled, as wanted
        pass
    return spec.review_id


async def record(env: WorkflowEnvironment, engine, scenarios) -> None:
    tq = f"replay-recording-{id(env)}"
    async with build_worker(env.client, engine, tq):
        for scenario in scenarios:
            review_id = await scenario(env, tq)
            history = await env.client.get_workflow_handle(review_id).fetch_history()
            path = HISTORIES / f"{review_id}.json"
            path.write_text(history.to_json() + "\n", encoding="utf-8")
            print(f"{path.relative_to(ROOT)}: {len(history.events)} events")


async def main(names: list[str]) -> None:
    HISTORIES.mkdir(parents=True, exist_ok=True)
    on_dev = [s for s in (on_time, rework, engine_cancelled) if not names or s.__name__ in names]
    on_skipping = [s for s in (late, cancelled) if not names or s.__name__ in names]
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{tmp}/log.db")
        upgrade(engine)
        if on_dev:
            dev = await WorkflowEnvironment.start_local(data_converter=data_converter(), dev_server_existing_path=str(BIN / "temporal"), search_attributes=sa.ALL_KEYS)
            try:
                await record(dev, engine, on_dev)
            finally:
                await dev.shutdown()
        if on_skipping:
            skipping = await WorkflowEnvironment.start_time_skipping(data_converter=data_converter(), test_server_existing_path=str(BIN / "temporal-test-server"))
            try:
                await record(skipping, engine, on_skipping)
            finally:
                await skipping.shutdown()
        engine.dispose()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1:]))
