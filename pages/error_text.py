"""A rejected input's message in the page's language, shown beside its field.

Application errors carry ``message`` and ``message_zh``; where the
application layer has a Chinese text it is used as is. Rule failures of the
domain come in English only, so for the fields people fill in on these pages
the message is taken from our catalogue by what the rule is about (the field
and the codes the reason names), and the English reason is kept for English
pages; anything not covered here shows the application's own text."""

from __future__ import annotations

import re

from app.errors import AppError
from pages.i18n import gettext as _
from pages.i18n import is_en, pick

_CODES = re.compile(r"\b([A-Z]{1,3}[0-9]{1,2})\b")
_PROBLEM_IDS = re.compile(r"\b(P[0-9]+)\b")
_MEASURE_IDS = re.compile(r"\b(M[0-9]+)\b")


def text_of(err: AppError) -> str:
    """The message of ``err`` in the page's language."""
    if is_en() or (err.message_zh and err.message_zh != err.message):
        return pick(err.message, err.message_zh)
    return chinese_for(err.field or "", err.message) or err.message


def chinese_for(field: str, message: str) -> str | None:
    """Our catalogue's text for a domain reason the application did not translate."""
    tail = field.rsplit(".", 1)[-1] if field else ""
    low = message.lower()
    if "at least 1 character" in low or "field required" in low or "at least 1 item" in low or "should have at least" in low:
        return _("This field must be filled in.")
    if "not a concrete problem" in low:
        return _("Name a concrete problem, weak link or shortcoming here, not “none” or praise.")
    if field == "points" and "missing" in low:
        codes = [c for c in _CODES.findall(message.split("missing", 1)[1])]
        return _("Every point must be reviewed item by item; still missing: %(codes)s", codes=", ".join(dict.fromkeys(codes)))
    if field == "points" and ("praise" in low or "不能只写" in message):
        return _("A review that only praises is not acceptable: name at least one concrete problem.")
    if field == "findings" and "no finding" in low:
        return _("Record a finding for every point before closing; still missing: %(codes)s", codes=", ".join(dict.fromkeys(_CODES.findall(message))))
    if field == "measures" and "every problem" in low:
        return _("Every problem needs a rectification measure; none yet for %(ids)s", ids=", ".join(_PROBLEM_IDS.findall(message)))
    if field == "results" and "missing" in low:
        return _("Report on every measure; missing: %(ids)s", ids=", ".join(_MEASURE_IDS.findall(message)))
    if tail in ("due_date", "due_at") and ("past" in low or "not in the future" in low):
        return _("The date must be in the future.")
    if tail == "due_at" and "does not extend" in low:
        return _("The new deadline must be later than the current one.")
    if tail in ("due_date", "due_at") and ("date" in low or "time" in low):
        return _("Give a date as YYYY-MM-DD.")
    if tail == "reason" or field == "reason":
        return _("A reason is required for this action.")
    if tail == "method" or "input should be" in low:
        return _("Choose one of the offered values.")
    if tail in ("reviewer_id", "co_reviewer_id", "owner_id") and ("unknown" in low or "not a person" in low or "no person" in low):
        return _("No person with this id in the directory.")
    if "already the reviewer" in low or "already reviews" in low:
        return _("This person already reviews this subject.")
    if "reviews themselves" in low:
        return _("Nobody reviews themselves: this person is the subject.")
    if field == "kind" and ("belongs to step" in low or "cannot" in low or "already" in low):
        return _("This cannot be done at the review's current step.")
    if field == "actor_id" or "may not" in low:
        return _("You may not do this on this review.")
    return None
