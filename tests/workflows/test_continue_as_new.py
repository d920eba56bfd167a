"""A review whose history grows past the server's suggestion continues as new
and goes on where it was: same state, same event-log stream (versions and hash
chain unbroken across runs), same search attributes, same final result.

The real dev server is started with its continue-as-new suggestion lowered
from 4,000 history events to 25 (a dynamic config value), so an on-time review
of ~74 events crosses it more than once."""

from __future__ import annotations

import uuid
from datetime import date

import pytest_asyncio
from conftest import BIN, running_worker
from specs import branch_spec
from stream_checks import assert_stream_intact, folded
from temporalio.api.enums.v1 import EventType
from temporalio.testing import WorkflowEnvironment

from domain.procedure import FIVE_STEPS, Step
from service.reviews import drive_on_time, get_state, start_review
from service.temporal import data_converter
from workflows import search_attributes as sa

SUGGEST_AFTER = 25


@pytest_asyncio.fixture(scope="module")
async def small_history_env():
    env = await WorkflowEnvironment.start_local(
        data_converter=data_converter(),
        dev_server_existing_path=str(BIN / "temporal"),
        search_attributes=sa.ALL_KEYS,
        dev_server_extra_args=["--dynamic-config-value", f"limit.historyCount.suggestContinueAsNew={SUGGEST_AFTER}"],
    )
    yield env
    await env.shutdown()


async def runs_of(client, review_id: str) -> list:
    return [w async for w in client.list_workflows(f'WorkflowId = "{review_id}"')]


async def test_a_long_review_continues_as_new_and_ends_as_one_review(small_history_env, log_engine, store, task_queue):
    env = small_history_env
    client, spec = env.client, branch_spec(campaign_id=f"C{uuid.uuid4().hex[:8]}")
    rid = spec.review_id
    async with running_worker(env, log_engine, task_queue):
        await start_review(client, spec, task_queue)
        result, sent = await drive_on_time(client, spec, date.today())
        state = await get_state(client, rid)

    runs = await runs_of(client, rid)
    assert len(runs) >= 2, "the review never continued as new: the lowered suggestion did not reach it"
    for run in runs:
        history = await client.get_workflow_handle(rid, run_id=run.run_id).fetch_history()
        ended_by = history.events[-1].event_type
        if run.status.name == "CONTINUED_AS_NEW":
            assert ended_by == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW
            # the run handed on at a step wait, well before a runaway history
            assert len(history.events) < SUGGEST_AFTER + 40
        else:
            assert run.status.name == "COMPLETED"

    # one review, as if it had never changed runs
    assert result.final_step is Step.CLOSED and state.step is Step.CLOSED and result.version == state.version
    records = store.read_stream(rid)
    assert len(records) == state.version
    assert_stream_intact(records)
    assert folded(store, rid) == state
    assert [r.payload["step"] for r in records if r.event_type == "review.step_started"] == [s.value for s in FIVE_STEPS]
    assert [r.event_type for r in records].count("review.started") == 1
    assert len([r for r in records if (r.causation_id or "").startswith("update:")]) >= len(sent)

    # the last run still carries the search attributes a supervisor filters by
    [last] = [w async for w in client.list_workflows(f'PingyiCampaign = "{spec.campaign_id}" AND ExecutionStatus = "Completed"')]
    assert last.id == rid and last.typed_search_attributes.get(sa.REVIEWER) == spec.reviewer_id
