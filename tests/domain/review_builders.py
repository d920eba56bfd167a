"""Builders for review tests: specs, valid commands for each step, and a small
driver that pushes a review through the five steps with the real
``decide``/``evolve`` (no Temporal, no database).

Import from a test under ``tests/domain`` as ``from review_builders import ...``
(pytest's default *prepend* import mode puts the test file's folder on
``sys.path``). From another test folder, put ``tests/domain`` on ``sys.path``
first (e.g. in that folder's ``conftest.py``), since ``tests`` is not a package.

Everything here derives its values from the domain itself (the rubric, the
state): nothing is a hard-coded expected result.

Typical use::

    run = ReviewRun.begin(make_spec(SubjectLevel.B, UnitCategory.WINDOW_SERVICE))
    run.drive_to(Step.RECTIFY)          # investigate, solicit, review, notify
    run.do(plan_cmd(run.state, run.now)) # the subject submits a plan
    run.finish()                         # accept, report back, evaluate -> CLOSED

The ``now`` is always a fixed, tz-aware UTC instant (``T0``) advanced explicitly
(``run.advance(hours=1)``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from domain import commands as c
from domain import events as e
from domain.procedure import FIVE_STEPS, ReviewMethod, Step, StepDeadlines, SubjectKind
from domain.review import SYSTEM_ACTOR, ReviewState, decide, fold, next_wakeup, start
from domain.rubric import CURRENT_RUBRIC_VERSION, SubjectLevel, UnitCategory, rubric

# --------------------------------------------------------------------------
# time and people
# --------------------------------------------------------------------------

T0 = datetime(2010, 12, 7, 9, 0, tzinfo=UTC)
"""The fixed start instant (the day the year-end round was announced)."""

REVIEWER = "p-reviewer"
CO_REVIEWER = "p-co-reviewer"
SUBJECT_LEADER = "p-leader"  # principal leader of an organization subject (levels A, B)
MEMBER = "p-member"  # the member reviewed at level C
SUPERVISOR = "p-supervisor"
STRANGER = "p-stranger"  # takes no part in the review
NEW_REVIEWER = "p-new-reviewer"
SYSTEM = SYSTEM_ACTOR

PEOPLE = (REVIEWER, CO_REVIEWER, SUBJECT_LEADER, MEMBER, SUPERVISOR, STRANGER, NEW_REVIEWER)

ALL_CATEGORIES = tuple(UnitCategory)
ALL_LEVELS = tuple(SubjectLevel)


# --------------------------------------------------------------------------
# specs
# --------------------------------------------------------------------------


def rubric_points_for(level: SubjectLevel, category: UnitCategory, version: str = CURRENT_RUBRIC_VERSION) -> tuple[str, ...]:
    """The codes a review of this subject must cover, read from the rubric data
    (mandatory points first, then the category's focus points)."""
    return tuple(p.code for p in rubric(version).points_for(level, category))


def make_subject(level: SubjectLevel, *, unit_id: str = "u-unit") -> e.Subject:
    """Level A/B: an organization acting through its principal leader
    (``SUBJECT_LEADER``); level C: a member (``MEMBER``)."""
    if level is SubjectLevel.C:
        return e.Subject(kind=SubjectKind.MEMBER, subject_id=MEMBER, unit_id=unit_id, display_name="member")
    return e.Subject(kind=SubjectKind.ORGANIZATION, subject_id=unit_id, unit_id=unit_id, leader_id=SUBJECT_LEADER, display_name="unit")


def make_spec(
    level: SubjectLevel = SubjectLevel.A,
    category: UnitCategory = UnitCategory.LAW_ENFORCEMENT,
    *,
    review_id: str = "rv-1",
    campaign_id: str = "cp-2010-yearend",
    reviewer_id: str = REVIEWER,
    co_reviewer_ids: tuple[str, ...] = (CO_REVIEWER,),
    supervisor_ids: tuple[str, ...] = (SUPERVISOR,),
    deadlines: StepDeadlines | None = None,
    rubric_points: tuple[str, ...] | None = None,
    subject: e.Subject | None = None,
    tier: int = 1,
) -> e.ReviewSpec:
    """A valid spec for a subject of ``level`` in a unit of ``category``; its
    rubric points default to :func:`rubric_points_for`."""
    return e.ReviewSpec(
        review_id=review_id,
        campaign_id=campaign_id,
        subject=subject or make_subject(level),
        level=level,
        unit_category=category,
        tier=tier,
        reviewer_id=reviewer_id,
        co_reviewer_ids=co_reviewer_ids,
        supervisor_ids=supervisor_ids,
        rubric_version=CURRENT_RUBRIC_VERSION,
        rubric_points=rubric_points if rubric_points is not None else rubric_points_for(level, category),
        deadlines=deadlines or StepDeadlines(),
    )


def subject_actor(spec: e.ReviewSpec) -> str:
    """The person who acts for the subject (member, or the organization's leader)."""
    s = spec.subject
    if s.kind is SubjectKind.MEMBER:
        return s.subject_id
    return s.leader_id or s.subject_id


def started_state(spec: e.ReviewSpec | None = None, now: datetime = T0) -> tuple[ReviewState, list[e.DomainEvent]]:
    """``fold(start(spec, now))`` and the start events."""
    evs = start(spec or make_spec(), now)
    return fold(evs), evs


# --------------------------------------------------------------------------
# commands, one builder per command; defaults are valid for the happy path
# --------------------------------------------------------------------------


def evidence(kind: str = "documents", ref: str = "meeting minutes 2010") -> e.EvidenceRef:
    return e.EvidenceRef(kind=kind, reference=ref)


def findings_cmd(codes, *, actor: str = REVIEWER) -> c.RecordFindings:
    """One finding with evidence for each rubric point code in ``codes``."""
    return c.RecordFindings(
        actor_id=actor,
        findings=[c.FindingInput(point_code=code, summary=f"situation of {code} checked on site", evidence=[evidence("site_visit", f"visit {code}")]) for code in codes],
    )


def close_investigation_cmd(*, actor: str = REVIEWER) -> c.CloseInvestigation:
    return c.CloseInvestigation(actor_id=actor)


def opinion(group: str = "members", channel: str = "symposium", respondents: int = 12) -> e.GatheredOpinion:
    return e.GatheredOpinion(channel=channel, respondent_group=group, summary=f"opinions of {group}", respondents=respondents)


def opinions_cmd(*, actor: str = REVIEWER, groups=("members", "public")) -> c.RecordOpinions:
    return c.RecordOpinions(actor_id=actor, opinions=[opinion(g) for g in groups])


def close_opinions_cmd(*, actor: str = REVIEWER) -> c.CloseOpinionSolicitation:
    return c.CloseOpinionSolicitation(actor_id=actor)


CONCRETE_PROBLEM = "学习制度执行不严，集中学习记录不全"


def point_input(code: str, problems=()) -> c.PointAssessmentInput:
    return c.PointAssessmentInput(code=code, achievements=f"{code}: work done and results achieved", problems=list(problems), directions=f"{code}: direction of effort")


def review_cmd(
    codes,
    *,
    problems: dict[str, list[str]] | None = None,
    actor: str = REVIEWER,
    method: ReviewMethod = ReviewMethod.INDIVIDUAL,
) -> c.SubmitReview:
    """A review assessing every code in ``codes``. ``problems`` maps a code to its
    problems; by default the first code gets one concrete problem and the last
    code (if different) another, so the review is not praise-only."""
    codes = list(codes)
    if problems is None:
        problems = {codes[0]: [CONCRETE_PROBLEM]}
        if len(codes) > 1:
            problems[codes[-1]] = [f"{codes[-1]} 工作推进不平衡，整改跟踪不够"]
    return c.SubmitReview(actor_id=actor, method=method, points=[point_input(code, problems.get(code, ())) for code in codes], summary="总体较好，问题需整改")


def circulation_cmd(*, actor: str = REVIEWER) -> c.ConfirmCirculation:
    return c.ConfirmCirculation(actor_id=actor, scope="all members of the unit", means="branch meeting and notice board")


def measure(problem_ids, now: datetime, *, days: int = 14, owner: str = SUBJECT_LEADER, action: str = "整改措施", evidence: str = "") -> c.MeasureInput:
    return c.MeasureInput(problem_ids=list(problem_ids), action=action, owner_id=owner, due_date=now.date() + timedelta(days=days), expected_evidence=evidence)


def plan_cmd(state: ReviewState, now: datetime, *, actor: str | None = None, problem_ids=None) -> c.SubmitRectificationPlan:
    """One measure per problem of the submitted review (or per id in
    ``problem_ids``), due two weeks after ``now``; sent by the subject."""
    ids = list(problem_ids) if problem_ids is not None else [p.problem_id for p in state.problems]
    return c.SubmitRectificationPlan(actor_id=actor or subject_actor(state.spec), measures=[measure([pid], now) for pid in ids])


def accept_plan_cmd(*, actor: str = REVIEWER) -> c.AcceptRectificationPlan:
    return c.AcceptRectificationPlan(actor_id=actor)


def return_plan_cmd(*, actor: str = REVIEWER, reason: str | None = "measures are not specific enough") -> c.ReturnRectificationPlan:
    return c.ReturnRectificationPlan(actor_id=actor, reason=reason)


def progress_cmd(state: ReviewState, *, actor: str | None = None, status: str = "in_progress", measure_ids=None) -> c.ReportProgress:
    ids = list(measure_ids) if measure_ids is not None else [m.measure_id for m in state.measures]
    return c.ReportProgress(actor_id=actor or subject_actor(state.spec), progress=[e.MeasureProgress(measure_id=m, status=status, note="under way") for m in ids])


def report_back_cmd(state: ReviewState, *, actor: str | None = None, measure_ids=None) -> c.ReportBack:
    ids = list(measure_ids) if measure_ids is not None else [m.measure_id for m in state.measures]
    return c.ReportBack(actor_id=actor or subject_actor(state.spec), summary="all measures carried out", results=[e.MeasureProgress(measure_id=m, status="done", note="done") for m in ids])


def evaluate_cmd(outcome: str = "satisfactory", *, actor: str = REVIEWER) -> c.EvaluateReportBack:
    return c.EvaluateReportBack(actor_id=actor, outcome=outcome, comments=f"evaluated: {outcome}")


# supervisor ----------------------------------------------------------------


def reassign_cmd(reviewer_id: str = NEW_REVIEWER, *, actor: str = SUPERVISOR, reason: str | None = "reviewer on long leave") -> c.ReassignReviewer:
    return c.ReassignReviewer(actor_id=actor, reviewer_id=reviewer_id, reason=reason)


def add_co_reviewer_cmd(co_reviewer_id: str = "p-assistant", *, actor: str = SUPERVISOR, reason: str | None = "headquarters assists") -> c.AddCoReviewer:
    return c.AddCoReviewer(actor_id=actor, co_reviewer_id=co_reviewer_id, reason=reason)


def extend_cmd(step: Step, due_at: datetime, *, actor: str = SUPERVISOR, reason: str | None = "year-end workload") -> c.ExtendDeadline:
    return c.ExtendDeadline(actor_id=actor, step=step, due_at=due_at, reason=reason)


def cancel_cmd(*, actor: str = SUPERVISOR, reason: str | None = "subject unit merged") -> c.CancelReview:
    return c.CancelReview(actor_id=actor, reason=reason)


# system --------------------------------------------------------------------


def reminder_cmd(step: Step, *, actor: str = SYSTEM) -> c.SendReminder:
    return c.SendReminder(actor_id=actor, step=step)


def pass_deadline_cmd(step: Step, *, actor: str = SYSTEM) -> c.PassDeadline:
    return c.PassDeadline(actor_id=actor, step=step)


# --------------------------------------------------------------------------
# the happy path, one command at a time
# --------------------------------------------------------------------------


def next_happy_command(state: ReviewState, now: datetime) -> c.Command | None:
    """The command that moves ``state`` one move along the happy path, derived
    from the state (missing findings first, then close; a returned plan is
    resubmitted; a report-back is evaluated ``satisfactory``). ``None`` once the
    review is finished."""
    spec = state.spec
    if spec is None or state.finished:
        return None
    match state.step:
        case Step.INVESTIGATE:
            covered = {f.point_code for f in state.findings}
            missing = [p for p in spec.rubric_points if p not in covered]
            return findings_cmd(missing, actor=spec.reviewer_id) if missing else close_investigation_cmd(actor=spec.reviewer_id)
        case Step.SOLICIT_OPINIONS:
            return close_opinions_cmd(actor=spec.reviewer_id) if state.opinions else opinions_cmd(actor=spec.reviewer_id)
        case Step.REVIEW:
            return review_cmd(spec.rubric_points, actor=spec.reviewer_id)
        case Step.NOTIFY:
            return circulation_cmd(actor=spec.reviewer_id)
        case Step.RECTIFY:
            if state.plan_status in ("awaiting", "returned"):
                return plan_cmd(state, now)
            if state.plan_status == "submitted":
                return accept_plan_cmd(actor=spec.reviewer_id)
            if state.report_back is None:
                return report_back_cmd(state)
            return evaluate_cmd("satisfactory", actor=spec.reviewer_id)
    return None


@dataclass
class ReviewRun:
    """A review driven in memory: the state, every event so far and the clock.
    ``spec`` is the spec it started with; ``state.spec`` is the current one (a
    supervisor may reassign the reviewer or add co-reviewers).

    ``do`` runs ``decide`` then folds the events (raising ``CommandRejected``
    unchanged); ``advance`` moves the clock; ``wake`` runs the timer
    ``next_wakeup`` asks for, at its time, as the workflow would."""

    spec: e.ReviewSpec
    now: datetime = T0
    state: ReviewState = field(default_factory=ReviewState)
    events: list[e.DomainEvent] = field(default_factory=list)

    @classmethod
    def begin(cls, spec: e.ReviewSpec | None = None, now: datetime = T0) -> "ReviewRun":
        spec = spec or make_spec()
        run = cls(spec=spec, now=now)
        run._apply(start(spec, now))
        return run

    def _apply(self, evs: list[e.DomainEvent]) -> list[e.DomainEvent]:
        self.events.extend(evs)
        self.state = fold(evs, self.state)
        return evs

    def do(self, cmd: c.Command) -> list[e.DomainEvent]:
        return self._apply(decide(self.state, cmd, self.now))

    def advance(self, delta: timedelta | None = None, **kw) -> datetime:
        self.now = self.now + (delta if delta is not None else timedelta(**kw))
        return self.now

    def wake(self) -> list[e.DomainEvent]:
        """Jump the clock to the next timer (if later than now) and run its command."""
        w = next_wakeup(self.state)
        if w is None:
            raise AssertionError("no timer pending")
        self.now = max(self.now, w.at)
        return self.do(w.command)

    def step_forward(self, gap: timedelta = timedelta(hours=1)) -> list[e.DomainEvent]:
        """Advance the clock by ``gap`` and run :func:`next_happy_command`."""
        self.advance(gap)
        cmd = next_happy_command(self.state, self.now)
        if cmd is None:
            raise AssertionError(f"review is {self.state.step}; nothing left to do")
        return self.do(cmd)

    def drive_to(self, step: Step, gap: timedelta = timedelta(hours=1)) -> "ReviewRun":
        """Run happy-path commands until the review is at ``step`` (one of the five
        steps, or ``Step.CLOSED``)."""
        order = (*FIVE_STEPS, Step.CLOSED)
        target = order.index(step)
        for _ in range(100):
            if self.state.step is step:
                return self
            if self.state.finished or order.index(self.state.step) > target:
                raise AssertionError(f"went past {step}: at {self.state.step}")
            self.step_forward(gap)
        raise AssertionError(f"did not reach {step}")

    def finish(self, gap: timedelta = timedelta(hours=1)) -> "ReviewRun":
        return self.drive_to(Step.CLOSED, gap)


def drive_to(step: Step, spec: e.ReviewSpec | None = None, now: datetime = T0) -> ReviewRun:
    """A fresh review started at ``now`` and driven along the happy path to ``step``."""
    return ReviewRun.begin(spec, now).drive_to(step)


def run_full_procedure(spec: e.ReviewSpec | None = None, now: datetime = T0, *, return_plan_once: bool = True, needs_more_work_once: bool = True) -> ReviewRun:
    """All five steps to ``Step.CLOSED``: in step 5 the first plan is returned
    and resubmitted, progress is reported, and the first report-back is judged
    ``needs_more_work`` before a second one is ``satisfactory``."""
    run = drive_to(Step.RECTIFY, spec, now)
    run.advance(hours=2)
    run.do(plan_cmd(run.state, run.now))
    if return_plan_once:
        run.advance(hours=2)
        run.do(return_plan_cmd(actor=run.state.spec.reviewer_id))
        run.advance(hours=2)
        run.do(plan_cmd(run.state, run.now))
    run.advance(hours=2)
    run.do(accept_plan_cmd(actor=run.state.spec.reviewer_id))
    run.advance(days=3)
    run.do(progress_cmd(run.state))
    run.advance(days=3)
    run.do(report_back_cmd(run.state))
    if needs_more_work_once:
        run.advance(hours=5)
        run.do(evaluate_cmd("needs_more_work", actor=run.state.spec.reviewer_id))
        run.advance(days=2)
        run.do(progress_cmd(run.state, status="done"))
        run.advance(hours=5)
        run.do(report_back_cmd(run.state))
    run.advance(hours=5)
    run.do(evaluate_cmd("satisfactory", actor=run.state.spec.reviewer_id))
    return run

