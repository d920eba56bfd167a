"""The auditor's tools on one review: its timeline and its state as of a
moment (rebuilt from the log; anyone with a role on the review may read them),
the cross-check of the log against the engine's histories, the verification
of the log (against the configured witness, or a size and root noted by hand)
and the export with its signed manifest (auditors). Signing a checkpoint and
verifying an export file stay with ``reviewctl audit`` on the server: they
write to, or read from, the server's own files."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import Response

from api.deps import Ctx, require_scope
from app import audit as uc
from app.cursor import Page, page_in_order
from app.principal import Principal
from domain.accounts import TokenScope
from domain.review import ReviewState
from service.crosscheck import CrossCheckReport
from storage.timeline import TimelineEntry
from storage.verify import VerifyReport

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


@router.get("/verify", response_model=VerifyReport, summary="Recompute every hash chain, position and signed checkpoint (auditors); defects are in the report")
async def verify(
    ctx: Ctx, principal: Auditing,
    stream_id: Annotated[str | None, Query(min_length=1, max_length=200, description="one stream's chain only")] = None,
    expect_size: Annotated[int | None, Query(ge=1, description="a log size noted earlier (with expect_root)")] = None,
    expect_root: Annotated[str | None, Query(max_length=64, description="the Merkle root (hex) of the first expect_size events")] = None,
    public_key: Annotated[str | None, Query(max_length=64, description="the Ed25519 verify key (hex) to trust; default: the service's own")] = None,
) -> VerifyReport:
    # the witness is the service's configured one: a path from a request would read the server's files
    return await uc.verify(ctx, principal, uc.VerifyInput(stream_id=stream_id, expect_size=expect_size, expect_root=expect_root, public_key=public_key))


EXPORT_ZIP = {200: {"content": {"application/zip": {}}, "description": "the export and its signed manifest, zipped"}}


@router.get("/export", response_class=Response, responses=EXPORT_ZIP, summary="The log, one stream or one campaign as JSON Lines or CSV with its signed manifest (auditors)")
async def export(
    ctx: Ctx, principal: Auditing,
    stream_id: Annotated[str | None, Query(min_length=1, max_length=200)] = None,
    campaign_id: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
    file_format: Annotated[Literal["jsonl", "csv"], Query(alias="format")] = "jsonl",
) -> Response:
    got = await uc.export_zip(ctx, principal, uc.ExportInput(stream_id=stream_id, campaign_id=campaign_id, file_format=file_format))
    return Response(got.data, media_type="application/zip", headers={"Content-Disposition": f'attachment; filename="{got.file_name}"', "X-Pingyi-Events": str(got.count)})
