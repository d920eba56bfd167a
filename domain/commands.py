"""Commands: what a person asks a review to do (imperative verbs). Each one
carries the acting person's id and, where the procedure wants one, a reason.
Field constraints here give the first, shape-level rejection; the rules that
need the review's state live in ``domain.review.decide``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, TypeAdapter, ValidationError

from domain.errors import CommandRejected
from domain.events import EvidenceRef, GatheredOpinion, MeasureProgress
from domain.procedure import ReviewMethod, Role, Step
from domain.strings import NUL_MESSAGE, nul_field

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=4000)]
OptionalText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=4000)]
ProblemText = OptionalText
"""A problem may arrive empty: ``domain.review`` refuses it with the praise-only
rule naming the rubric point (a bare length error would not say why)."""
PersonId = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]


class Command(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    actor_id: PersonId
    reason: str | None = Field(default=None, max_length=2000)
    # the unit whose directory subtree the actor supervises by a grant, set only
    # by the application layer after it checked the grant and that the review's
    # subject lies in that subtree (the domain cannot see grants or the tree):
    # the actor then acts as a supervisor of this review, as the people in
    # ``spec.supervisor_ids`` (the office) always do
    supervisor_grant: PersonId | None = None


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
    # what will show the measure is done (the revised rules, a meeting record);
    # may stay empty: plans submitted before the field existed had none
    expected_evidence: OptionalText = ""


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




# ---- the engine (issued by the workflow when Temporal itself cancels it) ----


class RecordEngineCancellation(Command):
    """Someone cancelled the review's workflow in Temporal (the Web UI's
    "Request Cancellation", ``temporal workflow cancel``), bypassing Pingyi:
    the review still records how it ended, so its log never falls silent."""

    kind: Literal["record_engine_cancellation"] = "record_engine_cancellation"



@dataclass(frozen=True)
class CommandDeclaration:
    """Everything the procedure says about one command, in one place: its kind,
    its model, who may send it, in which steps (None: any running step),
    whether it needs a reason, and whether a person or the workflow (its
    clock, the engine) issues it. Every list of commands (the decider's role and step table, the
    update validator's workflow-only set, the CLI's kinds and templates, the API)
    is derived from :data:`COMMANDS`."""

    model: type[Command]
    roles: frozenset[Role]
    steps: frozenset[Step] | None
    reason_required: bool = False
    summary: str = ""

    @property
    def kind(self) -> str:
        return self.model.model_fields["kind"].default

    @property
    def by_workflow(self) -> bool:
        """Issued by the workflow itself (its clock, or the engine cancelling
        it), never by a person."""
        return bool(self.roles & {Role.SYSTEM, Role.ENGINE})


def _declare(model: type[Command], roles: set[Role], steps: set[Step] | None, *, reason: bool = False, summary: str = "") -> CommandDeclaration:
    return CommandDeclaration(model, frozenset(roles), frozenset(steps) if steps is not None else None, reason, summary)


_REVIEWERS = {Role.REVIEWER, Role.CO_REVIEWER}
COMMANDS: dict[str, CommandDeclaration] = {
    d.kind: d
    for d in (
        _declare(RecordFindings, _REVIEWERS, {Step.INVESTIGATE}, summary="record what the investigation found, per rubric point"),
        _declare(CloseInvestigation, {Role.REVIEWER}, {Step.INVESTIGATE}, summary="end the investigation (every point has a finding)"),
        _declare(RecordOpinions, _REVIEWERS, {Step.SOLICIT_OPINIONS}, summary="record opinions gathered"),
        _declare(CloseOpinionSolicitation, {Role.REVIEWER}, {Step.SOLICIT_OPINIONS}, summary="end the solicitation of opinions"),
        _declare(SubmitReview, {Role.REVIEWER}, {Step.REVIEW}, summary="submit the review, point by point"),
        _declare(ConfirmCirculation, {Role.REVIEWER}, {Step.NOTIFY}, summary="confirm the review was circulated"),
        _declare(SubmitRectificationPlan, {Role.SUBJECT}, {Step.RECTIFY}, summary="submit the rectification plan"),
        _declare(AcceptRectificationPlan, {Role.REVIEWER}, {Step.RECTIFY}, summary="accept the rectification plan"),
        _declare(ReturnRectificationPlan, {Role.REVIEWER}, {Step.RECTIFY}, reason=True, summary="return the rectification plan"),
        _declare(ReportProgress, {Role.SUBJECT}, {Step.RECTIFY}, summary="report progress on measures"),
        _declare(ReportBack, {Role.SUBJECT}, {Step.RECTIFY}, summary="report back on every measure"),
        _declare(EvaluateReportBack, {Role.REVIEWER}, {Step.RECTIFY}, summary="evaluate the report-back"),
        _declare(ReassignReviewer, {Role.SUPERVISOR}, None, reason=True, summary="give the review to another reviewer"),
        _declare(AddCoReviewer, {Role.SUPERVISOR}, None, reason=True, summary="add a co-reviewer"),
        _declare(ExtendDeadline, {Role.SUPERVISOR}, None, reason=True, summary="move a step's deadline later"),
        _declare(CancelReview, {Role.SUPERVISOR}, None, reason=True, summary="cancel the review"),
        _declare(SendReminder, {Role.SYSTEM}, None, summary="remind who must act (the clock)"),
        _declare(PassDeadline, {Role.SYSTEM}, None, summary="mark a step overdue (the clock)"),
        _declare(RecordEngineCancellation, {Role.ENGINE}, None, summary="record a cancellation requested in Temporal (the engine)"),
    )
}

HUMAN_COMMAND_TYPES: tuple[type[Command], ...] = tuple(d.model for d in COMMANDS.values() if not d.by_workflow)
TIME_COMMAND_TYPES: tuple[type[Command], ...] = tuple(d.model for d in COMMANDS.values() if Role.SYSTEM in d.roles)
ENGINE_COMMAND_TYPES: tuple[type[Command], ...] = tuple(d.model for d in COMMANDS.values() if Role.ENGINE in d.roles)
WORKFLOW_COMMANDS: frozenset[str] = frozenset(k for k, d in COMMANDS.items() if d.by_workflow)

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
