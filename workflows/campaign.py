"""The campaign workflow: pages through a launched plan, starting its reviews
in batches, then watches them until every one is closed or cancelled.

Starting is idempotent by construction: each review's workflow id is the
campaign and the subject, and the start activity relies on Temporal refusing
a second start of an id (running or closed), so a retried activity, a worker
killed mid-batch or a second launch never starts a review twice. The history
carries offsets and counts only; after ``rounds_per_run`` activity rounds (or
when the server suggests it) the run continues as new with its progress.

Pause holds the launching between batches; cancel (with a reason) stops it and
cancels every review already started, each recorded in that review's own log
with the campaign's reason and actor. The campaign's facts (paused, resumed,
cancelled) go to its stream in the audit log through the same append activity
as a review's.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.campaign_contracts import (
        CANCEL_REVIEWS, COUNT_REVIEWS, START_REVIEWS, BatchInput, CancelBatchInput, CancelBatchResult, ReviewCounts, StartBatchResult,
    )
    from activities.contracts import APPEND_EVENTS, AppendInput, AppendResult
    from domain import events as ev
    from domain.campaign import CampaignCancelled, CampaignPaused, CampaignResumed, stream_of
    from domain.procedure import Role
    from workflows.campaign_messages import CampaignCommand, CampaignInput, CampaignProgress

# A batch heartbeats after each review it starts or cancels, so a worker killed
# mid-batch hands the batch to another worker within the heartbeat timeout,
# not after the whole start-to-close timeout.
BATCH_OPTIONS = dict(
    start_to_close_timeout=timedelta(minutes=10),
    heartbeat_timeout=timedelta(seconds=20),
    retry_policy=RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(minutes=1)),
)
COUNT_OPTIONS = dict(
    start_to_close_timeout=timedelta(minutes=1),
    retry_policy=RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(minutes=1)),
)
APPEND_OPTIONS = dict(
    start_to_close_timeout=timedelta(seconds=30),
    retry_policy=RetryPolicy(initial_interval=timedelta(milliseconds=200), maximum_interval=timedelta(seconds=10), non_retryable_error_types=["EventConflict"]),
)


def _refused(field: str, reason: str) -> ApplicationError:
    return ApplicationError(f"{field}: {reason}", {"field": field, "reason": reason}, type="CommandRejected", non_retryable=True)


@workflow.defn(name="Campaign")
class CampaignWorkflow:
    @workflow.init
    def __init__(self, inp: CampaignInput) -> None:
        self._p = inp.progress or CampaignProgress(campaign_id=inp.campaign_id, planned=inp.planned, log_version=inp.log_version)
        self._lock = asyncio.Lock()
        self._rounds = 0

    @workflow.run
    async def run(self, inp: CampaignInput) -> CampaignProgress:
        p = self._p
        while p.started < p.planned and not p.cancelled:  # launching, a page at a time
            if p.paused:
                p.state = "paused"
                await workflow.wait_condition(lambda: not p.paused or p.cancelled)
                continue
            p.state = "launching"
            await self._maybe_continue(inp)
            res: StartBatchResult = await workflow.execute_activity(
                START_REVIEWS, BatchInput(campaign_id=p.campaign_id, offset=p.started, limit=inp.batch_size), result_type=StartBatchResult, **BATCH_OPTIONS
            )
            self._rounds += 1
            if res.seen == 0:  # the stored plan ended early: nothing more to start
                break
            p.started += res.seen
            p.started_by_this_launch += res.started
            p.already_existing += res.existing
        while not p.cancelled:  # every review started: watch them finish
            p.state = "watching"
            p.counts = await workflow.execute_activity(COUNT_REVIEWS, p.campaign_id, result_type=ReviewCounts, **COUNT_OPTIONS)
            self._rounds += 1
            if p.counts.started >= p.started and p.counts.completed + p.counts.cancelled >= p.started:
                p.state = "completed"
                break
            try:
                await workflow.wait_condition(lambda: p.cancelled, timeout=timedelta(seconds=inp.count_every_seconds))
            except asyncio.TimeoutError:
                pass
            await self._maybe_continue(inp)
        if p.cancelled:
            p.state = "cancelling"
            while p.cancel_offset < p.started:
                await self._maybe_continue(inp)
                res_c: CancelBatchResult = await workflow.execute_activity(
                    CANCEL_REVIEWS,
                    CancelBatchInput(campaign_id=p.campaign_id, offset=p.cancel_offset, limit=min(inp.batch_size, p.started - p.cancel_offset), actor_id=p.cancelled_by or "", reason=p.cancel_reason or "", supervisor_grant=p.cancel_grant),
                    result_type=CancelBatchResult,
                    **BATCH_OPTIONS,
                )
                self._rounds += 1
                if res_c.seen == 0:
                    break
                p.cancel_offset += res_c.seen
                p.reviews_cancelled += res_c.cancelled
            p.counts = await workflow.execute_activity(COUNT_REVIEWS, p.campaign_id, result_type=ReviewCounts, **COUNT_OPTIONS)
            p.state = "cancelled"
        await workflow.wait_condition(workflow.all_handlers_finished)
        return p

    async def _maybe_continue(self, inp: CampaignInput) -> None:
        if self._rounds >= inp.rounds_per_run or workflow.info().is_continue_as_new_suggested():
            await workflow.wait_condition(workflow.all_handlers_finished)
            self._p.runs += 1
            workflow.continue_as_new(inp.model_copy(update={"progress": self._p}))

    # ---- commands --------------------------------------------------------------

    @workflow.update(name="pause")
    async def pause(self, cmd: CampaignCommand) -> CampaignProgress:
        async with self._lock:
            self._check_pause(cmd)
            await self._record(CampaignPaused(occurred_at=workflow.now(), actor_id=cmd.actor_id, actor_role=Role.SUPERVISOR, reason=cmd.reason))
            self._p.paused = True
        return self._p

    @pause.validator
    def _validate_pause(self, cmd: CampaignCommand) -> None:
        self._check_pause(cmd)

    def _check_pause(self, cmd: CampaignCommand) -> None:
        if self._p.cancelled:
            raise _refused("campaign", "cancelled: nothing to pause")
        if self._p.started >= self._p.planned:
            raise _refused("campaign", "every review is started already: nothing to pause")
        if self._p.paused:
            raise _refused("campaign", "already paused")

    @workflow.update(name="resume")
    async def resume(self, cmd: CampaignCommand) -> CampaignProgress:
        async with self._lock:
            self._check_resume(cmd)
            await self._record(CampaignResumed(occurred_at=workflow.now(), actor_id=cmd.actor_id, actor_role=Role.SUPERVISOR, reason=cmd.reason))
            self._p.paused = False
        return self._p

    @resume.validator
    def _validate_resume(self, cmd: CampaignCommand) -> None:
        self._check_resume(cmd)

    def _check_resume(self, cmd: CampaignCommand) -> None:
        if self._p.cancelled:
            raise _refused("campaign", "cancelled: it cannot resume")
        if not self._p.paused:
            raise _refused("campaign", "not paused")

    @workflow.update(name="cancel")
    async def cancel(self, cmd: CampaignCommand) -> CampaignProgress:
        async with self._lock:
            self._check_cancel(cmd)
            await self._record(CampaignCancelled(occurred_at=workflow.now(), actor_id=cmd.actor_id, actor_role=Role.SUPERVISOR, reason=cmd.reason))
            self._p.cancelled, self._p.cancel_reason, self._p.cancelled_by, self._p.cancel_grant = True, cmd.reason, cmd.actor_id, cmd.supervisor_grant
        return self._p

    @cancel.validator
    def _validate_cancel(self, cmd: CampaignCommand) -> None:
        self._check_cancel(cmd)

    def _check_cancel(self, cmd: CampaignCommand) -> None:
        if not (cmd.reason or "").strip():
            raise _refused("reason", "a cancellation needs a reason (it is recorded in every review it cancels)")
        if self._p.cancelled:
            raise _refused("campaign", "already cancelled")
        if self._p.state == "completed":
            raise _refused("campaign", "completed: every review is closed")

    @workflow.query(name="progress")
    def progress(self) -> CampaignProgress:
        return self._p

    # ---- the audit log -------------------------------------------------------------

    async def _record(self, event: ev.DomainEvent) -> None:
        stream = stream_of(self._p.campaign_id)
        info = workflow.current_update_info()
        records = ev.to_records(stream, self._p.log_version, [event], f"update:{info.id}" if info else None)
        result: AppendResult = await workflow.execute_local_activity(
            APPEND_EVENTS, AppendInput(stream_id=stream, expected_version=self._p.log_version, records=records), result_type=AppendResult, **APPEND_OPTIONS
        )
        self._p.log_version += len(result.records)
