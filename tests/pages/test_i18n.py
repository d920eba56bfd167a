"""Language negotiation, the catalogues and the local-time filter."""

from __future__ import annotations

import re
from datetime import datetime, timezone
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from pages import i18n
from pages.rendering import TEMPLATES, localtime

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("cookie", "header", "expected"),
    [
        (None, None, "zh_CN"),
        (None, "en-US,en;q=0.9", "en"),
        (None, "fr-FR, en;q=0.5, zh-CN;q=0.8", "zh_CN"),
        (None, "de-DE", "zh_CN"),
        ("en", "zh-CN", "en"),
        ("zh_CN", "en", "zh_CN"),
        ("xx", "en;q=0.3", "en"),
        (None, "en;q=0, zh;q=0.1", "zh_CN"),
    ],
)
def test_negotiation_prefers_the_persons_choice_then_accept_language_then_chinese(cookie, header, expected):
    assert i18n.negotiate(cookie, header) == expected


def _extracted() -> set[str]:
    method_map = [("pages/**.py", "python"), ("pages/templates/**.html", "jinja2")]
    options = {"pages/templates/**.html": {"extensions": "jinja2.ext.i18n"}}
    ids: set[str] = set()
    for _file, _line, message, _comments, _ctx in extract_from_dir(str(ROOT), method_map, options, keywords={"_": None, "gettext": None, "ngettext": (1, 2), "N_": None}):
        ids.add(message[0] if isinstance(message, tuple) else message)
    return ids


def _catalogue(locale: str):
    with (ROOT / "pages" / "locale" / locale / "LC_MESSAGES" / "messages.po").open("rb") as f:
        return read_po(f, locale=locale)


def test_every_string_a_page_shows_is_in_both_catalogues_and_translated_into_chinese():
    ids = _extracted()
    assert len(ids) > 100
    zh = {(m.id[0] if isinstance(m.id, tuple) else m.id): m for m in _catalogue("zh_CN") if m.id}
    en = {(m.id[0] if isinstance(m.id, tuple) else m.id) for m in _catalogue("en") if m.id}
    missing_zh = sorted(i for i in ids if i not in zh or not (zh[i].string[0] if isinstance(zh[i].string, tuple) else zh[i].string) or zh[i].fuzzy)
    assert not missing_zh, f"not translated into zh_CN (run pybabel extract/update): {missing_zh[:10]}"
    assert not sorted(ids - en), "missing from the en catalogue"


def test_placeholders_survive_translation():
    for m in _catalogue("zh_CN"):
        if not m.id:
            continue
        src = m.id if isinstance(m.id, tuple) else (m.id,)
        dst = m.string if isinstance(m.string, tuple) else (m.string,)
        want = set(re.findall(r"%\(\w+\)s", src[0]))
        for text in dst:
            assert set(re.findall(r"%\(\w+\)s", text)) == want, (m.id, text)


# Text a template may hold outside gettext: punctuation, symbols, and the
# names of the two languages, which the language switch shows in their own script.
ALLOWED_LITERALS = {"中文", "English", "v", "SHA-256"}


def test_templates_hold_no_person_visible_text_outside_gettext():
    for path in sorted(TEMPLATES.glob("*.html")):
        text = path.read_text()
        text = re.sub(r"\{#.*?#\}", "", text, flags=re.S)
        text = re.sub(r"\{\{.*?\}\}|\{%.*?%\}", " ", text, flags=re.S)
        text = re.sub(r"<script\b.*?</script>|<style\b.*?</style>", " ", text, flags=re.S)
        text = re.sub(r"<[^>]+>", " ", text)
        text = re.sub(r"[\w-]+=\"[^\"]*\"", " ", text)  # attributes a macro writes outside a literal tag
        words = [w for w in re.findall(r"[A-Za-z\u4e00-\u9fff][\w\u4e00-\u9fff'-]*", text) if w not in ALLOWED_LITERALS]
        assert not words, f"{path.name}: text outside gettext: {words[:8]}"


def test_localtime_shows_the_configured_zone_not_utc():
    moment = datetime(2026, 12, 10, 15, 59, 59, tzinfo=timezone.utc)
    assert localtime(moment) == "2026-12-10 23:59"
    assert localtime(moment, "date") == "2026-12-10"
    assert localtime(datetime(2026, 12, 10, 16, 0, tzinfo=timezone.utc), "date") == "2026-12-11"
    assert localtime(None) == ""


def test_gettext_speaks_the_contexts_language():
    token = i18n.set_locale("zh_CN")
    try:
        assert i18n.gettext("My work") == "我的工作"
        assert i18n.gettext("Review %(id)s", id="rv-1") == "点评 rv-1"
        i18n.set_locale("en")
        assert i18n.gettext("My work") == "My work"
    finally:
        i18n.reset_locale(token)
