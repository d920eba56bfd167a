"""The campaign workflow on the real dev server, driven through the use cases
(app.campaigns) as the CLI drives them: a launch repeated, and a worker
SIGKILLed mid-launch and restarted, start every review exactly once; a run
forced to continue as new after every batch loses nothing; pause holds the
launching, resume goes on, cancel cancels every review it started, each in
its own log with the campaign's reason and actor; the random round's draw is
reproduced from the log alone."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections import Counter

import pytest
from conftest import running_worker
from test_worker_crash import WorkerProcess

from app.campaigns import Campaigns, workflow_id_of
from app.errors import Conflict
from app.principal import Principal
from config.settings import Settings
from directory.service import load_example
from domain.campaign import CampaignSpec, Round, Sample, Scope, review_id_for, stream_of
from domain.procedure import ReviewMethod
from storage.campaigns import review_counts
from storage.db import make_engine
from storage.eventlog import EventStore
from storage.migrate import upgrade
from workflows.campaign_messages import CampaignProgress

OFFICE = Principal(kind="person", person_id="office", administrator=True, auditor=True, via="cli")
BRANCH = "U-HQ-D08"  # 12 subjects: the department's organization and its 11 members


@pytest.fixture
def directory_engine(tmp_path):
    eng = make_engine(f"sqlite:///{tmp_path}/log.db")
    upgrade(eng)
    load_example(eng)
    yield eng
    eng.dispose()


def campaigns(env, engine, task_queue, tmp_path) -> Campaigns:
    return Campaigns(Settings(data_dir=tmp_path, task_queue=task_queue), engine, EventStore(engine), env.client)


def spec(cid: str, **kw) -> CampaignSpec:
    return CampaignSpec(**{**dict(campaign_id=cid, period="2026-H2", round=Round.YEAR_END, method=ReviewMethod.CONCENTRATED, scope=Scope(unit_id=BRANCH)), **kw})


async def until(check, timeout: float = 60, every: float = 0.1):
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while True:
        got = await check()
        if got:
            return got
        if loop.time() > end:
            raise TimeoutError(f"condition not met within {timeout}s")
        await asyncio.sleep(every)


def starts_per_stream(engine, cid: str) -> Counter:
    from sqlalchemy import select

    from storage.schema import events

    with engine.connect() as conn:
        rows = conn.execute(select(events.c.stream_id).where(events.c.event_type == "review.started", events.c.stream_id.like(f"rv-{cid}-%"))).all()
    return Counter(r.stream_id for r in rows)


async def test_launch_twice_and_continue_as_new_start_each_review_once(dev_env, directory_engine, task_queue, tmp_path):
    cid = f"t-{uuid.uuid4().hex[:8]}"
    uc = campaigns(dev_env, directory_engine, task_queue, tmp_path)
    s = spec(cid, method=ReviewMethod.RANDOM, sample=Sample(size=7, seed=2026, stratify_by="tier"))
    plan = uc.plan(OFFICE, s)
    assert plan.total == 7 and plan.candidates == 12
    async with running_worker(dev_env, directory_engine, task_queue):
        first = await uc.launch(OFFICE, s, plan.plan_id, batch_size=2, rounds_per_run=1)
        second = await uc.launch(OFFICE, s, plan.plan_id, batch_size=2, rounds_per_run=1)
        assert not first.already_launched and second.already_launched
        status = await until(lambda: _status_when(uc, cid, lambda st: st.progress and st.progress.started == 7 and st.counts.started == 7))
        assert status.progress.runs >= 4  # 4 pages of 2, a new run before each after the first
        assert status.progress.started_by_this_launch + status.progress.already_existing == 7
        third = await uc.launch(OFFICE, s, plan.plan_id)
        assert third.already_launched
    starts = starts_per_stream(directory_engine, cid)
    assert set(starts) == {review_id_for(cid, e.subject_id) for e in plan.entries} and set(starts.values()) == {1}
    for e in plan.entries:
        desc = await dev_env.client.get_workflow_handle(review_id_for(cid, e.subject_id)).describe()
        assert desc.run_id
    # a launch with a plan id that was not shown starts nothing
    with pytest.raises(Conflict) as err:
        await uc.launch(OFFICE, s, "0" * 32)
    assert err.value.field == "plan_id"
    # the draw, from the log alone
    again = uc.redraw(OFFICE, cid)
    assert again.reproduced and again.recorded == [e.subject_id for e in plan.entries] and again.seed == 2026
    log_types = [r.event_type for r in EventStore(directory_engine).read_stream(stream_of(cid))]
    assert log_types == ["campaign.launched", "campaign.sample_drawn"]


async def _status_when(uc, cid, predicate):
    st = await uc.status(OFFICE, cid)
    return st if predicate(st) else None


async def test_pause_resume_and_cancel(dev_env, directory_engine, task_queue, tmp_path):
    cid = f"t-{uuid.uuid4().hex[:8]}"
    uc = campaigns(dev_env, directory_engine, task_queue, tmp_path)
    s = spec(cid)
    plan = uc.plan(OFFICE, s)
    assert plan.total == 12
    async with running_worker(dev_env, directory_engine, task_queue):
        await uc.launch(OFFICE, s, plan.plan_id, batch_size=1)
        paused = await uc.pause(OFFICE, cid, reason="wait for the directory fix")
        assert paused.paused and paused.started < 12
        held = await until(lambda: _status_when(uc, cid, lambda st: st.progress.state == "paused"))
        await asyncio.sleep(1.0)
        still = await uc.status(OFFICE, cid)
        assert still.progress.started == held.progress.started < 12
        with pytest.raises(Conflict):
            await uc.pause(OFFICE, cid)  # already paused
        await uc.resume(OFFICE, cid)
        await until(lambda: _status_when(uc, cid, lambda st: st.progress.started == 12 and st.counts.started == 12))
        await uc.cancel(OFFICE, cid, reason="round replaced by the year-end round", actor_id="office")
        done = await until(lambda: _status_when(uc, cid, lambda st: st.progress.state == "cancelled"), timeout=90)
        assert done.progress.reviews_cancelled == 12 and done.counts.cancelled == 12
        result = await dev_env.client.get_workflow_handle(workflow_id_of(cid), result_type=CampaignProgress).result()
        assert result.state == "cancelled" and result.cancel_reason == "round replaced by the year-end round"
    store = EventStore(directory_engine)
    for e in plan.entries:
        last = store.read_stream(review_id_for(cid, e.subject_id))[-1]
        assert (last.event_type, last.reason, last.actor_id) == ("review.cancelled", "round replaced by the year-end round", "office")
    assert [r.event_type for r in store.read_stream(stream_of(cid))] == ["campaign.launched", "campaign.paused", "campaign.resumed", "campaign.cancelled"]
    assert review_counts(directory_engine, cid)["cancelled"] == 12


async def test_worker_killed_mid_launch_starts_each_review_once(dev_env, tmp_path):
    db = tmp_path / "log.db"
    engine = make_engine(f"sqlite:///{db}")
    upgrade(engine)
    load_example(engine)
    tq, cid = f"tq-{uuid.uuid4()}", f"t-{uuid.uuid4().hex[:8]}"
    env = {
        **os.environ,
        "TEMPORAL_ADDRESS": dev_env.client.service_client.config.target_host,
        "PINGYI_DATABASE_URL": f"sqlite:///{db}",
        "PINGYI_TASK_QUEUE": tq,
        "PINGYI_DATA_DIR": str(tmp_path),
        "PINGYI_LOG_LEVEL": "WARNING",
    }
    uc = campaigns(dev_env, engine, tq, tmp_path)
    s = spec(cid)
    plan = uc.plan(OFFICE, s)
    worker = WorkerProcess(env, tmp_path / "worker.log")
    try:
        await uc.launch(OFFICE, s, plan.plan_id, batch_size=1)  # twelve pages: room to land the kill mid-launch
        await until(lambda: _async(len(starts_per_stream(engine, cid)) >= 2), timeout=180, every=0.005)
        worker.kill()
        killed_at = len(starts_per_stream(engine, cid))
        assert killed_at < 12, "the launch finished before the kill: nothing was tested"
        worker = WorkerProcess(env, tmp_path / "worker.log")
        await until(lambda: _status_when(uc, cid, lambda st: st.progress.started == 12 and st.counts.started == 12), timeout=240)
        await uc.launch(OFFICE, s, plan.plan_id)  # and once more for good measure
        await asyncio.sleep(0.5)
    finally:
        worker.stop()
    starts = starts_per_stream(engine, cid)
    assert len(starts) == 12 and set(starts.values()) == {1}
    engine.dispose()


async def _async(value):
    return value


async def test_ledger_lists_exactly_the_subjects_without_a_finished_review(dev_env, directory_engine, task_queue, tmp_path):
    """Half-yearly round over one subtree: one review driven to its close, the
    rest left open; every other organization of the directory was never
    assigned. The ledger's not-covered list is every required subject but the
    closed one, each with its reason; the CSV has a line per subject."""
    from datetime import date

    from service.reviews import drive_on_time, get_state

    cid = f"t-{uuid.uuid4().hex[:8]}"
    uc = campaigns(dev_env, directory_engine, task_queue, tmp_path)
    s = spec(cid, period="2026-H1", round=Round.HALF_YEARLY, scope=Scope(unit_id="U-AF03"))
    plan = uc.plan(OFFICE, s)
    assert plan.total == 4
    async with running_worker(dev_env, directory_engine, task_queue):
        await uc.launch(OFFICE, s, plan.plan_id)
        await until(lambda: _status_when(uc, cid, lambda st: st.counts.started == 4))
        closed = plan.entries[0].subject_id
        state = await get_state(dev_env.client, review_id_for(cid, closed))
        await drive_on_time(dev_env.client, state.spec, date.today())
        ledger = uc.ledger(OFFICE, "2026-H1")
    required = {r.subject_id for r in ledger.rows}
    assert closed in required and {e.subject_id for e in plan.entries} <= required
    assert {r.subject_id for r in ledger.not_covered} == required - {closed}
    why = {r.subject_id: r.why_not for r in ledger.rows}
    assert why[closed] is None and all(why[e.subject_id] == "still open" for e in plan.entries[1:])
    assert all(r.why_not in ("no assignment",) or r.why_not.startswith("gap") for r in ledger.rows if r.subject_id not in {e.subject_id for e in plan.entries})
    assert sum(c.covered for c in ledger.by_tier.values()) == 1 and sum(c.required for c in ledger.by_tier.values()) == len(required)
    assert len(ledger.csv().strip().splitlines()) == len(ledger.rows) + 1


async def test_projection_counts_equal_a_direct_count_after_a_projector_restart(dev_env, directory_engine, task_queue, tmp_path):
    """Counts per step x tier from the review projection, built by a projector
    stopped half-way through the log and a new one picking up after it, equal
    the direct fold of the campaign's streams."""
    from datetime import date

    from app.projections.campaign_counts import campaign_counts
    from app.projections.registry import projector_for
    from domain.commands import CancelReview
    from service.reviews import drive_on_time, get_state, send

    cid = f"t-{uuid.uuid4().hex[:8]}"
    uc = campaigns(dev_env, directory_engine, task_queue, tmp_path)
    s = spec(cid)
    plan = uc.plan(OFFICE, s)
    async with running_worker(dev_env, directory_engine, task_queue):
        await uc.launch(OFFICE, s, plan.plan_id)
        await until(lambda: _status_when(uc, cid, lambda st: st.counts.started == 12))
        for e in plan.entries[:2]:
            state = await get_state(dev_env.client, review_id_for(cid, e.subject_id))
            await drive_on_time(dev_env.client, state.spec, date.today())
        await send(dev_env.client, review_id_for(cid, plan.entries[2].subject_id), CancelReview(actor_id="office", reason="merged into another round"))
        midway = projector_for(directory_engine).catch_up(max_events=EventStore(directory_engine).head_position() // 2)
        assert midway > 0
        projector_for(directory_engine).catch_up()  # a new projector: resumes after the first one's position
    direct = review_counts(directory_engine, cid)
    counted = campaign_counts(directory_engine, cid)
    assert (counted.started, counted.completed, counted.cancelled, counted.overdue) == (direct["started"], direct["completed"], direct["cancelled"], direct["overdue"]) == (12, 2, 1, 0)
    assert {step: sum(t.values()) for step, t in counted.by_step_tier.items()} == direct["by_step"]
