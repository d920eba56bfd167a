"""The directory: look-ups of units and people, who reviews a subject and why,
and the assignment plan of a period (its counts, gaps and notices). Any
signed-in principal reads the look-ups; the plan is for supervisors (their
subtrees), auditors, administrators and the office (``app.directory``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query

from api.deps import Ctx, require_scope
from app import directory as uc
from app.principal import Principal
from domain.accounts import TokenScope

router = APIRouter(prefix="/directory", tags=["directory"])
Reader = Annotated[Principal, Depends(require_scope(TokenScope.DIRECTORY_READ.value))]
UnitId = Annotated[str, Path(min_length=1, max_length=64)]
Cursor = Annotated[str | None, Query(max_length=500, description="next_cursor of the previous page")]
Limit = Annotated[int, Query(ge=1, le=500)]
Period = Annotated[str, Query(max_length=40, description="a label for the period, e.g. 2026-H2")]


@router.get("/units", response_model=uc.UnitPage, summary="The units directly under one (default: the top of the tree), by id")
async def list_units(
    ctx: Ctx, principal: Reader, parent_id: Annotated[str | None, Query(min_length=1, max_length=64)] = None, cursor: Cursor = None, limit: Limit = 100,
) -> uc.UnitPage:
    return await uc.list_units(ctx, principal, uc.UnitsInput(parent_id=parent_id, cursor=cursor, limit=limit))


@router.get("/units/{unit_id}", response_model=uc.UnitView, summary="One unit: its place in the tree, its leader, its size")
async def show_unit(unit_id: UnitId, ctx: Ctx, principal: Reader) -> uc.UnitView:
    return await uc.show_unit(ctx, principal, uc.UnitInput(unit_id=unit_id))


@router.get("/units/{unit_id}/members", response_model=uc.MemberPage, summary="A unit's leadership team and members, by person id")
async def unit_members(unit_id: UnitId, ctx: Ctx, principal: Reader, cursor: Cursor = None, limit: Limit = 100) -> uc.MemberPage:
    return await uc.unit_members(ctx, principal, uc.MembersInput(unit_id=unit_id, cursor=cursor, limit=limit))


@router.get("/people/{person_id}", response_model=uc.PersonView, summary="One person and their posts")
async def show_person(person_id: Annotated[str, Path(min_length=1, max_length=64)], ctx: Ctx, principal: Reader) -> uc.PersonView:
    return await uc.show_person(ctx, principal, uc.PersonInput(person_id=person_id))


@router.get("/subjects/{subject_id}/explanation", response_model=uc.Explanation, summary="Who reviews this person or unit and why, and whom they review")
async def explain(
    subject_id: Annotated[str, Path(min_length=1, max_length=64, description="a person id (P-…) or a unit id (U-…)")], ctx: Ctx, principal: Reader,
    cursor: Cursor = None, limit: Limit = uc.MAX_LISTED,
) -> uc.Explanation:
    return await uc.explain_subject(ctx, principal, uc.ExplainInput(subject_id=subject_id, cursor=cursor, limit=limit))


@router.get("/plan", response_model=uc.PlanOverview, summary="A period's assignment plan: counts per tier and level, how many gaps and notices")
async def plan(ctx: Ctx, principal: Reader, period: Period = "") -> uc.PlanOverview:
    return await uc.plan_overview(ctx, principal, uc.PlanInput(period=period))


@router.get("/plan/gaps", response_model=uc.GapPage, summary="The plan's gaps: subjects nobody would review, and why")
async def plan_gaps(ctx: Ctx, principal: Reader, period: Period = "", cursor: Cursor = None, limit: Limit = 100) -> uc.GapPage:
    return await uc.plan_gaps(ctx, principal, uc.PlanListInput(period=period, cursor=cursor, limit=limit))


@router.get("/plan/notices", response_model=uc.NoticePage, summary="The plan's notices for the office to confirm (concurrent posts, …)")
async def plan_notices(ctx: Ctx, principal: Reader, period: Period = "", cursor: Cursor = None, limit: Limit = 100) -> uc.NoticePage:
    return await uc.plan_notices(ctx, principal, uc.PlanListInput(period=period, cursor=cursor, limit=limit))
