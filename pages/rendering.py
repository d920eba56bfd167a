"""One Jinja environment for every page: autoescape on, gettext through the
i18n extension (new-style, so ``_("… %(x)s", x=v)`` escapes ``v``), and one
local-time filter so every date a person reads is in the configured zone."""

from __future__ import annotations

from datetime import date, datetime, timezone
from functools import lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from config.settings import get_settings
from pages import i18n
from pages.words import word

TEMPLATES = Path(__file__).resolve().parent / "templates"
DEFAULT_ZONE = "Asia/Shanghai"


@lru_cache(maxsize=1)
def zone() -> ZoneInfo:
    """The zone people read times in (spec §9: Beijing time unless configured)."""
    return ZoneInfo(getattr(get_settings(), "timezone", None) or DEFAULT_ZONE)


def localtime(value: datetime | date | str | None, style: str = "minute") -> str:
    """A moment as a person reads it: in the configured zone, ``YYYY-MM-DD HH:MM``
    (``style="date"``: the day only; ``"second"``: with seconds). A naive
    datetime is taken as UTC, the way the event log stores time."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if not isinstance(value, datetime):
        return value.isoformat()
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    local = value.astimezone(zone())
    if style == "date":
        return local.strftime("%Y-%m-%d")
    if style == "second":
        return local.strftime("%Y-%m-%d %H:%M:%S")
    return local.strftime("%Y-%m-%d %H:%M")


def isotime(value: datetime | None) -> str:
    """The machine-readable form for ``<time datetime=…>``."""
    if value is None:
        return ""
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.isoformat()


def local_input(value: datetime | None) -> str:
    """A moment in the configured zone in the ``datetime-local`` input's format."""
    if value is None:
        return ""
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(zone()).strftime("%Y-%m-%dT%H:%M")


@lru_cache(maxsize=1)
def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        autoescape=select_autoescape(["html", "xml"], default_for_string=True, default=True),
        extensions=["jinja2.ext.i18n"],
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_callables(i18n.gettext, i18n.ngettext, newstyle=True)  # type: ignore[attr-defined]
    env.filters["localtime"] = localtime
    env.filters["isotime"] = isotime
    env.filters["local_input"] = local_input
    env.filters["word"] = word
    env.globals["pick"] = i18n.pick
    env.globals["zone_name"] = lambda: str(zone())
    return env


def N_(s: str) -> str:  # noqa: N802
    return s


# what a page says after a form came back with a redirect (``?notice=...``)
NOTICES = {
    "saved": N_("Saved."),
    "sent": N_("Done: the review has recorded it."),
}


def notice_of(request: Request) -> str | None:
    key = request.query_params.get("notice")
    return i18n.gettext(NOTICES[key]) if key in NOTICES else None


def render(request: Request, template: str, context: dict[str, Any] | None = None, *, status_code: int = 200, headers: dict[str, str] | None = None) -> HTMLResponse:
    ctx: dict[str, Any] = {
        "request": request,
        "locale": i18n.current_locale(),
        "html_lang": "zh-CN" if i18n.current_locale() == "zh_CN" else "en",
        "principal": getattr(request.state, "principal", None),
        "csrf_token": getattr(request.state, "csrf_token", ""),
        "path": request.url.path,
        "query": request.url.query,
        "notice": notice_of(request),
        "errors": {},
        "form": {},
    }
    ctx.update(context or {})
    html = environment().get_template(template).render(ctx)
    return HTMLResponse(html, status_code=status_code, headers=headers)
