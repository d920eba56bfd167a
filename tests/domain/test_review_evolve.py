"""Properties of decide/evolve over random command sequences (Hypothesis).

A random walk interleaves happy-path commands, the same commands from random
people, supervisor commands, timers (on time and early), malformed-but-typed
commands and time advancing. Over every walk:

1. ``decide`` either raises ``CommandRejected`` or returns events, nothing else;
2. folding the events one at a time equals ``fold`` of all of them (and of any
   split of them);
3. ``state.version`` equals the number of events;
4. the events survive the stored round trip ``from_record(to_record(...))``
   and folding the round-tripped events gives the same state;
5. a rejected command changes nothing (and ``decide`` never mutates the state);
plus: every timer ``next_wakeup`` asks for is accepted when it fires.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from domain import events as e
from domain.errors import CommandRejected
from domain.procedure import FIVE_STEPS, ReviewMethod, Step, StepDeadlines
from domain.review import ReviewState, decide, evolve, fold, next_wakeup, start
from domain import commands as c
from review_builders import (
    ALL_CATEGORIES,
    ALL_LEVELS,
    CO_REVIEWER,
    CONCRETE_PROBLEM,
    PEOPLE,
    SYSTEM,
    T0,
    add_co_reviewer_cmd,
    cancel_cmd,
    evaluate_cmd,
    extend_cmd,
    findings_cmd,
    make_spec,
    measure,
    next_happy_command,
    pass_deadline_cmd,
    point_input,
    progress_cmd,
    reassign_cmd,
    reminder_cmd,
    report_back_cmd,
    return_plan_cmd,
    run_full_procedure,
    subject_actor,
)

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
ACTORS = (*PEOPLE, SYSTEM)
REASONS = st.sampled_from([None, "", "  ", "workload at year end"])


def hours(lo: int, hi: int):
    return st.integers(lo, hi).map(lambda h: timedelta(hours=h))


@st.composite
def specs(draw):
    level = draw(st.sampled_from(ALL_LEVELS))
    category = draw(st.sampled_from(ALL_CATEGORIES))
    deadlines = StepDeadlines(
        investigate=draw(hours(2, 240)),
        solicit_opinions=draw(hours(2, 240)),
        review=draw(hours(2, 120)),
        notify=draw(hours(2, 96)),
        rectify=draw(hours(24, 24 * 40)),
        reminder_lead=draw(hours(1, 48)),
    )
    co = draw(st.sampled_from([(), (CO_REVIEWER,)]))
    return make_spec(level, category, co_reviewer_ids=co, deadlines=deadlines)


# ---- the actions of the walk: each returns a command, or None to only move the clock


def _reviewer(state: ReviewState) -> str:
    return state.spec.reviewer_id


def a_happy(data, state, now):
    return next_happy_command(state, now)


def a_happy_anyone(data, state, now):
    cmd = next_happy_command(state, now)
    return cmd and cmd.model_copy(update={"actor_id": data.draw(st.sampled_from(ACTORS))})


def a_timer(data, state, now):
    w = next_wakeup(state)
    return (w.command, max(now, w.at)) if w else None


def a_timer_early(data, state, now):
    w = next_wakeup(state)
    return w.command if w else None


def a_timer_random(data, state, now):
    build = data.draw(st.sampled_from([reminder_cmd, pass_deadline_cmd]))
    return build(data.draw(st.sampled_from(list(Step))), actor=data.draw(st.sampled_from([SYSTEM, SYSTEM, *PEOPLE])))


def a_advance(data, state, now):
    return ((), now + data.draw(hours(0, 96)))


def a_supervise(data, state, now):
    who = data.draw(st.sampled_from(ACTORS))
    reason = data.draw(REASONS)
    actor = data.draw(st.sampled_from(["p-supervisor", "p-supervisor", *PEOPLE]))
    choice = data.draw(st.sampled_from(["reassign", "co", "extend", "extend", "cancel"]))
    if choice == "reassign":
        return reassign_cmd(who, actor=actor, reason=reason)
    if choice == "co":
        return add_co_reviewer_cmd(who, actor=actor, reason=reason)
    if choice == "cancel":
        # rare: a cancelled walk has little left to exercise
        return cancel_cmd(actor=actor, reason=reason) if data.draw(st.integers(0, 9)) == 0 else None
    due = now + data.draw(hours(-48, 24 * 60))
    if data.draw(st.booleans()):
        due = due.replace(tzinfo=None)
    return extend_cmd(data.draw(st.sampled_from(list(Step))), due, actor=actor, reason=reason)


def a_findings(data, state, now):
    codes = data.draw(st.lists(st.sampled_from([*state.spec.rubric_points, "ZZ9", "C1"]), min_size=1, max_size=4))
    return findings_cmd(codes, actor=data.draw(st.sampled_from([_reviewer(state), CO_REVIEWER, *PEOPLE])))


PROBLEM_TEXTS = st.sampled_from([CONCRETE_PROBLEM, "执法程序不规范的问题", "无", "暂无", "未发现明显问题", "no issues", "……", "  ", "差"])


def a_review(data, state, now):
    pts = list(state.spec.rubric_points)
    codes = data.draw(st.one_of(st.just(pts), st.permutations(pts), st.lists(st.sampled_from([*pts, "A1", "ZZ9"]), min_size=1, max_size=len(pts) + 2)))
    problems = data.draw(st.dictionaries(st.sampled_from(pts), st.lists(PROBLEM_TEXTS, max_size=2), max_size=3))
    method = data.draw(st.sampled_from(list(ReviewMethod)))
    return c.SubmitReview(actor_id=_reviewer(state), method=method, points=[point_input(code, problems.get(code, ())) for code in codes])


def a_plan(data, state, now):
    ids = [p.problem_id for p in state.problems] or ["P1"]
    measures = data.draw(st.lists(st.tuples(st.lists(st.sampled_from([*ids, "P99"]), min_size=1, max_size=3), st.integers(-3, 30)), min_size=1, max_size=4))
    return c.SubmitRectificationPlan(actor_id=subject_actor(state.spec), measures=[measure(pids, now, days=d) for pids, d in measures])


def a_rectify(data, state, now):
    ids = [m.measure_id for m in state.measures] or ["M1"]
    subset = data.draw(st.lists(st.sampled_from([*ids, "M9"]), min_size=1, max_size=4))
    choice = data.draw(st.sampled_from(["progress", "report", "return", "more_work"]))
    if choice == "progress":
        return progress_cmd(state, measure_ids=subset, status=data.draw(st.sampled_from(["not_started", "in_progress", "done"])))
    if choice == "report":
        return report_back_cmd(state, measure_ids=subset)
    if choice == "return":
        return return_plan_cmd(actor=_reviewer(state), reason=data.draw(REASONS))
    return evaluate_cmd("needs_more_work", actor=_reviewer(state))


ACTIONS = [a_happy] * 6 + [a_happy_anyone, a_timer, a_timer, a_timer_early, a_timer_random, a_advance, a_supervise, a_findings, a_review, a_plan, a_rectify, a_rectify]


def walk(data, spec, max_steps: int = 60):
    """Run a random walk; check the per-command properties on the way; return
    the final state, every event and counts of (accepted, rejected)."""
    now = T0
    events: list[e.DomainEvent] = list(start(spec, now))
    state = fold(events)
    accepted = rejected = 0
    for _ in range(data.draw(st.integers(1, max_steps), label="steps")):
        # every timer the workflow would set is honoured when it fires
        w = next_wakeup(state)
        if w is not None:
            assert decide(state, w.command, max(now, w.at)), "a due timer must produce events"
        action = data.draw(st.sampled_from(ACTIONS), label="action")
        out = action(data, state, now)
        if out is None:
            continue
        cmd, when = out if isinstance(out, tuple) else (out, now)
        assert when >= now
        now = when
        if cmd == ():
            continue
        before = state.model_copy(deep=True)
        try:
            evs = decide(state, cmd, now)
        except CommandRejected as err:  # (1) the only exception decide may raise
            assert state == before  # (5) a rejected command changes nothing
            assert err.field and err.reason
            rejected += 1
            continue
        assert state == before  # decide never mutates the state it is given
        assert evs and all(isinstance(ev, e.DomainEvent) and ev.occurred_at == now for ev in evs)
        given_state = state
        for ev in evs:  # (2) fold one event at a time
            state = evolve(state, ev)
            events.append(ev)
        assert given_state == before  # evolve never mutates the state it is given (it shares what is frozen)
        assert state.version == len(events)  # (3)
        accepted += 1
    event(f"final step: {state.step.value}")
    return state, events, accepted, rejected


@SETTINGS
@given(data=st.data(), spec=specs())
def test_random_walks_keep_the_decider_laws(data, spec):
    state, events, accepted, rejected = walk(data, spec)
    # (2) one at a time == all at once == any split
    assert fold(events) == state
    k = data.draw(st.integers(0, len(events)), label="split")
    assert fold(events[k:], fold(events[:k])) == state
    # (3)
    assert state.version == len(events)
    # (4) the stored round trip
    records = e.to_records(spec.review_id, 0, events, causation_id="walk")
    assert [r.version for r in records] == list(range(1, len(events) + 1))
    back = [e.from_record(r) for r in records]
    assert [type(x) for x in back] == [type(x) for x in events]
    assert back == events
    assert fold(back) == state
    # the state never claims a step the events did not start
    started = {ev.step for ev in events if isinstance(ev, e.StepStarted)}
    assert state.step in started | {Step.CLOSED, Step.CANCELLED}
    for ev in events:
        if isinstance(ev, e.StepStarted):
            assert ev.due_at > ev.occurred_at


@SETTINGS
@given(data=st.data(), spec=specs())
def test_events_survive_json_through_the_record(data, spec):
    """A record serialized as JSON (what the store and Temporal carry) still
    rebuilds the same events and state."""
    state, events, *_ = walk(data, spec, max_steps=30)
    records = e.to_records(spec.review_id, 0, events)
    back = [e.from_record(e.EventRecord.model_validate_json(r.model_dump_json())) for r in records]
    assert back == events and fold(back) == state


@SETTINGS
@given(spec=specs(), gap=hours(1, 30))
def test_happy_walks_always_close(spec, gap):
    """Driving with the happy path alone (any spacing of commands, timers fired
    when due) always ends in ``Step.CLOSED`` with every step started once."""
    now = T0
    state = fold(start(spec, now))
    events = 2
    for _ in range(200):
        if state.finished:
            break
        now += gap
        w = next_wakeup(state)
        if w is not None and w.at <= now:
            cmd = w.command
        else:
            cmd = next_happy_command(state, now)
        evs = decide(state, cmd, now)
        state = fold(evs, state)
        events += len(evs)
    assert state.step is Step.CLOSED and state.version == events
    assert set(state.step_started_at) == set(FIVE_STEPS)


@pytest.mark.parametrize("level", ALL_LEVELS)
def test_full_procedure_round_trips(level):
    run = run_full_procedure(make_spec(level))
    back = [e.from_record(r) for r in e.to_records("rv-1", 0, run.events)]
    assert back == run.events and fold(back) == run.state


def test_evolve_does_not_touch_its_input():
    run = run_full_procedure(make_spec())
    s = fold(run.events[:-5])
    copy = s.model_copy(deep=True)
    for ev in run.events[-5:]:
        evolve(s, ev)
    assert s == copy


def test_records_continue_from_the_expected_version():
    run = run_full_procedure(make_spec())
    recs = e.to_records("rv-1", 7, run.events[7:9], causation_id="upd-1")
    assert [r.version for r in recs] == [8, 9] and {r.causation_id for r in recs} == {"upd-1"}
    assert [r.event_type for r in recs] == [type(ev).event_type for ev in run.events[7:9]]
