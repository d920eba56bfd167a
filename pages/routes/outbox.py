"""The outbox page: the messages the notifier wrote, to the signed-in person
(an auditor may look at anyone's), each with the prompt in the page's language."""

from __future__ import annotations

import re
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response

from app.errors import AppError
from app.outbox import OutboxInput, read_outbox
from pages.i18n import gettext as _
from pages.rendering import render
from pages.web import Ctx, Who, error_page
from pages.words import N_, word

router = APIRouter()

PROMPTS = {
    "task_prompt": N_("Please act on review %(id)s: the step “%(step)s” is open for you."),
    "reminder": N_("Reminder: the step “%(step)s” of review %(id)s is due soon."),
    "overdue": N_("Overdue: the step “%(step)s” of review %(id)s passed its deadline."),
    "review_delivered": N_("The review %(id)s of you is delivered: draw up a rectification plan with a measure for every problem."),
    "plan_submitted": N_("A rectification plan of review %(id)s awaits your decision."),
    "plan_returned": N_("Your rectification plan of review %(id)s was returned: revise it."),
    "report_back_submitted": N_("The report-back of review %(id)s awaits your evaluation."),
    "report_back_returned": N_("The rectification of review %(id)s needs more work."),
    "cancelled": N_("Review %(id)s was cancelled."),
}
_STEP_IN_SUBJECT = re.compile(r"\(([a-z_]+)\)")


def prompt(msg) -> str:
    template = PROMPTS.get(msg.kind)
    if template is None:
        return msg.subject
    found = _STEP_IN_SUBJECT.search(msg.subject)
    step = word(found.group(1), "step") if found else ""
    return _(template, id=msg.review_id, step=step)


@router.get("/outbox")
async def outbox_page(request: Request, ctx: Ctx, who: Who, person: str | None = None, review: str | None = None, cursor: str | None = None) -> Response:
    try:
        got = await read_outbox(ctx, who, OutboxInput(recipient_id=person or None, review_id=review or None, cursor=cursor or None))
    except AppError as err:
        return error_page(request, err)
    keep = {k: v for k, v in (("person", person), ("review", review)) if v}
    return render(request, "outbox.html", {
        "messages": got.items, "prompt": prompt, "may_choose": who.auditor, "mail_on": ctx.settings.mail_enabled, "person": person, "review": review,
        "next_cursor": got.next_cursor, "next_query": urlencode({**keep, "cursor": got.next_cursor or ""}),
    })
