"""The outbox: task prompts, reminders and escalations the notifier wrote. A
person reads their own messages; an auditor reads every message."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from api.deps import Ctx, require_scope
from app.outbox import OutboxInput, OutboxPage, read_outbox
from app.principal import Principal
from domain.accounts import TokenScope

router = APIRouter(tags=["outbox"])
Reader = Annotated[Principal, Depends(require_scope(TokenScope.OUTBOX_READ.value))]


@router.get("/outbox", response_model=OutboxPage, summary="Messages, newest first")
async def outbox(
    ctx: Ctx, principal: Reader,
    recipient_id: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
    review_id: Annotated[str | None, Query(min_length=1, max_length=200)] = None,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> OutboxPage:
    return await read_outbox(ctx, principal, OutboxInput(recipient_id=recipient_id, review_id=review_id, cursor=cursor, limit=limit))
