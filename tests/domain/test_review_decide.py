"""The review decider, example by example: the happy path through the five
steps, every rejection (its field and its reason), and time (reminders,
deadlines, extensions). Pure: no Temporal, no database."""

from __future__ import annotations

from datetime import timedelta

import pytest
from pydantic import ValidationError

from domain import commands as c
from domain import events as e
from domain.errors import CommandRejected
from domain.procedure import FIVE_STEPS, Role, Step, StepDeadlines, next_step
from domain.review import (
    ALLOWED,
    PRAISE_ONLY,
    REASON_REQUIRED,
    ReviewState,
    decide,
    fold,
    next_wakeup,
    reminder_at,
    start,
    who_must_act,
)
from domain.problem_text import MIN_PROBLEM_CHARS
from domain.rubric import SubjectLevel, UnitCategory, rubric
from review_builders import (
    ALL_CATEGORIES,
    ALL_LEVELS,
    CO_REVIEWER,
    CONCRETE_PROBLEM,
    MEMBER,
    NEW_REVIEWER,
    REVIEWER,
    STRANGER,
    SUBJECT_LEADER,
    SUPERVISOR,
    SYSTEM,
    T0,
    ReviewRun,
    accept_plan_cmd,
    add_co_reviewer_cmd,
    cancel_cmd,
    circulation_cmd,
    close_investigation_cmd,
    close_opinions_cmd,
    drive_to,
    evaluate_cmd,
    extend_cmd,
    findings_cmd,
    make_spec,
    make_subject,
    measure,
    opinions_cmd,
    pass_deadline_cmd,
    plan_cmd,
    progress_cmd,
    reassign_cmd,
    reminder_cmd,
    report_back_cmd,
    return_plan_cmd,
    review_cmd,
    rubric_points_for,
    run_full_procedure,
    started_state,
    subject_actor,
)


def rejection(state: ReviewState, cmd, now) -> CommandRejected:
    """Assert ``decide`` rejects ``cmd`` and leaves ``state`` exactly as it was."""
    before = state.model_copy(deep=True)
    with pytest.raises(CommandRejected) as info:
        decide(state, cmd, now)
    assert state == before
    err = info.value
    assert err.reason.strip(), "a rejection must say why"
    assert err.as_dict() == {"field": err.field, "reason": err.reason, "code": err.code}
    return err


def kinds(evs) -> list[type]:
    return [type(ev) for ev in evs]


# --------------------------------------------------------------------------
# start
# --------------------------------------------------------------------------


def test_start_opens_the_first_step_with_its_deadline():
    spec = make_spec()
    evs = start(spec, T0)
    assert kinds(evs) == [e.ReviewStarted, e.StepStarted]
    assert evs[1].step is FIVE_STEPS[0] is Step.INVESTIGATE
    assert evs[1].due_at == T0 + spec.deadlines.investigate
    assert all(ev.actor_role is Role.SYSTEM and ev.occurred_at == T0 for ev in evs)
    state = fold(evs)
    assert state.step is Step.INVESTIGATE and state.spec == spec and state.version == 2
    assert state.started_at == T0 and state.current_due() == T0 + spec.deadlines.investigate


def test_start_refuses_a_point_that_is_not_in_the_rubric():
    spec = make_spec(rubric_points=(*rubric_points_for(SubjectLevel.A, UnitCategory.OTHER), "ZZ9"))
    with pytest.raises(CommandRejected) as info:
        start(spec, T0)
    assert info.value.field == "rubric_points" and "ZZ9" in info.value.reason


@pytest.mark.parametrize("level", ALL_LEVELS)
def test_start_refuses_a_reviewer_who_is_the_subject(level):
    subject = make_subject(level)
    me = MEMBER if level is SubjectLevel.C else SUBJECT_LEADER
    with pytest.raises(CommandRejected) as info:
        start(make_spec(level, reviewer_id=me, subject=subject), T0)
    assert info.value.field == "reviewer_id" and "nobody reviews themselves" in info.value.reason


def test_start_refuses_a_co_reviewer_who_is_the_subject():
    with pytest.raises(CommandRejected) as info:
        start(make_spec(SubjectLevel.A, co_reviewer_ids=(SUBJECT_LEADER,)), T0)
    assert info.value.field == "co_reviewer_ids"


@pytest.mark.parametrize("drop", ["A4", "LE1"])
def test_start_refuses_a_spec_that_omits_a_required_point(drop):
    required = rubric_points_for(SubjectLevel.A, UnitCategory.LAW_ENFORCEMENT)
    assert drop in required
    spec = make_spec(SubjectLevel.A, UnitCategory.LAW_ENFORCEMENT, rubric_points=tuple(p for p in required if p != drop))
    with pytest.raises(CommandRejected) as info:
        start(spec, T0)
    assert info.value.field == "rubric_points"


def test_decide_refuses_a_review_that_was_never_started():
    err = rejection(ReviewState(), close_investigation_cmd(), T0)
    assert err.field == "review_id"


@pytest.mark.parametrize("level", ALL_LEVELS)
@pytest.mark.parametrize("category", ALL_CATEGORIES)
def test_spec_points_are_the_rubrics_mandatory_and_focus_points(level, category):
    rb = rubric()
    pts = rubric_points_for(level, category)
    mandatory = [p.code for p in rb.points if p.level == level]
    assert len(mandatory) == 5 and pts[:5] == tuple(mandatory)
    focus = [p.code for p in rb.points if p.category == category] if level in rb.focus_levels else []
    assert pts[5:] == tuple(focus)


# --------------------------------------------------------------------------
# the happy path
# --------------------------------------------------------------------------


@pytest.mark.parametrize("level", ALL_LEVELS)
@pytest.mark.parametrize("category", ALL_CATEGORIES)
def test_full_procedure_closes_for_every_level_and_category(level, category):
    spec = make_spec(level, category)
    run = run_full_procedure(spec)
    s = run.state
    assert s.step is Step.CLOSED and s.finished and s.closed_at == run.now
    assert next_wakeup(s) is None
    started = [ev.step for ev in run.events if isinstance(ev, e.StepStarted)]
    assert tuple(started) == FIVE_STEPS
    assert s.version == len(run.events)
    assert fold(run.events) == s
    assert {f.point_code for f in s.findings} == set(spec.rubric_points)
    assert [a.code for a in s.assessments] == list(spec.rubric_points)
    assert s.plan_version == 2 and s.plan_status == "accepted"
    assert [ev["outcome"] for ev in s.evaluations] == ["needs_more_work", "satisfactory"]
    assert {m.measure_id for m in s.measures} == set(s.progress)
    assert all(p.status == "done" for p in s.progress.values())
    assert isinstance(run.events[-1], e.ReviewClosed)


def test_happy_path_step_by_step():
    spec = make_spec(SubjectLevel.B, UnitCategory.WINDOW_SERVICE)
    run = ReviewRun.begin(spec)
    points = spec.rubric_points

    # 1 investigate: co-reviewer and reviewer both contribute findings
    run.advance(hours=3)
    evs = run.do(findings_cmd(points[:2], actor=CO_REVIEWER))
    assert kinds(evs) == [e.FindingsRecorded]
    assert evs[0].actor_role is Role.CO_REVIEWER and {f.recorded_by for f in evs[0].findings} == {CO_REVIEWER}
    run.do(findings_cmd(points[2:]))
    assert [f.point_code for f in run.state.findings] == list(points)
    run.advance(hours=1)
    evs = run.do(close_investigation_cmd())
    assert kinds(evs) == [e.InvestigationClosed, e.StepStarted]
    assert evs[1].step is next_step(Step.INVESTIGATE) is Step.SOLICIT_OPINIONS
    assert evs[1].due_at == run.now + spec.deadlines.solicit_opinions
    assert run.state.step_started_at[Step.SOLICIT_OPINIONS] == run.now

    # 2 solicit opinions
    run.do(opinions_cmd(actor=CO_REVIEWER, groups=("members",)))
    run.do(opinions_cmd(groups=("public", "service_recipients", "supervising_department")))
    assert len(run.state.opinions) == 4
    run.advance(days=1)
    evs = run.do(close_opinions_cmd())
    assert kinds(evs) == [e.OpinionSolicitationClosed, e.StepStarted]
    assert evs[0].by_deadline is False and evs[0].opinion_count == 4
    assert evs[1].step is Step.REVIEW and evs[1].due_at == run.now + spec.deadlines.review

    # 3 review: problems numbered in the order they are written
    problems = {points[0]: ["学习制度执行不严格", "学习记录不完整不规范"], points[3]: ["公开承诺未按期兑现"]}
    evs = run.do(review_cmd(points, problems=problems))
    assert kinds(evs) == [e.ReviewSubmitted, e.StepStarted]
    expected = [(pt, txt) for pt in points for txt in problems.get(pt, [])]
    assert [(p.point_code, p.text) for p in evs[0].problems] == expected
    assert [p.problem_id for p in evs[0].problems] == [f"P{i}" for i in range(1, len(expected) + 1)]
    assert run.state.method == "individual" and evs[1].step is Step.NOTIFY

    # 4 notify
    evs = run.do(circulation_cmd())
    assert kinds(evs) == [e.CirculationConfirmed, e.StepStarted]
    assert evs[1].step is Step.RECTIFY and evs[1].due_at == run.now + spec.deadlines.rectify
    assert run.state.circulation == {"scope": circulation_cmd().scope, "means": circulation_cmd().means}
    assert run.state.plan_status == "awaiting"

    # 5 rectify: plan returned, resubmitted, accepted; progress; report back twice
    evs = run.do(plan_cmd(run.state, run.now))
    assert kinds(evs) == [e.RectificationPlanSubmitted] and evs[0].plan_version == 1
    assert [m.measure_id for m in run.state.measures] == [f"M{i}" for i in range(1, len(expected) + 1)]
    assert run.state.plan_status == "submitted"
    evs = run.do(return_plan_cmd())
    assert kinds(evs) == [e.RectificationPlanReturned] and evs[0].plan_version == 1
    assert run.state.plan_status == "returned" and evs[0].reason
    # resubmitted plan: one measure covering all problems
    all_ids = [p.problem_id for p in run.state.problems]
    evs = run.do(c.SubmitRectificationPlan(actor_id=SUBJECT_LEADER, measures=[measure(all_ids, run.now)]))
    assert evs[0].plan_version == 2 and [m.measure_id for m in run.state.measures] == ["M1"]
    evs = run.do(accept_plan_cmd())
    assert kinds(evs) == [e.RectificationPlanAccepted] and evs[0].plan_version == 2
    run.advance(days=5)
    run.do(progress_cmd(run.state))
    assert run.state.progress["M1"].status == "in_progress"
    run.do(report_back_cmd(run.state))
    assert run.state.report_back == "all measures carried out"
    evs = run.do(evaluate_cmd("needs_more_work"))
    assert kinds(evs) == [e.ReportBackEvaluated]
    assert run.state.step is Step.RECTIFY and run.state.report_back is None
    run.do(progress_cmd(run.state, status="done"))
    run.do(report_back_cmd(run.state))
    run.advance(days=1)
    evs = run.do(evaluate_cmd("satisfactory"))
    assert kinds(evs) == [e.ReportBackEvaluated, e.ReviewClosed]
    assert run.state.step is Step.CLOSED and run.state.closed_at == run.now


def test_member_subject_acts_for_itself():
    spec = make_spec(SubjectLevel.C, UnitCategory.OTHER)
    run = drive_to(Step.RECTIFY, spec)
    assert subject_actor(spec) == MEMBER
    evs = run.do(plan_cmd(run.state, run.now, actor=MEMBER))
    assert evs[0].actor_role is Role.SUBJECT
    err = rejection(run.state, accept_plan_cmd(actor=MEMBER), run.now)
    assert err.field == "actor_id"


def test_organization_without_leader_acts_through_its_own_id():
    subject = e.Subject(kind=make_subject(SubjectLevel.B).kind, subject_id="u-branch", unit_id="u-branch", leader_id=None)
    run = drive_to(Step.RECTIFY, make_spec(SubjectLevel.B, subject=subject))
    assert run.do(plan_cmd(run.state, run.now, actor="u-branch"))[0].actor_role is Role.SUBJECT


def test_events_carry_actor_role_and_time():
    run = run_full_procedure(make_spec())
    by_actor = {(ev.actor_id, ev.actor_role) for ev in run.events}
    assert (REVIEWER, Role.REVIEWER) in by_actor and (SUBJECT_LEADER, Role.SUBJECT) in by_actor
    times = [ev.occurred_at for ev in run.events]
    assert times == sorted(times) and times[0] == T0 and run.state.last_event_at == times[-1]


# --------------------------------------------------------------------------
# who may act
# --------------------------------------------------------------------------


def _at(step: Step) -> ReviewRun:
    return drive_to(step, make_spec(SubjectLevel.A, UnitCategory.LAW_ENFORCEMENT))


WRONG_ACTORS = [
    # (step, command builder taking the run, acting person, the role the reason names)
    (Step.REVIEW, lambda r: review_cmd(r.spec.rubric_points, actor=SUBJECT_LEADER), "reviewer"),
    (Step.REVIEW, lambda r: review_cmd(r.spec.rubric_points, actor=CO_REVIEWER), "reviewer"),
    (Step.REVIEW, lambda r: review_cmd(r.spec.rubric_points, actor=STRANGER), "reviewer"),
    (Step.REVIEW, lambda r: review_cmd(r.spec.rubric_points, actor=SUPERVISOR), "reviewer"),
    (Step.REVIEW, lambda r: review_cmd(r.spec.rubric_points, actor=SYSTEM), "reviewer"),
    (Step.INVESTIGATE, lambda r: close_investigation_cmd(actor=CO_REVIEWER), "reviewer"),
    (Step.INVESTIGATE, lambda r: findings_cmd(r.spec.rubric_points, actor=STRANGER), "co_reviewer or reviewer"),
    (Step.INVESTIGATE, lambda r: findings_cmd(r.spec.rubric_points, actor=SUBJECT_LEADER), "co_reviewer or reviewer"),
    (Step.SOLICIT_OPINIONS, lambda r: close_opinions_cmd(actor=CO_REVIEWER), "reviewer"),
    (Step.SOLICIT_OPINIONS, lambda r: opinions_cmd(actor=SUBJECT_LEADER), "co_reviewer or reviewer"),
    (Step.NOTIFY, lambda r: circulation_cmd(actor=CO_REVIEWER), "reviewer"),
    (Step.RECTIFY, lambda r: plan_cmd(r.state, r.now, actor=REVIEWER), "subject"),
    (Step.RECTIFY, lambda r: plan_cmd(r.state, r.now, actor=STRANGER), "subject"),
    (Step.RECTIFY, lambda r: cancel_cmd(actor=REVIEWER), "supervisor"),
    (Step.RECTIFY, lambda r: cancel_cmd(actor=SUBJECT_LEADER), "supervisor"),
    (Step.INVESTIGATE, lambda r: extend_cmd(Step.INVESTIGATE, r.now + timedelta(days=30), actor=REVIEWER), "supervisor"),
    (Step.INVESTIGATE, lambda r: reassign_cmd(actor=CO_REVIEWER), "supervisor"),
    (Step.INVESTIGATE, lambda r: add_co_reviewer_cmd(actor=SUBJECT_LEADER), "supervisor"),
]


@pytest.mark.parametrize("step,build,role", WRONG_ACTORS)
def test_wrong_actor_is_refused_on_actor_id(step, build, role):
    run = _at(step)
    cmd = build(run)
    err = rejection(run.state, cmd, run.now)
    assert err.field == "actor_id"
    assert repr(cmd.actor_id) in err.reason and f"only the {role} of this review may" in err.reason


def test_subject_plan_steps_refused_to_reviewer_and_reviewer_steps_to_subject():
    run = _at(Step.RECTIFY)
    run.do(plan_cmd(run.state, run.now))
    for cmd in (accept_plan_cmd(actor=SUBJECT_LEADER), return_plan_cmd(actor=SUBJECT_LEADER), accept_plan_cmd(actor=CO_REVIEWER)):
        assert rejection(run.state, cmd, run.now).field == "actor_id"
    run.do(accept_plan_cmd())
    for cmd in (progress_cmd(run.state, actor=REVIEWER), report_back_cmd(run.state, actor=REVIEWER)):
        assert rejection(run.state, cmd, run.now).field == "actor_id"
    run.do(report_back_cmd(run.state))
    assert rejection(run.state, evaluate_cmd(actor=SUBJECT_LEADER), run.now).field == "actor_id"


def test_the_roles_table_names_every_command():
    assert set(ALLOWED) == set(c.HUMAN_COMMANDS) | {"send_reminder", "pass_deadline", "record_engine_cancellation"}
    assert REASON_REQUIRED <= set(ALLOWED)


# --------------------------------------------------------------------------
# wrong step
# --------------------------------------------------------------------------

STEP_COMMANDS = {
    Step.INVESTIGATE: lambda r: close_investigation_cmd(),
    Step.SOLICIT_OPINIONS: lambda r: close_opinions_cmd(),
    Step.REVIEW: lambda r: review_cmd(r.spec.rubric_points),
    Step.NOTIFY: lambda r: circulation_cmd(),
    Step.RECTIFY: lambda r: c.SubmitRectificationPlan(actor_id=SUBJECT_LEADER, measures=[measure(["P1"], r.now)]),
}


@pytest.mark.parametrize("at,belongs", [(a, b) for a in FIVE_STEPS for b in FIVE_STEPS if a is not b])
def test_a_command_of_another_step_is_refused_on_kind(at, belongs):
    run = _at(at)
    cmd = STEP_COMMANDS[belongs](run)
    err = rejection(run.state, cmd, run.now)
    assert err.field == "kind"
    assert belongs.value in err.reason and at.value in err.reason


def test_findings_are_refused_once_the_investigation_is_closed():
    run = _at(Step.SOLICIT_OPINIONS)
    assert rejection(run.state, findings_cmd(run.spec.rubric_points[:1]), run.now).field == "kind"


# --------------------------------------------------------------------------
# step 1: investigate
# --------------------------------------------------------------------------


def test_findings_for_an_unknown_point_name_its_index():
    run = _at(Step.INVESTIGATE)
    codes = [run.spec.rubric_points[0], "C1", run.spec.rubric_points[1]]  # C1 is a member point, not level A
    err = rejection(run.state, findings_cmd(codes), run.now)
    assert err.field == "findings.1.point_code" and "'C1'" in err.reason


@pytest.mark.parametrize("missing", ["A2", "LE4"])
def test_closing_the_investigation_needs_a_finding_for_every_point(missing):
    run = _at(Step.INVESTIGATE)
    assert missing in run.spec.rubric_points
    run.do(findings_cmd([p for p in run.spec.rubric_points if p != missing]))
    err = rejection(run.state, close_investigation_cmd(), run.now)
    assert err.field == "findings" and missing in err.reason
    run.do(findings_cmd([missing], actor=CO_REVIEWER))
    assert run.do(close_investigation_cmd())[-1].step is Step.SOLICIT_OPINIONS


def test_closing_without_any_finding_lists_every_point():
    run = _at(Step.INVESTIGATE)
    err = rejection(run.state, close_investigation_cmd(), run.now)
    assert err.field == "findings" and all(p in err.reason for p in run.spec.rubric_points)


def test_opinions_may_be_closed_with_none_gathered():
    run = _at(Step.SOLICIT_OPINIONS)
    evs = run.do(close_opinions_cmd())
    assert evs[0].opinion_count == 0 and evs[0].by_deadline is False


# --------------------------------------------------------------------------
# step 3: the review itself
# --------------------------------------------------------------------------


@pytest.mark.parametrize("missing", ["A1", "A5", "LE2"])
def test_review_must_cover_every_point_item_by_item(missing):
    run = _at(Step.REVIEW)
    codes = [p for p in run.spec.rubric_points if p != missing]
    err = rejection(run.state, review_cmd(codes), run.now)
    assert err.field == "points"
    assert missing in err.reason and rubric().point(missing).text_zh in err.reason and "逐条点评" in err.reason


@pytest.mark.parametrize("category,focus", [(UnitCategory.TECHNICAL_INSTITUTION, "TI3"), (UnitCategory.WINDOW_SERVICE, "WS2")])
def test_review_must_cover_the_category_focus_points(category, focus):
    run = drive_to(Step.REVIEW, make_spec(SubjectLevel.B, category))
    assert focus in run.spec.rubric_points
    err = rejection(run.state, review_cmd([p for p in run.spec.rubric_points if p != focus]), run.now)
    assert err.field == "points" and focus in err.reason


@pytest.mark.parametrize("bad", ["C1", "ZZ9", "WS1"])
def test_review_refuses_a_point_that_is_not_this_reviews(bad):
    run = _at(Step.REVIEW)  # level A, law enforcement: no C points, no window-service points
    assert bad not in run.spec.rubric_points
    codes = [*run.spec.rubric_points[:3], bad, *run.spec.rubric_points[3:]]
    err = rejection(run.state, review_cmd(codes), run.now)
    assert err.field == "points.3.code" and repr(bad) in err.reason


def test_review_refuses_a_point_assessed_twice():
    run = _at(Step.REVIEW)
    pts = run.spec.rubric_points
    codes = [*pts[:4], pts[1], *pts[4:]]
    err = rejection(run.state, review_cmd(codes), run.now)
    assert err.field == "points.4.code" and "twice" in err.reason and "points.1" in err.reason


def test_a_praise_only_review_is_refused():
    run = _at(Step.REVIEW)
    err = rejection(run.state, review_cmd(run.spec.rubric_points, problems={}), run.now)
    assert err.field == "points" and "不能只写操行评语" in err.reason


PLACEHOLDERS = ("无", "暂无", "没有", "没有问题", "无问题", "未发现问题", "未发现", "良好", "很好", "好", "暂无问题", "无明显问题",
                "未发现明显问题", "没有明显问题", "无明显不足", "暂未发现问题", "none", "no", "n/a", "na", "nil", "nothing",
                "no problem", "no problems", "no issue", "no issues", "none found", "nothing found", "-", "—", "/")
"""What the first version refused as a word list; the lexicon must still."""


def _placeholder_variants():
    out = []
    for phrase in PLACEHOLDERS:
        out += [phrase, f" {phrase.upper()}。", f"{phrase}!"]
    return out


@pytest.mark.parametrize("placeholder", _placeholder_variants())
def test_placeholder_problems_are_refused_naming_the_problem(placeholder):
    run = _at(Step.REVIEW)
    pts = run.spec.rubric_points
    problems = {pts[0]: [CONCRETE_PROBLEM], pts[2]: [CONCRETE_PROBLEM, placeholder]}
    err = rejection(run.state, review_cmd(pts, problems=problems), run.now)
    assert err.field == "points.2.problems.1" and "not a concrete problem" in err.reason
    assert err.reason.startswith(f"{pts[2]}: ") and PRAISE_ONLY in err.reason


@pytest.mark.parametrize("short", ["差", "不好", "有欠缺"[: MIN_PROBLEM_CHARS - 1], "bad"])
def test_too_short_problems_are_refused(short):
    assert len(short) < MIN_PROBLEM_CHARS
    run = _at(Step.REVIEW)
    pts = run.spec.rubric_points
    err = rejection(run.state, review_cmd(pts, problems={pts[1]: [short]}), run.now)
    assert err.field == "points.1.problems.0"


@pytest.mark.parametrize("placeholder", ["暂无问题", "无明显问题", "未发现明显问题", "no issues", "none found"])
def test_more_placeholder_phrases_are_refused(placeholder):
    run = _at(Step.REVIEW)
    pts = run.spec.rubric_points
    with pytest.raises(CommandRejected) as info:
        decide(run.state, review_cmd(pts, problems={pts[0]: [placeholder]}), run.now)
    assert info.value.field == "points.0.problems.0"


def test_a_review_with_problems_on_only_one_point_is_accepted():
    run = _at(Step.REVIEW)
    pts = run.spec.rubric_points
    evs = run.do(review_cmd(pts, problems={pts[-1]: ["执法文书不规范，案卷归档滞后"]}))
    assert [(p.problem_id, p.point_code) for p in evs[0].problems] == [("P1", pts[-1])]


# --------------------------------------------------------------------------
# step 5: rectification plan, progress, report-back
# --------------------------------------------------------------------------


def _rectify_with_problems(n_points: int = 3) -> ReviewRun:
    run = ReviewRun.begin(make_spec(SubjectLevel.A, UnitCategory.OTHER))
    run.drive_to(Step.REVIEW)
    pts = run.spec.rubric_points
    run.do(review_cmd(pts, problems={pts[i]: [f"{pts[i]} 存在的具体问题"] for i in range(n_points)}))
    run.drive_to(Step.RECTIFY)
    assert [p.problem_id for p in run.state.problems] == [f"P{i + 1}" for i in range(n_points)]
    return run


def test_plan_measure_for_an_unknown_problem_names_it():
    run = _rectify_with_problems()
    cmd = c.SubmitRectificationPlan(actor_id=SUBJECT_LEADER, measures=[measure(["P1", "P2"], run.now), measure(["P3", "P7"], run.now)])
    err = rejection(run.state, cmd, run.now)
    assert err.field == "measures.1.problem_ids" and "'P7'" in err.reason


def test_plan_must_cover_every_problem():
    run = _rectify_with_problems()
    err = rejection(run.state, plan_cmd(run.state, run.now, problem_ids=["P1", "P3"]), run.now)
    assert err.field == "measures" and "P2" in err.reason and "P1" not in err.reason


def test_measure_due_in_the_past_is_refused_but_today_is_fine():
    run = _rectify_with_problems()
    cmd = c.SubmitRectificationPlan(actor_id=SUBJECT_LEADER, measures=[measure(["P1", "P2"], run.now), measure(["P3"], run.now, days=-1)])
    err = rejection(run.state, cmd, run.now)
    assert err.field == "measures.1.due_date" and "past" in err.reason
    today = c.SubmitRectificationPlan(actor_id=SUBJECT_LEADER, measures=[measure(["P1", "P2", "P3"], run.now, days=0)])
    assert run.do(today)[0].measures[0].due_date == run.now.date()


def test_a_measure_carries_its_expected_evidence_into_the_event_and_the_state():
    run = _rectify_with_problems()
    cmd = c.SubmitRectificationPlan(actor_id=SUBJECT_LEADER, measures=[measure(["P1", "P2"], run.now, evidence="  修订后的制度文本  "), measure(["P3"], run.now)])
    evs = run.do(cmd)
    assert [m.expected_evidence for m in evs[0].measures] == ["修订后的制度文本", ""]  # stripped; optional
    assert [m.expected_evidence for m in run.state.measures] == ["修订后的制度文本", ""]
    assert evs[0].measures[0].action == "整改措施"  # no longer appended to the action's text
    assert evs[0].payload()["measures"][0]["expected_evidence"] == "修订后的制度文本"
    with pytest.raises(ValidationError) as err:
        measure(["P1"], run.now, evidence="x" * 4001)
    assert err.value.errors()[0]["loc"] == ("expected_evidence",)


def test_a_stored_v1_plan_without_expected_evidence_still_folds():
    """Plans recorded before the field existed: schema v1, no key in the payload."""
    run = _rectify_with_problems()
    evs = run.do(plan_cmd(run.state, run.now))
    rec = e.to_record("rv-old", run.state.version, evs[0])
    assert rec.schema_version == 2
    v1 = {**rec.payload, "measures": [{k: v for k, v in m.items() if k != "expected_evidence"} for m in rec.payload["measures"]]}
    old = e.from_record(rec.model_copy(update={"schema_version": 1, "payload": v1}))
    assert isinstance(old, e.RectificationPlanSubmitted) and old.measures and all(m.expected_evidence == "" for m in old.measures)
    before = run.state.model_copy(update={"plan_status": "awaiting", "plan_version": 0, "measures": []})
    assert fold([old], before).measures == list(old.measures)
    assert [m.action for m in old.measures] == [m.action for m in evs[0].measures]


def test_plan_cannot_be_submitted_twice_or_after_acceptance():
    run = _rectify_with_problems()
    run.do(plan_cmd(run.state, run.now))
    err = rejection(run.state, plan_cmd(run.state, run.now), run.now)
    assert err.field == "kind" and "submitted" in err.reason
    run.do(accept_plan_cmd())
    err = rejection(run.state, plan_cmd(run.state, run.now), run.now)
    assert err.field == "kind" and "accepted" in err.reason


@pytest.mark.parametrize("status_setup", ["awaiting", "returned", "accepted"])
@pytest.mark.parametrize("verb", ["accept", "return"])
def test_only_a_submitted_plan_can_be_accepted_or_returned(status_setup, verb):
    run = _rectify_with_problems()
    if status_setup != "awaiting":
        run.do(plan_cmd(run.state, run.now))
        run.do(accept_plan_cmd() if status_setup == "accepted" else return_plan_cmd())
    assert run.state.plan_status == status_setup
    cmd = accept_plan_cmd() if verb == "accept" else return_plan_cmd()
    err = rejection(run.state, cmd, run.now)
    assert err.field == "kind" and status_setup in err.reason and "submitted" in err.reason


def test_progress_and_report_back_need_an_accepted_plan():
    run = _rectify_with_problems()
    run.do(plan_cmd(run.state, run.now))
    for cmd in (progress_cmd(run.state), report_back_cmd(run.state)):
        err = rejection(run.state, cmd, run.now)
        assert err.field == "kind" and "accepted" in err.reason


def test_progress_for_an_unknown_measure_names_it():
    run = _rectify_with_problems()
    run.do(plan_cmd(run.state, run.now))
    run.do(accept_plan_cmd())
    err = rejection(run.state, progress_cmd(run.state, measure_ids=["M1", "M9"]), run.now)
    assert err.field == "progress.1.measure_id" and "'M9'" in err.reason


def test_report_back_must_cover_every_measure():
    run = _rectify_with_problems()
    run.do(plan_cmd(run.state, run.now))
    run.do(accept_plan_cmd())
    ids = [m.measure_id for m in run.state.measures]
    err = rejection(run.state, report_back_cmd(run.state, measure_ids=ids[:1] + ids[2:]), run.now)
    assert err.field == "results" and ids[1] in err.reason
    err = rejection(run.state, report_back_cmd(run.state, measure_ids=[*ids, "M42"]), run.now)
    assert err.field == f"results.{len(ids)}.measure_id"


def test_report_back_waits_for_the_evaluation():
    run = _rectify_with_problems()
    run.do(plan_cmd(run.state, run.now))
    run.do(accept_plan_cmd())
    run.do(report_back_cmd(run.state))
    for cmd in (report_back_cmd(run.state), progress_cmd(run.state)):
        assert rejection(run.state, cmd, run.now).field == "kind"


def test_evaluation_needs_a_report_back():
    run = _rectify_with_problems()
    run.do(plan_cmd(run.state, run.now))
    run.do(accept_plan_cmd())
    err = rejection(run.state, evaluate_cmd(), run.now)
    assert err.field == "kind" and "report-back" in err.reason
    run.do(report_back_cmd(run.state))
    run.do(evaluate_cmd("needs_more_work"))
    assert rejection(run.state, evaluate_cmd(), run.now).field == "kind"


# --------------------------------------------------------------------------
# supervisor commands
# --------------------------------------------------------------------------

NEEDS_REASON = {
    "return_rectification_plan": lambda r, reason: return_plan_cmd(reason=reason),
    "reassign_reviewer": lambda r, reason: reassign_cmd(reason=reason),
    "add_co_reviewer": lambda r, reason: add_co_reviewer_cmd(reason=reason),
    "extend_deadline": lambda r, reason: extend_cmd(Step.RECTIFY, r.now + timedelta(days=90), reason=reason),
    "cancel_review": lambda r, reason: cancel_cmd(reason=reason),
}


def test_the_reason_table_is_covered():
    assert set(NEEDS_REASON) == set(REASON_REQUIRED)


@pytest.mark.parametrize("kind", sorted(NEEDS_REASON))
@pytest.mark.parametrize("reason", [None, "", "   "])
def test_commands_that_need_a_reason_refuse_without_one(kind, reason):
    run = _rectify_with_problems()
    run.do(plan_cmd(run.state, run.now))
    err = rejection(run.state, NEEDS_REASON[kind](run, reason), run.now)
    assert err.field == "reason" and kind in err.reason
    evs = run.do(NEEDS_REASON[kind](run, "  a real reason  "))
    assert evs[0].reason == "a real reason"


@pytest.mark.parametrize("level", ALL_LEVELS)
def test_reassigning_to_the_subject_is_refused(level):
    run = drive_to(Step.REVIEW, make_spec(level))
    err = rejection(run.state, reassign_cmd(subject_actor(run.spec)), run.now)
    assert err.field == "reviewer_id" and "nobody reviews themselves" in err.reason


def test_reassigning_to_the_current_reviewer_is_refused():
    run = _at(Step.REVIEW)
    assert rejection(run.state, reassign_cmd(REVIEWER), run.now).field == "reviewer_id"


def test_reassigned_reviewer_takes_over_and_the_old_one_may_not_act():
    run = _at(Step.REVIEW)
    evs = run.do(reassign_cmd(NEW_REVIEWER))
    assert kinds(evs) == [e.ReviewerReassigned] and evs[0].previous_reviewer_id == REVIEWER
    assert run.state.reviewer_id == NEW_REVIEWER
    assert rejection(run.state, review_cmd(run.spec.rubric_points, actor=REVIEWER), run.now).field == "actor_id"
    assert run.do(review_cmd(run.spec.rubric_points, actor=NEW_REVIEWER))[0].actor_role is Role.REVIEWER


@pytest.mark.parametrize("who,why", [(SUBJECT_LEADER, "nobody reviews themselves"), (CO_REVIEWER, "already"), (REVIEWER, "already")])
def test_adding_a_co_reviewer_is_refused_for_the_subject_and_existing_reviewers(who, why):
    run = _at(Step.INVESTIGATE)
    err = rejection(run.state, add_co_reviewer_cmd(who), run.now)
    assert err.field == "co_reviewer_id" and why in err.reason


def test_added_co_reviewer_may_record_findings_but_not_close():
    run = _at(Step.INVESTIGATE)
    run.do(add_co_reviewer_cmd("p-assistant"))
    assert run.state.spec.co_reviewer_ids == (CO_REVIEWER, "p-assistant")
    run.do(findings_cmd(run.spec.rubric_points, actor="p-assistant"))
    assert rejection(run.state, close_investigation_cmd(actor="p-assistant"), run.now).field == "actor_id"


def test_extend_deadline_must_move_it_later():
    run = _at(Step.REVIEW)
    due = run.state.current_due()
    for earlier in (due - timedelta(hours=1), due):
        err = rejection(run.state, extend_cmd(Step.REVIEW, earlier), run.now)
        assert err.field == "due_at" and "does not extend" in err.reason
    err = rejection(run.state, extend_cmd(Step.REVIEW, run.now - timedelta(minutes=1)), run.now)
    assert err.field == "due_at" and "not in the future" in err.reason
    evs = run.do(extend_cmd(Step.REVIEW, due + timedelta(days=2)))
    assert kinds(evs) == [e.DeadlineExtended] and run.state.current_due() == due + timedelta(days=2)


@pytest.mark.parametrize("past", [Step.INVESTIGATE, Step.SOLICIT_OPINIONS])
def test_extend_deadline_of_a_finished_step_is_refused(past):
    run = _at(Step.REVIEW)
    err = rejection(run.state, extend_cmd(past, run.now + timedelta(days=30)), run.now)
    assert err.field == "step" and "already done" in err.reason


@pytest.mark.parametrize("end", [Step.CLOSED, Step.CANCELLED])
def test_extend_deadline_of_an_end_state_is_refused(end):
    run = _at(Step.REVIEW)
    assert rejection(run.state, extend_cmd(end, run.now + timedelta(days=30)), run.now).field == "step"


def test_naive_extension_is_read_in_the_clock_zone():
    run = _at(Step.INVESTIGATE)
    naive = (run.state.current_due() + timedelta(days=1)).replace(tzinfo=None)
    evs = run.do(extend_cmd(Step.INVESTIGATE, naive))
    assert evs[0].due_at == naive.replace(tzinfo=run.now.tzinfo) and evs[0].due_at.tzinfo is not None


def test_cancel_ends_the_review():
    run = _at(Step.NOTIFY)
    evs = run.do(cancel_cmd(reason="unit dissolved"))
    assert kinds(evs) == [e.ReviewCancelled]
    assert run.state.step is Step.CANCELLED and run.state.cancel_reason == "unit dissolved" and run.state.finished
    assert run.state.closed_at == run.now and next_wakeup(run.state) is None


def _after_close_commands(run):
    return [
        findings_cmd(run.spec.rubric_points),
        review_cmd(run.spec.rubric_points),
        plan_cmd(run.state, run.now),
        evaluate_cmd(),
        cancel_cmd(),
        reassign_cmd(),
        extend_cmd(Step.RECTIFY, run.now + timedelta(days=9)),
        reminder_cmd(Step.RECTIFY),
        pass_deadline_cmd(Step.RECTIFY),
    ]


@pytest.mark.parametrize("end", ["closed", "cancelled"])
def test_a_finished_review_takes_no_more_commands(end):
    run = run_full_procedure(make_spec()) if end == "closed" else _at(Step.RECTIFY)
    if end == "cancelled":
        run.do(cancel_cmd())
    for cmd in _after_close_commands(run):
        err = rejection(run.state, cmd, run.now + timedelta(days=60))
        assert err.field == "kind" and end in err.reason


# --------------------------------------------------------------------------
# system commands and time
# --------------------------------------------------------------------------


@pytest.mark.parametrize("who", [REVIEWER, SUPERVISOR, SUBJECT_LEADER, STRANGER])
@pytest.mark.parametrize("build", [reminder_cmd, pass_deadline_cmd])
def test_system_commands_from_a_person_are_refused(who, build):
    run = _at(Step.INVESTIGATE)
    later = run.state.current_due() + timedelta(days=1)  # both timers are due by then
    err = rejection(run.state, build(Step.INVESTIGATE, actor=who), later)
    assert err.field == "actor_id" and "clock" in err.reason


def test_reminder_and_deadline_are_not_accepted_before_they_are_due():
    run = ReviewRun.begin(make_spec())
    s, due = run.state, run.state.current_due()
    at = reminder_at(s, Step.INVESTIGATE)
    err = rejection(s, reminder_cmd(Step.INVESTIGATE), at - timedelta(seconds=1))
    assert err.field == "step" and "not due" in err.reason
    err = rejection(s, pass_deadline_cmd(Step.INVESTIGATE), due - timedelta(seconds=1))
    assert err.field == "step" and "has not passed" in err.reason
    assert kinds(decide(s, reminder_cmd(Step.INVESTIGATE), at)) == [e.ReminderSent]
    assert kinds(decide(s, pass_deadline_cmd(Step.INVESTIGATE), due)) == [e.DeadlinePassed]


def test_timers_for_another_step_or_twice_are_refused():
    run = _at(Step.REVIEW)
    far = run.now + timedelta(days=30)
    for cmd in (reminder_cmd(Step.INVESTIGATE), pass_deadline_cmd(Step.NOTIFY)):
        assert rejection(run.state, cmd, far).field == "step"
    run.now = far
    run.do(reminder_cmd(Step.REVIEW))
    run.do(pass_deadline_cmd(Step.REVIEW))
    for cmd in (reminder_cmd(Step.REVIEW), pass_deadline_cmd(Step.REVIEW)):
        assert rejection(run.state, cmd, far).field == "step"


def test_reminder_lead_and_short_steps():
    spec = make_spec()
    s, _ = started_state(spec)
    d = spec.deadlines
    assert d.investigate > 2 * d.reminder_lead  # long step: the lead applies
    assert reminder_at(s, Step.INVESTIGATE) == T0 + d.investigate - d.reminder_lead
    short = make_spec(deadlines=StepDeadlines(investigate=timedelta(hours=20), reminder_lead=timedelta(days=1)))
    s, _ = started_state(short)
    assert reminder_at(s, Step.INVESTIGATE) == T0 + timedelta(hours=10)  # never in the first half


def test_next_wakeup_goes_reminder_then_deadline_then_none():
    run = ReviewRun.begin(make_spec())
    due = run.state.current_due()
    w = next_wakeup(run.state)
    assert w.at == reminder_at(run.state, Step.INVESTIGATE) < due
    assert w.command == reminder_cmd(Step.INVESTIGATE)
    evs = run.wake()
    assert kinds(evs) == [e.ReminderSent] and evs[0].due_at == due and run.now == w.at
    assert evs[0].recipient_ids == who_must_act(run.state) == (REVIEWER, CO_REVIEWER)
    w = next_wakeup(run.state)
    assert w.at == due and w.command == pass_deadline_cmd(Step.INVESTIGATE)
    evs = run.wake()
    assert kinds(evs) == [e.DeadlinePassed]
    assert evs[0].notified_ids == run.spec.supervisor_ids and evs[0].due_at == due
    assert run.state.is_overdue() and run.state.step is Step.INVESTIGATE
    assert next_wakeup(run.state) is None


@pytest.mark.parametrize("step", [Step.INVESTIGATE, Step.REVIEW, Step.NOTIFY, Step.RECTIFY])
def test_a_missed_deadline_marks_the_step_overdue_and_it_keeps_waiting(step):
    run = _at(step)
    run.wake()  # reminder
    evs = run.wake()  # deadline
    assert kinds(evs) == [e.DeadlinePassed] and evs[0].step is step
    assert run.state.step is step and run.state.is_overdue()
    cmd = {
        Step.INVESTIGATE: lambda: findings_cmd(run.spec.rubric_points),
        Step.REVIEW: lambda: review_cmd(run.spec.rubric_points),
        Step.NOTIFY: circulation_cmd,
        Step.RECTIFY: lambda: plan_cmd(run.state, run.now),
    }[step]()
    run.advance(days=3)
    assert run.do(cmd)  # late work is still accepted


def test_the_opinion_deadline_closes_the_step_and_starts_the_review():
    run = _at(Step.SOLICIT_OPINIONS)
    run.do(opinions_cmd(groups=("members", "public", "related_units")))
    assert kinds(run.wake()) == [e.ReminderSent]
    due = run.state.current_due()
    evs = run.wake()
    assert kinds(evs) == [e.OpinionSolicitationClosed, e.StepStarted]
    assert evs[0].by_deadline is True and evs[0].opinion_count == 3 and evs[0].actor_role is Role.SYSTEM
    assert evs[1].step is Step.REVIEW and evs[1].due_at == due + run.spec.deadlines.review
    assert run.state.opinions_closed_by_deadline and run.state.step is Step.REVIEW
    assert Step.SOLICIT_OPINIONS not in run.state.overdue


def test_extending_an_overdue_step_resets_reminder_and_overdue():
    run = _at(Step.NOTIFY)
    run.wake()
    run.wake()
    assert Step.NOTIFY in run.state.reminded and run.state.is_overdue() and next_wakeup(run.state) is None
    run.advance(hours=6)
    new_due = run.now + timedelta(days=4)
    run.do(extend_cmd(Step.NOTIFY, new_due))
    assert Step.NOTIFY not in run.state.reminded and not run.state.is_overdue()
    w = next_wakeup(run.state)
    assert w.command == reminder_cmd(Step.NOTIFY)
    assert w.at == reminder_at(run.state, Step.NOTIFY) == new_due - run.spec.deadlines.reminder_lead
    run.wake()
    assert next_wakeup(run.state).at == new_due


def test_extending_before_the_reminder_moves_the_reminder():
    run = ReviewRun.begin(make_spec())
    old = next_wakeup(run.state).at
    run.do(extend_cmd(Step.INVESTIGATE, run.state.current_due() + timedelta(days=3)))
    assert next_wakeup(run.state).at == old + timedelta(days=3)


def test_an_extension_for_a_future_step_is_used_when_it_starts():
    run = ReviewRun.begin(make_spec())
    target = T0 + timedelta(days=40)
    run.do(extend_cmd(Step.REVIEW, target))
    assert run.state.step is Step.INVESTIGATE and run.state.due[Step.REVIEW] == target
    run.drive_to(Step.REVIEW)
    assert run.now < target
    assert run.state.current_due() == target
    started = [ev for ev in run.events if isinstance(ev, e.StepStarted) and ev.step is Step.REVIEW]
    assert started[0].due_at == target
    # the next step falls back to its own duration
    run.drive_to(Step.NOTIFY)
    assert run.state.current_due() == run.now + run.spec.deadlines.notify


def test_an_extension_for_a_future_step_that_has_already_passed_is_ignored():
    run = ReviewRun.begin(make_spec())
    run.do(extend_cmd(Step.REVIEW, T0 + timedelta(hours=2)))
    run.drive_to(Step.REVIEW)  # one hour per command: later than T0+2h
    assert run.now > T0 + timedelta(hours=2)
    assert run.state.current_due() == run.now + run.spec.deadlines.review


def test_a_future_step_extension_must_extend_an_earlier_one():
    run = ReviewRun.begin(make_spec())
    run.do(extend_cmd(Step.RECTIFY, T0 + timedelta(days=60)))
    err = rejection(run.state, extend_cmd(Step.RECTIFY, T0 + timedelta(days=50)), run.now)
    assert err.field == "due_at"


def test_the_reminder_for_a_started_step_is_not_due_before_its_time():
    run = _at(Step.RECTIFY)
    w = next_wakeup(run.state)
    assert w.command == reminder_cmd(Step.RECTIFY)
    assert rejection(run.state, w.command, run.now).field == "step"


def test_the_wakeup_after_reassignment_reminds_the_new_reviewer():
    run = _at(Step.REVIEW)
    run.do(reassign_cmd(NEW_REVIEWER))
    evs = run.wake()
    assert evs[0].recipient_ids == (NEW_REVIEWER,)
