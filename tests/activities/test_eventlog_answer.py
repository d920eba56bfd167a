"""The event log's answer to an append, as the review workflow reads it: a
first append is answered with stamps only (position and hash per record,
the step of a step's start), and the workflow folds the events it sent; an
append whose versions hold another attempt's events (a retry after a crash,
re-decided at another time) is answered with the log's records, which win.
Folding the events sent equals folding the records as the engine hands them
back (through the data converter), for every event of a whole review."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import ActivityEnvironment

from activities.contracts import AppendInput, AppendResult
from activities.eventlog import EventLogActivities
from directory.service import iter_assignments, load_example, review_spec_for
from domain import events as ev
from domain.procedure import StepDeadlines
from domain.review import decide, evolve, fold, start
from service.demo import on_time_commands
from storage.db import make_engine
from storage.eventlog import EventStore
from storage.migrate import upgrade

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=timezone.utc)


@pytest.fixture
def engine(tmp_path):
    eng = make_engine(f"sqlite:///{tmp_path}/log.db")
    upgrade(eng)
    load_example(eng)
    yield eng
    eng.dispose()


def spec_of(engine, review_id: str):
    subject = next(a for a in iter_assignments(engine) if a.level == "B")
    return review_spec_for(engine, subject.subject_id, review_id=review_id, campaign_id="t", supervisor_ids=("office",), deadlines=StepDeadlines())


def append(acts: EventLogActivities, stream: str, version: int, events, causation: str) -> AppendResult:
    records = ev.to_records(stream, version, events, causation)
    return ActivityEnvironment().run(acts.append, AppendInput(stream_id=stream, expected_version=version, records=records))


def through_the_engine(result: AppendResult) -> AppendResult:
    """What the workflow receives: the result as the converter carries it."""
    conv = pydantic_data_converter.payload_converter
    return conv.from_payloads(conv.to_payloads([result]), [AppendResult])[0]


def test_a_whole_review_is_answered_with_stamps_and_folds_as_the_log_does(engine):
    spec = spec_of(engine, "rv-stamps")
    acts = EventLogActivities(EventStore(engine))
    state = fold([])
    now = T0
    batches = [("start:run-1", start(spec, T0))]
    for i, cmd in enumerate(on_time_commands(spec, date(2026, 12, 1))):
        batches.append((f"update:{i}", cmd))
    for causation, what in batches:
        version = state.version
        if isinstance(what, list):
            events = what
        else:
            now += timedelta(hours=1)
            events = decide(state, what, now)
        got = through_the_engine(append(acts, spec.review_id, version, events, causation))
        assert got.records == [] and [s.version for s in got.stamps] == list(range(version + 1, version + len(events) + 1))
        for e in events:  # what the workflow does with stamps: fold its own events
            state = evolve(state, e)
    stored = EventStore(engine).read_stream(spec.review_id)
    assert state == fold(ev.from_record(r) for r in stored)  # what the auditor folds equals what the workflow folded
    assert state.step.value == "closed"


def test_stamps_carry_position_hash_and_the_started_step(engine):
    spec = spec_of(engine, "rv-stamp-step")
    opening = start(spec, T0)
    got = append(EventLogActivities(EventStore(engine)), spec.review_id, 0, opening, "start:run-1")
    stored = EventStore(engine).read_stream(spec.review_id)
    assert [(s.version, s.event_type, s.position, s.hash) for s in got.stamps] == [(r.version, r.event_type, r.position, r.hash) for r in stored]
    assert [s.step for s in got.stamps if s.event_type == "review.step_started"] == ["investigate"]
    assert all(s.step is None for s in got.stamps if s.event_type != "review.step_started")


def test_a_retry_that_finds_the_first_attempts_events_gets_the_logs_records(engine):
    spec = spec_of(engine, "rv-retry")
    acts = EventLogActivities(EventStore(engine))
    first = append(acts, spec.review_id, 0, start(spec, T0), "start:run-1")
    assert first.stamps and not first.records
    # the same opening re-decided a second later (the task retried after a crash): the log keeps the first
    again = append(acts, spec.review_id, 0, start(spec, T0 + timedelta(seconds=1)), "start:run-1")
    assert not again.stamps and [r.occurred_at for r in again.records] == [T0] * len(again.records)
    assert [r.hash for r in again.records] == [s.hash for s in first.stamps]
