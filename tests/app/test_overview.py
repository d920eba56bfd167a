"""The supervisor's overview from the projection tables: counts by step x tier,
the filtered list, overdue and due-this-week, the drill-down and coverage per
unit, each checked against what the reviews' own states and the directory's
plan say, within a supervisor's scope, one campaign and one unit. Reviews of
directory subjects made by the real domain, appended through the real
EventStore and projected; no Temporal. Both databases."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from principals import person

from app.context import AppContext
from app.errors import Forbidden, NotFound
from app.overview import OverviewInput, overview
from config.settings import Settings
from directory.service import iter_assignments, load_example, review_spec_for
from domain import commands as c
from domain.events import to_records
from domain.procedure import StepDeadlines
from domain.review import SYSTEM_ACTOR, decide, fold, start
from service import demo
from storage.directory import DirectoryStore
from storage.eventlog import EventStore

NOW = datetime.now(timezone.utc).replace(microsecond=0)
SCOPE = "U-AF01"  # four branches under it
# subject -> (campaign, what happens to its review)
PLAN = {
    "U-AF01-B01": ("c1", "closed"),
    "U-AF01-B02": ("c2", "cancelled"),
    "P-000369": ("c1", "overdue"),
    "P-000370": ("c2", "due_in_3_days"),
    "P-000374": ("c2", "due_in_20_days"),
}


def _review(store: EventStore, engine, subject: str, campaign: str, fate: str) -> str:
    rid = f"rv-ov-{subject}"
    spec = review_spec_for(engine, subject, review_id=rid, campaign_id=campaign, supervisor_ids=("office",), deadlines=StepDeadlines())
    opened = NOW - timedelta(days=10) if fate == "overdue" else NOW
    first_due = {"due_in_3_days": NOW + timedelta(days=3), "due_in_20_days": NOW + timedelta(days=20)}.get(fate)
    events = start(spec, opened, first_due)
    state = fold(events)
    cmds: list = []
    if fate == "cancelled":
        cmds = [c.CancelReview(actor_id="office", reason="merged")]
    elif fate == "overdue":
        cmds = [c.PassDeadline(actor_id=SYSTEM_ACTOR, step=state.step)]
    for cmd in cmds:
        more = decide(state, cmd, NOW)
        events += more
        state = fold(more, state)
    while fate == "closed" and not state.finished:
        more = decide(state, demo.next_command(state, NOW.date()), NOW)
        events += more
        state = fold(more, state)
    store.append(rid, 0, to_records(rid, 0, events, "test"))
    return rid


@pytest.fixture
def world(engine, tmp_path):
    load_example(engine)
    store = EventStore(engine)
    ids = {s: _review(store, engine, s, camp, fate) for s, (camp, fate) in PLAN.items()}
    d = DirectoryStore(engine).load()
    inside = set(d.subtree(SCOPE))
    due = [a for a in iter_assignments(engine)]
    outside = next(a for a in due if a.unit_id not in inside and a.subject_kind.value == "organization")
    ids[outside.subject_id] = _review(store, engine, outside.subject_id, "c1", "due_in_20_days")
    ctx = AppContext(Settings(database_url=str(engine.url), data_dir=Path(tmp_path)), engine=engine)
    return ctx, ids, d, due


def run(ctx, who, **kw):
    return asyncio.run(overview(ctx, who, OverviewInput(**kw)))


SUPERVISOR = person("P-SUPERVISOR", supervisor_scopes=(SCOPE,))


def test_counts_lists_drill_down_and_coverage_within_a_scope_and_for_an_auditor(world):
    """One world per database (making it plans the whole example directory)."""
    ctx, ids, d, due = world
    ov = run(ctx, SUPERVISOR)
    assert ov.scope == sorted(d.subtree(SCOPE)) and ov.total == len(PLAN)
    tiers = {s: ctx.events.read_stream(ids[s])[0].payload["spec"]["tier"] for s in PLAN}
    want: Counter = Counter()
    for s, (_camp, fate) in PLAN.items():
        want[({"closed": "closed", "cancelled": "cancelled"}.get(fate, "investigate"), tiers[s])] += 1
    got = {(step, tier): n for step, row in ov.counts.items() for tier, n in row.items() if n}
    assert got == dict(want)
    assert [r.review_id for r in ov.overdue] == [ids["P-000369"]] and ov.overdue[0].overdue
    assert [r.review_id for r in ov.due_this_week] == [ids["P-000370"]]
    # overdue first, then the soonest due
    assert [r.review_id for r in ov.reviews][:3] == [ids["P-000369"], ids["P-000370"], ids["P-000374"]]
    assert {r.review_id for r in ov.reviews} == {ids[s] for s in PLAN} and ov.matching == len(PLAN)
    assert [(u.unit_id, u.reviews, u.overdue) for u in ov.children] == [(SCOPE, len(PLAN), 1)]

    filtered = run(ctx, SUPERVISOR, tier=tiers["P-000374"], step="investigate", limit=1)
    same = [s for s, (_c, fate) in PLAN.items() if tiers[s] == tiers["P-000374"] and fate.startswith("due") or (tiers[s] == tiers["P-000374"] and fate == "overdue")]
    assert filtered.matching == len(same) and len(filtered.reviews) == 1 and filtered.total == len(PLAN)
    assert run(ctx, SUPERVISOR, overdue=True).matching == 1 and run(ctx, SUPERVISOR, overdue=False).matching == len(PLAN) - 1
    assert run(ctx, SUPERVISOR, campaign_id="c1").total == 2  # the review outside the scope is in c1 too

    branch = run(ctx, SUPERVISOR, unit_id="U-AF01-B01")
    assert branch.total == 2 and {r.review_id for r in branch.reviews} == {ids["U-AF01-B01"], ids["P-000374"]}
    assert [c.unit_id for c in branch.breadcrumb] == [SCOPE, "U-AF01-B01"]  # the ancestors above the scope are not shown
    assert [c.unit_id for c in branch.children] == list(d.children.get("U-AF01-B01", []))

    # the whole organization for an auditor; refusals
    ov = run(ctx, person("P-AUDITOR", auditor=True))
    assert ov.scope == [] and ov.total == len(ids)
    assert [u.unit_id for u in ov.children] == [u.id for u in d.roots()]
    assert sum(u.reviews for u in ov.children) == len(ids) and sum(u.overdue for u in ov.children) == 1
    with pytest.raises(Forbidden):
        run(ctx, person("P-NOBODY"))
    with pytest.raises(NotFound) as err:
        run(ctx, SUPERVISOR, unit_id="U-HQ")  # above the scope
    assert err.value.field == "unit_id"

    # coverage per unit: the directory's due list against the reviews
    ov = run(ctx, SUPERVISOR)
    inside = set(d.subtree(SCOPE))
    reviewed = {s for s, (_c, fate) in PLAN.items() if fate == "closed"}
    running = {s for s, (_c, fate) in PLAN.items() if fate not in ("closed", "cancelled")}
    want = {}
    for unit in inside:
        subjects = [a for a in due if a.unit_id == unit]
        if subjects:
            missing = [a.subject_name for a in subjects if a.subject_id not in reviewed | running]
            want[unit] = (len(subjects), sum(a.subject_id in reviewed for a in subjects), sum(a.subject_id in running for a in subjects), len(missing), missing[:10])
    assert {c.unit_id: (c.due, c.reviewed, c.in_progress, c.missing_count, c.missing) for c in ov.coverage} == want
    assert [c.missing_count for c in ov.coverage] == sorted((c.missing_count for c in ov.coverage), reverse=True)
    # a cancelled review leaves its subject missing; one campaign counts only its own reviews
    b02 = next(c for c in ov.coverage if c.unit_id == "U-AF01-B02")
    assert d.unit_name("U-AF01-B02") in b02.missing
    c2 = {c.unit_id: c for c in run(ctx, SUPERVISOR, campaign_id="c2").coverage}
    assert c2["U-AF01-B01"].reviewed == 0 and c2["U-AF01-B01"].in_progress == 1
