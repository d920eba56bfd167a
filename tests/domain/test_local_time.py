"""Time as people in the organization read it (issue 13 point 3): storage in
UTC, everything shown in the configured zone with the zone written, and a
deadline given as a date meaning the end of that local day — tested at the
day boundary, where UTC and Asia/Shanghai disagree about the date."""

from __future__ import annotations

from datetime import date, datetime, timezone

import pytest

from domain import events as e
from domain.local_time import end_of_local_day, local_text, parse_deadline, zone
from domain.notifications import notifications_for
from domain.procedure import Role, Step
from domain.review import fold, start
from review_builders import make_spec

SH = zone("Asia/Shanghai")
UTC = timezone.utc


def test_a_date_is_the_end_of_that_local_day_not_utc_midnight():
    due = end_of_local_day(date(2026, 12, 10), SH)
    assert due == datetime(2026, 12, 10, 15, 59, 59, tzinfo=UTC)
    assert parse_deadline("2026-12-10", SH) == due
    assert parse_deadline("2026-12-10", zone("UTC")) == datetime(2026, 12, 10, 23, 59, 59, tzinfo=UTC)


def test_times_without_an_offset_are_local_and_with_one_exact():
    assert parse_deadline("2026-12-10T18:00", SH) == datetime(2026, 12, 10, 10, 0, tzinfo=UTC)
    assert parse_deadline("2026-12-10T18:00+00:00", SH) == datetime(2026, 12, 10, 18, 0, tzinfo=UTC)
    with pytest.raises(ValueError, match="neither a date"):
        parse_deadline("next friday", SH)
    with pytest.raises(ValueError, match="not a time zone"):
        zone("Mars/Olympus")


def test_at_the_day_boundary_people_read_the_local_date_with_its_zone():
    # 16:30 UTC on the 10th is already the 11th in Shanghai
    assert local_text(datetime(2026, 12, 10, 16, 30, tzinfo=UTC), SH) == "2026-12-11 00:30 CST"
    assert local_text(datetime(2026, 12, 10, 15, 59, 59, tzinfo=UTC), SH, seconds=True) == "2026-12-10 23:59:59 CST"
    assert local_text(datetime(2026, 12, 10, 16, 30, tzinfo=UTC), zone("UTC")) == "2026-12-10 16:30 UTC"
    assert local_text(None, SH) == "-"


def test_notification_texts_are_in_the_zone_passed_in():
    spec = make_spec()
    at = datetime(2026, 12, 1, 0, 0, tzinfo=UTC)
    due = end_of_local_day(date(2026, 12, 10), SH)
    state = fold(start(spec, at, first_due_at=due))
    reminder = e.ReminderSent(occurred_at=at, actor_id="system", actor_role=Role.SYSTEM, step=Step.INVESTIGATE, due_at=due, recipient_ids=(spec.reviewer_id,))
    (local,) = notifications_for(fold([reminder], state), reminder, SH)
    assert "2026-12-10 23:59 CST" in local.subject and "2026-12-10 23:59 CST" in local.body
    (default,) = notifications_for(fold([reminder], state), reminder)  # the default zone is Asia/Shanghai
    assert default == local
    (utc,) = notifications_for(fold([reminder], state), reminder, zone("UTC"))
    assert "2026-12-10 15:59 UTC" in utc.subject
