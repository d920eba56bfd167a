"""Campaigns: the dry run and the launch of exactly that plan, a campaign's
status, pause, resume and cancel (the actor is the signed-in principal), the
auditor's redraw of a random round, the coverage ledger of a period (JSON a
page at a time, or the whole of it as CSV), and the routine rounds' Temporal
Schedules. Who may is decided in ``app.campaigns`` and
``app.round_schedules``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Depends, Path, Query, Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from api.deps import Ctx, require_scope
from app.campaigns import (
    CampaignStatus, Campaigns, LaunchInput, LaunchResult, LedgerInput, LedgerPage, CampaignPlanView, RedrawResult, campaign_plan, launch_campaign,
)
from app.cursor import Page, page_in_order
from app.principal import Principal
from app.round_schedules import Deleted, RoundSchedules, ScheduleRequest, ScheduleView
from domain.accounts import TokenScope
from domain.campaign import CAMPAIGN_ID, CampaignSpec
from workflows.campaign_messages import CampaignProgress

router = APIRouter(tags=["campaigns"])
Reader = Annotated[Principal, Depends(require_scope(TokenScope.CAMPAIGNS_READ.value))]
Writer = Annotated[Principal, Depends(require_scope(TokenScope.CAMPAIGNS_WRITE.value))]
Auditing = Annotated[Principal, Depends(require_scope(TokenScope.AUDIT_READ.value))]
CampaignId = Annotated[str, Path(pattern=CAMPAIGN_ID.pattern, description="lower-case letters, digits and '-'")]
Prefix = Annotated[str, Path(pattern=CAMPAIGN_ID.pattern, description="the schedule's name")]
PeriodPath = Annotated[str, Path(min_length=1, max_length=20, description="YYYY-H1, YYYY-H2 or YYYY-Y")]


class ReasonInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str | None = Field(default=None, max_length=2000)


class CancelInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(max_length=2000, description="recorded in every review it cancels")


class NoteInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    note: str | None = Field(default=None, max_length=500)


class SchedulePage(Page[ScheduleView]):
    pass


def _campaigns(ctx) -> Campaigns:
    return Campaigns.of(ctx)


def _schedules(ctx) -> RoundSchedules:
    return RoundSchedules.of(ctx)


# ---- campaigns -----------------------------------------------------------------------


@router.post("/campaigns/plans", response_model=CampaignPlanView, summary="The dry run: counts per tier × level, every gap in scope, the plan id to launch")
async def plan(body: CampaignSpec, ctx: Ctx, principal: Writer) -> CampaignPlanView:
    return await campaign_plan(ctx, principal, body)


@router.post("/campaigns", response_model=LaunchResult, status_code=201,
             responses={200: {"model": LaunchResult, "description": "launched before with this plan: nothing new started"}},
             summary="Launch the plan a dry run showed (the plan id must still be the plan's)")
async def launch(body: LaunchInput, response: Response, ctx: Ctx, principal: Writer) -> LaunchResult:
    got = await launch_campaign(ctx, principal, body)
    if got.already_launched:
        response.status_code = 200
    return got


@router.get("/campaigns/{campaign_id}", response_model=CampaignStatus, summary="Planned, started, open per step and tier, completed, overdue, cancelled")
async def status(campaign_id: CampaignId, ctx: Ctx, principal: Reader) -> CampaignStatus:
    return await _campaigns(ctx).status(principal, campaign_id)


@router.post("/campaigns/{campaign_id}/pause", response_model=CampaignProgress, summary="Hold the launching between batches")
async def pause(campaign_id: CampaignId, ctx: Ctx, principal: Writer, body: Annotated[ReasonInput | None, Body()] = None) -> CampaignProgress:
    return await _campaigns(ctx).pause(principal, campaign_id, reason=body.reason if body else None)


@router.post("/campaigns/{campaign_id}/resume", response_model=CampaignProgress, summary="Go on launching")
async def resume(campaign_id: CampaignId, ctx: Ctx, principal: Writer, body: Annotated[ReasonInput | None, Body()] = None) -> CampaignProgress:
    return await _campaigns(ctx).resume(principal, campaign_id, reason=body.reason if body else None)


@router.post("/campaigns/{campaign_id}/cancel", response_model=CampaignProgress, summary="Stop it and cancel every review it started, with this reason")
async def cancel(campaign_id: CampaignId, body: CancelInput, ctx: Ctx, principal: Writer) -> CampaignProgress:
    return await _campaigns(ctx).cancel(principal, campaign_id, body.reason)


@router.get("/campaigns/{campaign_id}/redraw", response_model=RedrawResult, summary="A random round's draw again, from the audit log alone (auditors)")
async def redraw(campaign_id: CampaignId, ctx: Ctx, principal: Auditing) -> RedrawResult:
    return await run_in_threadpool(_campaigns(ctx).redraw, principal, campaign_id)


# ---- the coverage ledger --------------------------------------------------------------


@router.get("/ledgers/{period}", response_model=LedgerPage, summary="Everyone who must be reviewed in a period, with their latest review; coverage per tier and unit")
async def ledger(
    period: PeriodPath, ctx: Ctx, principal: Reader,
    covered: Annotated[bool | None, Query(description="only the covered (true) or the not covered (false)")] = None,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> LedgerPage:
    inp = LedgerInput(period=period, covered=covered, cursor=cursor, limit=limit)
    return await run_in_threadpool(_campaigns(ctx).ledger_page, principal, inp)


# a bare Response class: the schema says text/csv for the ledger, and JSON for its errors
@router.get("/ledgers/{period}/csv", response_model=None, response_class=Response, summary="The whole ledger of a period as CSV (UTF-8)",
            responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}}, "description": "one row per subject"}})
async def ledger_csv(period: PeriodPath, ctx: Ctx, principal: Reader) -> Response:
    led = await run_in_threadpool(_campaigns(ctx).ledger, principal, period)
    return Response(led.csv(), media_type="text/csv; charset=utf-8", headers={"Content-Disposition": f'attachment; filename="ledger-{period}.csv"'})


# ---- routine rounds on a calendar -----------------------------------------------------


@router.get("/round-schedules", response_model=SchedulePage, summary="The routine rounds' schedules, by name")
async def list_schedules(
    ctx: Ctx, principal: Reader, cursor: Annotated[str | None, Query(max_length=500)] = None, limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> SchedulePage:
    views = await _schedules(ctx).list(principal)
    return page_in_order(SchedulePage, views, cursor, limit, key=lambda v: v.prefix)


@router.post("/round-schedules", response_model=ScheduleView, status_code=201, summary="Schedule a routine round (half-yearly or year-end) over a scope")
async def create_schedule(body: ScheduleRequest, ctx: Ctx, principal: Writer) -> ScheduleView:
    return await _schedules(ctx).create(principal, body)


@router.get("/round-schedules/{prefix}", response_model=ScheduleView, summary="One schedule: its calendar, next firings, latest runs")
async def show_schedule(prefix: Prefix, ctx: Ctx, principal: Reader) -> ScheduleView:
    return await _schedules(ctx).show(principal, prefix)


@router.post("/round-schedules/{prefix}/pause", response_model=ScheduleView, summary="Stop firing until resumed")
async def pause_schedule(prefix: Prefix, ctx: Ctx, principal: Writer, body: Annotated[NoteInput | None, Body()] = None) -> ScheduleView:
    return await _schedules(ctx).pause(principal, prefix, body.note if body else None)


@router.post("/round-schedules/{prefix}/resume", response_model=ScheduleView, summary="Fire again on the calendar")
async def resume_schedule(prefix: Prefix, ctx: Ctx, principal: Writer, body: Annotated[NoteInput | None, Body()] = None) -> ScheduleView:
    return await _schedules(ctx).resume(principal, prefix, body.note if body else None)


@router.post("/round-schedules/{prefix}/trigger", response_model=ScheduleView, summary="Fire now: plan the current period and launch it (once per period)")
async def trigger_schedule(prefix: Prefix, ctx: Ctx, principal: Writer) -> ScheduleView:
    return await _schedules(ctx).trigger(principal, prefix)


@router.delete("/round-schedules/{prefix}", response_model=Deleted, summary="Remove a schedule (the campaigns it launched go on)")
async def delete_schedule(prefix: Prefix, ctx: Ctx, principal: Writer) -> Deleted:
    await _schedules(ctx).delete(principal, prefix)
    return Deleted(prefix=prefix, deleted=True)
