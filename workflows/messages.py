"""What goes in and out of the review workflow: its input, its result, and the
command update's payloads. A module of its own so the workflow sandbox passes
it through instead of rebuilding these pydantic classes for every review."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel

from domain import events as ev
from domain.commands import Command
from domain.procedure import Step
from domain.review import ReviewState


class ReviewInput(BaseModel):
    spec: ev.ReviewSpec
    resumed_state: ReviewState | None = None  # carried over by continue-as-new
    # maintain the typed search attributes; off only on a server that cannot
    # register custom ones (the time-skipping test server)
    visible: bool = True
    # the first step's deadline as the client indexed it at start, so the
    # workflow and its search attribute agree without an upsert event
    first_due_at: datetime | None = None
    # the workflow's command-sequence revision this review runs under (see
    # workflows.review.REVISION); histories recorded before it existed are 1
    revision: int = 1
    # the zone notification texts are written in (settings PINGYI_TIMEZONE at
    # start); None: the default, Asia/Shanghai
    timezone: str | None = None


class ReviewResult(BaseModel):
    review_id: str
    final_step: Step
    version: int


class CommandInput(BaseModel):
    """The command as JSON: parsed by the validator, so a malformed one is
    rejected like any other, naming its field, before it reaches history."""

    command: dict[str, Any]

    @classmethod
    def of(cls, command: Command) -> "CommandInput":
        return cls(command=command.model_dump(mode="json"))


class CommandResult(BaseModel):
    review_id: str
    step: Step
    version: int
    events: list[str]
