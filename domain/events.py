"""Domain events: every fact of a review, past-participle names, a stable type
string and a schema version. The event log stores exactly these; the workflow
and the auditor rebuild state from them with the same ``evolve``.

Envelope facts (who acted, in which role, why, when) are fields of every event
so that a replayed event says everything the audit timeline shows.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Callable, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from domain.procedure import ReviewMethod, Role, Step, StepDeadlines, SubjectKind
from domain.rubric import SubjectLevel, UnitCategory


class DomainEvent(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    event_type: ClassVar[str]
    schema_version: ClassVar[int] = 1

    occurred_at: datetime
    actor_id: str | None = None
    actor_role: Role | None = None
    reason: str | None = None

    def payload(self) -> dict[str, Any]:
        """The event's own facts, without the envelope (stored as JSON)."""
        return self.model_dump(mode="json", exclude={"occurred_at", "actor_id", "actor_role", "reason"})


EVENT_TYPES: dict[str, type[DomainEvent]] = {}
# (event_type, from_version) -> function turning that payload into the next version's
UPCASTERS: dict[tuple[str, int], Callable[[dict[str, Any]], dict[str, Any]]] = {}


def event(type_name: str, schema_version: int = 1):
    """Register an event class under its stable type string."""

    def register(cls: type[DomainEvent]) -> type[DomainEvent]:
        if type_name in EVENT_TYPES:
            raise ValueError(f"event type {type_name!r} registered twice")
        cls.event_type = type_name
        cls.schema_version = schema_version
        EVENT_TYPES[type_name] = cls
        return cls

    return register


def upcaster(type_name: str, from_version: int):
    def register(fn: Callable[[dict[str, Any]], dict[str, Any]]):
        UPCASTERS[(type_name, from_version)] = fn
        return fn

    return register


def event_from_record(
    type_name: str,
    schema_version: int,
    payload: dict[str, Any],
    *,
    occurred_at: datetime,
    actor_id: str | None = None,
    actor_role: str | None = None,
    reason: str | None = None,
) -> DomainEvent:
    """Rebuild an event from its stored form, upcasting old schema versions."""
    cls = EVENT_TYPES.get(type_name)
    if cls is None:
        raise KeyError(f"unknown event type {type_name!r}")
    version = schema_version
    while version < cls.schema_version:
        step = UPCASTERS.get((type_name, version))
        if step is None:
            raise KeyError(f"no upcaster for {type_name!r} v{version}")
        payload = step(dict(payload))
        version += 1
    if version > cls.schema_version:
        raise ValueError(f"{type_name!r} v{version} is newer than this code (v{cls.schema_version})")
    return cls(
        occurred_at=occurred_at,
        actor_id=actor_id,
        actor_role=Role(actor_role) if actor_role else None,
        reason=reason,
        **payload,
    )


# --------------------------------------------------------------------------
# Value objects carried by events and commands
# --------------------------------------------------------------------------


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class EvidenceRef(Frozen):
    """Where a finding comes from: "on-site inspection, reading the relevant
    documents and records, and hearing the subject's report" (spec §6.1)."""

    kind: Literal["site_visit", "documents", "subject_report"]
    reference: str = Field(min_length=1, max_length=500)


class Finding(Frozen):
    point_code: str
    summary: str = Field(min_length=1, max_length=4000)
    evidence: tuple[EvidenceRef, ...] = Field(min_length=1)
    recorded_by: str | None = None


class GatheredOpinion(Frozen):
    channel: Literal["symposium", "opinion_form", "opinion_letter", "interview"]
    respondent_group: Literal["members", "public", "service_recipients", "supervising_department", "related_units"]
    summary: str = Field(min_length=1, max_length=4000)
    respondents: int = Field(default=1, ge=1)


class Problem(Frozen):
    problem_id: str  # "P1", "P2", … assigned when the review is submitted
    point_code: str
    text: str


class PointAssessment(Frozen):
    code: str
    achievements: str = Field(max_length=4000)
    problems: tuple[str, ...] = ()
    directions: str = Field(max_length=4000)


class Measure(Frozen):
    measure_id: str  # "M1", … assigned when the plan is recorded
    problem_ids: tuple[str, ...]
    action: str
    owner_id: str
    due_date: date
    expected_evidence: str = ""  # absent from v1 payloads (see the upcaster below)


class MeasureProgress(Frozen):
    measure_id: str
    status: Literal["not_started", "in_progress", "done"]
    note: str = ""


class Subject(Frozen):
    kind: SubjectKind
    subject_id: str  # the unit id (organization) or the person id (member)
    unit_id: str  # the organization the subject is or belongs to
    leader_id: str | None = None  # the principal leader, for an organization subject
    display_name: str | None = None


class ReviewSpec(Frozen):
    """What a review is about and who takes part, fixed when it starts (the
    directory's facts at that moment: a later re-import does not change it)."""

    review_id: str
    campaign_id: str
    subject: Subject
    level: SubjectLevel
    unit_category: UnitCategory
    tier: int = Field(ge=1, le=4)
    reviewer_id: str
    co_reviewer_ids: tuple[str, ...] = ()
    supervisor_ids: tuple[str, ...] = Field(min_length=1)
    rubric_version: str
    rubric_points: tuple[str, ...]
    deadlines: StepDeadlines = StepDeadlines()
    explanation: str | None = None


# --------------------------------------------------------------------------
# Review events
# --------------------------------------------------------------------------


@event("review.started")
class ReviewStarted(DomainEvent):
    spec: ReviewSpec


@event("review.step_started")
class StepStarted(DomainEvent):
    step: Step
    due_at: datetime


@event("review.findings_recorded")
class FindingsRecorded(DomainEvent):
    findings: tuple[Finding, ...]


@event("review.investigation_closed")
class InvestigationClosed(DomainEvent):
    pass


@event("review.opinions_recorded")
class OpinionsRecorded(DomainEvent):
    opinions: tuple[GatheredOpinion, ...]


@event("review.opinion_solicitation_closed")
class OpinionSolicitationClosed(DomainEvent):
    by_deadline: bool = False
    opinion_count: int = 0


@event("review.review_submitted")
class ReviewSubmitted(DomainEvent):
    method: ReviewMethod
    points: tuple[PointAssessment, ...]
    problems: tuple[Problem, ...]
    summary: str = ""


@event("review.circulation_confirmed")
class CirculationConfirmed(DomainEvent):
    scope: str
    means: str


@event("review.rectification_plan_submitted", schema_version=2)
class RectificationPlanSubmitted(DomainEvent):
    """v2: each measure carries its expected evidence (v1 wrote it, if at all,
    into the action's text)."""

    plan_version: int
    measures: tuple[Measure, ...]


@upcaster("review.rectification_plan_submitted", from_version=1)
def _plan_v1_to_v2(payload: dict[str, Any]) -> dict[str, Any]:
    """A stored v1 plan reads with no expected evidence; the stored payload (and
    so its hash) is never rewritten."""
    return {**payload, "measures": [{**m, "expected_evidence": m.get("expected_evidence", "")} for m in payload.get("measures", ())]}


@event("review.rectification_plan_accepted")
class RectificationPlanAccepted(DomainEvent):
    plan_version: int


@event("review.rectification_plan_returned")
class RectificationPlanReturned(DomainEvent):
    plan_version: int


@event("review.progress_reported")
class ProgressReported(DomainEvent):
    progress: tuple[MeasureProgress, ...]


@event("review.reported_back")
class ReportedBack(DomainEvent):
    summary: str
    results: tuple[MeasureProgress, ...]


@event("review.report_back_evaluated")
class ReportBackEvaluated(DomainEvent):
    outcome: Literal["satisfactory", "needs_more_work"]
    comments: str


@event("review.closed")
class ReviewClosed(DomainEvent):
    pass


@event("review.reviewer_reassigned")
class ReviewerReassigned(DomainEvent):
    previous_reviewer_id: str
    reviewer_id: str


@event("review.co_reviewer_added")
class CoReviewerAdded(DomainEvent):
    co_reviewer_id: str


@event("review.deadline_extended")
class DeadlineExtended(DomainEvent):
    step: Step
    due_at: datetime


@event("review.cancelled")
class ReviewCancelled(DomainEvent):
    pass


@event("review.reminder_sent")
class ReminderSent(DomainEvent):
    step: Step
    due_at: datetime
    recipient_ids: tuple[str, ...]


@event("review.deadline_passed")
class DeadlinePassed(DomainEvent):
    step: Step
    due_at: datetime
    notified_ids: tuple[str, ...]


# --------------------------------------------------------------------------
# The stored form: what crosses the activity boundary and lands in the log
# --------------------------------------------------------------------------


class EventRecord(BaseModel):
    """One event as the log holds it. Identity is ``(stream_id, version)``;
    ``causation_id`` names the command (update id) or timer that caused it, so a
    retried append of the same command is recognised and not written twice."""

    model_config = ConfigDict(frozen=True)

    stream_id: str
    version: int
    event_type: str
    schema_version: int
    occurred_at: datetime
    actor_id: str | None = None
    actor_role: str | None = None
    reason: str | None = None
    causation_id: str | None = None
    payload: dict[str, Any]
    # filled in by the store
    position: int | None = None
    recorded_at: datetime | None = None
    prev_hash: str | None = None
    hash: str | None = None


def to_record(stream_id: str, version: int, ev: DomainEvent, causation_id: str | None = None) -> EventRecord:
    return EventRecord(
        stream_id=stream_id,
        version=version,
        event_type=ev.event_type,
        schema_version=ev.schema_version,
        occurred_at=ev.occurred_at,
        actor_id=ev.actor_id,
        actor_role=ev.actor_role.value if ev.actor_role else None,
        reason=ev.reason,
        causation_id=causation_id,
        payload=ev.payload(),
    )


def to_records(stream_id: str, expected_version: int, evs: list[DomainEvent], causation_id: str | None = None) -> list[EventRecord]:
    return [to_record(stream_id, expected_version + i + 1, ev, causation_id) for i, ev in enumerate(evs)]


def from_record(rec: EventRecord) -> DomainEvent:
    return event_from_record(
        rec.event_type,
        rec.schema_version,
        rec.payload,
        occurred_at=rec.occurred_at,
        actor_id=rec.actor_id,
        actor_role=rec.actor_role,
        reason=rec.reason,
    )
