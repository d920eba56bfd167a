"""The campaign's dry run and its random draw, on the example organization:
scope, round and levels select the right subjects; the plan id changes with
anything a launch would start differently; the draw is a function of the
candidates and the seed, proportional per stratum, and the log's record of it
reproduces it."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from directory.example import build_example
from domain.campaign import CampaignSpec, Round, Sample, Scope, SampleDrawn, candidates_of, draw, launch_events, period_bounds, plan_campaign, redraw
from domain.coverage import plan
from domain.errors import CommandRejected
from domain.events import from_record, to_records
from domain.procedure import ReviewMethod, SubjectKind
from domain.rubric import SubjectLevel

D = build_example()
DERIVATION, SUMMARY = plan(D)
BRANCH = "U-AF01-B01"


def spec(**kw) -> CampaignSpec:
    base = dict(campaign_id="c-2026-h2", period="2026-H2", round=Round.YEAR_END, method=ReviewMethod.CONCENTRATED)
    return CampaignSpec(**{**base, **kw})


def make(s: CampaignSpec):
    return plan_campaign(D, DERIVATION.assignments, SUMMARY.gaps, s)


def test_whole_year_end_round_covers_every_assignment():
    p = make(spec())
    assert p.total == len(DERIVATION.assignments) == p.candidates
    assert sum(n for row in p.by_tier_level.values() for n in row.values()) == p.total
    assert [e.subject_id for e in p.entries] == sorted(a.subject_id for a in DERIVATION.assignments)


def test_half_yearly_round_is_organizations_and_their_secretaries_only():
    p = make(spec(round=Round.HALF_YEARLY))
    assert p.total == sum(1 for a in DERIVATION.assignments if a.kind is SubjectKind.ORGANIZATION)
    assert {e.kind for e in p.entries} == {SubjectKind.ORGANIZATION}


def test_subtree_and_levels_narrow_the_scope():
    p = make(spec(scope=Scope(unit_id=BRANCH)))
    units = set(D.subtree(BRANCH))
    assert p.total == sum(1 for a in DERIVATION.assignments if a.unit_id in units) > 1
    only_c = make(spec(scope=Scope(unit_id=BRANCH, levels=(SubjectLevel.C,))))
    assert {e.level for e in only_c.entries} == {SubjectLevel.C} and only_c.total == p.total - 1


def test_unknown_scope_unit_is_refused_naming_the_field():
    with pytest.raises(CommandRejected) as e:
        make(spec(scope=Scope(unit_id="U-NOPE")))
    assert e.value.field == "scope.unit_id"


def test_plan_id_is_the_content_hash():
    a, b = make(spec(scope=Scope(unit_id=BRANCH))), make(spec(scope=Scope(unit_id=BRANCH)))
    assert a.plan_id == b.plan_id
    assert make(spec(scope=Scope(unit_id=BRANCH), theme="x")).plan_id != a.plan_id
    assert make(spec(scope=Scope(unit_id="U-AF01-B02"))).plan_id != a.plan_id


@pytest.mark.parametrize(
    "kw, field",
    [
        (dict(method=ReviewMethod.RANDOM), "sample"),
        (dict(method=ReviewMethod.THEMATIC), "theme"),
        (dict(period="2026-Q3"), "period"),
        (dict(campaign_id="Bad Id"), "campaign_id"),
    ],
)
def test_bad_specs_name_what_is_wrong(kw, field):
    with pytest.raises(ValidationError) as e:
        spec(**kw)
    assert field in str(e.value)


def test_sample_needs_exactly_one_of_size_and_fraction():
    with pytest.raises(ValidationError):
        Sample(seed=1)
    with pytest.raises(ValidationError):
        Sample(seed=1, size=3, fraction=0.5)


def test_period_bounds():
    assert period_bounds("2026-H1")[1].isoformat() == "2026-06-30"
    assert period_bounds("2026-Y")[0].isoformat() == "2026-01-01"


def test_random_draw_is_reproducible_and_seeded():
    s = spec(method=ReviewMethod.RANDOM, sample=Sample(size=50, seed=7))
    a, b = make(s), make(s)
    assert a.total == 50 and [e.subject_id for e in a.entries] == [e.subject_id for e in b.entries]
    other = make(spec(method=ReviewMethod.RANDOM, sample=Sample(size=50, seed=8)))
    assert {e.subject_id for e in other.entries} != {e.subject_id for e in a.entries}
    assert other.plan_id != a.plan_id


def test_stratified_draw_is_proportional_per_tier():
    s = spec(method=ReviewMethod.RANDOM, sample=Sample(fraction=0.1, stratify_by="tier", seed=3))
    p = make(s)
    cands = Counter(e.tier for e in candidates_of(D, DERIVATION.assignments, s))
    got = Counter(e.tier for e in p.entries)
    assert p.total == round(sum(cands.values()) * 0.1)
    for tier, n in cands.items():
        assert abs(got[tier] - n * 0.1) < 1, (tier, got[tier], n)


@settings(max_examples=12, deadline=None)
@given(seed=st.integers(0, 2**63 - 1), size=st.integers(1, 300), by=st.sampled_from([None, "tier", "category"]))
def test_the_logged_draw_redraws_the_same_subjects(seed, size, by):
    """What the log records of a draw (candidates with strata, the seed) is
    enough to rerun it, through the stored record's JSON."""
    s = spec(method=ReviewMethod.RANDOM, sample=Sample(size=size, seed=seed, stratify_by=by))
    p = make(s)
    events = launch_events(p, candidates_of(D, DERIVATION.assignments, s), datetime(2026, 7, 1, tzinfo=timezone.utc), "office")
    [drawn] = [from_record(r) for r in to_records("campaign-x", 0, events) if r.event_type == "campaign.sample_drawn"]
    assert isinstance(drawn, SampleDrawn)
    assert redraw(drawn) == drawn.drawn == [e.subject_id for e in p.entries]


def test_a_tampered_draw_record_does_not_redraw():
    s = spec(method=ReviewMethod.RANDOM, sample=Sample(size=20, seed=11))
    p = make(s)
    [_, drawn] = launch_events(p, candidates_of(D, DERIVATION.assignments, s), datetime(2026, 7, 1, tzinfo=timezone.utc), "office")
    forged = drawn.model_copy(update={"drawn": sorted([*drawn.drawn[1:], drawn.candidates[0][0] if drawn.candidates[0][0] not in drawn.drawn else drawn.candidates[1][0]])})
    assert redraw(forged) != forged.drawn


def test_draw_never_exceeds_the_candidates():
    cands = candidates_of(D, DERIVATION.assignments, spec(scope=Scope(unit_id=BRANCH)))
    assert len(draw(cands, Sample(size=10_000, seed=1))) == len(cands)
