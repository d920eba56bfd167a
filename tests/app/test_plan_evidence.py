"""A measure's expected evidence as a field of its own: a plan recorded before
the field existed (schema v1, no key in the stored payload) still verifies,
folds with the field empty and reads through the application layer; a new
plan carries it. Events from the real domain, appended through the real
EventStore; no Temporal (state and lists are read from the log and its
projection)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from principals import person

from app.context import AppContext
from app.reviews import ListReviewsInput, list_reviews, state_from_log
from bench.inbox import T0, spec_for
from config.settings import Settings
from domain.events import to_records
from domain.review import decide, fold, start
from service import demo
from storage.eventlog import EventStore
from storage.verify import verify_stream


def _through_the_plan(store: EventStore, i: int, *, as_v1: bool) -> str:
    """Review ``i`` walked by the demo's actors up to its submitted plan; with
    ``as_v1`` the plan event is stored as the old code wrote it."""
    spec = spec_for(i, 1, campaign="evidence")
    events = start(spec, T0)
    state = fold(events)
    while state.plan_status != "submitted":
        more = decide(state, demo.next_command(state, T0.date()), T0)
        events += more
        state = fold(more, state)
    records = to_records(spec.review_id, 0, events, "test")
    if as_v1:
        plan = records[-1]
        assert plan.event_type == "review.rectification_plan_submitted" and plan.schema_version == 2
        old = {**plan.payload, "measures": [{k: v for k, v in m.items() if k != "expected_evidence"} for m in plan.payload["measures"]]}
        records[-1] = plan.model_copy(update={"schema_version": 1, "payload": old})
    store.append(spec.review_id, 0, records)
    return spec.review_id


def test_old_plans_verify_and_fold_empty_new_plans_carry_the_evidence(engine, tmp_path):
    store = EventStore(engine)
    old_id = _through_the_plan(store, 1, as_v1=True)
    new_id = _through_the_plan(store, 2, as_v1=False)
    stored_old = store.read_stream(old_id)[-1]
    assert stored_old.schema_version == 1 and all("expected_evidence" not in m for m in stored_old.payload["measures"])  # never rewritten
    for rid in (old_id, new_id):
        report = verify_stream(engine, rid)
        assert report.ok, report.defects
    ctx = AppContext(Settings(database_url=str(engine.url), data_dir=Path(tmp_path)), engine=engine)
    old, new = state_from_log(ctx, old_id), state_from_log(ctx, new_id)
    assert old.measures and [m.expected_evidence for m in old.measures] == [""] * len(old.measures)
    assert new.measures and {m.expected_evidence for m in new.measures} == {"修订后的学习制度和台账"}
    assert [m.action for m in old.measures] == [m.action for m in new.measures]  # the action text holds no evidence
    # the projection folds the old event too (a rebuild replays it from position 0)
    assert ctx.projector.rebuild() == store.head_position()
    listed = asyncio.run(list_reviews(ctx, person("P-A", auditor=True), ListReviewsInput(campaign_id="evidence")))
    assert sorted(r.review_id for r in listed.items) == sorted([old_id, new_id]) and {r.step for r in listed.items} == {"rectify"}
