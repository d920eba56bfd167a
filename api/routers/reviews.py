"""Reviews: start one, show it, send it a command (as a Temporal update: the
answer is the workflow's own accept or reject), the command kinds and their
templates. The actor is always the signed-in principal."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query
from pydantic import BaseModel, ConfigDict, Field

from api.deps import Ctx, require_scope
from app import reviews as uc
from app.cursor import Page, page_in_order
from app.principal import Principal
from domain.accounts import TokenScope
from domain.procedure import Step

router = APIRouter(tags=["reviews"])
Reader = Annotated[Principal, Depends(require_scope(TokenScope.REVIEWS_READ.value))]
Writer = Annotated[Principal, Depends(require_scope(TokenScope.REVIEWS_WRITE.value))]
ReviewId = Annotated[str, Path(min_length=1, max_length=200)]


class CommandBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: str = Field(min_length=1, max_length=64, description="GET /api/v1/command-kinds lists them")
    reason: str | None = Field(default=None, max_length=4000, description="required for returns, reassignments, extensions, cancels")
    fields: dict[str, Any] = Field(default_factory=dict, description="the command's own fields (GET …/commands/{kind}/template)")
    actor_id: str | None = Field(default=None, description="ignored: the actor is always the signed-in principal", json_schema_extra={"deprecated": True})


@router.post("/reviews", response_model=uc.StartReviewResult, status_code=201, summary="Start a review (the office, or a supervisor of the subject's unit)")
async def start_review(body: uc.StartReviewInput, ctx: Ctx, principal: Writer) -> uc.StartReviewResult:
    return await uc.start_review(ctx, principal, body)


@router.get("/reviews", response_model=uc.ReviewPage, summary="The reviews you may see, filtered (from the read models)")
async def list_reviews(
    ctx: Ctx, principal: Reader,
    campaign_id: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
    step: Annotated[Step | None, Query(description="closed / cancelled: the ended reviews")] = None,
    reviewer_id: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
    unit_id: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
    tier: Annotated[int | None, Query(ge=1, le=4)] = None,
    overdue: Annotated[bool | None, Query()] = None,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> uc.ReviewPage:
    inp = uc.ListReviewsInput(campaign_id=campaign_id, step=step, reviewer_id=reviewer_id, unit_id=unit_id, tier=tier, overdue=overdue, cursor=cursor, limit=limit)
    return await uc.list_reviews(ctx, principal, inp)


@router.get("/reviews/{review_id}", response_model=uc.ReviewView, summary="A review's state, with your roles on it")
async def show_review(review_id: ReviewId, ctx: Ctx, principal: Reader) -> uc.ReviewView:
    return await uc.show_review(ctx, principal, uc.ShowReviewInput(review_id=review_id))


@router.post("/reviews/{review_id}/commands", response_model=uc.SendCommandResult, summary="Send a command as yourself; the workflow accepts or rejects it")
async def send_command(review_id: ReviewId, body: CommandBody, ctx: Ctx, principal: Writer) -> uc.SendCommandResult:
    return await uc.send_command(ctx, principal, uc.SendCommandInput(review_id=review_id, kind=body.kind, reason=body.reason, fields=body.fields))


class CommandKindPage(Page[uc.CommandKind]):
    """In the order they are declared."""


@router.get("/command-kinds", response_model=CommandKindPage, summary="Every command a person can send: who may, in which step")
async def command_kinds(
    ctx: Ctx, principal: Reader,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> CommandKindPage:
    kinds = (await uc.command_kinds(ctx, principal)).kinds
    return page_in_order(CommandKindPage, kinds, cursor, limit, key=lambda k: k.kind)


@router.get("/command-kinds/{kind}/template", response_model=uc.TemplateResult, summary="A command's fields: the schema, or an example filled in for a review")
async def command_template(
    kind: Annotated[str, Path(min_length=1, max_length=64)], ctx: Ctx, principal: Reader,
    review_id: Annotated[str | None, Query(min_length=1, max_length=200)] = None,
) -> uc.TemplateResult:
    return await uc.command_template(ctx, principal, uc.TemplateInput(kind=kind, review_id=review_id))
