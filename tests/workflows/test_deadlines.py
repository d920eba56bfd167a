"""Every deadline path of a review on the time-skipping test server: the
reminder before a deadline, the escalation once it passed (the step keeps
waiting), the opinion deadline that closes its step by itself, a deadline
extended while its timer runs (no stale timer fires), and a cancelled review
(no timer outlives it).

Each test moves the server's clock with ``time_env.sleep`` while the worker
keeps running, and reads the workflow's state between moves. Every instant is
derived from the review's own state (its deadlines and ``reminder_at``), never
written down. The time-skipping server has no custom search attributes, so
reviews start with ``visible=False``.
"""

from __future__ import annotations

from contextlib import asynccontextmanager
from datetime import datetime, timedelta, timezone

from conftest import running_worker
from specs import branch_spec
from stream_checks import assert_stream_intact, event_types, folded, outbox_rows, wait_for_state
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowExecutionStatus

from domain import commands as c
from domain.procedure import Step
from domain.review import reminder_at, subject_person_ids
from service.demo import findings, opinions
from service.reviews import get_state, send, start_review

SUPERVISOR = branch_spec().supervisor_ids[0]  # who may extend, cancel, and hears of a missed deadline
MARGIN = timedelta(minutes=5)  # how far before/after an instant the clock is moved


async def advance_to(env, when: datetime) -> None:
    """Move the server's clock to ``when`` (it only moves forward)."""
    now = await env.get_current_time()
    assert when > now, f"cannot move the clock back from {now} to {when}"
    await env.sleep(when - now)


@asynccontextmanager
async def review_running(env, engine, task_queue, spec):
    """A worker and a started review; the workflow is terminated afterwards if
    still running, so its timers do not outlive the test on the shared server."""
    async with running_worker(env, engine, task_queue):
        handle = await start_review(env.client, spec, task_queue, visible=False)
        try:
            yield handle
        finally:
            if (await handle.describe()).status is WorkflowExecutionStatus.RUNNING:
                await handle.terminate("test over")


def records_of(store, review_id, event_type):
    return [r for r in store.read_stream(review_id) if r.event_type == event_type]


def timers(history) -> dict[str, dict]:
    """Every timer of a history: its target instant and how it ended."""
    out: dict[str, dict] = {}
    for ev in history.events:
        if ev.event_type == EventType.EVENT_TYPE_TIMER_STARTED:
            a = ev.timer_started_event_attributes
            started = ev.event_time.ToDatetime(tzinfo=timezone.utc)
            out[a.timer_id] = {"target": started + a.start_to_fire_timeout.ToTimedelta(), "fired": False, "canceled": False}
        elif ev.event_type == EventType.EVENT_TYPE_TIMER_FIRED:
            out[ev.timer_fired_event_attributes.timer_id]["fired"] = True
        elif ev.event_type == EventType.EVENT_TYPE_TIMER_CANCELED:
            out[ev.timer_canceled_event_attributes.timer_id]["canceled"] = True
    return out


async def test_reminder_goes_out_before_the_deadline(time_env, log_engine, store, task_queue):
    client, spec = time_env.client, branch_spec()
    rid, step = spec.review_id, Step.INVESTIGATE
    async with review_running(time_env, log_engine, task_queue, spec):
        opened = await get_state(client, rid)
        due, remind = opened.due[step], reminder_at(opened, step)
        assert opened.started_at < remind < due

        await advance_to(time_env, remind - MARGIN)
        before = await get_state(client, rid)
        assert before.reminded == [] and before.overdue == []
        assert "review.reminder_sent" not in event_types(store, rid)

        await advance_to(time_env, remind + MARGIN)
        state = await wait_for_state(client, rid, lambda s: step in s.reminded, what="the reminder")
        assert state.step is step and state.overdue == []

    [reminder] = records_of(store, rid, "review.reminder_sent")
    assert remind <= reminder.occurred_at < due
    assert reminder.payload["step"] == step.value and reminder.actor_role == "system"
    assert datetime.fromisoformat(reminder.payload["due_at"]) == due
    assert reminder.payload["recipient_ids"] == [spec.reviewer_id]
    rows = [r for r in outbox_rows(log_engine, rid) if r["kind"] == "reminder"]
    assert [(r["recipient_id"], r["version"]) for r in rows] == [(spec.reviewer_id, reminder.version)]
    assert "review.deadline_passed" not in event_types(store, rid)
    assert_stream_intact(store.read_stream(rid))
    assert folded(store, rid) == state


async def test_missed_deadline_escalates_and_the_step_keeps_waiting(time_env, log_engine, store, task_queue):
    client, spec = time_env.client, branch_spec()
    rid, step = spec.review_id, Step.INVESTIGATE
    async with review_running(time_env, log_engine, task_queue, spec):
        due = (await get_state(client, rid)).due[step]

        await advance_to(time_env, due - MARGIN)
        assert (await get_state(client, rid)).overdue == []

        await advance_to(time_env, due + MARGIN)
        state = await wait_for_state(client, rid, lambda s: step in s.overdue, what="the deadline")
        assert state.step is step and state.is_overdue() and step in state.reminded
        [passed] = records_of(store, rid, "review.deadline_passed")
        assert due <= passed.occurred_at and datetime.fromisoformat(passed.payload["due_at"]) == due
        assert passed.payload["notified_ids"] == list(spec.supervisor_ids)
        overdue = [r for r in outbox_rows(log_engine, rid) if r["kind"] == "overdue"]
        assert [(r["recipient_id"], r["version"]) for r in overdue] == [(p, passed.version) for p in spec.supervisor_ids]

        # an overdue step has no further timer: a long wait adds no event
        version = state.version
        await time_env.sleep(timedelta(days=20))
        assert (await get_state(client, rid)).version == version

        # ... and still takes the late work
        await send(client, rid, findings(spec))
        result = await send(client, rid, c.CloseInvestigation(actor_id=spec.reviewer_id))
        assert result.step is Step.SOLICIT_OPINIONS
        late = await get_state(client, rid)
        now = await time_env.get_current_time()
        assert late.step is Step.SOLICIT_OPINIONS and late.overdue == [step]
        assert late.due[Step.SOLICIT_OPINIONS] > now  # the next step gets its own time
    assert_stream_intact(store.read_stream(rid))
    assert folded(store, rid) == late


async def test_opinion_deadline_closes_the_step_and_starts_the_review(time_env, log_engine, store, task_queue):
    client, spec = time_env.client, branch_spec()
    rid, step = spec.review_id, Step.SOLICIT_OPINIONS
    async with review_running(time_env, log_engine, task_queue, spec):
        await send(client, rid, findings(spec))
        await send(client, rid, c.CloseInvestigation(actor_id=spec.reviewer_id))
        await send(client, rid, opinions(spec))
        state = await get_state(client, rid)
        assert state.step is step
        due = state.due[step]

        await advance_to(time_env, due + MARGIN)
        state = await wait_for_state(client, rid, lambda s: s.step is Step.REVIEW, what="the opinion deadline")

    assert state.opinions_closed_by_deadline and len(state.opinions) == 1
    assert step in state.reminded and step not in state.overdue  # closed, not overdue
    assert "review.deadline_passed" not in event_types(store, rid)
    [closed] = records_of(store, rid, "review.opinion_solicitation_closed")
    assert closed.payload == {"by_deadline": True, "opinion_count": 1} and closed.actor_role == "system"
    assert due <= closed.occurred_at
    started = records_of(store, rid, "review.step_started")[-1]
    assert started.version == closed.version + 1 and started.payload["step"] == Step.REVIEW.value
    assert state.due[Step.REVIEW] == closed.occurred_at + spec.deadlines.review
    assert_stream_intact(store.read_stream(rid))
    assert folded(store, rid) == state


async def test_extended_deadline_leaves_no_stale_timer(time_env, log_engine, store, task_queue):
    client, spec = time_env.client, branch_spec()
    rid, step = spec.review_id, Step.INVESTIGATE
    async with review_running(time_env, log_engine, task_queue, spec) as handle:
        opened = await get_state(client, rid)
        old_due, old_remind = opened.due[step], reminder_at(opened, step)

        # the reminder went out; the deadline timer for old_due is now running
        await advance_to(time_env, old_remind + MARGIN)
        await wait_for_state(client, rid, lambda s: step in s.reminded, what="the first reminder")

        new_due = old_due + timedelta(days=3)
        await send(client, rid, c.ExtendDeadline(actor_id=SUPERVISOR, step=step, due_at=new_due, reason="集中培训"))
        extended = await get_state(client, rid)
        assert extended.due[step] == new_due and extended.reminded == []
        new_remind = reminder_at(extended, step)
        assert old_due < new_remind < new_due

        # the old deadline passes quietly
        await advance_to(time_env, old_due + MARGIN)
        quiet = await get_state(client, rid)
        assert quiet.overdue == [] and quiet.reminded == [] and quiet.version == extended.version

        # a fresh reminder before the new deadline ...
        await advance_to(time_env, new_remind + MARGIN)
        reminded = await wait_for_state(client, rid, lambda s: step in s.reminded, what="the second reminder")
        assert reminded.overdue == []

        # ... and overdue only after the new one
        await advance_to(time_env, new_due - MARGIN)
        assert (await get_state(client, rid)).overdue == []
        await advance_to(time_env, new_due + MARGIN)
        state = await wait_for_state(client, rid, lambda s: step in s.overdue, what="the new deadline")
        history = await handle.fetch_history()

    reminders = records_of(store, rid, "review.reminder_sent")
    assert [datetime.fromisoformat(r.payload["due_at"]) for r in reminders] == [old_due, new_due]
    assert old_remind <= reminders[0].occurred_at < old_due and new_remind <= reminders[1].occurred_at < new_due
    [passed] = records_of(store, rid, "review.deadline_passed")
    assert new_due <= passed.occurred_at and datetime.fromisoformat(passed.payload["due_at"]) == new_due
    assert [r["kind"] for r in outbox_rows(log_engine, rid) if r["kind"] in ("reminder", "overdue")] == ["reminder", "reminder", "overdue"]

    # in the Temporal history: the timer aimed at the old deadline was cancelled, never fired
    by_target = timers(history)
    stale = [t for t in by_target.values() if abs(t["target"] - old_due) < timedelta(minutes=1)]
    assert len(stale) == 1, by_target
    assert stale[0]["canceled"] and not stale[0]["fired"]
    fired = sorted(t["target"] for t in by_target.values() if t["fired"])
    assert len(fired) == 3 and abs(fired[0] - old_remind) < timedelta(minutes=1)
    assert abs(fired[1] - new_remind) < timedelta(minutes=1) and abs(fired[2] - new_due) < timedelta(minutes=1)
    assert_stream_intact(store.read_stream(rid))
    assert folded(store, rid) == state


async def test_cancelled_review_completes_and_records_nothing_more(time_env, log_engine, store, task_queue):
    client, spec = time_env.client, branch_spec()
    rid = spec.review_id
    async with review_running(time_env, log_engine, task_queue, spec) as handle:
        opened = await get_state(client, rid)
        await send(client, rid, findings(spec))
        result = await send(client, rid, c.CancelReview(actor_id=SUPERVISOR, reason="被点评单位撤并"))
        assert result.step is Step.CANCELLED
        outcome = await handle.result()
        assert outcome.final_step is Step.CANCELLED and outcome.version == result.version
        assert (await handle.describe()).status is WorkflowExecutionStatus.COMPLETED
        count = len(store.read_stream(rid))

        # every deadline the review had passes (awaiting the result may itself
        # have moved the clock): nothing more is recorded
        await time_env.sleep(timedelta(days=40))
        assert await time_env.get_current_time() > opened.started_at + timedelta(days=40) > opened.due[Step.INVESTIGATE]
        state = await get_state(client, rid)
        history = await handle.fetch_history()

    records = store.read_stream(rid)
    assert len(records) == count == state.version == outcome.version
    assert records[-1].event_type == "review.cancelled" and records[-1].reason == "被点评单位撤并" and records[-1].actor_id == SUPERVISOR
    assert state.step is Step.CANCELLED and state.cancel_reason == "被点评单位撤并" and state.reminded == [] and state.overdue == []
    cancelled = [r for r in outbox_rows(log_engine, rid) if r["kind"] == "cancelled"]
    assert {r["recipient_id"] for r in cancelled} == {spec.reviewer_id, *subject_person_ids(spec)}
    assert_stream_intact(records)
    assert folded(store, rid) == state
    # the step's timer was cancelled with the review, never fired
    by_id = timers(history)
    assert by_id and all(t["canceled"] and not t["fired"] for t in by_id.values()), by_id
    assert history.events[-1].event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED
