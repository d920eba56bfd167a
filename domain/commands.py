"""Commands: what a person asks a review to do (imperative verbs). Each one
carries the acting person's id and, where the procedure wants one, a reason.
Field constraints here give the first, shape-level rejection; the rules that
need the review's state live in ``domain.review.decide``."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, TypeAdapter, ValidationError

from domain.errors import CommandRejected
from domain.events import EvidenceRef, GatheredOpinion, MeasureProgress
from domain.procedure import ReviewMethod, Step
from domain.strings import NUL_MESSAGE, nul_field

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=4000)]
ProblemText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=4000)]
"""A problem may arrive empty: ``domain.review`` refuses it with the praise-only
rule naming the rubric point (a bare length error would not say why)."""
PersonId = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]


class Command(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    actor_id: PersonId
    reason: str | None = Field(default=None, max_length=2000)


# ---- reviewer (and co-reviewer for findings and opinions) ----------------


class FindingInput(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    point_code: str
    summary: Text
    evidence: list[EvidenceRef] = Field(min_length=1)


class RecordFindings(Command):
    kind: Literal["record_findings"] = "record_findings"
    findings: list[FindingInput] = Field(min_length=1)


class CloseInvestigation(Command):
    kind: Literal["close_investigation"] = "close_investigation"


class RecordOpinions(Command):
    kind: Literal["record_opinions"] = "record_opinions"
    opinions: list[GatheredOpinion] = Field(min_length=1)


class CloseOpinionSolicitation(Command):
    kind: Literal["close_opinion_solicitation"] = "close_opinion_solicitation"


class PointAssessmentInput(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    code: str
    achievements: Text
    problems: list[ProblemText] = Field(default_factory=list)
    directions: Text


class SubmitReview(Command):
    kind: Literal["submit_review"] = "submit_review"
    method: ReviewMethod
    points: list[PointAssessmentInput] = Field(min_length=1)
    summary: str = Field(default="", max_length=4000)


class ConfirmCirculation(Command):
    kind: Literal["confirm_circulation"] = "confirm_circulation"
    scope: Text
    means: Text


class AcceptRectificationPlan(Command):
    kind: Literal["accept_rectification_plan"] = "accept_rectification_plan"


class ReturnRectificationPlan(Command):
    kind: Literal["return_rectification_plan"] = "return_rectification_plan"


class EvaluateReportBack(Command):
    kind: Literal["evaluate_report_back"] = "evaluate_report_back"
    outcome: Literal["satisfactory", "needs_more_work"]
    comments: Text


# ---- subject ---------------------------------------------------------------


class MeasureInput(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    problem_ids: list[str] = Field(min_length=1)
    action: Text
    owner_id: PersonId
    due_date: date


class SubmitRectificationPlan(Command):
    kind: Literal["submit_rectification_plan"] = "submit_rectification_plan"
    measures: list[MeasureInput] = Field(min_length=1)


class ReportProgress(Command):
    kind: Literal["report_progress"] = "report_progress"
    progress: list[MeasureProgress] = Field(min_length=1)


class ReportBack(Command):
    kind: Literal["report_back"] = "report_back"
    summary: Text
    results: list[MeasureProgress] = Field(min_length=1)


# ---- supervisor ------------------------------------------------------------


class ReassignReviewer(Command):
    kind: Literal["reassign_reviewer"] = "reassign_reviewer"
    reviewer_id: PersonId


class AddCoReviewer(Command):
    kind: Literal["add_co_reviewer"] = "add_co_reviewer"
    co_reviewer_id: PersonId


class ExtendDeadline(Command):
    kind: Literal["extend_deadline"] = "extend_deadline"
    step: Step
    due_at: datetime


class CancelReview(Command):
    kind: Literal["cancel_review"] = "cancel_review"


# ---- time (issued by the workflow itself, never by a person) ---------------


class SendReminder(Command):
    kind: Literal["send_reminder"] = "send_reminder"
    step: Step


class PassDeadline(Command):
    kind: Literal["pass_deadline"] = "pass_deadline"
    step: Step


HUMAN_COMMAND_TYPES: tuple[type[Command], ...] = (
    RecordFindings,
    CloseInvestigation,
    RecordOpinions,
    CloseOpinionSolicitation,
    SubmitReview,
    ConfirmCirculation,
    AcceptRectificationPlan,
    ReturnRectificationPlan,
    EvaluateReportBack,
    SubmitRectificationPlan,
    ReportProgress,
    ReportBack,
    ReassignReviewer,
    AddCoReviewer,
    ExtendDeadline,
    CancelReview,
)
TIME_COMMAND_TYPES: tuple[type[Command], ...] = (SendReminder, PassDeadline)


# ---- the engine (issued by the workflow when Temporal itself cancels it) ----


class RecordEngineCancellation(Command):
    """Someone cancelled the review's workflow in Temporal (the Web UI's
    "Request Cancellation", ``temporal workflow cancel``), bypassing Pingyi:
    the review still records how it ended, so its log never falls silent."""

    kind: Literal["record_engine_cancellation"] = "record_engine_cancellation"


ENGINE_COMMAND_TYPES: tuple[type[Command], ...] = (RecordEngineCancellation,)

ReviewCommand = Annotated[Union[HUMAN_COMMAND_TYPES + TIME_COMMAND_TYPES + ENGINE_COMMAND_TYPES], Field(discriminator="kind")]  # type: ignore[valid-type]

HUMAN_COMMANDS: dict[str, type[Command]] = {c.model_fields["kind"].default: c for c in HUMAN_COMMAND_TYPES}

_COMMAND = TypeAdapter(ReviewCommand)


def parse_command(data: dict) -> Command:
    """A command from its JSON form. A shape error becomes the same
    :class:`CommandRejected` as a rule error, naming the field (without echoing
    the value: it may be personal data)."""
    try:
        command = _COMMAND.validate_python(data)
    except ValidationError as err:
        first = err.errors(include_input=False, include_url=False)[0]
        loc = [str(p) for p in first["loc"]]
        if loc and loc[0] == data.get("kind"):
            loc = loc[1:]  # the discriminator's own level
        if first["type"].startswith("union_tag"):
            loc = ["kind"]
        raise CommandRejected(".".join(loc) or "command", first["msg"]) from None
    field = nul_field(data)
    if field is not None:
        raise CommandRejected(field or "command", NUL_MESSAGE)
    return command
