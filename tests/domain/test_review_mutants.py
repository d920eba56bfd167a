"""Tests written to kill the mutants ``mutmut`` found surviving in
domain/review.py (docs/mutation.md): each pins one behaviour no other test
looked at closely enough."""

from __future__ import annotations

import pytest

from domain import commands as c
from domain import events as e
from domain.errors import CommandRejected
from domain.procedure import Role, Step
from domain.review import ENGINE_CANCEL_REASON, ReviewState, decide
from domain.rubric import SubjectLevel, UnitCategory
from review_builders import SUBJECT_LEADER, add_co_reviewer_cmd, drive_to, make_spec, reassign_cmd


def _run():
    return drive_to(Step.SOLICIT_OPINIONS, make_spec(SubjectLevel.A, UnitCategory.LAW_ENFORCEMENT))


def test_the_subject_as_new_reviewer_is_refused_saying_why():
    run = _run()
    with pytest.raises(CommandRejected) as info:
        decide(run.state, reassign_cmd(SUBJECT_LEADER), run.now)
    assert (info.value.field, info.value.reason) == ("reviewer_id", "nobody reviews themselves: the new reviewer is the subject")


def test_the_subject_as_co_reviewer_is_refused_saying_why():
    run = _run()
    with pytest.raises(CommandRejected) as info:
        decide(run.state, add_co_reviewer_cmd(SUBJECT_LEADER), run.now)
    assert (info.value.field, info.value.reason) == ("co_reviewer_id", "nobody reviews themselves: the co-reviewer is the subject")


@pytest.mark.parametrize("told,recorded", [
    ("requested in the Web UI", f"{ENGINE_CANCEL_REASON}: requested in the Web UI"),
    ("  padded  ", f"{ENGINE_CANCEL_REASON}: padded"),
    ("", ENGINE_CANCEL_REASON),
    (None, ENGINE_CANCEL_REASON),
])
def test_a_cancellation_through_the_engine_records_what_the_engine_was_told(told, recorded):
    run = _run()
    evs = decide(run.state, c.RecordEngineCancellation(actor_id="temporal", reason=told), run.now)
    assert len(evs) == 1 and isinstance(evs[0], e.ReviewCancelled)
    assert evs[0].reason == recorded and evs[0].actor_id == "temporal" and evs[0].actor_role is Role.ENGINE


def test_a_review_not_started_has_no_current_deadline():
    assert ReviewState().current_due() is None
    run = _run()
    assert run.state.current_due() == run.state.due[Step.SOLICIT_OPINIONS]


# --------------------------------------------------------------------------
# every rejection's exact words: the CLI, the API and the update validator
# show them as they are, so a changed or empty message is a defect
# --------------------------------------------------------------------------

from datetime import timedelta, timezone  # noqa: E402

from domain.procedure import StepDeadlines  # noqa: E402
from domain.review import start  # noqa: E402
from review_builders import (  # noqa: E402
    CO_REVIEWER,
    REVIEWER,
    SUPERVISOR,
    T0,
    ReviewRun,
    accept_plan_cmd,
    cancel_cmd,
    evaluate_cmd,
    extend_cmd,
    measure,
    pass_deadline_cmd,
    plan_cmd,
    progress_cmd,
    reminder_cmd,
    report_back_cmd,
    return_plan_cmd,
)


def _reason(run, cmd) -> tuple[str, str]:
    with pytest.raises(CommandRejected) as info:
        decide(run.state, cmd, run.now)
    return info.value.field, info.value.reason


def _rectify() -> ReviewRun:
    run = drive_to(Step.RECTIFY, make_spec(SubjectLevel.A, UnitCategory.LAW_ENFORCEMENT))
    assert [p.problem_id for p in run.state.problems] == ["P1", "P2"]
    return run


def test_the_plan_rules_say_what_is_wrong():
    run = _rectify()
    assert _reason(run, return_plan_cmd()) == ("kind", "cannot return the plan: the rectification plan is awaiting, not submitted")
    assert _reason(run, accept_plan_cmd()) == ("kind", "cannot accept the plan: the rectification plan is awaiting, not submitted")
    assert _reason(run, progress_cmd(run.state, measure_ids=["M1"])) == ("kind", "cannot report progress: the rectification plan is awaiting, not accepted")
    assert _reason(run, report_back_cmd(run.state, measure_ids=["M1"])) == ("kind", "cannot report back: the rectification plan is awaiting, not accepted")
    assert _reason(run, return_plan_cmd(reason=None)) == ("reason", "return_rectification_plan needs a reason")
    subject = SUBJECT_LEADER
    unknown = c.SubmitRectificationPlan(actor_id=subject, measures=[measure(["P1", "P9"], run.now)])
    assert _reason(run, unknown) == ("measures.0.problem_ids", "'P9' is not a problem of this review (problems: P1, P2)")
    past = c.SubmitRectificationPlan(actor_id=subject, measures=[measure(["P1", "P2"], run.now, days=-1)])
    assert _reason(run, past) == ("measures.0.due_date", f"{(run.now.date() - timedelta(days=1)).isoformat()} is in the past")
    short = c.SubmitRectificationPlan(actor_id=subject, measures=[measure(["P1"], run.now)])
    assert _reason(run, short) == ("measures", "every problem needs a rectification measure; none for P2")
    run.do(plan_cmd(run.state, run.now))
    assert _reason(run, plan_cmd(run.state, run.now)) == ("kind", "the rectification plan is already submitted")
    run.do(accept_plan_cmd())
    assert _reason(run, evaluate_cmd()) == ("kind", "there is no report-back to evaluate yet")
    assert _reason(run, progress_cmd(run.state, measure_ids=["M9"])) == ("progress.0.measure_id", "'M9' is not a measure of the accepted plan (M1, M2)")
    assert _reason(run, report_back_cmd(run.state, measure_ids=["M1"])) == ("results", "report on every measure; missing M2")
    run.do(report_back_cmd(run.state))
    assert _reason(run, progress_cmd(run.state)) == ("kind", "the report-back is already with the reviewer")
    assert _reason(run, report_back_cmd(run.state)) == ("kind", "the report-back is already with the reviewer")


def test_the_supervisors_rules_say_what_is_wrong():
    run = _rectify()
    assert _reason(run, reassign_cmd(REVIEWER)) == ("reviewer_id", f"{REVIEWER!r} is already the reviewer")
    assert _reason(run, add_co_reviewer_cmd(CO_REVIEWER)) == ("co_reviewer_id", f"{CO_REVIEWER!r} already reviews this subject")
    assert _reason(run, add_co_reviewer_cmd(REVIEWER)) == ("co_reviewer_id", f"{REVIEWER!r} already reviews this subject")
    assert _reason(run, extend_cmd(Step.INVESTIGATE, run.now + timedelta(days=9))) == ("step", "step investigate is already done")
    assert _reason(run, extend_cmd(Step.CLOSED, run.now + timedelta(days=9))) == ("step", "closed has no deadline")
    assert _reason(run, extend_cmd(Step.RECTIFY, run.now)) == ("due_at", f"{run.now.isoformat()} is not in the future")
    current = run.state.due[Step.RECTIFY]
    assert _reason(run, extend_cmd(Step.RECTIFY, current)) == ("due_at", f"{current.isoformat()} does not extend the current deadline {current.isoformat()}")
    assert _reason(run, c.SendReminder(actor_id=SUPERVISOR, step=Step.RECTIFY)) == ("actor_id", "send_reminder is issued by the review's clock, not by a person")


def test_a_deadline_given_in_another_zone_keeps_its_instant():
    run = _rectify()
    beijing = (run.state.due[Step.RECTIFY] + timedelta(days=3)).astimezone(timezone(timedelta(hours=8)))
    (ev,) = decide(run.state, extend_cmd(Step.RECTIFY, beijing), run.now)
    assert ev.due_at == beijing
    naive = (run.state.due[Step.RECTIFY] + timedelta(days=4)).replace(tzinfo=None)
    (ev,) = decide(run.state, extend_cmd(Step.RECTIFY, naive), run.now)
    assert ev.due_at == naive.replace(tzinfo=run.now.tzinfo)


def test_the_clocks_rules_say_what_is_wrong():
    run = ReviewRun.begin(make_spec(SubjectLevel.A, UnitCategory.LAW_ENFORCEMENT))
    assert _reason(run, reminder_cmd(Step.REVIEW)) == ("step", "no reminder is due for step review")
    assert _reason(run, reminder_cmd(Step.INVESTIGATE)) == ("step", "the reminder is not due yet")
    assert _reason(run, pass_deadline_cmd(Step.REVIEW)) == ("step", "no deadline is pending for step review")
    due = run.state.due[Step.INVESTIGATE]
    assert _reason(run, pass_deadline_cmd(Step.INVESTIGATE)) == ("step", f"the deadline {due.isoformat()} has not passed")
    assert _reason(ReviewRun(spec=run.spec), reminder_cmd(Step.INVESTIGATE)) == ("review_id", "the review has not been started")


def test_the_opening_rules_say_what_is_wrong():
    spec = make_spec(SubjectLevel.A, UnitCategory.LAW_ENFORCEMENT)
    cases = [
        (spec.model_copy(update={"rubric_points": (*spec.rubric_points, "ZZ9")}), ("rubric_points", f"not in rubric {spec.rubric_version}: ZZ9")),
        (spec.model_copy(update={"reviewer_id": SUBJECT_LEADER}), ("reviewer_id", "nobody reviews themselves: the reviewer is the subject")),
        (spec.model_copy(update={"co_reviewer_ids": (SUBJECT_LEADER,)}), ("co_reviewer_ids", "nobody reviews themselves: a co-reviewer is the subject")),
        (spec.model_copy(update={"deadlines": StepDeadlines(notify=timedelta(0))}), ("deadlines.notify", "the notify step would last 0 seconds: a step's duration must be longer than zero")),
    ]
    for bad, expected in cases:
        with pytest.raises(CommandRejected) as info:
            start(bad, T0)
        assert (info.value.field, info.value.reason) == expected


def test_a_refused_problem_is_quoted_in_full_up_to_forty_characters():
    run = drive_to(Step.REVIEW, make_spec(SubjectLevel.A, UnitCategory.LAW_ENFORCEMENT))
    pts = run.spec.rubric_points
    from review_builders import CONCRETE_PROBLEM, review_cmd

    def quoted(text: str) -> str:
        cmd = review_cmd(pts, problems={pts[0]: [CONCRETE_PROBLEM], pts[1]: [text]})
        field, reason = _reason(run, cmd)
        assert field == "points.1.problems.0"
        return reason.split(" is not a concrete problem")[0].removeprefix(f"{pts[1]}: ")

    forty = "未发现" + "。" * 36 + "问题"  # 41 characters, a denial
    assert quoted(" 暂无 ") == repr("暂无")
    assert quoted(forty[:40]) == repr(forty[:40])
    assert quoted(forty) == repr(forty[:39] + "…")
    assert quoted("   ") == "the problem"


# --------------------------------------------------------------------------
# every rejection's code: the application layer maps it without reading the
# words (``invalid`` -> 422, ``wrong_step`` -> 409, ``not_allowed`` -> 403)
# --------------------------------------------------------------------------


def _code(run, cmd) -> str:
    with pytest.raises(CommandRejected) as info:
        decide(run.state, cmd, run.now)
    return info.value.code


def test_each_refusal_says_what_kind_of_refusal_it_is():
    run = _rectify()
    assert _code(run, extend_cmd(Step.INVESTIGATE, run.now + timedelta(days=9))) == "wrong_step"  # a step already done
    assert _code(run, extend_cmd(Step.CLOSED, run.now + timedelta(days=9))) == "invalid"
    assert _code(run, extend_cmd(Step.RECTIFY, run.now)) == "invalid"
    assert _code(run, extend_cmd(Step.RECTIFY, run.state.due[Step.RECTIFY])) == "invalid"
    assert _code(run, reassign_cmd(REVIEWER)) == "invalid"
    assert _code(run, add_co_reviewer_cmd(CO_REVIEWER)) == "invalid"
    assert _code(run, c.SendReminder(actor_id=SUPERVISOR, step=Step.RECTIFY)) == "not_allowed"
    assert _code(run, c.CloseInvestigation(actor_id=REVIEWER)) == "wrong_step"
    assert _code(run, return_plan_cmd()) == "wrong_step"
    assert _code(run, progress_cmd(run.state, measure_ids=["M1"])) == "wrong_step"
    assert _code(run, return_plan_cmd(reason=None)) == "invalid"
    assert _code(run, c.SubmitRectificationPlan(actor_id=SUBJECT_LEADER, measures=[measure(["P1"], run.now)])) == "invalid"
    run.do(plan_cmd(run.state, run.now))
    assert _code(run, plan_cmd(run.state, run.now)) == "wrong_step"
    run.do(accept_plan_cmd())
    assert _code(run, evaluate_cmd()) == "wrong_step"
    assert _code(run, progress_cmd(run.state, measure_ids=["M9"])) == "invalid"
    run.do(report_back_cmd(run.state))
    assert _code(run, progress_cmd(run.state)) == "wrong_step"
    assert _code(run, report_back_cmd(run.state)) == "wrong_step"
    clock = ReviewRun.begin(make_spec(SubjectLevel.A, UnitCategory.LAW_ENFORCEMENT))
    assert _code(clock, reminder_cmd(Step.REVIEW)) == "invalid"
    assert _code(clock, pass_deadline_cmd(Step.INVESTIGATE)) == "invalid"
    assert _code(ReviewRun(spec=clock.spec), reminder_cmd(Step.INVESTIGATE)) == "not_started"
    clock.do(cancel_cmd())
    assert _code(clock, reminder_cmd(Step.INVESTIGATE)) == "ended"


# --------------------------------------------------------------------------
# who is reminded in step 5, and when reminders go
# --------------------------------------------------------------------------

from domain.review import next_wakeup, who_must_act  # noqa: E402


def test_in_rectify_the_reminder_goes_to_whoever_holds_the_plan_or_the_report():
    run = _rectify()
    subject = (SUBJECT_LEADER,)
    assert who_must_act(run.state) == subject  # the plan is awaited from the subject
    run.do(plan_cmd(run.state, run.now))
    assert who_must_act(run.state) == (REVIEWER,)  # submitted: the reviewer decides
    run.do(return_plan_cmd())
    assert who_must_act(run.state) == subject  # returned: the subject again
    run.do(plan_cmd(run.state, run.now))
    run.do(accept_plan_cmd())
    assert who_must_act(run.state) == subject  # accepted: the subject rectifies
    run.do(report_back_cmd(run.state))
    assert who_must_act(run.state) == (REVIEWER,)  # reported back: the reviewer evaluates
    run.do(evaluate_cmd("needs_more_work"))
    assert who_must_act(run.state) == subject


def test_a_plan_missing_several_problems_names_them_in_number_order():
    """P10 comes after P2: the numbers, not the text, order the list."""
    pts = make_spec(SubjectLevel.A, UnitCategory.LAW_ENFORCEMENT).rubric_points
    from review_builders import review_cmd

    run = drive_to(Step.REVIEW, make_spec(SubjectLevel.A, UnitCategory.LAW_ENFORCEMENT))
    many = {pts[0]: [f"问题{i}：集中学习记录不全，第{i}次会议未记录" for i in range(1, 12)]}
    run.do(review_cmd(pts, problems=many))
    run.drive_to(Step.RECTIFY)
    assert len(run.state.problems) == 11
    covered = [p.problem_id for p in run.state.problems if p.problem_id not in ("P2", "P10")]
    plan = c.SubmitRectificationPlan(actor_id=SUBJECT_LEADER, measures=[measure(covered, run.now)])
    assert _reason(run, plan) == ("measures", "every problem needs a rectification measure; none for P2, P10")


def test_a_report_back_missing_several_measures_names_them_all():
    run = _rectify()
    run.do(plan_cmd(run.state, run.now))
    run.do(accept_plan_cmd())
    assert [m.measure_id for m in run.state.measures] == ["M1", "M2"]
    bare = report_back_cmd(run.state).model_copy(update={"results": []})
    assert _reason(run, bare) == ("results", "report on every measure; missing M1, M2")


def test_the_reminder_goes_the_specs_lead_before_the_deadline():
    spec = make_spec(SubjectLevel.A, UnitCategory.LAW_ENFORCEMENT, deadlines=StepDeadlines(reminder_lead=timedelta(days=2)))
    run = ReviewRun.begin(spec)
    due = run.state.due[Step.INVESTIGATE]
    w = next_wakeup(run.state)
    assert isinstance(w.command, c.SendReminder) and w.at == due - timedelta(days=2)  # later than half the step


def test_with_no_reminder_lead_there_is_no_reminder_only_the_deadline():
    spec = make_spec(SubjectLevel.A, UnitCategory.LAW_ENFORCEMENT, deadlines=StepDeadlines(reminder_lead=timedelta(0)))
    run = ReviewRun.begin(spec)
    w = next_wakeup(run.state)
    assert isinstance(w.command, c.PassDeadline) and w.at == run.state.due[Step.INVESTIGATE]
