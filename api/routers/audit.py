"""The auditor's tools on one review: its timeline and its state as of a
moment (rebuilt from the log; anyone with a role on the review may read them),
and the cross-check of the log against the engine's histories (auditors). The
log-wide tools that take files (verify, checkpoint, export) stay with
``reviewctl audit``."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query

from api.deps import Ctx, require_scope
from app import audit as uc
from app.cursor import Page, page_in_order
from app.principal import Principal
from domain.accounts import TokenScope
from domain.review import ReviewState
from service.crosscheck import CrossCheckReport
from storage.timeline import TimelineEntry

router = APIRouter(prefix="/audit", tags=["audit"])
Auditing = Annotated[Principal, Depends(require_scope(TokenScope.AUDIT_READ.value))]
ReviewId = Annotated[str, Path(min_length=1, max_length=200)]


class TimelinePage(Page[TimelineEntry]):
    """A review's events in the order of the log, a page at a time."""

    review_id: str


@router.get("/reviews/{review_id}/timeline", response_model=TimelinePage, summary="Every event of a review, in order, in words")
async def timeline(
    review_id: ReviewId, ctx: Ctx, principal: Auditing, lang: Annotated[Literal["zh", "en"], Query()] = "zh",
    cursor: Annotated[str | None, Query(max_length=500)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> TimelinePage:
    got = await uc.review_timeline(ctx, principal, uc.TimelineInput(review_id=review_id, lang=lang))
    return page_in_order(TimelinePage, got.entries, cursor, limit, key=lambda e: str(e.position), review_id=got.review_id)


@router.get("/reviews/{review_id}/state", response_model=ReviewState, summary="A review's state as of a moment, folded from the log")
async def state_as_of(
    review_id: ReviewId, ctx: Ctx, principal: Auditing,
    as_of: Annotated[datetime | None, Query(description="workflow time; default now")] = None,
) -> ReviewState:
    return await uc.state_as_of(ctx, principal, uc.StateAsOfInput(review_id=review_id, as_of=as_of))


@router.get("/reviews/{review_id}/cross-check", response_model=CrossCheckReport, summary="The log against the engine's history of one review (auditors)")
async def cross_check(review_id: ReviewId, ctx: Ctx, principal: Auditing) -> CrossCheckReport:
    return await uc.cross_check(ctx, principal, uc.CrossCheckInput(review_id=review_id))


@router.get("/cross-check", response_model=uc.CrossCheckAll, summary="Every review's log against its history (auditors)")
async def cross_check_all(ctx: Ctx, principal: Auditing) -> uc.CrossCheckAll:
    return await uc.cross_check_all(ctx, principal)
