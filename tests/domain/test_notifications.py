"""Who is told what: task prompts, reminders per step (who must act), overdue
escalations to supervisors, and the messages of step 5. Pure."""

from __future__ import annotations

from datetime import timedelta

import pytest

from domain import events as e
from domain.local_time import DEFAULT_TZ, local_text
from domain.notifications import Notification, notifications_for
from domain.procedure import FIVE_STEPS, Step, StepDeadlines
from domain.review import ReviewState, evolve, fold, who_must_act
from review_builders import (
    ALL_LEVELS,
    CO_REVIEWER,
    MEMBER,
    NEW_REVIEWER,
    REVIEWER,
    SUBJECT_LEADER,
    SUPERVISOR,
    ReviewRun,
    accept_plan_cmd,
    add_co_reviewer_cmd,
    cancel_cmd,
    drive_to,
    evaluate_cmd,
    make_spec,
    plan_cmd,
    reassign_cmd,
    report_back_cmd,
    return_plan_cmd,
    run_full_procedure,
    subject_actor,
)
from domain.rubric import SubjectLevel


def notified(events, state: ReviewState | None = None) -> list[tuple[e.DomainEvent, list[Notification]]]:
    """Replay ``events`` (from ``state``) and pair each with its notifications,
    computed on the state just after it, as the outbox does."""
    s = state or ReviewState()
    out = []
    for ev in events:
        s = evolve(s, ev)
        out.append((ev, notifications_for(s, ev)))
    return out


def last(run: ReviewRun, evs) -> list[Notification]:
    """Notifications of the events ``evs`` just appended to ``run``."""
    s = fold(run.events[: len(run.events) - len(evs)])
    return [n for _, ns in notified(evs, s) for n in ns]


def recipients(ns, kind: str | None = None) -> list[str]:
    return [n.recipient_id for n in ns if kind is None or n.kind == kind]


def test_nothing_is_sent_for_a_review_that_has_no_spec():
    ev = e.ReviewCancelled(occurred_at=ReviewRun.begin().now, reason="x")
    assert notifications_for(ReviewState(), ev) == []


@pytest.mark.parametrize("level", ALL_LEVELS)
def test_task_prompts_go_to_the_reviewer_for_steps_1_to_4_and_to_the_subject_for_step_5(level):
    run = run_full_procedure(make_spec(level))
    prompts = {ev.step: ns for ev, ns in notified(run.events) if isinstance(ev, e.StepStarted)}
    assert set(prompts) == set(FIVE_STEPS)
    for step, ns in prompts.items():
        want = [subject_actor(run.spec)] if step is Step.RECTIFY else [REVIEWER]
        assert recipients(ns, "task_prompt") == want, step
        assert ns[0].subject.startswith(f"[{run.spec.review_id}]") and step.value in ns[0].subject
    # the member subject is told as a person; an organization through its leader
    assert subject_actor(run.spec) == (MEMBER if level is SubjectLevel.C else SUBJECT_LEADER)


def test_the_step_prompt_states_the_deadline():
    run = ReviewRun.begin(make_spec())
    (ev, ns) = notified(run.events)[1]
    assert isinstance(ev, e.StepStarted) and local_text(ev.due_at, DEFAULT_TZ) in ns[0].body


# who must act, per step: derived from the roles of the procedure
# (reviewer and co-reviewers investigate and solicit; the reviewer reviews and
# notifies; in step 5 whoever the plan or the report-back waits on)
def _expected_actors(run: ReviewRun) -> tuple[str, ...]:
    s = run.state
    spec = s.spec
    if s.step in (Step.INVESTIGATE, Step.SOLICIT_OPINIONS):
        return (spec.reviewer_id, *spec.co_reviewer_ids)
    if s.step in (Step.REVIEW, Step.NOTIFY):
        return (spec.reviewer_id,)
    if s.plan_status == "submitted" or s.report_back is not None:
        return (spec.reviewer_id,)
    return (subject_actor(spec),)


@pytest.mark.parametrize("step", FIVE_STEPS)
def test_reminders_go_to_who_must_act(step):
    run = drive_to(step, make_spec(co_reviewer_ids=(CO_REVIEWER, "p-co-2")))
    evs = run.wake()
    assert isinstance(evs[0], e.ReminderSent) and evs[0].step is step
    want = _expected_actors(run)
    assert evs[0].recipient_ids == want == who_must_act(run.state)
    ns = last(run, evs)
    assert recipients(ns) == list(want) and {n.kind for n in ns} == {"reminder"}
    assert local_text(evs[0].due_at, DEFAULT_TZ) in ns[0].subject  # local time, zone named


@pytest.mark.parametrize("stage", ["awaiting", "submitted", "returned", "accepted", "reported_back", "needs_more_work"])
def test_who_must_act_in_step_5_follows_the_plan(stage):
    run = drive_to(Step.RECTIFY)
    steps = {
        "awaiting": [],
        "submitted": [lambda: plan_cmd(run.state, run.now)],
        "returned": [lambda: plan_cmd(run.state, run.now), return_plan_cmd],
        "accepted": [lambda: plan_cmd(run.state, run.now), accept_plan_cmd],
        "reported_back": [lambda: plan_cmd(run.state, run.now), accept_plan_cmd, lambda: report_back_cmd(run.state)],
        "needs_more_work": [lambda: plan_cmd(run.state, run.now), accept_plan_cmd, lambda: report_back_cmd(run.state), lambda: evaluate_cmd("needs_more_work")],
    }[stage]
    for build in steps:
        run.do(build())
    waiting_on_reviewer = stage in ("submitted", "reported_back")
    assert who_must_act(run.state) == ((REVIEWER,) if waiting_on_reviewer else (SUBJECT_LEADER,))
    assert who_must_act(run.state) == _expected_actors(run)
    evs = run.wake()
    assert recipients(last(run, evs), "reminder") == list(who_must_act(run.state))


def test_an_overdue_step_is_escalated_to_every_supervisor():
    run = drive_to(Step.REVIEW, make_spec(supervisor_ids=(SUPERVISOR, "p-supervisor-2")))
    run.wake()
    evs = run.wake()
    assert isinstance(evs[0], e.DeadlinePassed)
    ns = last(run, evs)
    assert recipients(ns) == [SUPERVISOR, "p-supervisor-2"] and {n.kind for n in ns} == {"overdue"}
    assert REVIEWER not in recipients(ns) and REVIEWER in ns[0].body  # names who is late


def test_the_opinion_deadline_is_not_an_escalation():
    run = drive_to(Step.SOLICIT_OPINIONS)
    run.wake()
    evs = run.wake()
    ns = last(run, evs)
    assert "overdue" not in {n.kind for n in ns}
    assert recipients(ns, "task_prompt") == [REVIEWER]  # the review step opens


def test_messages_of_review_and_rectification():
    run = drive_to(Step.REVIEW)
    evs = run.step_forward()  # the review is submitted
    ns = last(run, evs)
    assert recipients(ns, "review_delivered") == [SUBJECT_LEADER]
    assert f"{len(run.state.problems)} problems" in [n for n in ns if n.kind == "review_delivered"][0].body
    run.drive_to(Step.RECTIFY)

    evs = run.do(plan_cmd(run.state, run.now))
    assert recipients(last(run, evs)) == [REVIEWER]
    evs = run.do(return_plan_cmd(reason="措施不具体"))
    ns = last(run, evs)
    assert recipients(ns, "plan_returned") == [SUBJECT_LEADER] and "措施不具体" in ns[0].body
    run.do(plan_cmd(run.state, run.now))
    assert last(run, run.do(accept_plan_cmd())) == []
    evs = run.do(report_back_cmd(run.state))
    assert recipients(last(run, evs), "report_back_submitted") == [REVIEWER]
    evs = run.do(evaluate_cmd("needs_more_work"))
    ns = last(run, evs)
    assert recipients(ns, "report_back_returned") == [SUBJECT_LEADER] and "needs_more_work" in ns[0].body
    run.do(report_back_cmd(run.state))
    evs = run.do(evaluate_cmd("satisfactory"))
    assert last(run, evs) == []  # closing sends nothing further


def test_reassignment_and_new_co_reviewer_get_a_prompt():
    run = drive_to(Step.INVESTIGATE)
    evs = run.do(reassign_cmd(NEW_REVIEWER, reason="转岗"))
    ns = last(run, evs)
    assert recipients(ns) == [NEW_REVIEWER] and ns[0].kind == "task_prompt" and "转岗" in ns[0].body
    evs = run.do(add_co_reviewer_cmd("p-assistant"))
    assert recipients(last(run, evs)) == ["p-assistant"]
    assert run.wake()[0].recipient_ids == (NEW_REVIEWER, CO_REVIEWER, "p-assistant")


def test_cancellation_tells_reviewer_and_subject():
    run = drive_to(Step.NOTIFY)
    evs = run.do(cancel_cmd(reason="机构调整"))
    ns = last(run, evs)
    assert sorted(recipients(ns)) == sorted([REVIEWER, SUBJECT_LEADER]) and all("机构调整" in n.body for n in ns)


def test_short_steps_still_remind_before_the_deadline():
    run = ReviewRun.begin(make_spec(deadlines=StepDeadlines(investigate=timedelta(hours=4))))
    evs = run.wake()
    assert isinstance(evs[0], e.ReminderSent) and run.now < evs[0].due_at


def test_a_promoted_co_reviewer_is_reminded_once():
    run = drive_to(Step.INVESTIGATE)
    run.do(reassign_cmd(CO_REVIEWER))
    evs = run.wake()
    ns = last(run, evs)
    assert recipients(ns, "reminder") == [CO_REVIEWER]
