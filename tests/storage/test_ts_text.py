"""``ts_text`` is part of every event's hash input: its fast orjson path must
write exactly what ``isoformat(timespec="microseconds")`` of the instant in UTC
writes, for every instant and every way a caller spells its time zone."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st
from pydantic import TypeAdapter

from storage.schema import ts_text

ZONES = st.sampled_from([timezone.utc, timezone(timedelta(0)), timezone(timedelta(hours=8)), timezone(timedelta(hours=-5, minutes=-30)), ZoneInfo("UTC"), ZoneInfo("Asia/Shanghai"), None])


def reference(dt: datetime) -> str:
    dt = dt.replace(tzinfo=timezone.utc) if dt.utcoffset() is None else dt.astimezone(timezone.utc)
    return dt.isoformat(timespec="microseconds")


class Stamp(datetime):
    """A datetime subclass: orjson does not format these."""


@given(st.datetimes(min_value=datetime(2, 1, 1), max_value=datetime(9998, 12, 30)), ZONES)
def test_fast_path_equals_isoformat(naive, tz):
    dt = naive if tz is None else naive.replace(tzinfo=tz)
    assert ts_text(dt) == reference(dt)


@given(st.datetimes(min_value=datetime(2, 1, 1), max_value=datetime(9998, 12, 30)))
def test_pydantic_parsed_and_subclassed_datetimes(naive):
    utc = naive.replace(tzinfo=timezone.utc)
    parsed = TypeAdapter(datetime).validate_json(f'"{utc.isoformat()}"')  # tzinfo is pydantic's own TzInfo
    assert ts_text(parsed) == reference(utc)
    sub = Stamp(*utc.timetuple()[:6], utc.microsecond, tzinfo=timezone(timedelta(hours=3)))
    assert ts_text(sub) == reference(sub)


def test_whole_seconds_keep_their_fraction():
    assert ts_text(datetime(2010, 12, 7, 9, 0, tzinfo=timezone.utc)) == "2010-12-07T09:00:00.000000+00:00"
    assert ts_text(datetime(2010, 12, 7, 17, 0, 0, 5, tzinfo=timezone(timedelta(hours=8)))) == "2010-12-07T09:00:00.000005+00:00"
