"""The auditor's use cases (app.audit), one set for the CLI, the API and the
pages: who may use which, what a bad input names, and that a log defect is
the audit tools' exit 1."""

from __future__ import annotations

import io
import uuid
import zipfile

import pytest
from principals import OFFICE, person
from sqlalchemy import text

from app import audit
from app.accounts import CLI_ADMIN, Accounts, AddAccount
from app.context import AppContext
from app.errors import BadInput, Forbidden, NotFound, NotSignedIn
from app.principal import ANONYMOUS
from app.reviews import StartReviewInput, start_review

AUDITOR = person("P-000900", auditor=True)
STRANGER = person("P-000001")


@pytest.fixture
async def review(ctx):
    from app.engine import query_state

    started = await start_review(ctx, OFFICE, StartReviewInput(subject_id="U-AF01-B01", review_id=f"rv-audit-{uuid.uuid4().hex[:6]}"))
    await query_state(ctx, started.review_id, wait_started=10)  # its opening is in the log
    return started


async def test_a_review_s_timeline_and_state_are_for_who_may_read_it(ctx, review):
    rid = review.review_id
    reviewer = person(review.reviewer_id)
    for who in (reviewer, AUDITOR):
        tl = await audit.review_timeline(ctx, who, audit.TimelineInput(review_id=rid, lang="en"))
        assert tl.entries and tl.first_at == tl.entries[0].occurred_at and tl.last_at == tl.entries[-1].occurred_at
        assert (await audit.state_as_of(ctx, who, audit.StateAsOfInput(review_id=rid))).spec.reviewer_id == review.reviewer_id
    before = await audit.state_as_of(ctx, AUDITOR, audit.StateAsOfInput(review_id=rid, as_of=tl.first_at.replace(year=2000, tzinfo=None)))
    assert before.version == 0  # the review existed, nothing had happened yet (a time without an offset is UTC)
    with pytest.raises(NotFound):  # a stranger is told nothing more than for a review that does not exist
        await audit.review_timeline(ctx, STRANGER, audit.TimelineInput(review_id=rid))
    with pytest.raises(NotFound):
        await audit.state_as_of(ctx, STRANGER, audit.StateAsOfInput(review_id=rid))


async def test_a_stream_that_is_not_a_review_s_has_no_review_timeline(ctx):
    Accounts(ctx.settings, ctx.engine, ctx.events).add_account(CLI_ADMIN, AddAccount(person_id="P-000002", password=None))
    account_stream = ctx.engine.connect().execute(text("SELECT stream_id FROM events WHERE event_type = 'account.created'")).scalar_one()
    with pytest.raises(NotFound):
        await audit.review_timeline(ctx, AUDITOR, audit.TimelineInput(review_id=account_stream))
    report = await audit.verify(ctx, AUDITOR, audit.VerifyInput(stream_id=account_stream))  # its chain is verified all the same
    assert report.ok and report.events == 1


async def test_the_log_wide_tools_are_the_auditor_s(ctx, review, tmp_path):
    reviewer = person(review.reviewer_id)
    calls = {
        "search": lambda who: audit.search_reviews(ctx, who, audit.SearchInput()),
        "verify": lambda who: audit.verify(ctx, who, audit.VerifyInput()),
        "checkpoint": lambda who: audit.sign_checkpoint(ctx, who, audit.CheckpointInput()),
        "export": lambda who: audit.export_log(ctx, who, audit.ExportToFileInput(out=tmp_path / "x.jsonl")),
        "zip": lambda who: audit.export_zip(ctx, who, audit.ExportInput()),
        "export verify": lambda who: audit.verify_export_file(ctx, who, audit.VerifyExportInput(file=tmp_path / "x.jsonl")),
    }
    for name, call in calls.items():
        with pytest.raises(Forbidden):
            await call(reviewer)
        with pytest.raises(NotSignedIn):
            await call(ANONYMOUS)
    signed = await audit.sign_checkpoint(ctx, AUDITOR, audit.CheckpointInput())
    assert signed.checkpoint.tree_size == ctx.events.head_position() and signed.witness_file.exists()
    report = await audit.verify(ctx, AUDITOR, audit.VerifyInput())
    assert report.ok and report.checkpoints_verified >= 1 and report.witnessed_size == signed.checkpoint.tree_size
    manifest = await audit.export_log(ctx, AUDITOR, audit.ExportToFileInput(stream_id=review.review_id, out=tmp_path / "x.jsonl"))
    assert manifest.count == ctx.events.stream_version(review.review_id)
    assert (await audit.verify_export_file(ctx, AUDITOR, audit.VerifyExportInput(file=tmp_path / "x.jsonl"))).ok
    got = await audit.export_zip(ctx, AUDITOR, audit.ExportInput(stream_id=review.review_id, file_format="csv"))
    names = zipfile.ZipFile(io.BytesIO(got.data)).namelist()
    assert got.count == manifest.count and any(n.endswith(".csv") for n in names) and any(n.endswith(".manifest.json") for n in names)


async def test_bad_input_names_the_field_and_a_defect_is_exit_1(ctx, review, tmp_path):
    cases = [
        (audit.verify(ctx, AUDITOR, audit.VerifyInput(expect_size=3)), "expect_root"),
        (audit.verify(ctx, AUDITOR, audit.VerifyInput(expect_size=3, expect_root="xyz")), "expect_root"),
        (audit.verify(ctx, AUDITOR, audit.VerifyInput(public_key="not hex")), "public_key"),
        (audit.verify(ctx, AUDITOR, audit.VerifyInput(witness=tmp_path / "nowhere.jsonl", witness_named=True)), "witness"),
        (audit.verify_export_file(ctx, AUDITOR, audit.VerifyExportInput(file=tmp_path / "missing.jsonl")), "file"),
        (audit.export_zip(ctx, AUDITOR, audit.ExportInput(stream_id="rv-none")), "stream_id"),
    ]
    for call, field in cases:
        with pytest.raises((BadInput, NotFound)) as info:
            await call
        assert info.value.field == field, info.value
    unnamed = await audit.verify(ctx, AUDITOR, audit.VerifyInput(witness=tmp_path / "nowhere"))
    assert any("no witness file at" in n for n in unnamed.notes)
    await audit.sign_checkpoint(ctx, AUDITOR, audit.CheckpointInput())
    other_key = AppContext(ctx.settings.model_copy(update={"signing_key": "another key"}), engine=ctx.engine)  # the last checkpoint does not verify with it
    with pytest.raises(audit.LogDefect) as info:
        await audit.sign_checkpoint(other_key, AUDITOR, audit.CheckpointInput())
    assert info.value.exit_code == 1 and info.value.message.startswith("refused: checkpoint at size")
