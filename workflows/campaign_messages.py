"""What goes in and out of the campaign workflow: its input (carried across
continue-as-new), its progress (the query's answer and the result), and the
pause/resume/cancel commands."""

from __future__ import annotations

from pydantic import BaseModel, Field

from activities.campaign_contracts import ReviewCounts


class CampaignProgress(BaseModel):
    campaign_id: str
    planned: int
    state: str = "launching"  # launching, paused, watching, cancelling, cancelled, completed
    started: int = 0  # plan entries whose review exists (started now or before)
    started_by_this_launch: int = 0
    already_existing: int = 0  # found started by an earlier attempt or launch
    paused: bool = False
    cancelled: bool = False
    cancel_reason: str | None = None
    cancelled_by: str | None = None
    cancel_grant: str | None = None  # the canceller's supervised unit, when a grant made them a supervisor of the reviews
    cancel_offset: int = 0
    reviews_cancelled: int = 0
    runs: int = 1  # this run and the ones it continued from
    log_version: int = 0  # the campaign stream's version in the audit log
    counts: ReviewCounts = Field(default_factory=ReviewCounts)


class CampaignInput(BaseModel):
    campaign_id: str
    planned: int
    log_version: int  # after the launch's own events
    batch_size: int = Field(default=200, ge=1, le=2000)
    # continue as new after this many activity rounds in one run, so a
    # campaign of any size keeps a short history (a test sets it to 1)
    rounds_per_run: int = Field(default=100, ge=1)
    count_every_seconds: float = Field(default=3600, gt=0)
    progress: CampaignProgress | None = None


class CampaignCommand(BaseModel):
    actor_id: str = Field(min_length=1, max_length=64)
    reason: str | None = Field(default=None, max_length=2000)
    # set by the application layer only, after it checked that this granted
    # scope covers the campaign's: a cancel passes it on to every review it
    # cancels (domain.commands.Command.supervisor_grant)
    supervisor_grant: str | None = Field(default=None, max_length=64)
