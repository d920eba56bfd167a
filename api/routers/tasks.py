"""The task inbox: what a person must do now, for whom, by when, and why them
(served from the projection tables, never by querying workflows)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from api.deps import Ctx, require_scope
from app.principal import Principal
from app.tasks import InboxInput, InboxPage, task_inbox
from domain.accounts import TokenScope

router = APIRouter(tags=["tasks"])
Reader = Annotated[Principal, Depends(require_scope(TokenScope.REVIEWS_READ.value))]


@router.get("/tasks", response_model=InboxPage, summary="Your task inbox (an auditor may read anyone's), soonest deadline first")
async def inbox(
    ctx: Ctx, principal: Reader,
    person_id: Annotated[str | None, Query(min_length=1, max_length=64, description="whose inbox; default your own")] = None,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> InboxPage:
    return await task_inbox(ctx, principal, InboxInput(person_id=person_id, cursor=cursor, limit=limit))
