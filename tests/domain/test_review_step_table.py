"""The per-command step table (``domain.review.ALLOWED``) and the coverage
checks, command kind by command kind: every kind sent in a step it does not
belong to is refused on ``kind``, every kind is taken in its own step, and an
ended review takes nothing. Coverage (every rubric point investigated,
reviewed, and required at start) is checked with each point left out in turn,
the last one included. Written so that a hand mutation of the table or of a
coverage loop (docs/mutation.md) fails here."""

from __future__ import annotations

from datetime import timedelta

import pytest

from domain import commands as c
from domain.errors import CommandRejected
from domain.procedure import FIVE_STEPS, Step
from domain.review import ALLOWED, decide, start
from domain.rubric import SubjectLevel, UnitCategory
from review_builders import (
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
    measure,
    opinions_cmd,
    pass_deadline_cmd,
    progress_cmd,
    reassign_cmd,
    reminder_cmd,
    report_back_cmd,
    return_plan_cmd,
    review_cmd,
    rubric_points_for,
    subject_actor,
)

SPEC = make_spec(SubjectLevel.A, UnitCategory.LAW_ENFORCEMENT)

BUILD = {
    # every command kind, sent by someone who holds the role it needs
    "record_findings": lambda r: findings_cmd(r.spec.rubric_points[:1]),
    "close_investigation": lambda r: close_investigation_cmd(),
    "record_opinions": lambda r: opinions_cmd(),
    "close_opinion_solicitation": lambda r: close_opinions_cmd(),
    "submit_review": lambda r: review_cmd(r.spec.rubric_points),
    "confirm_circulation": lambda r: circulation_cmd(),
    "submit_rectification_plan": lambda r: c.SubmitRectificationPlan(actor_id=subject_actor(r.spec), measures=[measure(["P1"], r.now)]),
    "accept_rectification_plan": lambda r: accept_plan_cmd(),
    "return_rectification_plan": lambda r: return_plan_cmd(),
    "report_progress": lambda r: progress_cmd(r.state, measure_ids=["M1"]),
    "report_back": lambda r: report_back_cmd(r.state, measure_ids=["M1"]),
    "evaluate_report_back": lambda r: evaluate_cmd(),
    "reassign_reviewer": lambda r: reassign_cmd(),
    "add_co_reviewer": lambda r: add_co_reviewer_cmd(),
    "extend_deadline": lambda r: extend_cmd(Step.RECTIFY, r.now + timedelta(days=90)),
    "cancel_review": lambda r: cancel_cmd(),
    "send_reminder": lambda r: reminder_cmd(r.state.step if r.state.step in FIVE_STEPS else Step.INVESTIGATE),
    "pass_deadline": lambda r: pass_deadline_cmd(r.state.step if r.state.step in FIVE_STEPS else Step.INVESTIGATE),
    "record_engine_cancellation": lambda r: c.RecordEngineCancellation(actor_id="temporal", reason="cancelled through Temporal"),
}

SPEC_STEPS = {
    # spec §6: the step each command of a person belongs to, written out from the spec, not read from ALLOWED
    "record_findings": {Step.INVESTIGATE},
    "close_investigation": {Step.INVESTIGATE},
    "record_opinions": {Step.SOLICIT_OPINIONS},
    "close_opinion_solicitation": {Step.SOLICIT_OPINIONS},
    "submit_review": {Step.REVIEW},
    "confirm_circulation": {Step.NOTIFY},
    "submit_rectification_plan": {Step.RECTIFY},
    "accept_rectification_plan": {Step.RECTIFY},
    "return_rectification_plan": {Step.RECTIFY},
    "report_progress": {Step.RECTIFY},
    "report_back": {Step.RECTIFY},
    "evaluate_report_back": {Step.RECTIFY},
}
ANY_STEP = sorted(set(ALLOWED) - set(SPEC_STEPS))

_RUNS: dict[Step, ReviewRun] = {}


def at(step: Step) -> ReviewRun:
    """A review driven to ``step`` (cached: ``decide`` does not change the run)."""
    if step not in _RUNS:
        _RUNS[step] = drive_to(step, SPEC)
    return _RUNS[step]


def ended(how: str) -> ReviewRun:
    if how == "closed":
        return drive_to(Step.CLOSED, SPEC)
    run = drive_to(Step.NOTIFY, SPEC)
    run.do(cancel_cmd())
    return run


def test_every_kind_has_a_builder_and_the_table_is_the_spec():
    assert set(BUILD) == set(ALLOWED)
    assert {k: set(steps) for k, (_, steps) in ALLOWED.items() if steps is not None} == SPEC_STEPS
    assert all(ALLOWED[k][1] is None for k in ANY_STEP)


WRONG_STEPS = [(kind, step) for kind, steps in SPEC_STEPS.items() for step in FIVE_STEPS if step not in steps]


@pytest.mark.parametrize("kind,step", WRONG_STEPS, ids=[f"{k}@{s.value}" for k, s in WRONG_STEPS])
def test_a_kind_sent_in_a_step_it_does_not_belong_to_is_refused_on_kind(kind, step):
    run = at(step)
    with pytest.raises(CommandRejected) as info:
        decide(run.state, BUILD[kind](run), run.now)
    assert info.value.field == "kind"
    assert f"{kind} belongs to step" in info.value.reason and f"at step {step.value}" in info.value.reason


OWN_STEPS = [(kind, step) for kind, steps in SPEC_STEPS.items() for step in steps] + [(kind, step) for kind in ANY_STEP for step in FIVE_STEPS]


@pytest.mark.parametrize("kind,step", OWN_STEPS, ids=[f"{k}@{s.value}" for k, s in OWN_STEPS])
def test_a_kind_in_its_own_step_is_not_refused_for_its_step(kind, step):
    """It may still be refused for the state (no plan to accept yet, a
    reminder not due): never for the step."""
    run = at(step)
    try:
        decide(run.state, BUILD[kind](run), run.now)
    except CommandRejected as err:
        assert "belongs to step" not in err.reason, err


@pytest.mark.parametrize("how", ["closed", "cancelled"])
@pytest.mark.parametrize("kind", sorted(ALLOWED))
def test_an_ended_review_takes_no_command_of_any_kind(kind, how):
    run = ended(how)
    with pytest.raises(CommandRejected) as info:
        decide(run.state, BUILD[kind](run), run.now)
    assert info.value.field == "kind" and "takes no more commands" in info.value.reason


# --------------------------------------------------------------------------
# coverage: every rubric point, the last one included
# --------------------------------------------------------------------------

POINTS = rubric_points_for(SubjectLevel.A, UnitCategory.LAW_ENFORCEMENT)


@pytest.mark.parametrize("left_out", range(len(POINTS)), ids=list(POINTS))
def test_closing_the_investigation_needs_every_point_including_the_last(left_out):
    run = ReviewRun.begin(SPEC)
    missing = POINTS[left_out]
    run.do(findings_cmd([p for p in POINTS if p != missing]))
    with pytest.raises(CommandRejected) as info:
        decide(run.state, close_investigation_cmd(), run.now)
    assert info.value.field == "findings" and missing in info.value.reason


@pytest.mark.parametrize("left_out", range(len(POINTS)), ids=list(POINTS))
def test_the_review_must_assess_every_point_including_the_last(left_out):
    run = at(Step.REVIEW)
    missing = POINTS[left_out]
    codes = [p for p in POINTS if p != missing]
    problems = {codes[0]: ["学习制度执行不严，集中学习记录不全"]}
    with pytest.raises(CommandRejected) as info:
        decide(run.state, review_cmd(codes, problems=problems), run.now)
    assert info.value.field == "points" and missing in info.value.reason


@pytest.mark.parametrize("left_out", range(len(POINTS)), ids=list(POINTS))
def test_a_review_must_start_with_every_required_point_including_the_last(left_out):
    missing = POINTS[left_out]
    spec = make_spec(SubjectLevel.A, UnitCategory.LAW_ENFORCEMENT, rubric_points=tuple(p for p in POINTS if p != missing))
    with pytest.raises(CommandRejected) as info:
        start(spec, T0)
    assert info.value.field == "rubric_points" and missing in info.value.reason


def test_the_full_set_of_points_passes_each_coverage_check():
    assert len(start(SPEC, T0)) == 2
    run = ReviewRun.begin(SPEC)
    run.do(findings_cmd(POINTS))
    assert decide(run.state, close_investigation_cmd(), run.now)
