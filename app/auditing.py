"""The auditor's tools for the pages: find reviews, one review's timeline,
its state as of a chosen time, verification (one review's chain, or the whole
log with its signed checkpoints and the witness), and an export download (the
events as JSON Lines or CSV with the signed manifest, in one zip). An auditor
reads everything and changes nothing; nobody else may use these.

State as of a time is the domain's own fold over the events that occurred up
to then, the same ``evolve`` the workflow runs (storage.timeline)."""

from __future__ import annotations

import io
import tempfile
import zipfile
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field

from app.access import require_signed_in_person
from app.context import AppContext
from app.errors import BadInput, Forbidden, NotFound
from app.overview import ReviewSummary, load_summaries
from app.principal import Principal
from domain.review import ReviewState
from storage.timeline import TimelineEntry


def require_auditor(principal: Principal) -> None:
    require_signed_in_person(principal)
    if not principal.auditor:
        raise Forbidden("the audit tools are for auditors", field="principal", message_zh="审计工具仅供审计人员使用")


def _require_review(ctx: AppContext, review_id: str) -> None:
    if ctx.events.stream_version(review_id) == 0 or not review_id.startswith("rv-"):
        raise NotFound(f"no review {review_id!r} in the log", field="review_id", message_zh=f"日志中没有点评 {review_id!r}")


class SearchInput(BaseModel):
    text: str = Field(default="", max_length=200, description="part of a review id, subject, unit or reviewer")
    limit: int = Field(default=100, ge=1, le=1000)


class SearchResult(BaseModel):
    total: int
    reviews: list[ReviewSummary]


async def search_reviews(ctx: AppContext, principal: Principal, inp: SearchInput) -> SearchResult:
    require_auditor(principal)
    needle = inp.text.strip().lower()
    await ctx.catch_up()
    rows = load_summaries(ctx)
    if needle:
        rows = [r for r in rows if any(needle in (v or "").lower() for v in (r.review_id, r.subject_id, r.subject_name, r.unit_id, r.reviewer_id))]
    rows.sort(key=lambda r: r.started_at, reverse=True)
    return SearchResult(total=len(rows), reviews=rows[: inp.limit])


class TimelineResult(BaseModel):
    review_id: str
    entries: list[TimelineEntry]
    first_at: datetime | None
    last_at: datetime | None


def review_timeline(ctx: AppContext, principal: Principal, review_id: str) -> TimelineResult:
    from storage.timeline import timeline

    require_auditor(principal)
    _require_review(ctx, review_id)
    entries = timeline(ctx.events, review_id, "en")
    return TimelineResult(review_id=review_id, entries=entries, first_at=entries[0].occurred_at if entries else None,
                          last_at=entries[-1].occurred_at if entries else None)


class StateAsOfInput(BaseModel):
    review_id: str = Field(min_length=1, max_length=200)
    as_of: datetime


def state_at(ctx: AppContext, principal: Principal, inp: StateAsOfInput) -> ReviewState:
    from storage.timeline import state_as_of

    require_auditor(principal)
    _require_review(ctx, inp.review_id)
    as_of = inp.as_of if inp.as_of.tzinfo else inp.as_of.replace(tzinfo=timezone.utc)
    return state_as_of(ctx.events, inp.review_id, as_of)


class VerifyInput(BaseModel):
    review_id: str | None = Field(default=None, description="one review's chain; none: the whole log")


def verify(ctx: AppContext, principal: Principal, inp: VerifyInput):
    """The verification report (storage.verify.VerifyReport)."""
    from storage.signing import Signer
    from storage.verify import verify_log, verify_stream
    from storage.witness import WitnessUnreadable, read_witness

    require_auditor(principal)
    if inp.review_id:
        _require_review(ctx, inp.review_id)
        return verify_stream(ctx.engine, inp.review_id)
    s = ctx.settings
    note, witnessed = None, None
    try:
        witnessed = read_witness(s.effective_witness_dir)
    except WitnessUnreadable as exc:
        note = f"no witness file ({exc}): checkpoints were checked against the database alone"
    report = verify_log(ctx.engine, Signer(s.signing_key).verifier(), witnessed=witnessed,
                        max_unsigned_age=timedelta(seconds=max(2 * s.checkpoint_every_seconds, 120)))
    if note:
        report.notes.append(note)
    return report


class ExportInput(BaseModel):
    review_id: str | None = Field(default=None, description="one review; none: the whole log")
    file_format: Literal["jsonl", "csv"] = "jsonl"


class ExportFile(BaseModel):
    file_name: str
    data: bytes
    count: int


def export_zip(ctx: AppContext, principal: Principal, inp: ExportInput) -> ExportFile:
    """The export and its signed manifest, zipped for one download."""
    from storage.export import ExportScope, export, manifest_path
    from storage.signing import Signer

    require_auditor(principal)
    if inp.review_id:
        _require_review(ctx, inp.review_id)
    scope = ExportScope(kind="stream", id=inp.review_id) if inp.review_id else ExportScope(kind="all")
    stem = f"pingyi-{inp.review_id or 'log'}-{datetime.now(timezone.utc):%Y%m%dT%H%M%SZ}"
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / f"{stem}.{inp.file_format}"
        try:
            manifest = export(ctx.engine, scope, out, Signer(ctx.settings.signing_key), inp.file_format)
        except ValueError as exc:
            raise BadInput(str(exc), field="review_id") from None
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
            z.write(out, out.name)
            z.write(manifest_path(out), manifest_path(out).name)
    return ExportFile(file_name=f"{stem}.zip", data=buf.getvalue(), count=manifest.count)
