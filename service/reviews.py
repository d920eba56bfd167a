"""The client side of a review: start it, send it commands, read its state.
The CLI, the demo, the benchmark and the tests all go through these calls, so
they exercise exactly what a person does."""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime, timezone

from temporalio.client import Client, WorkflowHandle, WorkflowUpdateFailedError, WorkflowUpdateRPCTimeoutOrCancelledError
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError

from domain.commands import Command
from domain.errors import CommandRejected
from domain.events import ReviewSpec
from domain.procedure import Step
from domain.review import ReviewState
from workflows import search_attributes as sa
from workflows.messages import CommandInput, CommandResult, ReviewInput, ReviewResult
from workflows.review import REVISION, ReviewWorkflow


UPDATE_ATTEMPTS = 5


def new_review_id(campaign_id: str, subject_id: str) -> str:
    """Ids, never names, in workflow ids (the codec does not cover them)."""
    return f"rv-{campaign_id}-{subject_id}-{uuid.uuid4().hex[:8]}"


async def start_review(client: Client, spec: ReviewSpec, task_queue: str, *, visible: bool = True, first_due_at: datetime | None = None, timezone_name: str | None = None,
                       id_reuse_policy: WorkflowIDReusePolicy = WorkflowIDReusePolicy.REJECT_DUPLICATE) -> WorkflowHandle:
    """Start the review workflow with its search attributes already set (so the
    first step costs no upsert event). ``visible=False`` only for a server that
    has no custom search attributes (the time-skipping test server);
    ``first_due_at``: the first step's deadline when the starter fixed it;
    ``timezone_name``: the zone its notification texts are written in. A
    review id already in use raises WorkflowAlreadyStartedError, and by default
    (``REJECT_DUPLICATE``) so does the id of a closed review: an id names one
    review forever."""
    first_due = first_due_at or sa.deadline_value(datetime.now(timezone.utc) + spec.deadlines.investigate)
    attrs = sa.review_attributes(
        campaign=spec.campaign_id, step=Step.INVESTIGATE.value, reviewer=spec.reviewer_id, unit=spec.subject.unit_id, tier=spec.tier, deadline=first_due, overdue=False
    )
    return await client.start_workflow(
        ReviewWorkflow.run,
        ReviewInput(spec=spec, visible=visible, first_due_at=first_due, revision=REVISION, timezone=timezone_name),
        id=spec.review_id,
        task_queue=task_queue,
        search_attributes=attrs if visible else None,
        id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
        id_reuse_policy=id_reuse_policy,
    )


def rejection_of(err: BaseException) -> CommandRejected | None:
    """The domain rejection inside a failed update, if that is what it was."""
    cause = getattr(err, "cause", None)
    while cause is not None:
        if isinstance(cause, ApplicationError) and cause.type == "CommandRejected":
            d = cause.details[0] if cause.details else {}
            return CommandRejected(d.get("field", "?"), d.get("reason", cause.message), d.get("code", "invalid"))
        cause = getattr(cause, "cause", None)
    return None


async def send(client: Client, review_id: str, command: Command, *, update_id: str | None = None) -> CommandResult:
    """Send one command; a rejection raises CommandRejected naming the field."""
    handle = client.get_workflow_handle(review_id)
    update_id = update_id or f"cmd-{uuid.uuid4()}"
    for attempt in range(UPDATE_ATTEMPTS):
        try:
            return await handle.execute_update(ReviewWorkflow.command, CommandInput.of(command), id=update_id, result_type=CommandResult)
        except WorkflowUpdateFailedError as err:
            rejected = rejection_of(err)
            if rejected is not None:
                raise rejected from None
            raise
        except WorkflowUpdateRPCTimeoutOrCancelledError as err:
            if isinstance(err.__cause__, asyncio.CancelledError):
                # the SDK reports our own task's cancellation (a worker shutting
                # down cancels the activity sending this) as this error: trying
                # again would swallow the cancellation and hold the shutdown
                raise asyncio.CancelledError() from err
            # the server did not answer in time (a loaded server): the same
            # update id again is safe, Temporal runs an update id once
            if attempt == UPDATE_ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")


async def get_state(client: Client, review_id: str, *, wait_started: bool = True) -> ReviewState:
    """The review's state; by default waits the moment it takes a just-started
    review to record its opening events."""
    handle = client.get_workflow_handle(review_id)
    delay = 0.02
    while True:
        state = await handle.query(ReviewWorkflow.state, result_type=ReviewState)
        if state.spec is not None or not wait_started:
            return state
        await asyncio.sleep(delay)
        delay = min(delay * 2, 1.0)


async def drive_on_time(client: Client, spec: ReviewSpec, today) -> tuple[ReviewResult, list[Command]]:
    """Play every actor of an on-time review until it closes (the demo, the
    benchmark, the tests): once the review has opened, the nine commands go one
    after another, each as soon as the previous one is accepted, and the
    workflow's result is the answer (no query: one while a workflow task is
    open costs the history a task, and one after the review closed makes the
    worker replay the whole history)."""
    from service.demo import on_time_commands

    commands = on_time_commands(spec, today)
    await wait_opened(client.get_workflow_handle(spec.review_id))
    for cmd in commands:
        await send(client, spec.review_id, cmd)
    result = await client.get_workflow_handle(spec.review_id, result_type=ReviewResult).result()
    return result, commands


async def wait_opened(handle: WorkflowHandle, timeout: float = 30) -> None:
    """Wait until the workflow's first task completed, without a query (a query
    would itself cost a task). Makes driven histories the same length every
    time, whether or not the first command would have raced the opening task."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    delay = 0.01
    while (await handle.describe()).raw_description.workflow_execution_info.history_length < 4:
        if loop.time() > deadline:
            raise TimeoutError(f"workflow {handle.id} did not complete its first task within {timeout}s")
        await asyncio.sleep(delay)
        delay = min(delay * 2, 0.5)


async def history_length(client: Client, review_id: str) -> int:
    history = await client.get_workflow_handle(review_id).fetch_history()
    return len(history.events)


__all__ = ["start_review", "send", "get_state", "drive_on_time", "wait_opened", "history_length", "new_review_id", "rejection_of", "RPCError"]
