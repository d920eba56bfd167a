"""The auditor's pages: search, one review's timeline (actor, role, reason,
step and local time of every event) with its state as of a chosen time,
verification of one review or the whole log, and export downloads."""

from __future__ import annotations

from datetime import datetime
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import Response

from app.audit import ExportInput, SearchInput, StateAsOfInput, TimelineInput, VerifyInput, export_zip, review_timeline, search_reviews, state_as_of, verify
from app.errors import AppError
from pages.i18n import gettext as _
from pages.rendering import local_input, localtime, render, zone
from pages.web import Ctx, Who, error_page, temporal_ui_url

router = APIRouter()


@router.get("/audit")
async def audit_home(request: Request, ctx: Ctx, who: Who, q: str = "") -> Response:
    try:
        result = await search_reviews(ctx, who, SearchInput(text=q[:200]))
    except AppError as err:
        return error_page(request, err)
    return render(request, "audit.html", {"q": q, "result": result})


def _parse_local(value: str) -> datetime | None:
    """A time from the page: an ISO time with an offset (the timeline's links),
    or the datetime-local field's wall time in the configured zone. A time
    given to the second means the end of that second: "as of 18:34:35"
    includes what happened during it (the field leaves ":00" out, so
    "18:34" is the second 18:34:00 too)."""
    text = value.strip()
    try:
        dt = datetime.fromisoformat(text)
    except ValueError:
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=zone())
    if "." not in text:
        dt = dt.replace(microsecond=999_999)
    return dt


@router.get("/audit/reviews/{review_id}")
async def audit_review(request: Request, review_id: str, ctx: Ctx, who: Who, as_of: str | None = None) -> Response:
    try:
        tl = await review_timeline(ctx, who, TimelineInput(review_id=review_id, lang="en"))
    except AppError as err:
        return error_page(request, err)
    then, as_of_error, moment = None, None, None
    if as_of:
        moment = _parse_local(as_of)
        if moment is None:
            as_of_error = _("Give a time as YYYY-MM-DD HH:MM:SS.")
        else:
            then = await state_as_of(ctx, who, StateAsOfInput(review_id=review_id, as_of=moment))
    return render(request, "audit_review.html", {
        "tl": tl, "then": then, "as_of_error": as_of_error,
        "as_of_input": (local_input(moment) + moment.astimezone(zone()).strftime(":%S")) if moment else "",
        "as_of_label": localtime(moment, "second") if moment else "",
        "temporal_url": temporal_ui_url(ctx, review_id),
    }, status_code=422 if as_of_error else 200)


@router.get("/audit/verify")
async def audit_verify(request: Request, ctx: Ctx, who: Who, review: str | None = None) -> Response:
    try:
        report = await verify(ctx, who, VerifyInput(stream_id=review or None))
    except AppError as err:
        return error_page(request, err)
    return render(request, "audit_verify.html", {"report": report, "review_id": review or None})


@router.get("/audit/export")
async def audit_export(request: Request, ctx: Ctx, who: Who, review: str | None = None, format: str = "jsonl") -> Response:
    try:
        got = await export_zip(ctx, who, ExportInput(stream_id=review or None, file_format="csv" if format == "csv" else "jsonl"))
    except AppError as err:
        return error_page(request, err)
    return Response(got.data, media_type="application/zip", headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(got.file_name)}"})



