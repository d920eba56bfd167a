"""The campaign activities: start one page of the plan's reviews, cancel one
page of them, count them. Each is idempotent under retry without looking
anything up first: a review's workflow id is the campaign and the subject, and
Temporal refuses a second start of that id (running or closed) by its
id-conflict and id-reuse policies; a cancellation is an update with an id of
its own, which Temporal runs once.

Starting, cancelling and launching are calls on the engine's client that the
application layer owns too (``service.reviews``, ``service.campaigns``):
they are handed in by the worker's wiring (:class:`EngineCalls`) rather than
imported, so this module imports nothing above the io layer and those calls
exist once."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Awaitable, Protocol

import structlog
from sqlalchemy import Engine
from temporalio import activity
from temporalio.client import Client
from temporalio.common import WorkflowIDReusePolicy
from temporalio.exceptions import ApplicationError, WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from activities.campaign_contracts import (
    CANCEL_REVIEWS, COUNT_REVIEWS, LAUNCH_ROUND, START_REVIEWS, BatchInput, CancelBatchInput, CancelBatchResult, LaunchRoundInput, LaunchRoundResult,
    ReviewCounts, StartBatchResult,
)
from directory.service import plan_period, spec_from_assignment
from domain.assignment import Assignment, Basis
from domain.campaign import CampaignPlan, CampaignSpec, PlanEntry, Round, Scope, candidates_of, plan_campaign, review_id_for
from domain.commands import CancelReview, Command
from domain.errors import CommandRejected
from domain.events import ReviewSpec
from domain.procedure import ReviewMethod
from domain.rubric import UnitCategory
from storage.campaigns import CampaignStore, review_counts
from storage.directory import DirectoryStore
from storage.eventlog import EventStore

log = structlog.get_logger("pingyi.activities.campaigns")
PARALLEL_STARTS = 32  # requests in flight per page: the server, not this loop, sets the pace


class StartReview(Protocol):
    def __call__(self, client: Client, spec: ReviewSpec, task_queue: str, *, visible: bool = ..., id_reuse_policy: WorkflowIDReusePolicy = ...) -> Awaitable[Any]: ...


class SendCommand(Protocol):
    def __call__(self, client: Client, review_id: str, command: Command, *, update_id: str | None = ...) -> Awaitable[Any]: ...


class LaunchPlan(Protocol):
    def __call__(self, client: Client, store: CampaignStore, events: EventStore, task_queue: str, plan: CampaignPlan, candidates: list[PlanEntry], actor_id: str) -> Awaitable[bool]: ...


@dataclass(frozen=True)
class EngineCalls:
    """The client calls the campaign activities make: start a review (raises
    WorkflowAlreadyStartedError for an id in use), send it a command (raises
    CommandRejected), launch a plan (True: launched before)."""

    start_review: StartReview
    send: SendCommand
    launch_plan: LaunchPlan


def assignment_of(e: PlanEntry) -> Assignment:
    return Assignment(
        subject_id=e.subject_id, kind=e.kind, unit_id=e.unit_id, leader_id=e.leader_id, reviewer_id=e.reviewer_id, via_unit_id=e.via_unit_id,
        basis=Basis(e.basis), level=e.level, tier=e.tier, category=UnitCategory(e.category), rubric_version=e.rubric_version,
        rubric_points=e.rubric_points, co_reviewer_ids=e.co_reviewer_ids, guide_unit_id=e.guide_unit_id,
    )


class CampaignActivities:
    """Holds the Temporal client (reviews are started and cancelled through
    it), the database and where reviews run; built once per worker."""

    def __init__(self, client: Client, engine: Engine, task_queue: str, supervisor_ids: tuple[str, ...], calls: EngineCalls, *, visible: bool = True) -> None:
        self.client, self.engine, self.task_queue, self.supervisor_ids, self.calls, self.visible = client, engine, task_queue, supervisor_ids, calls, visible
        self.store = CampaignStore(engine)
        self.directory = DirectoryStore(engine)

    @activity.defn(name=START_REVIEWS)
    async def start_reviews(self, inp: BatchInput) -> StartBatchResult:
        stored = self.store.spec(inp.campaign_id)
        if stored is None:
            raise ValueError(f"campaign {inp.campaign_id} has no stored plan")
        spec, _, _ = stored
        reviews = await asyncio.to_thread(self._specs, inp.campaign_id, spec.deadlines, inp.offset, inp.limit)
        gate = asyncio.Semaphore(PARALLEL_STARTS)
        activity.heartbeat()

        async def one(review: ReviewSpec) -> bool:
            async with gate:
                try:
                    await self.calls.start_review(self.client, review, self.task_queue, visible=self.visible, id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE)
                    return True
                except WorkflowAlreadyStartedError:
                    return False
                finally:
                    activity.heartbeat()

        fresh = await asyncio.gather(*(one(r) for r in reviews))
        started = sum(fresh)
        log.info("campaign_reviews_started", campaign=inp.campaign_id, offset=inp.offset, started=started, existing=len(fresh) - started)
        return StartBatchResult(seen=len(reviews), started=started, existing=len(fresh) - started)

    def _specs(self, campaign_id: str, deadlines, offset: int, limit: int) -> list[ReviewSpec]:
        """The page's review specs, its subjects' neighbourhoods read at once
        (a few queries per tree level for the page, not several per subject)."""
        entries = self.store.entries(campaign_id, offset, limit)
        d = self.directory.load_neighbourhoods(e.subject_id for e in entries)
        return [spec_from_assignment(assignment_of(e), d, review_id=review_id_for(campaign_id, e.subject_id), campaign_id=campaign_id, supervisor_ids=self.supervisor_ids,
                                     deadlines=deadlines) for e in entries]

    @activity.defn(name=CANCEL_REVIEWS)
    async def cancel_reviews(self, inp: CancelBatchInput) -> CancelBatchResult:
        entries = await asyncio.to_thread(self.store.entries, inp.campaign_id, inp.offset, inp.limit)
        command = CancelReview(actor_id=inp.actor_id, reason=inp.reason, supervisor_grant=inp.supervisor_grant)
        gate = asyncio.Semaphore(PARALLEL_STARTS)
        activity.heartbeat()

        async def one(e: PlanEntry) -> bool:
            review_id = review_id_for(inp.campaign_id, e.subject_id)
            async with gate:
                try:
                    await self.calls.send(self.client, review_id, command, update_id=f"campaign-cancel-{review_id}")
                    activity.heartbeat()
                    return True
                except CommandRejected as err:
                    if err.field == "actor_id":  # the campaign's actor may not cancel it: say so, do not hide it
                        raise
                    return False  # closed or cancelled already
                except RPCError as err:
                    if err.status in (RPCStatusCode.NOT_FOUND, RPCStatusCode.FAILED_PRECONDITION):
                        return False  # never started, or its workflow has completed
                    raise

        done = await asyncio.gather(*(one(e) for e in entries))
        cancelled = sum(done)
        log.info("campaign_reviews_cancelled", campaign=inp.campaign_id, offset=inp.offset, cancelled=cancelled)
        return CancelBatchResult(seen=len(entries), cancelled=cancelled, already_closed=len(done) - cancelled)

    @activity.defn(name=COUNT_REVIEWS)
    async def count_reviews(self, campaign_id: str) -> ReviewCounts:
        return ReviewCounts(**await asyncio.to_thread(review_counts, self.engine, campaign_id))


def period_of(round_: str, at: datetime) -> str:
    """The period a round that fires at ``at`` (the office's calendar, UTC+8)
    is for: the year-end round names the year, a half-yearly round its half."""
    local = at.astimezone(timezone(timedelta(hours=8)))
    if round_ == "year_end":
        return f"{local.year}-Y"
    return f"{local.year}-{'H1' if local.month <= 6 else 'H2'}"


class RoundActivities:
    """Launches a Schedule's routine round; built once per worker."""

    def __init__(self, client: Client, engine: Engine, task_queue: str, deadlines, calls: EngineCalls) -> None:
        self.client, self.engine, self.task_queue, self.deadlines, self.calls = client, engine, task_queue, deadlines, calls
        self.store, self.events = CampaignStore(engine), EventStore(engine)

    @activity.defn(name=LAUNCH_ROUND)
    async def launch_round(self, inp: LaunchRoundInput) -> LaunchRoundResult:
        period = period_of(inp.round, datetime.fromisoformat(inp.fired_at))
        spec = CampaignSpec(
            campaign_id=f"{inp.prefix}-{period.lower()}", period=period, round=Round(inp.round), method=ReviewMethod(inp.method),
            scope=Scope(unit_id=inp.unit_id, levels=tuple(inp.levels)), deadlines=self.deadlines,
        )
        d, assignments, summary = await asyncio.to_thread(plan_period, self.engine, period)
        try:
            plan = plan_campaign(d, assignments, summary.gaps, spec)
        except CommandRejected as err:
            raise ApplicationError(f"{err.field}: {err.reason}", type="CommandRejected", non_retryable=True) from None
        already = await self.calls.launch_plan(self.client, self.store, self.events, self.task_queue, plan, candidates_of(d, assignments, spec), "schedule")
        log.info("routine_round_launched", campaign=spec.campaign_id, planned=plan.total, already=already)
        return LaunchRoundResult(campaign_id=spec.campaign_id, plan_id=plan.plan_id, planned=plan.total, already_launched=already, gaps=len(plan.gaps))
