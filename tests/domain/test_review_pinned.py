"""What the decider and the fold must keep exactly, pinned where a mutation
run (docs/mutation.md) showed that nothing noticed a change: the system's own
events carry the system as actor, the first deadline a starter fixed, the
words of each refusal (the CLI, the API and the pages show them as they are),
and what the fold keeps of a review, an evaluation and a reassignment."""

from __future__ import annotations

from datetime import timedelta

import pytest
from review_builders import (
    CO_REVIEWER, STRANGER, SUPERVISOR, T0, ReviewRun, accept_plan_cmd, close_investigation_cmd, drive_to,
    extend_cmd, findings_cmd, make_spec, reassign_cmd, review_cmd, run_full_procedure, started_state,
)

from domain import events as e
from domain.errors import CommandRejected
from domain.procedure import Role, Step
from domain.review import SYSTEM_ACTOR, decide, start
from domain.rubric import rubric


def _refused(state, cmd, now=T0) -> CommandRejected:
    with pytest.raises(CommandRejected) as got:
        decide(state, cmd, now)
    return got.value


def test_the_events_of_the_clock_name_the_system_as_their_actor():
    run = run_full_procedure()
    own = [ev for ev in run.events if isinstance(ev, (e.ReviewStarted, e.StepStarted, e.ReviewClosed))]
    assert len(own) >= 7 and isinstance(own[-1], e.ReviewClosed)
    assert {(ev.actor_id, ev.actor_role) for ev in own} == {(SYSTEM_ACTOR, Role.SYSTEM)}


def test_a_first_deadline_the_starter_fixed_is_kept_only_when_it_lies_ahead():
    spec = make_spec()
    ahead = T0 + spec.deadlines.investigate + timedelta(days=3, hours=7)
    assert start(spec, T0, first_due_at=ahead)[1].due_at == ahead
    assert start(spec, T0, first_due_at=T0)[1].due_at == T0 + spec.deadlines.investigate


def test_a_person_without_the_role_is_told_what_they_may_not_do_and_who_may():
    state, _ = started_state()
    err = _refused(state, findings_cmd(state.spec.rubric_points, actor=STRANGER))
    assert err.code == "not_allowed" and err.field == "actor_id"
    assert err.reason.startswith(f"{STRANGER!r} may not record findings: only the ") and err.reason.endswith(" of this review may")


def test_a_supervisor_acting_on_a_grant_acts_as_supervisor():
    state, _ = started_state()
    cmd = extend_cmd(Step.INVESTIGATE, T0 + timedelta(days=40), actor="p-granted").model_copy(update={"supervisor_grant": "p-granted"})
    [ev] = decide(state, cmd, T0)
    assert ev.actor_role is Role.SUPERVISOR


def test_refusals_list_the_points_they_name_in_order():
    state, _ = started_state()
    points = state.spec.rubric_points
    wrong = _refused(state, findings_cmd(["NOPE"]))
    assert wrong.field == "findings.0.point_code" and wrong.reason.endswith(f"(expected one of {', '.join(points)})")
    early = _refused(state, close_investigation_cmd())
    assert f"for rubric points {', '.join(points)};" in early.reason

    at_review = drive_to(Step.REVIEW)
    codes = list(at_review.state.spec.rubric_points)
    bad = _refused(at_review.state, review_cmd([*codes, "NOPE"]), at_review.now)
    assert bad.field == f"points.{len(codes)}.code" and bad.reason.endswith(f"(expected one of {', '.join(codes)})")
    missing = codes[-2:]
    short = _refused(at_review.state, review_cmd(codes[:-2]), at_review.now)
    rb = rubric(at_review.state.spec.rubric_version)
    assert "; ".join(f"{code} {rb.point(code).text_zh}" for code in missing) in short.reason


def test_a_review_keeps_every_points_problems_and_its_summary():
    run = drive_to(Step.REVIEW)
    cmd = review_cmd(run.state.spec.rubric_points)
    [submitted, *_] = run.do(cmd)
    assert [tuple(p.problems) for p in submitted.points] == [tuple(p.problems) for p in cmd.points]
    assert submitted.summary == cmd.summary == run.state.review_summary


def test_accepting_before_any_plan_says_the_plan_is_awaited():
    run = drive_to(Step.RECTIFY)
    assert run.state.plan_status == "awaiting"
    err = _refused(run.state, accept_plan_cmd(actor=run.state.spec.reviewer_id), run.now)
    assert err.code == "wrong_step" and "the rectification plan is awaiting, not submitted" in err.reason


def test_only_the_rectify_step_awaits_a_plan():
    state, _ = started_state()
    assert state.step is Step.INVESTIGATE and state.plan_status is None


def test_an_evaluation_is_kept_with_its_comments_and_a_satisfactory_one_keeps_the_report():
    run = run_full_procedure()
    assert run.state.evaluations[-1] == {"outcome": "satisfactory", "comments": "evaluated: satisfactory"}
    assert run.state.evaluations[0] == {"outcome": "needs_more_work", "comments": "evaluated: needs_more_work"}
    assert run.state.report_back is not None


def test_a_co_reviewer_made_reviewer_stops_being_a_co_reviewer_and_the_others_stay():
    spec = make_spec().model_copy(update={"co_reviewer_ids": (CO_REVIEWER, "p-second")})
    run = ReviewRun.begin(spec)
    run.do(reassign_cmd(CO_REVIEWER, actor=SUPERVISOR))
    assert run.state.spec.reviewer_id == CO_REVIEWER and run.state.spec.co_reviewer_ids == ("p-second",)


def test_a_start_names_the_points_outside_the_rubric_and_the_mandatory_ones_left_out():
    spec = make_spec()
    unknown = spec.model_copy(update={"rubric_points": (*spec.rubric_points, "X1", "X2")})
    with pytest.raises(CommandRejected) as got:
        start(unknown, T0)
    assert got.value.field == "rubric_points" and got.value.reason.endswith(": X1, X2")
    first, second = spec.rubric_points[:2]
    short = spec.model_copy(update={"rubric_points": spec.rubric_points[2:]})
    with pytest.raises(CommandRejected) as got:
        start(short, T0)
    assert f"must cover {first}, {second} (rubric " in got.value.reason


def test_a_deadline_fixed_ahead_for_the_very_moment_a_step_starts_gives_the_step_its_duration():
    run = ReviewRun.begin()
    at = run.now + timedelta(days=2)
    run.do(extend_cmd(Step.SOLICIT_OPINIONS, at))
    run.do(findings_cmd(run.state.spec.rubric_points))
    run.now = at
    started = [ev for ev in run.do(close_investigation_cmd()) if isinstance(ev, e.StepStarted)]
    assert started[0].step is Step.SOLICIT_OPINIONS and started[0].due_at == at + run.state.spec.deadlines.solicit_opinions
