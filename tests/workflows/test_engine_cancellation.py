"""Temporal's own buttons must not bypass the log (issue 13, point 4): a
cancellation requested in Temporal (the Web UI's "Request Cancellation",
``temporal workflow cancel``) is recorded by the review through the same
decide/append path; a termination, which no workflow code can see, is caught
by ``audit cross-check``; and the step search attribute says how a review
ended."""

from __future__ import annotations

import asyncio
import time

import pytest
from conftest import running_worker
from specs import branch_spec
from stream_checks import assert_stream_intact, folded, the_one_problem
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowExecutionStatus, WorkflowFailureError
from temporalio.exceptions import CancelledError

from domain import commands as c
from domain.procedure import Role, Step
from domain.review import ENGINE_CANCEL_REASON
from service import demo
from service.crosscheck import cross_check
from service.reviews import drive_on_time, get_state, send, start_review
from workflows import search_attributes as sa
from workflows.review import ENGINE_ACTOR, ENGINE_CANCEL_PATCH


async def step_attribute(client, review_id: str, want: str, timeout: float = 10.0) -> str | None:
    """PingyiStep as visibility lists it (eventually consistent: poll)."""
    deadline = time.monotonic() + timeout
    while True:
        rows = [w async for w in client.list_workflows(f'WorkflowId = "{review_id}"')]
        got = rows[0].typed_search_attributes.get(sa.STEP) if rows else None
        if got == want or time.monotonic() > deadline:
            return got
        await asyncio.sleep(0.1)


async def ended_cancelled(handle) -> None:
    with pytest.raises(WorkflowFailureError) as info:
        await handle.result()
    assert isinstance(info.value.cause, CancelledError)
    assert (await handle.describe()).status is WorkflowExecutionStatus.CANCELED


async def test_a_cancellation_through_temporal_is_recorded_in_the_log(dev_env, log_engine, store, task_queue):
    client, spec = dev_env.client, branch_spec()
    rid = spec.review_id
    async with running_worker(dev_env, log_engine, task_queue):
        handle = await start_review(client, spec, task_queue)
        await send(client, rid, demo.findings(spec))
        await handle.cancel(reason="撤并单位")  # what the Web UI's "Request Cancellation" sends
        await ended_cancelled(handle)
        queried = await get_state(client, rid)  # a closed workflow still answers (replayed)
        report = await cross_check(client, store, rid)

    records = store.read_stream(rid)
    assert_stream_intact(records)
    last = records[-1]
    assert last.event_type == "review.cancelled"
    assert last.actor_id == ENGINE_ACTOR and last.actor_role == Role.ENGINE.value
    assert last.reason == f"{ENGINE_CANCEL_REASON}: 撤并单位"
    assert [r.event_type for r in records] == ["review.started", "review.step_started", "review.findings_recorded", "review.cancelled"]
    assert queried.step is Step.CANCELLED and folded(store, rid) == queried
    assert await step_attribute(client, rid, Step.CANCELLED.value) == Step.CANCELLED.value
    assert report.ok, report.problems
    assert report.status == "CANCELED" and report.log_step == "cancelled"
    events = (await handle.fetch_history()).events
    patches = [e for e in events if e.event_type == EventType.EVENT_TYPE_MARKER_RECORDED and e.marker_recorded_event_attributes.marker_name == "core_patch"]
    assert len(patches) == 1, "the cancellation path is guarded by its patch marker"
    assert ENGINE_CANCEL_PATCH in str(patches[0].marker_recorded_event_attributes.details)


async def test_a_cancellation_in_the_first_moment_still_finds_the_review_opened(dev_env, log_engine, store, task_queue):
    """Cancelled before the opening events were stored: the opening append is
    not abandoned halfway, and the cancellation follows it."""
    client, spec = dev_env.client, branch_spec()
    async with running_worker(dev_env, log_engine, task_queue):
        handle = await start_review(client, spec, task_queue)
        await handle.cancel()
        await ended_cancelled(handle)
    records = store.read_stream(spec.review_id)
    assert_stream_intact(records)
    assert [r.event_type for r in records] == ["review.started", "review.step_started", "review.cancelled"]
    assert records[-1].reason == ENGINE_CANCEL_REASON


async def test_nobody_can_send_the_engine_cancellation_as_a_command(dev_env, log_engine, store, task_queue):
    client, spec = dev_env.client, branch_spec()
    async with running_worker(dev_env, log_engine, task_queue):
        handle = await start_review(client, spec, task_queue)
        await get_state(client, spec.review_id)
        with pytest.raises(Exception) as info:
            await send(client, spec.review_id, c.RecordEngineCancellation(actor_id=spec.supervisor_ids[0], reason="x"))
        assert "review's clock" in str(info.value) or getattr(info.value, "field", None) == "kind"
        await handle.terminate()
    assert [r.event_type for r in store.read_stream(spec.review_id)] == ["review.started", "review.step_started"]


async def test_cross_check_reports_a_termination_the_log_never_saw(dev_env, log_engine, store, task_queue):
    client, spec = dev_env.client, branch_spec()
    rid = spec.review_id
    async with running_worker(dev_env, log_engine, task_queue):
        handle = await start_review(client, spec, task_queue)
        await send(client, rid, demo.findings(spec))
        await handle.terminate(reason="清理")
        problem = await the_one_problem(client, store, rid, task_queue, "TERMINATED")
    assert "terminated in Temporal" in problem and "清理" in problem


async def test_a_closed_review_says_closed_in_its_search_attribute(dev_env, log_engine, store, task_queue):
    from datetime import date

    client, spec = dev_env.client, branch_spec()
    async with running_worker(dev_env, log_engine, task_queue):
        await start_review(client, spec, task_queue)
        result, _ = await drive_on_time(client, spec, date.today())
        report = await cross_check(client, store, spec.review_id)
    assert result.final_step is Step.CLOSED
    assert await step_attribute(client, spec.review_id, Step.CLOSED.value) == Step.CLOSED.value
    assert report.ok and report.status == "COMPLETED"


async def test_review_list_shows_how_each_review_ended(dev_env, log_engine, store, task_queue):
    """``review list`` filters and labels by the step attribute: a review
    cancelled in Temporal is listed as cancelled, not as closed or running."""
    from datetime import date

    from cli.reviews import listed_step, visibility_query

    client = dev_env.client
    closed, by_engine, by_office = branch_spec(), branch_spec(), branch_spec()
    async with running_worker(dev_env, log_engine, task_queue):
        await start_review(client, closed, task_queue)
        await drive_on_time(client, closed, date.today())
        handle = await start_review(client, by_engine, task_queue)
        await get_state(client, by_engine.review_id)
        await handle.cancel()
        await ended_cancelled(handle)
        await start_review(client, by_office, task_queue)
        await get_state(client, by_office.review_id)
        await send(client, by_office.review_id, c.CancelReview(actor_id=by_office.supervisor_ids[0], reason="单位撤并"))
        await client.get_workflow_handle(by_office.review_id).result()
    ours = {closed.review_id: "closed", by_engine.review_id: "cancelled", by_office.review_id: "cancelled"}
    ids = " OR ".join(f'WorkflowId = "{rid}"' for rid in ours)

    async def listing(step):
        deadline = time.monotonic() + 10
        while True:
            rows = {w.id: listed_step(w.typed_search_attributes.get(sa.STEP), w.status.name) async for w in client.list_workflows(f"{visibility_query(step=step)} AND ({ids})")}
            if rows == {k: v for k, v in ours.items() if v == step.value} or time.monotonic() > deadline:
                return rows
            await asyncio.sleep(0.1)

    assert await listing(Step.CANCELLED) == {by_engine.review_id: "cancelled", by_office.review_id: "cancelled"}
    assert await listing(Step.CLOSED) == {closed.review_id: "closed"}


def test_the_listed_step_of_an_execution_ended_outside_the_review():
    from cli.reviews import listed_step

    assert listed_step("rectify", "COMPLETED") == "closed"  # closed before reviews indexed "closed"
    assert listed_step("cancelled", "COMPLETED") == "cancelled"  # a supervisor's cancel completes the run
    assert listed_step("cancelled", "CANCELED") == "cancelled"
    assert listed_step("review", "TERMINATED") == "terminated in Temporal"
    assert listed_step("review", "RUNNING") == "review"
