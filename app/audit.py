"""The auditor's use cases, one set for the CLI, the API and the pages.

On one review: its timeline and its state as of a moment (both rebuilt from
the log with the domain's fold, the same ``evolve`` the workflow runs), which
anyone who may read the review may use, and the cross-check of the log
against the workflow's own history (auditors and the office: it reads the
engine's histories). Over the whole log: search, verification (one stream's
chain, or every chain with the signed checkpoints, the witness kept outside
the database and a size and root noted by hand), signing a checkpoint, and
exports with their signed manifest (to a file, or zipped for a download).
The log-wide tools are the auditor's: an auditor reads everything and
changes nothing (a checkpoint attests to the log, it changes no fact).

A defect found (a checkpoint refused because the log does not verify, one
that could not be witnessed) is :class:`LogDefect`: the audit tools' exit 1."""

from __future__ import annotations

import asyncio
import io
import re
import tempfile
import zipfile
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Awaitable, Callable, Literal

from pydantic import BaseModel, Field, computed_field

from app.access import not_found, require_read
from app.context import AppContext
from app.engine import engine_call
from app.errors import BadInput, Conflict, Forbidden, NotFound, NotSignedIn
from app.overview import ReviewSummary, load_summaries
from app.principal import Principal
from domain.review import ReviewState, fold
from service.crosscheck import CrossCheckReport
from storage.checkpoints import Checkpoint
from storage.export import Manifest
from storage.timeline import TimelineEntry
from storage.verify import VerifyReport


class LogDefect(Conflict):
    """The log, or its witness, is not as it must be: a defect to investigate."""

    exit_code = 1


# --------------------------------------------------------------------------
# who may
# --------------------------------------------------------------------------


def require_auditor(ctx: AppContext, principal: Principal, *, office: bool = False) -> None:
    """The log-wide tools are the auditor's (``office``: the configured office too)."""
    if principal.auditor or (office and principal.person_id is not None and principal.person_id in ctx.settings.supervisor_ids):
        return
    if not principal.signed_in:
        raise NotSignedIn("sign in to use the audit tools", message_zh="请先登录")
    raise Forbidden("the audit tools are for auditors", field="principal", message_zh="审计工具仅供审计人员使用")


def _review_state(ctx: AppContext, principal: Principal, review_id: str) -> ReviewState:
    """The review's state now, once the principal may read it; a stream that is
    not a review's (an account's, a campaign's) is no review here."""
    from domain.events import from_record

    records = ctx.events.read_stream(review_id)
    if not records or not records[0].event_type.startswith("review."):
        raise not_found(review_id)
    state = fold(from_record(r) for r in records)
    require_read(ctx.directory, principal, review_id, state)
    return state


# --------------------------------------------------------------------------
# one review: timeline, state as of a moment, cross-check
# --------------------------------------------------------------------------


class TimelineInput(BaseModel):
    review_id: str = Field(min_length=1, max_length=200)
    lang: Literal["zh", "en"] = "zh"


class Timeline(BaseModel):
    review_id: str
    entries: list[TimelineEntry]

    @computed_field  # type: ignore[prop-decorator]
    @property
    def first_at(self) -> datetime | None:
        return self.entries[0].occurred_at if self.entries else None

    @computed_field  # type: ignore[prop-decorator]
    @property
    def last_at(self) -> datetime | None:
        return self.entries[-1].occurred_at if self.entries else None


async def review_timeline(ctx: AppContext, principal: Principal, inp: TimelineInput) -> Timeline:
    from storage.timeline import timeline

    _review_state(ctx, principal, inp.review_id)
    entries = timeline(ctx.events, inp.review_id, inp.lang)
    return Timeline(review_id=inp.review_id, entries=entries)


class StateAsOfInput(BaseModel):
    review_id: str = Field(min_length=1, max_length=200)
    as_of: datetime | None = None  # workflow time; None: now; without an offset: UTC


async def state_as_of(ctx: AppContext, principal: Principal, inp: StateAsOfInput) -> ReviewState:
    """The review as it stood then (version 0: nothing had happened yet)."""
    from storage.timeline import state_as_of as build

    _review_state(ctx, principal, inp.review_id)
    as_of = inp.as_of
    if as_of is not None and as_of.tzinfo is None:
        as_of = as_of.replace(tzinfo=timezone.utc)
    return build(ctx.events, inp.review_id, as_of)


class CrossCheckInput(BaseModel):
    review_id: str = Field(min_length=1, max_length=200)


async def cross_check(ctx: AppContext, principal: Principal, inp: CrossCheckInput) -> CrossCheckReport:
    from service.crosscheck import cross_check as check

    require_auditor(ctx, principal, office=True)
    client = await ctx.temporal()
    async with engine_call(ctx, inp.review_id):
        return await check(client, ctx.events, inp.review_id)


class CrossCheckAll(BaseModel):
    reports: list[CrossCheckReport]

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.reports)


async def cross_check_all(ctx: AppContext, principal: Principal, inp: BaseModel | None = None) -> CrossCheckAll:
    from service.crosscheck import cross_check_all as check_all

    require_auditor(ctx, principal, office=True)
    client = await ctx.temporal()
    async with engine_call(ctx, "*"):
        return CrossCheckAll(reports=await check_all(client, ctx.events, ctx.settings.task_queue))


# --------------------------------------------------------------------------
# search
# --------------------------------------------------------------------------


class SearchInput(BaseModel):
    text: str = Field(default="", max_length=200, description="part of a review id, subject, unit or reviewer")
    limit: int = Field(default=100, ge=1, le=1000)


class SearchResult(BaseModel):
    total: int
    reviews: list[ReviewSummary]


async def search_reviews(ctx: AppContext, principal: Principal, inp: SearchInput) -> SearchResult:
    require_auditor(ctx, principal)
    needle = inp.text.strip().lower()
    await ctx.catch_up()
    rows = load_summaries(ctx)
    if needle:
        rows = [r for r in rows if any(needle in (v or "").lower() for v in (r.review_id, r.subject_id, r.subject_name, r.unit_id, r.reviewer_id))]
    rows.sort(key=lambda r: r.started_at, reverse=True)
    return SearchResult(total=len(rows), reviews=rows[: inp.limit])


# --------------------------------------------------------------------------
# verify
# --------------------------------------------------------------------------


class VerifyInput(BaseModel):
    stream_id: str | None = Field(default=None, max_length=200, description="one stream's chain (a review's, an account's, a campaign's); none: the whole log")
    witness: Path | None = Field(default=None, description="a witness file or directory of checkpoints kept outside the database; none: the configured one")
    witness_named: bool = Field(default=False, description="the auditor named the witness: it must be there")
    without_witness: bool = Field(default=False, description="check the checkpoints against the database alone (another database than the configured one)")
    expect_size: int | None = Field(default=None, ge=1, description="a log size noted earlier (with expect_root)")
    expect_root: str | None = Field(default=None, description="the Merkle root (hex) of the first expect_size events")
    public_key: str | None = Field(default=None, description="the Ed25519 verify key (hex) to trust; none: the one of the configured signing key")


def _trusted(ctx: AppContext, public_key: str | None):
    from storage.signing import Signer, Verifier

    if public_key is None:
        return Signer(ctx.settings.signing_key).verifier()
    try:
        return Verifier(public_key)
    except ValueError:
        raise BadInput(f"{public_key!r} is not an Ed25519 verify key in hex (64 digits)", field="public_key", message_zh="公钥格式不正确") from None


def _expected(inp: VerifyInput) -> tuple[int, str] | None:
    if (inp.expect_size is None) != (inp.expect_root is None):
        raise BadInput("give the size and the root together (--expect-size and --expect-root)", field="expect_root", message_zh="规模与根哈希须同时给出")
    if inp.expect_root is not None and not re.fullmatch(r"[0-9a-fA-F]{64}", inp.expect_root):
        raise BadInput(f"{inp.expect_root!r} is not a 64-digit hex Merkle root", field="expect_root", message_zh="根哈希应为 64 位十六进制")
    return (inp.expect_size, inp.expect_root) if inp.expect_size is not None and inp.expect_root is not None else None


def _verify(ctx: AppContext, inp: VerifyInput) -> VerifyReport:
    from storage.verify import verify_log, verify_stream
    from storage.witness import WitnessUnreadable, read_witness, witness_file

    expected = _expected(inp)
    trusted = _trusted(ctx, inp.public_key)
    if inp.stream_id is not None:  # a stream the log holds nothing of is reported (deleted), not "not found"
        return verify_stream(ctx.engine, inp.stream_id)
    s = ctx.settings
    note, witnessed = None, None
    if inp.without_witness:
        note = "no witness given for this database: checkpoints were checked against the database alone"
    else:
        path = inp.witness or s.effective_witness_dir
        try:
            witnessed = read_witness(path)
        except WitnessUnreadable as exc:
            if inp.witness_named:
                raise BadInput(str(exc), field="witness", message_zh="无法读取见证文件") from None
            note = f"no witness file at {witness_file(path)}: checkpoints were checked against the database alone"
    # checkpoints are signed every interval; twice that (at least two minutes) without one over an event means they are missing
    report = verify_log(ctx.engine, trusted, witnessed=witnessed, expected=expected,
                        max_unsigned_age=timedelta(seconds=max(2 * s.checkpoint_every_seconds, 120)))
    if note:
        report.notes.append(note)
    return report


async def verify(ctx: AppContext, principal: Principal, inp: VerifyInput) -> VerifyReport:
    """The verification report; defects are in the report, not raised."""
    require_auditor(ctx, principal)
    return await asyncio.to_thread(_verify, ctx, inp)


class VerifyExportInput(BaseModel):
    file: Path = Field(description="an export file; its FILE.manifest.json beside it")
    public_key: str | None = None


async def verify_export_file(ctx: AppContext, principal: Principal, inp: VerifyExportInput) -> VerifyReport:
    """An export checked offline against its signed manifest (no database read)."""
    from storage.export import verify_export

    require_auditor(ctx, principal)
    trusted = _trusted(ctx, inp.public_key)
    try:
        return await asyncio.to_thread(verify_export, inp.file, trusted)
    except OSError as e:
        raise BadInput(f"{e.strerror or e} ({e.filename or inp.file}); an export is FILE with FILE.manifest.json beside it", field="file",
                       message_zh="无法读取导出文件") from None
    except ValueError as e:  # a manifest or line that is not what export writes
        raise BadInput(f"{inp.file} is not an export this tool wrote ({str(e).splitlines()[0]})", field="file", message_zh="不是本工具导出的文件") from None


# --------------------------------------------------------------------------
# checkpoints
# --------------------------------------------------------------------------


class CheckpointInput(BaseModel):
    every: float | None = Field(default=None, gt=0, description="keep signing, every so many seconds (until stopped)")


class CheckpointResult(BaseModel):
    checkpoint: Checkpoint
    witness_file: Path


async def sign_checkpoint(ctx: AppContext, principal: Principal, inp: CheckpointInput,
                          on_signed: Callable[[CheckpointResult], Awaitable[None] | None] | None = None) -> CheckpointResult:
    """Sign the log as it stands (a Merkle root over every event hash) and keep
    the checkpoint in the witness too; with ``every``, keep doing so (one
    witness throughout, so a second store that missed one gets it later),
    telling ``on_signed`` each time, until cancelled."""
    from storage.checkpoints import CheckpointRefused, write_checkpoint
    from storage.signing import Signer
    from storage.witness import Witness, WitnessFailed

    require_auditor(ctx, principal)
    s = ctx.settings
    signer, witness = Signer(s.signing_key), Witness(s.effective_witness_dir, s.witness_url)
    while True:
        try:
            cp = await asyncio.to_thread(write_checkpoint, ctx.engine, signer, witness)
        except CheckpointRefused as exc:
            raise LogDefect(f"refused: {exc}", message_zh="拒绝签署检查点：日志未通过校验") from None
        except WitnessFailed as exc:
            raise LogDefect(f"signed, but not witnessed: {exc}", message_zh="检查点已签署，但未能见证") from None
        result = CheckpointResult(checkpoint=cp, witness_file=witness.file)
        if inp.every is None:
            return result
        if on_signed is not None:
            told = on_signed(result)
            if told is not None:
                await told
        await asyncio.sleep(inp.every)


# --------------------------------------------------------------------------
# export
# --------------------------------------------------------------------------


class ExportInput(BaseModel):
    stream_id: str | None = Field(default=None, max_length=200, description="one stream")
    campaign_id: str | None = Field(default=None, max_length=64, description="a campaign's streams")
    file_format: Literal["jsonl", "csv"] = "jsonl"
    # none of stream_id, campaign_id: the whole log


def _scope(ctx: AppContext, inp: ExportInput):
    from storage.export import ExportScope

    if inp.stream_id and inp.campaign_id:
        raise BadInput("export one stream, one campaign or the whole log, not both a stream and a campaign", field="campaign_id")
    if inp.stream_id:
        if ctx.events.stream_version(inp.stream_id) == 0:
            raise NotFound(f"no stream {inp.stream_id!r} in the log", field="stream_id", message_zh=f"日志中没有 {inp.stream_id!r}")
        return ExportScope(kind="stream", id=inp.stream_id)
    if inp.campaign_id:
        return ExportScope(kind="campaign", id=inp.campaign_id)
    return ExportScope(kind="all")


def _export(ctx: AppContext, inp: ExportInput, out: Path) -> Manifest:
    from storage.export import export
    from storage.signing import Signer

    scope = _scope(ctx, inp)
    try:
        return export(ctx.engine, scope, out, Signer(ctx.settings.signing_key), inp.file_format)
    except ValueError as exc:
        raise BadInput(str(exc), field="stream_id" if inp.stream_id else "campaign_id") from None
    except OSError as exc:
        raise BadInput(f"cannot write {out}: {exc.strerror or exc}", field="out", message_zh="无法写入导出文件") from None


class ExportToFileInput(ExportInput):
    out: Path = Field(description="the file to write; the signed manifest goes beside it as FILE.manifest.json")


async def export_log(ctx: AppContext, principal: Principal, inp: ExportToFileInput) -> Manifest:
    """JSON Lines or CSV of a stream, a campaign or everything, with a signed manifest beside it."""
    require_auditor(ctx, principal)
    return await asyncio.to_thread(_export, ctx, inp, inp.out)


class ExportFile(BaseModel):
    file_name: str
    data: bytes
    count: int


def _zipped(ctx: AppContext, inp: ExportInput) -> ExportFile:
    from storage.export import manifest_path

    stem = f"pingyi-{inp.stream_id or inp.campaign_id or 'log'}-{datetime.now(timezone.utc):%Y%m%dT%H%M%SZ}"
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / f"{stem}.{inp.file_format}"
        manifest = _export(ctx, inp, out)
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
            z.write(out, out.name)
            z.write(manifest_path(out), manifest_path(out).name)
    return ExportFile(file_name=f"{stem}.zip", data=buf.getvalue(), count=manifest.count)


async def export_zip(ctx: AppContext, principal: Principal, inp: ExportInput) -> ExportFile:
    """The export and its signed manifest, zipped for one download."""
    require_auditor(ctx, principal)
    return await asyncio.to_thread(_zipped, ctx, inp)
