"""The typed search attributes of a review, declared once: the workflow upserts
them, the service registers them, the CLI filters by them. Ids only (no
names): the payload codec does not cover search attributes."""

from __future__ import annotations

from datetime import datetime, timezone

from temporalio.common import SearchAttributeKey, SearchAttributePair, TypedSearchAttributes

CAMPAIGN = SearchAttributeKey.for_keyword("PingyiCampaign")
STEP = SearchAttributeKey.for_keyword("PingyiStep")
REVIEWER = SearchAttributeKey.for_keyword("PingyiReviewer")
SUBJECT_UNIT = SearchAttributeKey.for_keyword("PingyiSubjectUnit")
TIER = SearchAttributeKey.for_int("PingyiTier")
DEADLINE = SearchAttributeKey.for_datetime("PingyiDeadline")
OVERDUE = SearchAttributeKey.for_bool("PingyiOverdue")

ALL_KEYS = (CAMPAIGN, STEP, REVIEWER, SUBJECT_UNIT, TIER, DEADLINE, OVERDUE)


def deadline_value(due: datetime) -> datetime:
    """Deadlines are indexed to the minute: enough to filter by, and the value
    the client sets when it starts a review then almost always equals what the
    workflow computes, so starting costs no upsert event in the history."""
    return due.astimezone(timezone.utc).replace(second=0, microsecond=0)


def review_attributes(*, campaign: str, step: str, reviewer: str, unit: str, tier: int, deadline: datetime | None, overdue: bool) -> TypedSearchAttributes:
    pairs: list[SearchAttributePair] = [
        SearchAttributePair(CAMPAIGN, campaign),
        SearchAttributePair(STEP, step),
        SearchAttributePair(REVIEWER, reviewer),
        SearchAttributePair(SUBJECT_UNIT, unit),
        SearchAttributePair(TIER, tier),
        SearchAttributePair(OVERDUE, overdue),
    ]
    if deadline is not None:
        pairs.append(SearchAttributePair(DEADLINE, deadline_value(deadline)))
    return TypedSearchAttributes(pairs)
