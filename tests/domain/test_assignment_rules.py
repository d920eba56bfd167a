"""Example-based tests of the rules of spec §3 on a small, readable
organization, and of every kind of gap."""

from __future__ import annotations

import pytest

from domain.assignment import Basis, Explanation, assign_subject, derive, explain
from domain.tasks import explanation_in, open_tasks
from review_builders import make_spec, started_state
from domain.coverage import GapKind, plan
from domain.org import Directory, Membership, Person, Role, Tier, Unit, UnitKind
from domain.procedure import SubjectKind
from domain.rubric import SubjectLevel, UnitCategory, rubric

M, L = Role.MEMBER, Role.LEADERSHIP


def _people(*ids: str) -> list[Person]:
    names = ["王建国", "李秀英", "张伟", "刘芳", "陈杰", "杨静", "赵磊", "黄丽", "周强", "吴敏", "徐涛", "孙燕", "马军", "朱婷"]
    return [Person(id=pid, name=names[i % len(names)]) for i, pid in enumerate(ids)]


def small_org(**overrides) -> Directory:
    """HQ party group (leader P-HQ, team P-HQ2 who leads the organs committee,
    P-HQ3) — organs committee — a department branch; a local bureau owned by a
    provincial committee and guided by HQ, whose party-group member P-B2 is in
    charge of one department."""
    units = {
        "U-HQ": Unit(id="U-HQ", name="总局党组", tier=Tier.HEADQUARTERS, kind=UnitKind.PARTY_GROUP, leader_id="P-HQ"),
        "U-ORG": Unit(id="U-ORG", name="直属机关党委", parent_id="U-HQ", tier=Tier.HEADQUARTERS, kind=UnitKind.PARTY_COMMITTEE, leader_id="P-HQ2"),
        "U-D1": Unit(id="U-D1", name="办公厅党支部", parent_id="U-ORG", tier=Tier.BRANCH, kind=UnitKind.BRANCH, leader_id="P-D1"),
        "U-EXT": Unit(id="U-EXT", name="中共某省委员会", tier=Tier.HEADQUARTERS, kind=UnitKind.PARTY_COMMITTEE, leader_id="P-EXT", external=True),
        "U-B": Unit(id="U-B", name="某省出入境检验检疫局党组", parent_id="U-EXT", tier=Tier.LOCAL_BUREAU, kind=UnitKind.PARTY_GROUP,
                    category=UnitCategory.LAW_ENFORCEMENT, leader_id="P-B", guided_by="U-HQ"),
        "U-B-D1": Unit(id="U-B-D1", name="某局卫生检疫处党支部", parent_id="U-B", tier=Tier.BRANCH, kind=UnitKind.BRANCH,
                       category=UnitCategory.LAW_ENFORCEMENT, leader_id="P-BD1", overseen_by="P-B2"),
        "U-B-D2": Unit(id="U-B-D2", name="某局通关处党支部", parent_id="U-B", tier=Tier.BRANCH, kind=UnitKind.BRANCH,
                       category=UnitCategory.WINDOW_SERVICE, leader_id="P-BD2"),
    }
    for uid, changes in overrides.items():
        units[uid] = units[uid].model_copy(update=changes)
    memberships = [
        Membership("P-HQ2", "U-HQ", L), Membership("P-HQ3", "U-HQ", L),
        Membership("P-O1", "U-ORG", L),
        Membership("P-M1", "U-D1", M), Membership("P-M2", "U-D1", M), Membership("P-C1", "U-D1", L), Membership("P-C1", "U-D1", M),
        Membership("P-D1", "U-D1", M),  # the secretary listed among the members: still reviewed with the branch only
        Membership("P-B2", "U-B", L),
        Membership("P-M3", "U-B-D1", M), Membership("P-M5", "U-B-D1", M), Membership("P-M4", "U-B-D2", M), Membership("P-M6", "U-B-D2", M),
    ]
    ids = ["P-HQ", "P-HQ2", "P-HQ3", "P-O1", "P-D1", "P-M1", "P-M2", "P-C1", "P-EXT", "P-B", "P-B2", "P-BD1", "P-BD2", "P-M3", "P-M4",
           "P-M5", "P-M6"]
    return Directory.build(units.values(), _people(*ids), memberships)


def by_subject(d: Directory):
    return {a.subject_id: a for a in derive(d).assignments}


def test_an_organization_is_reviewed_by_the_leader_one_level_up():
    a = by_subject(small_org())
    assert (a["U-ORG"].reviewer_id, a["U-ORG"].basis, a["U-ORG"].leader_id) == ("P-HQ", Basis.PARENT_LEADER, "P-HQ2")
    assert (a["U-D1"].reviewer_id, a["U-D1"].via_unit_id) == ("P-HQ2", "U-ORG")
    assert a["U-B-D2"].reviewer_id == "P-B"


def test_the_member_in_charge_reviews_by_division_of_duties():
    a = by_subject(small_org())["U-B-D1"]
    assert (a.reviewer_id, a.basis, a.tier) == ("P-B2", Basis.OVERSEER, Tier.LOCAL_BUREAU)


def test_leadership_team_members_are_reviewed_by_the_principal_leader():
    a = by_subject(small_org())
    assert (a["P-HQ3"].reviewer_id, a["P-HQ3"].basis, a["P-HQ3"].tier) == ("P-HQ", Basis.TEAM_LEADER, 1)
    assert a["P-B2"].reviewer_id == "P-B"
    assert a["P-C1"].basis is Basis.TEAM_LEADER  # a seat in the branch committee outranks membership


def test_branch_members_are_reviewed_by_the_secretary():
    a = by_subject(small_org())
    for pid in ("P-M1", "P-M2"):
        assert (a[pid].reviewer_id, a[pid].basis, a[pid].tier, a[pid].level) == ("P-D1", Basis.UNIT_SECRETARY, 4, SubjectLevel.C)


def test_leaders_are_reviewed_with_their_organization_not_again_as_members():
    a = by_subject(small_org())
    assert "P-D1" not in a and "P-HQ2" not in a and "P-HQ" not in a
    assert assign_subject(small_org(), "P-D1") is None


def test_the_top_and_outside_authorities_are_not_subjects():
    a = by_subject(small_org())
    assert "U-HQ" not in a and "U-EXT" not in a and "P-EXT" not in a


def test_a_guided_organization_gets_the_guide_leader_as_co_reviewer():
    a = by_subject(small_org())["U-B"]
    assert (a.reviewer_id, a.co_reviewer_ids, a.guide_unit_id, a.tier) == ("P-EXT", ("P-HQ",), "U-HQ", 1)
    assert by_subject(small_org())["U-B-D1"].co_reviewer_ids == ()


def test_level_category_and_rubric_points_follow_from_what_the_subject_is():
    a = by_subject(small_org())
    rb = rubric()
    assert a["U-B"].level is SubjectLevel.A and a["U-B-D2"].level is SubjectLevel.B and a["P-M4"].level is SubjectLevel.C
    assert a["U-B-D2"].rubric_points == tuple(p.code for p in rb.points_for(SubjectLevel.B, UnitCategory.WINDOW_SERVICE))
    assert a["P-M4"].rubric_points == tuple(p.code for p in rb.points_for(SubjectLevel.C, UnitCategory.WINDOW_SERVICE))
    assert {"WS1", "WS2", "WS3"} <= set(a["U-B-D2"].rubric_points)
    assert a["U-B"].rubric_version == rb.version


def test_every_assignment_explains_itself_in_both_languages():
    d = small_org()
    a = by_subject(d)
    e = explain(a["U-D1"], d)
    assert f"{d.name_of('P-HQ2')}（P-HQ2）点评" in e.zh and "直属机关党委（U-ORG）" in e.zh and "上一级" in e.zh
    assert "leads 直属机关党委 (U-ORG), the organization one level up" in e.en
    e = explain(a["U-B-D1"], d)
    assert "按照分工" in e.zh and "division of duties" in e.en
    e = explain(a["U-B"], d)
    assert "协助点评" in e.zh and "co-reviews" in e.en and "总局党组" in e.en
    e = explain(a["P-M1"], d)
    assert "书记" in e.zh and "secretary of 办公厅党支部 (U-D1)" in e.en
    e = explain(a["P-HQ3"], d)
    assert "领导班子成员" in e.zh and "leadership team" in e.en


def test_a_recorded_explanation_reads_back_one_language_at_a_time():
    """A review records ``Explanation.text()``; a page shows its reader one of the two."""
    d = small_org()
    for assignment in by_subject(d).values():
        e = explain(assignment, d)
        back = Explanation.of_text(e.text())
        assert back == e and "\n" not in back.zh + back.en
    one = Explanation.of_text("  reviewer chosen by the office  ")  # given by hand, in one language
    assert one.zh == one.en == "reviewer chosen by the office"


def test_a_task_carries_the_recorded_explanation_apart_from_its_role():
    spec = make_spec().model_copy(update={"explanation": "中文说明\nEnglish explanation"})
    state, _ = started_state(spec)
    tasks = open_tasks(state)
    assert tasks and all(explanation_in(t.why) == spec.explanation for t in tasks)
    assert Explanation.of_text(explanation_in(tasks[0].why)).en == "English explanation"
    assert explanation_in("you are the the subject (被点评对象) of U-1, step 整改落实 (rectify)") is None


def test_the_example_org_shape_plans_without_gaps():
    derivation, summary = plan(small_org())
    assert summary.gaps == []
    assert summary.total == len(derivation.assignments) == summary.subjects_in_scope
    assert summary.by_kind == {
        "organization": sum(1 for x in derivation.assignments if x.kind is SubjectKind.ORGANIZATION),
        "member": sum(1 for x in derivation.assignments if x.kind is SubjectKind.MEMBER),
    }
    assert sum(sum(v.values()) for v in summary.by_tier_level.values()) == summary.total


# ---- gaps, one kind at a time ------------------------------------------------


def _gaps(d: Directory):
    return plan(d)[1].gaps


def test_gap_unit_without_principal_leader_names_the_unit_and_what_it_leaves_out():
    gaps = _gaps(small_org(**{"U-D1": {"leader_id": None}}))
    g = [g for g in gaps if g.kind is GapKind.NO_PRINCIPAL_LEADER]
    assert len(g) == 1 and g[0].unit_id == "U-D1"
    assert {"U-D1", "P-M1", "P-M2", "P-C1"} <= set(g[0].subject_ids)
    assert "没有主要负责人" in g[0].message_zh and "no principal leader" in g[0].message_en


def test_gap_self_review():
    gaps = _gaps(small_org(**{"U-D1": {"leader_id": "P-HQ2"}}))
    g = [g for g in gaps if g.kind is GapKind.SELF_REVIEW]
    assert [(x.unit_id, x.person_id) for x in g] == [("U-D1", "P-HQ2")]


def test_gap_person_in_two_branches():
    d = small_org()
    d = Directory.build(d.units.values(), d.people.values(), list(d.memberships) + [Membership("P-M1", "U-B-D2", M)])
    g = [g for g in _gaps(d) if g.kind is GapKind.PERSON_IN_TWO_BRANCHES]
    assert len(g) == 1 and g[0].person_id == "P-M1" and set(g[0].detail) == {"U-D1", "U-B-D2"}
    assert "P-M1" not in by_subject(d)


def test_gap_cycle_reported_once_with_its_units():
    gaps = _gaps(small_org(**{"U-HQ": {"parent_id": "U-D1"}}))
    g = [g for g in gaps if g.kind is GapKind.CYCLE]
    assert len(g) == 1 and set(g[0].detail) == {"U-HQ", "U-ORG", "U-D1"} and g[0].detail[0] == "U-D1"


def test_gap_orphan_unit():
    g = [g for g in _gaps(small_org(**{"U-D1": {"parent_id": "U-GONE"}})) if g.kind is GapKind.ORPHAN_UNIT]
    assert [(x.unit_id, x.detail) for x in g] == [("U-D1", ("U-GONE",))]


def test_gap_person_without_unit():
    d = small_org()
    d = Directory.build(d.units.values(), list(d.people.values()) + [Person(id="P-NEW", name="新同志")], d.memberships)
    g = [g for g in _gaps(d) if g.kind is GapKind.PERSON_WITHOUT_UNIT]
    assert [x.person_id for x in g] == ["P-NEW"] and g[0].subject_ids == ("P-NEW",)


def test_gap_overseer_outside_the_parent_team():
    g = [g for g in _gaps(small_org(**{"U-B-D1": {"overseen_by": "P-HQ3"}})) if g.kind is GapKind.OVERSEER_OUTSIDE_TEAM]
    assert [(x.unit_id, x.person_id) for x in g] == [("U-B-D1", "P-HQ3")]


def test_gap_guide_unknown_or_without_leader_keeps_the_reviewer():
    d = small_org(**{"U-B": {"guided_by": "U-NOWHERE"}})
    assert [g.kind for g in _gaps(d)] == [GapKind.UNKNOWN_GUIDE]
    assert by_subject(d)["U-B"].reviewer_id == "P-EXT"
    d = small_org(**{"U-HQ": {"leader_id": None}})
    kinds = {g.kind for g in _gaps(d)}
    assert GapKind.GUIDE_WITHOUT_LEADER in kinds and GapKind.NO_PRINCIPAL_LEADER in kinds


def test_gap_secretary_who_reviews_nobody():
    """Two party-group members each lead one department and are in charge of
    the other's: the secretary is left with nobody to review."""
    d = small_org(**{"U-B-D1": {"leader_id": "P-B2", "overseen_by": "P-B3"}, "U-B-D2": {"leader_id": "P-B3", "overseen_by": "P-B2"}})
    d = Directory.build(d.units.values(), list(d.people.values()) + [Person(id="P-B3", name="钱进")],
                        list(d.memberships) + [Membership("P-B3", "U-B", L)])
    assert not any(a.reviewer_id == "P-B" for a in derive(d).assignments)
    g = [g for g in _gaps(d) if g.kind is GapKind.SECRETARY_NOT_REVIEWING]
    assert [(x.unit_id, x.person_id) for x in g] == [("U-B", "P-B")]
    assert "每个书记都要作点评" in g[0].message_zh


@pytest.mark.parametrize("subject", ["U-UNKNOWN", "P-UNKNOWN"])
def test_an_unknown_subject_has_no_assignment(subject):
    assert assign_subject(small_org(), subject) is None
