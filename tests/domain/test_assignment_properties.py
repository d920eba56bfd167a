"""Property tests of who-reviews-whom on random trees: every subject in scope
gets exactly one reviewer (the one the construction intended), nobody reviews
themselves, every secretary reviews someone or is named, small branches and
two principal posts are named, nobody disappears, and when the data is broken
every subject left without a reviewer is named by a gap."""

from __future__ import annotations

from collections import Counter

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain.assignment import assign_subject, derive
from domain.coverage import GapKind, NoticeKind, PlanRules, plan
from domain.org import Directory, Membership, Role, Unit
from domain.procedure import SubjectKind
from org_trees import Tree, org_trees

FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _subject_persons(a) -> set[str]:
    return {a.subject_id} if a.kind is SubjectKind.MEMBER else {a.leader_id}


@FAST
@given(org_trees())
def test_every_subject_in_scope_gets_exactly_the_intended_reviewer(tree: Tree):
    d = tree.directory()
    derivation = derive(d)
    counts = Counter(a.subject_id for a in derivation.assignments)
    assert all(n == 1 for n in counts.values()), counts
    assert not derivation.blocked
    assert {a.subject_id: a.reviewer_id for a in derivation.assignments} == tree.expected_reviewer
    assert {a.subject_id: a.co_reviewer_ids for a in derivation.assignments if a.co_reviewer_ids} == tree.expected_co


@FAST
@given(org_trees())
def test_nobody_reviews_themselves(tree: Tree):
    for a in derive(tree.directory()).assignments:
        people = _subject_persons(a)
        assert a.reviewer_id not in people
        assert not (set(a.co_reviewer_ids) & (people | {a.reviewer_id}))


@FAST
@given(org_trees())
def test_every_secretary_reviews_or_is_named(tree: Tree):
    """每个书记都作点评. Where a tree's posts leave a secretary nobody to review,
    the plan must say so; a branch below the minimum membership is named for
    that; otherwise the plan is gap-free."""
    d = tree.directory()
    derivation, summary = plan(d)
    assert {g.unit_id for g in summary.gaps if g.kind is GapKind.SECRETARY_NOT_REVIEWING} == tree.idle_secretaries()
    assert {g.unit_id for g in summary.gaps if g.kind is GapKind.BRANCH_TOO_SMALL} == tree.small_branches()
    for g in summary.gaps:
        if g.kind is GapKind.BRANCH_TOO_SMALL:
            assert set(g.detail) == tree.branch_people[g.unit_id]
    assert all(g.kind in (GapKind.SECRETARY_NOT_REVIEWING, GapKind.BRANCH_TOO_SMALL) for g in summary.gaps)
    actual_reviewers = {a.reviewer_id for a in derivation.assignments}
    for u in tree.units:
        if not u.external and u.id not in tree.idle_secretaries() | tree.small_branches():
            assert u.leader_id in actual_reviewers


@FAST
@given(org_trees(), st.integers(min_value=1, max_value=6))
def test_the_minimum_branch_size_is_a_rule(tree: Tree, least: int):
    _, summary = plan(tree.directory(), rules=PlanRules(min_branch_members=least))
    assert {g.unit_id for g in summary.gaps if g.kind is GapKind.BRANCH_TOO_SMALL} == tree.small_branches(least)
    assert {g.unit_id for g in summary.gaps if g.kind is GapKind.SECRETARY_NOT_REVIEWING} == tree.idle_secretaries(least)


@FAST
@given(org_trees())
def test_two_principal_posts_are_notices_and_reviewed_once_per_post(tree: Tree):
    d = tree.directory()
    derivation, summary = plan(d)
    got = {n.person_id: n.unit_ids for n in summary.notices if n.kind is NoticeKind.CONCURRENT_POSTS}
    assert got == tree.concurrent
    for n in summary.notices:
        assert d.name_of(n.person_id) in n.message_zh and n.person_id in n.message_en
        assert all(uid in n.message_zh and uid in n.message_en for uid in n.unit_ids)
    posts = Counter(a.leader_id for a in derivation.assignments if a.kind is SubjectKind.ORGANIZATION)
    for pid, led in tree.concurrent.items():
        assert posts[pid] == sum(1 for uid in led if d.units[uid].parent_id is not None)


def _named(summary, d: Directory) -> set[str]:
    """Every person a gap or notice names: directly, in its detail or subjects,
    or as the principal leader of an organization it names."""
    out: set[str] = set()
    for item in [*summary.gaps, *summary.notices]:
        ids = {item.unit_id if hasattr(item, "unit_id") else None, item.person_id, *getattr(item, "detail", ()),
               *item.subject_ids, *getattr(item, "unit_ids", ())}
        for x in ids:
            if x is None:
                continue
            out.add(x)
            if x in d.units and d.units[x].leader_id:
                out.add(d.units[x].leader_id)
    return out


def _posts(d: Directory, pid: str) -> int:
    """How many reviews a person must be the subject of: one per organization
    of ours they lead below the top, else one if they sit in a team or branch of ours."""
    led = [uid for uid in d.leads.get(pid, ()) if not d.units[uid].external]
    if d.leads.get(pid):
        return sum(1 for uid in led if d.units[uid].parent_id is not None)
    ours = [uid for uid in d.teams_of.get(pid, []) + d.member_of.get(pid, []) if uid in d.units and not d.units[uid].external]
    return 1 if ours or not (d.teams_of.get(pid) or d.member_of.get(pid)) else 0


def _nobody_disappears(d: Directory) -> None:
    derivation, summary = plan(d)
    subject_of = Counter()
    for a in derivation.assignments:
        subject_of[a.leader_id if a.kind is SubjectKind.ORGANIZATION else a.subject_id] += 1
    reviewers = {a.reviewer_id for a in derivation.assignments} | {c for a in derivation.assignments for c in a.co_reviewer_ids}
    named = _named(summary, d)
    for pid in d.people:
        assert subject_of[pid] <= max(_posts(d, pid), 0) or pid in named, (pid, subject_of[pid])
        accounted = (subject_of[pid] == _posts(d, pid) > 0) or pid in reviewers or pid in named
        assert accounted, (pid, subject_of[pid], _posts(d, pid), summary.gaps, summary.notices)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(org_trees())
def test_nobody_disappears(tree: Tree):
    """Every person of the directory is the subject of exactly one review per
    post they hold, or a reviewer, or named in a gap or a notice."""
    _nobody_disappears(tree.directory())


@FAST
@given(org_trees())
def test_one_subject_at_a_time_agrees_with_the_whole_period(tree: Tree):
    d = tree.directory()
    whole = {a.subject_id: a for a in derive(d).assignments}
    for sid in list(d.units) + list(d.people):
        single = assign_subject(d, sid)
        if sid in whole:
            assert single == whole[sid]
        else:
            assert single is None


# ---- broken data: every subject without a reviewer is named by a gap -------

DEFECTS = ("no_leader", "self_review", "two_branches", "cycle", "orphan", "no_unit")


def _break(tree: Tree, defect: str, pick: int) -> tuple[Directory, GapKind, str]:
    units = list(tree.units)
    internal = [i for i, u in enumerate(units) if not u.external]
    i = internal[pick % len(internal)]
    u = units[i]
    people = list(tree.people)
    memberships = list(tree.memberships)
    if defect == "no_leader":
        units[i] = u.model_copy(update={"leader_id": None})
        return Directory.build(units, people, memberships), GapKind.NO_PRINCIPAL_LEADER, u.id
    if defect == "self_review":
        # the unit's leader is made the leader of its own parent too: they would review themselves
        parent_ix = next((k for k, x in enumerate(units) if x.id == u.parent_id), None)
        if parent_ix is None or u.overseen_by:
            units[i] = u.model_copy(update={"parent_id": None})
            extra = Unit(id="U-NEW", name="新组织", parent_id=u.id, tier=u.tier, kind=u.kind, leader_id=u.leader_id)
            units.append(extra)
            return Directory.build(units, people, memberships), GapKind.SELF_REVIEW, "U-NEW"
        units[parent_ix] = units[parent_ix].model_copy(update={"leader_id": u.leader_id})
        return Directory.build(units, people, memberships), GapKind.SELF_REVIEW, u.id
    if defect == "two_branches":
        people.append(people[0].model_copy(update={"id": "P-TWICE"}))
        other = units[internal[(pick + 1) % len(internal)]].id
        memberships += [Membership("P-TWICE", u.id, Role.MEMBER), Membership("P-TWICE", "U-NEWB", Role.MEMBER)]
        units.append(Unit(id="U-NEWB", name="新支部", parent_id=other, tier=4, kind="branch", leader_id=tree.people[-1].id))
        return Directory.build(units, people, memberships), GapKind.PERSON_IN_TWO_BRANCHES, "P-TWICE"
    if defect == "cycle":
        a = Unit(id="U-CA", name="甲", parent_id="U-CB", tier=3, kind="party_committee", leader_id=people[0].id)
        b = Unit(id="U-CB", name="乙", parent_id="U-CA", tier=3, kind="party_committee", leader_id=people[-1].id)
        return Directory.build(units + [a, b], people, memberships), GapKind.CYCLE, "U-CA"
    if defect == "orphan":
        units[i] = u.model_copy(update={"parent_id": "U-MISSING"})
        return Directory.build(units, people, memberships), GapKind.ORPHAN_UNIT, u.id
    people.append(people[0].model_copy(update={"id": "P-LOOSE"}))
    return Directory.build(units, people, memberships), GapKind.PERSON_WITHOUT_UNIT, "P-LOOSE"


def _in_scope(d: Directory) -> set[str]:
    """The subjects the procedure must reach, from the definition, not from the rules."""
    scope = {u.id for u in d.units.values() if not u.external and u.parent_id is not None}
    leads = {u.leader_id for u in d.units.values() if u.leader_id}
    external = {u.id for u in d.units.values() if u.external}
    for pid in d.people:
        if pid in leads:
            continue
        roles = [m.unit_id for m in d.memberships if m.person_id == pid]
        if not roles or any(r not in external for r in roles):
            scope.add(pid)
    return scope


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(org_trees(), st.sampled_from(DEFECTS), st.integers(min_value=0, max_value=50))
def test_broken_data_is_reported_and_nobody_is_left_out_silently(tree: Tree, defect: str, pick: int):
    d, kind, culprit = _break(tree, defect, pick)
    derivation, summary = plan(d)
    named = [g for g in summary.gaps if g.kind is kind and culprit in (g.unit_id, g.person_id, *g.detail)]
    assert named, (kind, culprit, summary.gaps)
    assigned = Counter(a.subject_id for a in derivation.assignments)
    assert all(n == 1 for n in assigned.values())
    assert culprit not in assigned  # an ambiguous or broken subject is reported, never guessed
    in_gaps = {s for g in summary.gaps for s in g.subject_ids}
    for sid in _in_scope(d):
        assert sid in assigned or sid in in_gaps, sid
    for a in derivation.assignments:
        assert a.reviewer_id not in _subject_persons(a)
    _nobody_disappears(d)
