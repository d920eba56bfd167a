"""The names a person reads for the procedure's words (steps, roles, methods,
event types, …), as gettext message ids. Marked with ``N_`` so Babel's
extractor finds them; translated when a page renders them (``word`` filter),
never at import, because the language is the request's."""

from __future__ import annotations

from pages.i18n import gettext


def N_(message: str) -> str:  # noqa: N802 - the gettext convention for "mark, translate later"
    return message


STEPS = {
    "investigate": N_("Investigate"),
    "solicit_opinions": N_("Solicit opinions"),
    "review": N_("Write the review"),
    "notify": N_("Notify"),
    "rectify": N_("Rectify and report back"),
    "closed": N_("Closed"),
    "cancelled": N_("Cancelled"),
}

ROLES = {
    "reviewer": N_("Reviewer"),
    "co_reviewer": N_("Co-reviewer"),
    "subject": N_("Subject"),
    "supervisor": N_("Supervisor"),
    "system": N_("System (time)"),
    "auditor": N_("Auditor"),
}

METHODS = {
    "concentrated": N_("Concentrated (at a meeting)"),
    "individual": N_("Individual (face to face)"),
    "on_site": N_("On site"),
    "random": N_("Random sampling"),
    "thematic": N_("Thematic"),
}

EVIDENCE_KINDS = {
    "site_visit": N_("On-site inspection"),
    "documents": N_("Documents and records"),
    "subject_report": N_("The subject's report"),
}

OPINION_CHANNELS = {
    "symposium": N_("Symposium"),
    "opinion_form": N_("Opinion form"),
    "opinion_letter": N_("Opinion letter"),
    "interview": N_("Interview"),
}

RESPONDENT_GROUPS = {
    "members": N_("Members"),
    "public": N_("The public"),
    "service_recipients": N_("Service recipients"),
    "supervising_department": N_("Supervising department"),
    "related_units": N_("Related units"),
}

PLAN_STATUS = {
    "awaiting": N_("Awaiting the subject's plan"),
    "submitted": N_("Submitted, awaiting the reviewer"),
    "accepted": N_("Accepted"),
    "returned": N_("Returned for revision"),
}

OUTCOMES = {
    "satisfactory": N_("Satisfactory"),
    "needs_more_work": N_("Needs more work"),
}

MEASURE_STATUS = {
    "not_started": N_("Not started"),
    "in_progress": N_("In progress"),
    "done": N_("Done"),
}

LEVELS = {
    "A": N_("Level A: leading group and its principal leader"),
    "B": N_("Level B: basic-level organization and its secretary"),
    "C": N_("Level C: member"),
}

UNIT_CATEGORIES = {
    "law_enforcement": N_("Law-enforcement unit"),
    "technical_institution": N_("Technical institution"),
    "window_service": N_("Window and service unit"),
    "other": N_("Other unit"),
}

EVENT_TYPES = {
    "review.started": N_("Review started"),
    "review.step_started": N_("Step started"),
    "review.findings_recorded": N_("Findings recorded"),
    "review.investigation_closed": N_("Investigation closed"),
    "review.opinions_recorded": N_("Opinions recorded"),
    "review.opinion_solicitation_closed": N_("Opinion solicitation closed"),
    "review.review_submitted": N_("Review submitted"),
    "review.circulation_confirmed": N_("Circulation confirmed"),
    "review.rectification_plan_submitted": N_("Rectification plan submitted"),
    "review.rectification_plan_accepted": N_("Rectification plan accepted"),
    "review.rectification_plan_returned": N_("Rectification plan returned"),
    "review.progress_reported": N_("Progress reported"),
    "review.reported_back": N_("Reported back"),
    "review.report_back_evaluated": N_("Report-back evaluated"),
    "review.closed": N_("Review closed"),
    "review.reviewer_reassigned": N_("Reviewer reassigned"),
    "review.co_reviewer_added": N_("Co-reviewer added"),
    "review.deadline_extended": N_("Deadline extended"),
    "review.cancelled": N_("Review cancelled"),
    "review.reminder_sent": N_("Reminder sent"),
    "review.deadline_passed": N_("Deadline passed"),
}

NOTIFICATION_KINDS = {
    "task_prompt": N_("Task prompt"),
    "reminder": N_("Reminder"),
    "overdue": N_("Overdue"),
    "review_delivered": N_("Review delivered"),
    "plan_submitted": N_("Plan submitted"),
    "plan_returned": N_("Plan returned"),
    "report_back_submitted": N_("Report-back submitted"),
    "report_back_returned": N_("Report-back returned"),
    "cancelled": N_("Cancelled"),
}

VOCABULARIES = {
    "step": STEPS,
    "role": ROLES,
    "method": METHODS,
    "evidence": EVIDENCE_KINDS,
    "channel": OPINION_CHANNELS,
    "group": RESPONDENT_GROUPS,
    "plan_status": PLAN_STATUS,
    "outcome": OUTCOMES,
    "measure_status": MEASURE_STATUS,
    "level": LEVELS,
    "category": UNIT_CATEGORIES,
    "event": EVENT_TYPES,
    "notification": NOTIFICATION_KINDS,
}


def word(value: object, vocabulary: str) -> str:
    """The translated name of ``value`` in ``vocabulary``; an unknown value
    (a newer event type, say) is shown as it is rather than hidden."""
    if value is None:
        return ""
    key = getattr(value, "value", value)
    msgid = VOCABULARIES[vocabulary].get(str(key))
    return gettext(msgid) if msgid else str(key)
