"""``audit cross-check`` reports every way Temporal can end a review behind
the log's back (issue 13, point 4), not only a termination
(test_engine_cancellation.py): an execution that timed out, and one that was
cancelled without the log hearing of it, while the log says the review is
still open, are each reported for that review and in the check of all.

Today's workflow records a Temporal cancellation itself, behind the patch
``ENGINE_CANCEL_PATCH``; a review whose history was cancelled before that
change (``workflow.patched`` false on that path) ended cancelled with no event.
That review is made here by answering ``patched`` false for that one patch, as
a worker replaying such a history does. The timeout is a real one: the review
is started by the real ``start_review`` through a client that adds a short
execution timeout, which a deployment could set and the log never sees."""

from __future__ import annotations

from datetime import timedelta

import pytest
from conftest import running_worker
from specs import branch_spec
from stream_checks import the_one_problem
from temporalio import workflow
from temporalio.client import WorkflowExecutionStatus, WorkflowFailureError
from temporalio.exceptions import CancelledError, TimeoutError

from service import demo
from service.reviews import get_state, send, start_review
from workflows.review import ENGINE_CANCEL_PATCH


class TimingOut:
    """The client, with every workflow it starts given ``execution_timeout``."""

    def __init__(self, client, timeout: timedelta) -> None:
        self._client, self._timeout = client, timeout

    async def start_workflow(self, *args, **kwargs):
        return await self._client.start_workflow(*args, execution_timeout=self._timeout, **kwargs)


async def test_cross_check_reports_a_timeout_the_log_never_saw(dev_env, log_engine, store, task_queue):
    client, spec = dev_env.client, branch_spec()
    rid = spec.review_id
    async with running_worker(dev_env, log_engine, task_queue):
        handle = await start_review(TimingOut(client, timedelta(seconds=3)), spec, task_queue)
        await get_state(client, rid)
        await send(client, rid, demo.findings(spec))
        with pytest.raises(WorkflowFailureError) as info:
            await handle.result()
        assert isinstance(info.value.cause, TimeoutError)
        problem = await the_one_problem(client, store, rid, task_queue, "TIMED_OUT")
    assert "timed out in Temporal" in problem and "no event records how it ended" in problem


async def test_cross_check_reports_a_cancellation_the_log_never_saw(dev_env, log_engine, store, task_queue, monkeypatch):
    recorded_patches = workflow.patched
    monkeypatch.setattr(workflow, "patched", lambda patch_id: patch_id != ENGINE_CANCEL_PATCH and recorded_patches(patch_id))
    client, spec = dev_env.client, branch_spec()
    rid = spec.review_id
    async with running_worker(dev_env, log_engine, task_queue):
        handle = await start_review(client, spec, task_queue)
        await send(client, rid, demo.findings(spec))
        await handle.cancel(reason="撤并单位")
        with pytest.raises(WorkflowFailureError) as info:
            await handle.result()
        assert isinstance(info.value.cause, CancelledError)
        assert (await handle.describe()).status is WorkflowExecutionStatus.CANCELED
        problem = await the_one_problem(client, store, rid, task_queue, "CANCELED")
    assert [r.event_type for r in store.read_stream(rid)] == ["review.started", "review.step_started", "review.findings_recorded"]  # no cancellation recorded
    assert "cancelled in Temporal" in problem and "撤并单位" in problem
    assert f"by {client.identity}" in problem  # who asked, as the history says
