"""A person's work: "my work" (open tasks, overdue first, then the soonest
due) and "reviews of me" (the subject's side: the review received, the plan,
progress and report-back, each on the review's own page)."""

from __future__ import annotations

from datetime import datetime, timezone

from fastapi import APIRouter, Request
from fastapi.responses import Response

from app.errors import AppError
from app.tasks import my_tasks, reviews_of_me
from pages.rendering import render
from pages.web import Ctx, Who, error_page

router = APIRouter()


@router.get("/tasks")
async def tasks_page(request: Request, ctx: Ctx, who: Who) -> Response:
    try:
        got = await my_tasks(ctx, who)
    except AppError as err:
        return error_page(request, err)
    return render(request, "tasks.html", {"tasks": got.tasks, "total": len(got.tasks), "now": datetime.now(timezone.utc)})


@router.get("/mine")
async def mine_page(request: Request, ctx: Ctx, who: Who) -> Response:
    try:
        got = await reviews_of_me(ctx, who)
    except AppError as err:
        return error_page(request, err)
    return render(request, "mine.html", {"reviews": got.reviews, "asked": got.asked, "now": datetime.now(timezone.utc)})
