"""Time as people in the organization read it, through ``reviewctl`` itself
(issue 13, point 3): storage stays UTC, and what a person reads in the CLI's
tables and timelines is the local wall time of the configured zone
(``PINGYI_TIMEZONE``, default Asia/Shanghai) with the zone written out; a
deadline given as ``--due step=DATE`` ends that local day at 23:59:59, not at
UTC midnight; and a bad ``--due`` is one line naming the field.

Each case runs in the default zone and with ``PINGYI_TIMEZONE`` set, read from
the environment as the CLI reads it. The expected wall times are written out
here, not computed by the code under test."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

import pytest
from principals import OFFICE
from reviewctl_env import point_reviewctl, reviewctl_run

from app import engine
from app.reviews import StartReviewInput, start_review, state_from_log
from config.settings import get_settings
from domain.procedure import Step

SUBJECT = "U-AF01-B01"
YEAR = date.today().year + 2  # always ahead, so every deadline below is in the future

# a summer evening in UTC: the next morning in Shanghai, the same evening in Berlin and New York
INSTANT = datetime(YEAR, 7, 1, 20, 30, tzinfo=timezone.utc)
READ_AS = [  # PINGYI_TIMEZONE (None: unset), the zone, how INSTANT reads there
    (None, "Asia/Shanghai", f"{YEAR}-07-02 04:30 CST"),
    ("Europe/Berlin", "Europe/Berlin", f"{YEAR}-07-01 22:30 CEST"),
    ("America/New_York", "America/New_York", f"{YEAR}-07-01 16:30 EDT"),
]
UTC_TEXT = f"{YEAR}-07-01 20:30"

# a winter date given with --due: where 23:59:59 local falls in UTC, and the zone's abbreviation
DAY, LATER = date(YEAR, 12, 10), date(YEAR, 12, 20)
END_OF_DAY = [
    (None, "CST", datetime(YEAR, 12, 10, 15, 59, 59, tzinfo=timezone.utc), datetime(YEAR, 12, 20, 15, 59, 59, tzinfo=timezone.utc)),
    ("Europe/Berlin", "CET", datetime(YEAR, 12, 10, 22, 59, 59, tzinfo=timezone.utc), datetime(YEAR, 12, 20, 22, 59, 59, tzinfo=timezone.utc)),
    ("America/New_York", "EST", datetime(YEAR, 12, 11, 4, 59, 59, tzinfo=timezone.utc), datetime(YEAR, 12, 21, 4, 59, 59, tzinfo=timezone.utc)),
]


@pytest.fixture
def cli(ctx, app_env, monkeypatch):
    """``reviewctl`` on the test's database, server and task queue (its worker
    is the ``ctx`` fixture's); returns ``run(args, zone)``, which sets or
    unsets PINGYI_TIMEZONE for that one invocation."""
    point_reviewctl(monkeypatch, ctx.settings, ctx.settings.data_dir, app_env.client.service_client.config.target_host)

    async def run(args: list[str], zone: str | None):
        if zone is None:
            monkeypatch.delenv("PINGYI_TIMEZONE", raising=False)
        else:
            monkeypatch.setenv("PINGYI_TIMEZONE", zone)
        get_settings.cache_clear()
        got = await reviewctl_run(args)
        assert got.exception is None or isinstance(got.exception, SystemExit), f"{args} raised {got.exception!r}\n{got.output}"
        assert "Traceback" not in got.output, got.output
        return got

    yield run
    get_settings.cache_clear()


def lines_with(text: str, needle: str) -> list[str]:
    return [line for line in text.splitlines() if needle in line]


def table_rows(text: str) -> list[list[str]]:
    """The body rows of a Rich table, as their cells' text."""
    return [[cell.strip() for cell in line.split("│")[1:-1]] for line in text.splitlines() if line.startswith("│")]


@pytest.mark.parametrize(("setting", "zone", "wall"), READ_AS, ids=[z for _, z, _ in READ_AS])
async def test_tables_and_timelines_show_a_stored_utc_instant_as_local_time_with_the_zone(ctx, cli, setting, zone, wall):
    """The deadline is stored as the UTC instant it was given as; ``review
    show`` and ``review list`` print it as the zone's wall time (in Shanghai
    already the next day) with the zone's abbreviation, never as UTC; the
    timeline prints each stored event time the same way, to the second, and
    its column names the zone."""
    rid = f"rv-tz-{uuid.uuid4().hex[:8]}"
    await start_review(ctx, OFFICE, StartReviewInput(subject_id=SUBJECT, review_id=rid, due={"investigate": INSTANT.isoformat()}))
    await engine.query_state(ctx, rid, wait_started=10)
    assert state_from_log(ctx, rid).due[Step.INVESTIGATE] == INSTANT  # stored in UTC, whatever the zone

    shown = await cli(["review", "show", rid], setting)
    assert shown.exit_code == 0, shown.output
    [due_row] = lines_with(shown.output, " due ")
    assert wall in due_row and UTC_TEXT not in shown.output, shown.output

    listed = await cli(["review", "list"], setting)
    assert listed.exit_code == 0, listed.output
    assert lines_with(listed.output, f"deadline ({zone})"), listed.output
    [row] = lines_with(listed.output, rid)
    assert wall in row and UTC_TEXT not in row, listed.output

    timeline = await cli(["audit", "timeline", rid, "--lang", "en"], setting)
    assert timeline.exit_code == 0, timeline.output
    assert lines_with(timeline.output, f"occurred ({zone})"), timeline.output
    occurred = {row[0]: row[2] for row in table_rows(timeline.output)}  # version -> the time printed
    records = ctx.events.read_stream(rid)
    assert records and len(occurred) == len(records), timeline.output
    for r in records:
        assert occurred[str(r.version)] == r.occurred_at.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M:%S %Z"), timeline.output
        assert r.occurred_at.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S") not in timeline.output  # none of the zones is UTC


@pytest.mark.parametrize(("setting", "abbr", "end", "later_end"), END_OF_DAY, ids=["Asia/Shanghai", "Europe/Berlin", "America/New_York"])
async def test_due_given_as_a_date_on_the_command_line_ends_that_local_day(ctx, cli, setting, abbr, end, later_end):
    """``--due investigate=DATE`` is 23:59:59 that day in the configured zone
    (stored as that UTC instant, not UTC midnight), and so is a later step's
    ``--due``; the start's own line says it in local time."""
    rid = f"rv-due-{uuid.uuid4().hex[:8]}"
    got = await cli(["review", "start", "--subject", SUBJECT, "--review-id", rid, "--due", f"investigate={DAY}", "--due", f"review={LATER}"], setting)
    assert got.exit_code == 0, got.output
    assert f"first step due {DAY} 23:59 {abbr}" in got.output, got.output
    await engine.query_state(ctx, rid, wait_started=10)
    due = state_from_log(ctx, rid).due
    assert due[Step.INVESTIGATE] == end, due
    assert due[Step.REVIEW] == later_end, due


@pytest.mark.parametrize(("value", "field"), [
    ("dance={day}", "due.dance"),
    ("investigate=soon", "due.investigate"),
    ("investigate={year}-13-40", "due.investigate"),
], ids=["unknown step", "not a date", "impossible date"])
async def test_a_bad_due_is_one_line_naming_the_field_and_starts_nothing(ctx, cli, value, field):
    rid = f"rv-bad-due-{uuid.uuid4().hex[:8]}"
    got = await cli(["review", "start", "--subject", SUBJECT, "--review-id", rid, "--due", value.format(day=DAY, year=YEAR)], None)
    assert got.exit_code != 0, got.output
    lines = [line for line in got.output.splitlines() if line.strip()]
    assert len(lines) == 1 and field in lines[0], got.output
    assert ctx.events.stream_version(rid) == 0
