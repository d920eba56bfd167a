"""Which language a page speaks, and the gettext catalogues it reads.

zh-CN is the default (the people who run the procedure read Chinese first);
English is chosen by a person's preference (the ``pingyi_lang`` cookie, set by
the language switch) or, without one, by ``Accept-Language``. The catalogues
are Babel ``.po`` files under ``pages/locale`` compiled to ``.mo`` at set-up
(``make``); a missing or stale ``.mo`` is read from its ``.po`` instead, so a
checkout run without ``make`` still speaks both languages.

The locale of the request being rendered lives in a context variable, so one
Jinja environment serves every request (the i18n extension's gettext reads it)."""

from __future__ import annotations

from contextvars import ContextVar
from functools import lru_cache
from io import BytesIO
from pathlib import Path

import structlog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

log = structlog.get_logger(__name__)

LOCALE_DIR = Path(__file__).resolve().parent / "locale"
DOMAIN = "messages"
DEFAULT_LOCALE = "zh_CN"
LOCALES = ("zh_CN", "en")
LANG_COOKIE = "pingyi_lang"

_current: ContextVar[str] = ContextVar("pingyi_locale", default=DEFAULT_LOCALE)


def normalize(tag: str | None) -> str | None:
    """A locale we speak for a language tag (``zh-CN``, ``zh_Hans``, ``en-GB``), or None."""
    if not tag:
        return None
    t = tag.strip().replace("-", "_").lower()
    if t.startswith("zh"):
        return "zh_CN"
    if t.startswith("en"):
        return "en"
    return None


def from_accept_language(header: str | None) -> str | None:
    """The best locale of an ``Accept-Language`` header by its q-values."""
    if not header:
        return None
    ranked: list[tuple[float, int, str]] = []
    for i, part in enumerate(header.split(",")):
        bits = part.strip().split(";")
        q = 1.0
        for b in bits[1:]:
            b = b.strip()
            if b.startswith("q="):
                try:
                    q = float(b[2:])
                except ValueError:
                    q = 0.0
        loc = normalize(bits[0])
        if loc and q > 0:
            ranked.append((-q, i, loc))
    return min(ranked)[2] if ranked else None


def negotiate(cookie: str | None, accept_language: str | None) -> str:
    return normalize(cookie) or from_accept_language(accept_language) or DEFAULT_LOCALE


@lru_cache(maxsize=None)
def _translations(locale: str, mo_mtime: float, po_mtime: float) -> NullTranslations:
    folder = LOCALE_DIR / locale / "LC_MESSAGES"
    mo, po = folder / f"{DOMAIN}.mo", folder / f"{DOMAIN}.po"
    if mo.exists() and mo_mtime >= po_mtime:
        with mo.open("rb") as f:
            return Translations(f, domain=DOMAIN)
    if not po.exists():
        return NullTranslations()
    log.warning("catalogue_not_compiled", locale=locale, hint="make compiles it; reading the .po")
    with po.open("rb") as f:
        catalog = read_po(f, locale=locale, domain=DOMAIN)
    buf = BytesIO()
    write_mo(buf, catalog)
    buf.seek(0)
    return Translations(buf, domain=DOMAIN)


_loaded: dict[str, NullTranslations] = {}


def translations(locale: str) -> NullTranslations:
    """The catalogue of ``locale``, read once per process (a page asks for
    hundreds of strings: no file system look-up per string)."""
    got = _loaded.get(locale)
    if got is None:
        folder = LOCALE_DIR / locale / "LC_MESSAGES"
        mo, po = folder / f"{DOMAIN}.mo", folder / f"{DOMAIN}.po"
        got = _loaded[locale] = _translations(locale, mo.stat().st_mtime if mo.exists() else -1.0, po.stat().st_mtime if po.exists() else -1.0)
    return got


def current_locale() -> str:
    return _current.get()


def set_locale(locale: str):
    """Make ``locale`` the one gettext speaks in this context; returns the reset token."""
    return _current.set(locale if locale in LOCALES else DEFAULT_LOCALE)


def reset_locale(token) -> None:
    _current.reset(token)


def is_en() -> bool:
    return current_locale() == "en"


def gettext(message: str, **variables: object) -> str:
    """The message in this context's language, ``%(name)s`` filled from ``variables``."""
    text = translations(current_locale()).gettext(message)
    return text % variables if variables else text


def ngettext(singular: str, plural: str, n: int, **variables: object) -> str:
    text = translations(current_locale()).ngettext(singular, plural, n)
    # Jinja's new-style ngettext fills the placeholders itself: only fill them here when asked
    return text % {"num": n, **variables} if variables else text


def pick(en: str | None, zh: str | None) -> str:
    """Of a text the data already holds in both languages (rubric points, an
    application error's ``message``/``message_zh``), the one this page speaks."""
    if is_en():
        return en or zh or ""
    return zh or en or ""


_ = gettext

__all__ = ["gettext", "ngettext", "pick", "negotiate", "current_locale", "set_locale", "reset_locale", "is_en", "_", "LOCALES", "DEFAULT_LOCALE", "LANG_COOKIE"]
