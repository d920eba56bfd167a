"""Names and payloads of the campaign activities and the campaign workflow's
messages, importable by workflows without any I/O library."""

from __future__ import annotations

from pydantic import BaseModel, Field

START_REVIEWS = "campaigns.start_reviews"
CANCEL_REVIEWS = "campaigns.cancel_reviews"
COUNT_REVIEWS = "campaigns.count_reviews"


class BatchInput(BaseModel):
    """One page of the plan: entries ``offset`` .. ``offset + limit - 1``."""

    campaign_id: str
    offset: int
    limit: int


class StartBatchResult(BaseModel):
    seen: int  # entries of the page (0: past the end of the plan)
    started: int  # reviews this call started
    existing: int  # reviews a previous attempt or launch had already started


class CancelBatchInput(BatchInput):
    actor_id: str
    reason: str
    supervisor_grant: str | None = None  # the actor supervises the reviews by this grant (checked by the application layer)


class CancelBatchResult(BaseModel):
    seen: int
    cancelled: int  # reviews this call cancelled
    already_closed: int  # closed, cancelled or never started


class ReviewCounts(BaseModel):
    """The campaign's reviews as their own events tell it."""

    started: int = 0
    by_step: dict[str, int] = Field(default_factory=dict)  # open reviews by current step
    completed: int = 0
    cancelled: int = 0
    overdue: int = 0


LAUNCH_ROUND = "campaigns.launch_round"


class RoundInput(BaseModel):
    """A routine round as a Schedule starts it: the period comes from the
    moment it fires."""

    round: str  # half_yearly or year_end
    prefix: str  # campaign ids are <prefix>-<period>, e.g. hq-2026-h2
    unit_id: str | None = None
    levels: list[str] = Field(default_factory=lambda: ["A", "B", "C"])
    method: str = "concentrated"


class LaunchRoundInput(RoundInput):
    fired_at: str  # ISO time the workflow saw (workflow.now())


class LaunchRoundResult(BaseModel):
    campaign_id: str
    plan_id: str
    planned: int
    already_launched: bool
    gaps: int
