"""The log against the running workflow, on the time-skipping test server:
``state --as-of`` equals the workflow's queried state at every point of a
review driven through all five steps (with a reminder and a missed deadline on
the way), and ``cross-check`` agrees with the history — until the log is
tampered with."""

from __future__ import annotations

import asyncio
import sys
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
import pytest_asyncio
from temporalio.testing import WorkflowEnvironment

from domain.procedure import Step
from log_builders import drop_append_only_triggers, raw
from service.demo import next_command
from service.reviews import get_state, send, start_review
from service.temporal import data_converter
from service.crosscheck import cross_check
from storage.db import make_engine
from storage.eventlog import EventStore
from storage.migrate import upgrade
from storage.timeline import state_as_of
from worker import build_worker

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "workflows"))
from specs import branch_spec  # noqa: E402

BIN = Path(sys.executable).parent


@pytest_asyncio.fixture(scope="module")
async def env():
    e = await WorkflowEnvironment.start_time_skipping(data_converter=data_converter(), test_server_existing_path=str(BIN / "temporal-test-server"))
    yield e
    await e.shutdown()


@pytest.fixture
def engine(tmp_path):
    eng = make_engine(f"sqlite:///{tmp_path}/log.db")
    upgrade(eng)
    yield eng
    eng.dispose()


async def drive(env, store, review_id, *, late_first_step: bool):
    """Every actor plays their part; after each command the queried state is
    compared with the log replayed as of the same workflow time."""
    points = 0
    state = await get_state(env.client, review_id)
    for _ in range(100):  # the start events land in the workflow's first task
        if state.step is not None:
            break
        await asyncio.sleep(0.05)
        state = await get_state(env.client, review_id)
    if late_first_step:
        await env.sleep(timedelta(days=6))  # past the reminder and the investigate deadline
        state = await get_state(env.client, review_id)
        assert state.is_overdue()
    seen_steps = {state.step}
    while (cmd := next_command(state, state.last_event_at.date())) is not None:
        await send(env.client, review_id, cmd)
        state = await get_state(env.client, review_id)
        seen_steps.add(state.step)
        replayed = state_as_of(store, review_id, state.last_event_at)
        later = [r for r in store.read_stream(review_id) if r.version > state.version and r.occurred_at <= state.last_event_at]
        if not later:  # a later event at the very same instant would be included too
            assert replayed == state, f"as of {state.last_event_at}: replay differs at version {state.version}"
            points += 1
    assert {Step.INVESTIGATE, Step.SOLICIT_OPINIONS, Step.REVIEW, Step.NOTIFY, Step.RECTIFY, Step.CLOSED} <= seen_steps
    return state, points


@pytest.mark.parametrize("late_first_step", [False, True])
async def test_state_as_of_equals_the_queried_state_through_all_five_steps(env, engine, late_first_step):
    store, tq, spec = EventStore(engine), f"tq-{uuid.uuid4()}", branch_spec()
    async with build_worker(env.client, engine, tq):
        handle = await start_review(env.client, spec, tq, visible=False)
        state, points = await drive(env, store, spec.review_id, late_first_step=late_first_step)
        await handle.result()
    assert state.step is Step.CLOSED
    assert points >= 5
    if late_first_step:
        types = {r.event_type for r in store.read_stream(spec.review_id)}
        assert {"review.reminder_sent", "review.deadline_passed"} <= types


async def test_cross_check_agrees_then_catches_tampering(env, engine):
    store, tq, spec = EventStore(engine), f"tq-{uuid.uuid4()}", branch_spec()
    async with build_worker(env.client, engine, tq):
        handle = await start_review(env.client, spec, tq, visible=False)
        await drive(env, store, spec.review_id, late_first_step=False)
        await handle.result()
        report = await cross_check(env.client, store, spec.review_id)
        assert report.ok, report.problems
        assert report.log_events == report.history_events == report.queried_version
        assert report.steps[0] == "investigate" and report.steps[-1] == "closed" and report.commands >= 5

        drop_append_only_triggers(engine)
        recs = store.read_stream(spec.review_id)
        submitted = next(r for r in recs if r.event_type == "review.review_submitted")
        raw(engine, "UPDATE events SET actor_id = 'p-imposter' WHERE position = :p", p=submitted.position)
        store = EventStore(engine)
        report = await cross_check(env.client, store, spec.review_id)
        assert not report.ok
        assert any(p.startswith(f"v{submitted.version} (review.review_submitted) differs") for p in report.problems), report.problems

        notify = next(r for r in recs if r.event_type == "review.circulation_confirmed")
        raw(engine, "DELETE FROM events WHERE position = :p", p=notify.position)
        report = await cross_check(env.client, store, spec.review_id)
        assert any(f"v{notify.version} (review.circulation_confirmed" in p and "missing from the log" in p for p in report.problems)
