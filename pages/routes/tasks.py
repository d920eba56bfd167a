"""The reviewer's "my work": open tasks, overdue first, then the soonest due."""

from __future__ import annotations

from datetime import datetime, timezone

from fastapi import APIRouter, Request
from fastapi.responses import Response

from app.errors import AppError
from app.tasks import my_tasks
from pages.rendering import render
from pages.web import Ctx, Who, error_page

router = APIRouter()


@router.get("/tasks")
async def tasks_page(request: Request, ctx: Ctx, who: Who) -> Response:
    try:
        got = await my_tasks(ctx, who)
    except AppError as err:
        return error_page(request, err)
    return render(request, "tasks.html", {"tasks": got.tasks, "now": datetime.now(timezone.utc)})
