"""The review decider: ``decide(state, command, now) -> events`` holds every rule
of the five steps; ``evolve(state, event) -> state`` applies one fact. The
workflow's update validator and handler call the same ``decide``; the workflow
and the auditor rebuild state with the same ``evolve`` (ARCHITECTURE.md)."""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import reduce
from typing import Iterable, Literal

from pydantic import BaseModel, Field

from domain import commands as c
from domain import events as e
from domain.errors import CommandRejected
from domain.problem_text import why_not_a_problem
from domain.procedure import FIVE_STEPS, Role, Step, SubjectKind, next_step
from domain.rubric import rubric

PRAISE_ONLY = "不能只写操行评语: a review that only praises is not acceptable"
"""Spec §9. Said whenever a review would name no real problem: none at all, or
one that counts as none (``domain.problem_text``)."""


class ReviewState(BaseModel):
    """Everything the procedure needs to know about one review, rebuilt from its
    events. ``version`` is the number of events folded so far."""

    version: int = 0
    spec: e.ReviewSpec | None = None
    step: Step | None = None
    started_at: datetime | None = None
    step_started_at: dict[Step, datetime] = Field(default_factory=dict)
    due: dict[Step, datetime] = Field(default_factory=dict)
    reminded: list[Step] = Field(default_factory=list)
    overdue: list[Step] = Field(default_factory=list)
    findings: list[e.Finding] = Field(default_factory=list)
    opinions: list[e.GatheredOpinion] = Field(default_factory=list)
    opinions_closed_by_deadline: bool = False
    method: str | None = None
    assessments: list[e.PointAssessment] = Field(default_factory=list)
    problems: list[e.Problem] = Field(default_factory=list)
    review_summary: str = ""
    circulation: dict[str, str] | None = None
    plan_version: int = 0
    plan_status: Literal["awaiting", "submitted", "accepted", "returned"] | None = None
    measures: list[e.Measure] = Field(default_factory=list)
    progress: dict[str, e.MeasureProgress] = Field(default_factory=dict)
    report_back: str | None = None
    evaluations: list[dict[str, str]] = Field(default_factory=list)
    cancel_reason: str | None = None
    closed_at: datetime | None = None
    last_event_at: datetime | None = None

    @property
    def finished(self) -> bool:
        return self.step in (Step.CLOSED, Step.CANCELLED)

    @property
    def reviewer_id(self) -> str | None:
        return self.spec.reviewer_id if self.spec else None

    def is_overdue(self) -> bool:
        return self.step is not None and self.step in self.overdue

    def current_due(self) -> datetime | None:
        return self.due.get(self.step) if self.step else None


# --------------------------------------------------------------------------
# roles
# --------------------------------------------------------------------------


def subject_person_ids(spec: e.ReviewSpec) -> set[str]:
    """Who acts for the subject: the member, or the organization's principal leader."""
    s = spec.subject
    if s.kind is SubjectKind.MEMBER:
        return {s.subject_id}
    return {s.leader_id} if s.leader_id else {s.subject_id}


def roles_of(state: ReviewState, person_id: str) -> set[Role]:
    spec = state.spec
    if spec is None:
        return set()
    roles: set[Role] = set()
    if person_id == spec.reviewer_id:
        roles.add(Role.REVIEWER)
    if person_id in spec.co_reviewer_ids:
        roles.add(Role.CO_REVIEWER)
    if person_id in subject_person_ids(spec):
        roles.add(Role.SUBJECT)
    if person_id in spec.supervisor_ids:
        roles.add(Role.SUPERVISOR)
    return roles


# derived from the one declaration of every command (domain.commands.COMMANDS)
ALLOWED: dict[str, tuple[frozenset[Role], frozenset[Step] | None]] = {k: (d.roles, d.steps) for k, d in c.COMMANDS.items()}
SYSTEM_ACTOR = "system"
REASON_REQUIRED = frozenset(k for k, d in c.COMMANDS.items() if d.reason_required)


def _acting_role(state: ReviewState, cmd: c.Command) -> Role:
    roles, steps = ALLOWED[cmd.kind]  # type: ignore[attr-defined]
    if Role.ENGINE in roles:
        return Role.ENGINE  # the actor is whoever the engine names; only the workflow issues these
    if Role.SYSTEM in roles:
        if cmd.actor_id != SYSTEM_ACTOR:
            raise CommandRejected("actor_id", f"{cmd.kind} is issued by the review's clock, not by a person", "not_allowed")  # type: ignore[attr-defined]
        return Role.SYSTEM
    held = roles_of(state, cmd.actor_id)
    if cmd.supervisor_grant is not None:  # the application layer checked the grant's scope
        held.add(Role.SUPERVISOR)
    # the most specific role wins when a person holds several
    for role in (Role.REVIEWER, Role.CO_REVIEWER, Role.SUBJECT, Role.SUPERVISOR):
        if role in held and role in roles:
            return role
    wanted = " or ".join(sorted(r.value for r in roles))
    raise CommandRejected("actor_id", f"{cmd.actor_id!r} may not {cmd.kind.replace('_', ' ')}: only the {wanted} of this review may", "not_allowed")  # type: ignore[attr-defined]


# --------------------------------------------------------------------------
# decide
# --------------------------------------------------------------------------


def decide(state: ReviewState, cmd: c.Command, now: datetime) -> list[e.DomainEvent]:
    """Check ``cmd`` against the rules and the state; return the events it causes
    or raise :class:`CommandRejected` naming the field and the reason."""
    if state.spec is None or state.step is None:
        raise CommandRejected("review_id", "the review has not been started", "not_started")
    if state.finished:
        raise CommandRejected("kind", f"the review is {state.step.value}; it takes no more commands", "ended")
    kind: str = cmd.kind  # type: ignore[attr-defined]
    role = _acting_role(state, cmd)
    _, steps = ALLOWED[kind]
    if steps is not None and state.step not in steps:
        want = ", ".join(s.value for s in steps)
        raise CommandRejected("kind", f"{kind} belongs to step {want}; the review is at step {state.step.value}", "wrong_step")
    reason = (cmd.reason or "").strip() or None
    if kind in REASON_REQUIRED and not reason:
        raise CommandRejected("reason", f"{kind} needs a reason")
    meta = dict(occurred_at=now, actor_id=cmd.actor_id, actor_role=role, reason=reason)
    handler = _DECIDERS[kind]
    return handler(state, cmd, now, meta)


def _start_next(state: ReviewState, after: Step, now: datetime) -> list[e.DomainEvent]:
    nxt = next_step(after)
    if nxt is Step.CLOSED:
        return [e.ReviewClosed(occurred_at=now, actor_id=SYSTEM_ACTOR, actor_role=Role.SYSTEM)]
    return [e.StepStarted(occurred_at=now, actor_id=SYSTEM_ACTOR, actor_role=Role.SYSTEM, step=nxt, due_at=due_for(state, nxt, now))]


def due_for(state: ReviewState, step: Step, now: datetime) -> datetime:
    """A step's deadline when it starts: a supervisor's explicit date if one was
    set while the step lay ahead, otherwise the review's duration for the step."""
    assert state.spec is not None
    override = state.due.get(step)
    if override is not None and override > now:
        return override
    return now + state.spec.deadlines.for_step(step)


def _record_findings(state, cmd: c.RecordFindings, now, meta):
    points = set(state.spec.rubric_points)
    out = []
    for i, f in enumerate(cmd.findings):
        if f.point_code not in points:
            raise CommandRejected(f"findings.{i}.point_code", f"{f.point_code!r} is not a rubric point of this review (expected one of {', '.join(state.spec.rubric_points)})")
        out.append(e.Finding(point_code=f.point_code, summary=f.summary, evidence=tuple(f.evidence), recorded_by=cmd.actor_id))
    return [e.FindingsRecorded(findings=tuple(out), **meta)]


def _close_investigation(state, cmd, now, meta):
    covered = {f.point_code for f in state.findings}
    missing = [p for p in state.spec.rubric_points if p not in covered]
    if missing:
        raise CommandRejected("findings", f"no finding recorded yet for rubric points {', '.join(missing)}; investigate every point before closing")
    return [e.InvestigationClosed(**meta), *_start_next(state, Step.INVESTIGATE, now)]


def _record_opinions(state, cmd: c.RecordOpinions, now, meta):
    return [e.OpinionsRecorded(opinions=tuple(cmd.opinions), **meta)]


def _close_opinions(state, cmd, now, meta):
    return [e.OpinionSolicitationClosed(by_deadline=False, opinion_count=len(state.opinions), **meta), *_start_next(state, Step.SOLICIT_OPINIONS, now)]


def _shown(text: str, limit: int = 40) -> str:
    text = text.strip()
    return repr(text if len(text) <= limit else text[: limit - 1] + "…")


def _submit_review(state, cmd: c.SubmitReview, now, meta):
    rb = rubric(state.spec.rubric_version)
    required = list(state.spec.rubric_points)
    seen: dict[str, int] = {}
    for i, p in enumerate(cmd.points):
        if p.code not in required:
            raise CommandRejected(f"points.{i}.code", f"{p.code!r} is not a rubric point of this review (expected one of {', '.join(required)})")
        if p.code in seen:
            raise CommandRejected(f"points.{i}.code", f"{p.code} is assessed twice (also points.{seen[p.code]})")
        seen[p.code] = i
        for j, prob in enumerate(p.problems):
            why = why_not_a_problem(prob, p.achievements)
            if why is not None:
                what = "the problem" if not prob.strip() else _shown(prob)
                raise CommandRejected(
                    f"points.{i}.problems.{j}",
                    f"{p.code}: {what} is not a concrete problem: {why.value}. {PRAISE_ONLY}; name the problem, weak link or shortcoming of {p.code}",
                )
    missing = [code for code in required if code not in seen]
    if missing:
        names = "; ".join(f"{code} {rb.point(code).text_zh if rb.point(code) else ''}".strip() for code in missing)
        raise CommandRejected("points", f"every rubric point must be reviewed item by item (逐条点评); missing: {names}")
    problems: list[e.Problem] = []
    for p in cmd.points:
        for prob in p.problems:
            problems.append(e.Problem(problem_id=f"P{len(problems) + 1}", point_code=p.code, text=prob))
    if not problems:
        raise CommandRejected("points", f"{PRAISE_ONLY}; name at least one concrete problem, weak link or direction of effort as a problem")
    assessments = tuple(e.PointAssessment(code=p.code, achievements=p.achievements, problems=tuple(p.problems), directions=p.directions) for p in cmd.points)
    return [
        e.ReviewSubmitted(method=cmd.method, points=assessments, problems=tuple(problems), summary=cmd.summary, **meta),
        *_start_next(state, Step.REVIEW, now),
    ]


def _confirm_circulation(state, cmd: c.ConfirmCirculation, now, meta):
    return [e.CirculationConfirmed(scope=cmd.scope, means=cmd.means, **meta), *_start_next(state, Step.NOTIFY, now)]


def _submit_plan(state, cmd: c.SubmitRectificationPlan, now, meta):
    if state.plan_status in ("submitted", "accepted"):
        raise CommandRejected("kind", f"the rectification plan is already {state.plan_status}", "wrong_step")
    known = {p.problem_id for p in state.problems}
    covered: set[str] = set()
    measures = []
    for i, m in enumerate(cmd.measures):
        for pid in m.problem_ids:
            if pid not in known:
                raise CommandRejected(f"measures.{i}.problem_ids", f"{pid!r} is not a problem of this review (problems: {', '.join(sorted(known))})")
        if m.due_date < now.date():
            raise CommandRejected(f"measures.{i}.due_date", f"{m.due_date.isoformat()} is in the past")
        covered.update(m.problem_ids)
        measures.append(e.Measure(measure_id=f"M{i + 1}", problem_ids=tuple(m.problem_ids), action=m.action, owner_id=m.owner_id, due_date=m.due_date,
                                  expected_evidence=m.expected_evidence))
    uncovered = sorted(known - covered, key=lambda s: int(s[1:]))
    if uncovered:
        raise CommandRejected("measures", f"every problem needs a rectification measure; none for {', '.join(uncovered)}")
    return [e.RectificationPlanSubmitted(plan_version=state.plan_version + 1, measures=tuple(measures), **meta)]


def _require_plan(state, status: str, verb: str):
    if state.plan_status != status:
        raise CommandRejected("kind", f"cannot {verb}: the rectification plan is {state.plan_status or 'awaiting'}, not {status}", "wrong_step")


def _accept_plan(state, cmd, now, meta):
    _require_plan(state, "submitted", "accept the plan")
    return [e.RectificationPlanAccepted(plan_version=state.plan_version, **meta)]


def _return_plan(state, cmd, now, meta):
    _require_plan(state, "submitted", "return the plan")
    return [e.RectificationPlanReturned(plan_version=state.plan_version, **meta)]


def _check_measures(state, items, field: str):
    ids = {m.measure_id for m in state.measures}
    for i, item in enumerate(items):
        if item.measure_id not in ids:
            raise CommandRejected(f"{field}.{i}.measure_id", f"{item.measure_id!r} is not a measure of the accepted plan ({', '.join(sorted(ids))})")


def _report_progress(state, cmd: c.ReportProgress, now, meta):
    _require_plan(state, "accepted", "report progress")
    if state.report_back is not None:
        raise CommandRejected("kind", "the report-back is already with the reviewer", "wrong_step")
    _check_measures(state, cmd.progress, "progress")
    return [e.ProgressReported(progress=tuple(cmd.progress), **meta)]


def _report_back(state, cmd: c.ReportBack, now, meta):
    _require_plan(state, "accepted", "report back")
    if state.report_back is not None:
        raise CommandRejected("kind", "the report-back is already with the reviewer", "wrong_step")
    _check_measures(state, cmd.results, "results")
    missing = sorted({m.measure_id for m in state.measures} - {r.measure_id for r in cmd.results})
    if missing:
        raise CommandRejected("results", f"report on every measure; missing {', '.join(missing)}")
    return [e.ReportedBack(summary=cmd.summary, results=tuple(cmd.results), **meta)]


def _evaluate(state, cmd: c.EvaluateReportBack, now, meta):
    if state.report_back is None:
        raise CommandRejected("kind", "there is no report-back to evaluate yet", "wrong_step")
    evaluated = e.ReportBackEvaluated(outcome=cmd.outcome, comments=cmd.comments, **meta)
    if cmd.outcome == "satisfactory":
        return [evaluated, *_start_next(state, Step.RECTIFY, now)]
    return [evaluated]


def _reassign(state, cmd: c.ReassignReviewer, now, meta):
    if cmd.reviewer_id == state.spec.reviewer_id:
        raise CommandRejected("reviewer_id", f"{cmd.reviewer_id!r} is already the reviewer")
    if cmd.reviewer_id in subject_person_ids(state.spec):
        raise CommandRejected("reviewer_id", "nobody reviews themselves: the new reviewer is the subject")
    return [e.ReviewerReassigned(previous_reviewer_id=state.spec.reviewer_id, reviewer_id=cmd.reviewer_id, **meta)]


def _add_co_reviewer(state, cmd: c.AddCoReviewer, now, meta):
    pid = cmd.co_reviewer_id
    if pid in state.spec.co_reviewer_ids or pid == state.spec.reviewer_id:
        raise CommandRejected("co_reviewer_id", f"{pid!r} already reviews this subject")
    if pid in subject_person_ids(state.spec):
        raise CommandRejected("co_reviewer_id", "nobody reviews themselves: the co-reviewer is the subject")
    return [e.CoReviewerAdded(co_reviewer_id=pid, **meta)]


def _extend_deadline(state, cmd: c.ExtendDeadline, now, meta):
    if cmd.step not in FIVE_STEPS:
        raise CommandRejected("step", f"{cmd.step.value} has no deadline")
    if FIVE_STEPS.index(cmd.step) < FIVE_STEPS.index(state.step):
        raise CommandRejected("step", f"step {cmd.step.value} is already done", "wrong_step")
    due_at = cmd.due_at if cmd.due_at.tzinfo else cmd.due_at.replace(tzinfo=now.tzinfo)
    if due_at <= now:
        raise CommandRejected("due_at", f"{due_at.isoformat()} is not in the future")
    current = state.due.get(cmd.step)
    if current is not None and due_at <= current:
        raise CommandRejected("due_at", f"{due_at.isoformat()} does not extend the current deadline {current.isoformat()}")
    return [e.DeadlineExtended(step=cmd.step, due_at=due_at, **meta)]


def _cancel(state, cmd, now, meta):
    return [e.ReviewCancelled(**meta)]


ENGINE_CANCEL_REASON = "cancelled through Temporal"


def _engine_cancel(state, cmd, now, meta):
    """The reason says it came from the engine, then what the engine was told."""
    told = (cmd.reason or "").strip()
    return [e.ReviewCancelled(**{**meta, "reason": f"{ENGINE_CANCEL_REASON}: {told}" if told else ENGINE_CANCEL_REASON})]


def who_must_act(state: ReviewState) -> tuple[str, ...]:
    """The people a reminder for the current step goes to."""
    spec = state.spec
    assert spec is not None
    reviewer = (spec.reviewer_id,)
    if state.step is Step.INVESTIGATE or state.step is Step.SOLICIT_OPINIONS:
        return reviewer + tuple(spec.co_reviewer_ids)
    if state.step is Step.RECTIFY:
        waiting_on_reviewer = state.plan_status == "submitted" or state.report_back is not None
        return reviewer if waiting_on_reviewer else tuple(sorted(subject_person_ids(spec)))
    return reviewer


def reminder_at(state: ReviewState, step: Step) -> datetime:
    """The reminder goes ``reminder_lead`` before the deadline, but never in the
    first half of a short step."""
    due = state.due[step]
    started = state.step_started_at.get(step, due)
    lead = state.spec.deadlines.reminder_lead if state.spec else timedelta(days=1)
    return max(due - lead, started + (due - started) / 2)


def _send_reminder(state, cmd: c.SendReminder, now, meta):
    if cmd.step != state.step or cmd.step in state.reminded:
        raise CommandRejected("step", f"no reminder is due for step {cmd.step.value}")
    if now < reminder_at(state, cmd.step):
        raise CommandRejected("step", "the reminder is not due yet")
    return [e.ReminderSent(step=cmd.step, due_at=state.due[cmd.step], recipient_ids=who_must_act(state), **meta)]


def _pass_deadline(state, cmd: c.PassDeadline, now, meta):
    if cmd.step != state.step or cmd.step in state.overdue:
        raise CommandRejected("step", f"no deadline is pending for step {cmd.step.value}")
    due = state.due[cmd.step]
    if now < due:
        raise CommandRejected("step", f"the deadline {due.isoformat()} has not passed")
    if cmd.step is Step.SOLICIT_OPINIONS:
        # opinions are collected "by a deadline": the deadline ends the step
        return [e.OpinionSolicitationClosed(by_deadline=True, opinion_count=len(state.opinions), **meta), *_start_next(state, Step.SOLICIT_OPINIONS, now)]
    return [e.DeadlinePassed(step=cmd.step, due_at=due, notified_ids=tuple(state.spec.supervisor_ids), **meta)]


_DECIDERS = {
    "record_findings": _record_findings,
    "close_investigation": _close_investigation,
    "record_opinions": _record_opinions,
    "close_opinion_solicitation": _close_opinions,
    "submit_review": _submit_review,
    "confirm_circulation": _confirm_circulation,
    "submit_rectification_plan": _submit_plan,
    "accept_rectification_plan": _accept_plan,
    "return_rectification_plan": _return_plan,
    "report_progress": _report_progress,
    "report_back": _report_back,
    "evaluate_report_back": _evaluate,
    "reassign_reviewer": _reassign,
    "add_co_reviewer": _add_co_reviewer,
    "extend_deadline": _extend_deadline,
    "cancel_review": _cancel,
    "record_engine_cancellation": _engine_cancel,
    "send_reminder": _send_reminder,
    "pass_deadline": _pass_deadline,
}


def start(spec: e.ReviewSpec, now: datetime, first_due_at: datetime | None = None) -> list[e.DomainEvent]:
    """The events that open a review: it starts, and its first step starts
    (due after the spec's duration, or at ``first_due_at`` when the starter
    fixed it, as long as that lies ahead)."""
    refusal = spec.deadlines.refusal()
    if refusal is not None:
        raise CommandRejected(*refusal)
    rb = rubric(spec.rubric_version)
    unknown = [p for p in spec.rubric_points if rb.point(p) is None]
    if unknown:
        raise CommandRejected("rubric_points", f"not in rubric {spec.rubric_version}: {', '.join(unknown)}")
    if spec.reviewer_id in subject_person_ids(spec):
        raise CommandRejected("reviewer_id", "nobody reviews themselves: the reviewer is the subject")
    if subject_person_ids(spec) & set(spec.co_reviewer_ids):
        raise CommandRejected("co_reviewer_ids", "nobody reviews themselves: a co-reviewer is the subject")
    required = [p.code for p in rb.points_for(spec.level, spec.unit_category)]
    missing = [code for code in required if code not in spec.rubric_points]
    if missing:
        raise CommandRejected("rubric_points", f"a {spec.level.value}-level {spec.unit_category.value} review must cover {', '.join(missing)} (rubric {spec.rubric_version})")
    started = e.ReviewStarted(occurred_at=now, actor_id=SYSTEM_ACTOR, actor_role=Role.SYSTEM, spec=spec)
    due = first_due_at if first_due_at is not None and first_due_at > now else now + spec.deadlines.investigate
    first = e.StepStarted(occurred_at=now, actor_id=SYSTEM_ACTOR, actor_role=Role.SYSTEM, step=Step.INVESTIGATE, due_at=due)
    return [started, first]


# --------------------------------------------------------------------------
# timers: when the workflow must wake up next, and what it then does
# --------------------------------------------------------------------------


class Wakeup(BaseModel):
    at: datetime
    command: c.SendReminder | c.PassDeadline


def next_wakeup(state: ReviewState) -> Wakeup | None:
    """One timer per step: first to the reminder, then to the deadline, then none
    (an overdue step keeps waiting)."""
    if state.spec is None or state.step is None or state.finished:
        return None
    step = state.step
    due = state.due[step]
    if step not in state.reminded and step not in state.overdue:
        at = reminder_at(state, step)
        if at < due:
            return Wakeup(at=at, command=c.SendReminder(actor_id=SYSTEM_ACTOR, step=step))
    if step not in state.overdue:
        return Wakeup(at=due, command=c.PassDeadline(actor_id=SYSTEM_ACTOR, step=step))
    return None


# --------------------------------------------------------------------------
# evolve
# --------------------------------------------------------------------------


def _copy(state: ReviewState) -> ReviewState:
    """A new state sharing the old one's values but not its containers: events
    and the models they carry are frozen, so only the lists and dicts that
    ``evolve`` grows need copying (a deep copy re-copied the whole spec and
    every finding for every event)."""
    s = state.model_copy()
    for name, value in state.__dict__.items():
        if isinstance(value, (list, dict)):
            s.__dict__[name] = value.copy()
    return s


def evolve(state: ReviewState, event: e.DomainEvent) -> ReviewState:
    """Apply one fact. Never fails: the event already happened."""
    s = _copy(state)
    s.version += 1
    s.last_event_at = event.occurred_at
    match event:
        case e.ReviewStarted(spec=spec):
            s.spec = spec
            s.started_at = event.occurred_at
        case e.StepStarted(step=step, due_at=due_at):
            s.step = step
            s.step_started_at[step] = event.occurred_at
            s.due[step] = due_at
            if step is Step.RECTIFY:
                s.plan_status = "awaiting"
        case e.FindingsRecorded(findings=findings):
            s.findings.extend(findings)
        case e.OpinionsRecorded(opinions=opinions):
            s.opinions.extend(opinions)
        case e.OpinionSolicitationClosed(by_deadline=by_deadline):
            s.opinions_closed_by_deadline = by_deadline
        case e.ReviewSubmitted():
            s.method = event.method.value
            s.assessments = list(event.points)
            s.problems = list(event.problems)
            s.review_summary = event.summary
        case e.CirculationConfirmed(scope=scope, means=means):
            s.circulation = {"scope": scope, "means": means}
        case e.RectificationPlanSubmitted(plan_version=v, measures=measures):
            s.plan_version = v
            s.measures = list(measures)
            s.plan_status = "submitted"
            s.progress = {}
        case e.RectificationPlanAccepted():
            s.plan_status = "accepted"
        case e.RectificationPlanReturned():
            s.plan_status = "returned"
        case e.ProgressReported(progress=progress):
            for p in progress:
                s.progress[p.measure_id] = p
        case e.ReportedBack(summary=summary, results=results):
            s.report_back = summary
            for r in results:
                s.progress[r.measure_id] = r
        case e.ReportBackEvaluated(outcome=outcome, comments=comments):
            s.evaluations.append({"outcome": outcome, "comments": comments})
            if outcome != "satisfactory":
                s.report_back = None
        case e.ReviewClosed():
            s.step = Step.CLOSED
            s.closed_at = event.occurred_at
        case e.ReviewerReassigned(reviewer_id=rid):  # a promoted co-reviewer stops being one
            s.spec = s.spec.model_copy(update={"reviewer_id": rid, "co_reviewer_ids": tuple(x for x in s.spec.co_reviewer_ids if x != rid)})
        case e.CoReviewerAdded(co_reviewer_id=cid):
            s.spec = s.spec.model_copy(update={"co_reviewer_ids": (*s.spec.co_reviewer_ids, cid)})
        case e.DeadlineExtended(step=step, due_at=due_at):
            s.due[step] = due_at
            s.reminded = [x for x in s.reminded if x != step]
            s.overdue = [x for x in s.overdue if x != step]
        case e.ReviewCancelled():
            s.step = Step.CANCELLED
            s.cancel_reason = event.reason
            s.closed_at = event.occurred_at
        case e.ReminderSent(step=step):
            s.reminded.append(step)
        case e.DeadlinePassed(step=step):
            s.overdue.append(step)
        case _:
            pass  # InvestigationClosed etc.: the following StepStarted moves the review on
    return s


def fold(events: Iterable[e.DomainEvent], state: ReviewState | None = None) -> ReviewState:
    return reduce(evolve, events, state or ReviewState())
