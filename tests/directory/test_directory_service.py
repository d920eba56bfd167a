"""What the rest of Pingyi uses: the example loaded on first start, a
ReviewSpec filled from the directory, and a review keeping the facts it
started with."""

from __future__ import annotations

import time
from collections import Counter
from datetime import datetime, timezone

import pytest

from directory.example import build_example
from directory.service import iter_assignments, load_example, plan_period, review_spec_for
from domain.assignment import derive
from domain.errors import CommandRejected
from domain.org import Membership, Role
from domain.procedure import StepDeadlines, SubjectKind
from domain.review import start
from domain.rubric import CURRENT_RUBRIC_VERSION, SubjectLevel, rubric
from storage.directory import DirectoryStore

KW = dict(review_id="rv-1", campaign_id="2026H2", supervisor_ids=("office",), deadlines=StepDeadlines())


def test_the_example_loads_once_and_the_second_call_is_fast(engine):
    load_example(engine)
    store = DirectoryStore(engine)
    counts = store.counts()
    t = time.perf_counter()
    load_example(engine)
    assert time.perf_counter() - t < 0.5
    assert store.counts() == counts and len(store.imports()) == 1


def test_the_example_never_overwrites_an_imported_directory(engine):
    store = DirectoryStore(engine)
    small = build_example()
    from domain.org import Directory

    mine = Directory.build([small.units["U-HQ"]], [small.people[small.units["U-HQ"].leader_id]])
    store.replace(mine, source="mine")
    load_example(engine)
    assert set(store.load().units) == {"U-HQ"}


def test_the_example_plans_with_full_coverage():
    """Counts derived from the example's own data, not typed in."""
    d = build_example()
    derivation = derive(d)
    internal = [u for u in d.units.values() if not u.external]
    leaders = {u.leader_id for u in d.units.values()}
    member_subjects = {m.person_id for m in d.memberships if m.person_id not in leaders}
    assert len(derivation.assignments) == len(internal) - 1 + len(member_subjects)  # minus the top (U-HQ)
    assert not derivation.blocked
    levels = Counter(a.level for a in derivation.assignments)
    a_units = [u for u in internal if u.parent_id and u.kind.value in ("party_group", "party_committee")]
    assert levels[SubjectLevel.A] == len(a_units)
    assert levels[SubjectLevel.C] == len(member_subjects)
    guided = [u for u in internal if u.guided_by]
    assert sum(1 for a in derivation.assignments if a.co_reviewer_ids) == len(guided) == 66
    branches = [u for u in internal if u.kind.value == "branch" and u.parent_id == "U-HQ-ORG"]
    assert len(branches) == 21
    assert sum(1 for u in internal if u.id.startswith("U-CIQ-") and u.kind.value == "party_group") == 35
    assert sum(1 for u in internal if u.id.startswith("U-QTS-") and u.kind.value == "party_group") == 31


def test_review_spec_for_an_organization(engine):
    load_example(engine)
    spec = review_spec_for(engine, "U-CIQ-GD", **KW)
    d = build_example()
    u = d.units["U-CIQ-GD"]
    assert spec.subject.kind is SubjectKind.ORGANIZATION and spec.subject.leader_id == u.leader_id
    assert spec.reviewer_id == d.units[u.parent_id].leader_id
    assert spec.co_reviewer_ids == (d.units["U-HQ"].leader_id,)
    assert (spec.level, spec.unit_category, spec.tier) == (SubjectLevel.A, u.category, 1)
    assert spec.rubric_version == CURRENT_RUBRIC_VERSION
    assert spec.rubric_points == tuple(p.code for p in rubric().points_for(SubjectLevel.A, u.category))
    assert u.name in spec.explanation and "co-reviews" in spec.explanation and "协助点评" in spec.explanation
    assert len(start(spec, datetime.now(timezone.utc))) == 2  # the decider accepts it


def test_review_spec_for_a_member(engine):
    load_example(engine)
    d = build_example()
    m = next(m for m in d.memberships if m.role is Role.MEMBER and m.unit_id.startswith("U-QTS-SD-D"))
    spec = review_spec_for(engine, m.person_id, **KW)
    assert spec.subject.kind is SubjectKind.MEMBER and spec.subject.unit_id == m.unit_id
    assert spec.reviewer_id == d.units[m.unit_id].leader_id and spec.level is SubjectLevel.C and spec.tier == 4
    assert spec.subject.display_name == d.people[m.person_id].name


@pytest.mark.parametrize("subject,field,words", [
    ("U-HQ", "subject_id", "top of the directory"),
    ("U-EXT-GD", "subject_id", "another authority"),
    ("P-000001", "subject_id", "organization they lead"),
    ("U-NOPE", "subject_id", "not in the directory"),
    ("王建国", "subject_id", "neither"),
])
def test_review_spec_for_rejects_what_is_not_a_subject(engine, subject, field, words):
    load_example(engine)
    with pytest.raises(CommandRejected) as exc:
        review_spec_for(engine, subject, **KW)
    assert exc.value.field == field and words in exc.value.reason


def test_review_spec_for_rejects_a_subject_without_reviewer(engine):
    load_example(engine)
    store = DirectoryStore(engine)
    d = store.load()
    units = [u.model_copy(update={"leader_id": None}) if u.id == "U-HQ-D03" else u for u in d.units.values()]
    from domain.org import Directory

    store.replace(Directory.build(units, d.people.values(), d.memberships), source="vacancy")
    member = d.members["U-HQ-D03"][0]
    with pytest.raises(CommandRejected) as exc:
        review_spec_for(engine, member, **KW)
    assert exc.value.field == "reviewer_id" and "no_principal_leader" in exc.value.reason and "U-HQ-D03" in exc.value.reason


def test_a_started_review_keeps_its_facts_after_a_reimport(engine):
    load_example(engine)
    store = DirectoryStore(engine)
    d = store.load()
    member = d.members["U-HQ-D05"][0]
    before = review_spec_for(engine, member, **KW)
    snapshot = before.model_dump()
    # the member moves to another branch, whose secretary differs
    memberships = [m for m in d.memberships if m.person_id != member] + [Membership(member, "U-HQ-D06", Role.MEMBER)]
    from domain.org import Directory

    store.replace(Directory.build(d.units.values(), d.people.values(), memberships), source="moved")
    after = review_spec_for(engine, member, **{**KW, "review_id": "rv-2"})
    assert before.model_dump() == snapshot  # the running review's spec is a value: unchanged
    assert after.reviewer_id == d.units["U-HQ-D06"].leader_id != before.reviewer_id


def test_the_neighbourhood_gives_the_same_answer_as_the_whole(engine):
    load_example(engine)
    d, assignments, _ = plan_period(engine)
    sample = assignments[:: max(1, len(assignments) // 60)]
    for a in sample:
        spec = review_spec_for(engine, a.subject_id, **KW)
        assert (spec.reviewer_id, spec.co_reviewer_ids, spec.level, spec.tier, spec.rubric_points) == \
            (a.reviewer_id, a.co_reviewer_ids, a.level, a.tier, a.rubric_points)


def test_iter_assignments_lists_views_with_explanations(engine):
    load_example(engine)
    views = list(iter_assignments(engine, kind=SubjectKind.MEMBER, tier=4))
    assert views and all(v.subject_kind is SubjectKind.MEMBER and v.tier == 4 for v in views)
    assert views[0].explanation.zh and views[0].explanation.en and views[0].reviewer_name


def test_known_people_tells_the_app_layer_which_ids_exist(engine):
    """The application layer refuses a reviewer, co-reviewer or subject the
    directory does not know, naming the id."""
    from directory.service import known_people, person_exists, unknown_people

    load_example(engine)
    d = build_example()
    some = sorted(d.people)[:3]
    assert known_people(engine, some + ["P-NOBODY", "U-HQ", ""]) == set(some)
    assert person_exists(engine, some[0]) and not person_exists(engine, "P-NOBODY")
    assert unknown_people(engine, ["P-NOBODY", some[1], "P-NOBODY", "P-GONE"]) == ["P-NOBODY", "P-GONE"]
    assert known_people(engine, []) == set()
    many = sorted(d.people)
    assert known_people(engine, many) == set(many)  # more ids than one query's chunk
