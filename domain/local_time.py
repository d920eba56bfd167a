"""Time as people in the organization read it. Storage and the engine stay in
UTC; whatever a person reads is shown in the configured zone (settings
``PINGYI_TIMEZONE``, default Asia/Shanghai) with the zone written out, and a
deadline a person gives as a date means the end of that local day. Pure:
the zone is passed in (``zoneinfo`` is the standard library's tz database)."""

from __future__ import annotations

from datetime import date, datetime, time, timezone, tzinfo
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DEFAULT_ZONE = "Asia/Shanghai"
END_OF_DAY = time(23, 59, 59)


@lru_cache(maxsize=16)
def zone(name: str) -> tzinfo:
    """The zone named ``name``; a name the tz database does not know is a ValueError naming it."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"{name!r} is not a time zone of the tz database (e.g. Asia/Shanghai, Europe/Berlin, UTC)") from None


# resolved at import (outside any workflow sandbox): the zone notification
# texts use when a review names none
DEFAULT_TZ = zone(DEFAULT_ZONE)


def end_of_local_day(day: date, tz: tzinfo) -> datetime:
    """A deadline given as a date: 23:59:59 local time that day, in UTC."""
    return datetime.combine(day, END_OF_DAY, tzinfo=tz).astimezone(timezone.utc)


def to_local(dt: datetime, tz: tzinfo) -> datetime:
    return (dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc)).astimezone(tz)


def local_text(dt: datetime | None, tz: tzinfo, *, seconds: bool = False) -> str:
    """``2026-12-10 23:59 CST``: local wall time with the zone's abbreviation
    (or its offset where the zone has none), so nobody mistakes it for UTC."""
    if dt is None:
        return "-"
    local = to_local(dt, tz)
    abbr = local.tzname() or ""
    if not abbr or abbr[0] in "+-":
        abbr = "UTC" + local.strftime("%z")[:3] + ":" + local.strftime("%z")[3:] if local.utcoffset() else "UTC"
    return local.strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M") + " " + abbr


def parse_deadline(value: str, tz: tzinfo) -> datetime:
    """A deadline as a person types it: a date (``2026-12-10``: the end of that
    local day) or a time (with an offset; without one, local time in ``tz``).
    Returns UTC. A ValueError says what is accepted."""
    text = value.strip()
    try:
        if len(text) == 10:
            return end_of_local_day(date.fromisoformat(text), tz)
        dt = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{value!r} is neither a date (2026-12-10: the end of that day, local time) nor a time (2026-12-10T18:00+08:00)") from None
    return (dt if dt.tzinfo else dt.replace(tzinfo=tz)).astimezone(timezone.utc)
