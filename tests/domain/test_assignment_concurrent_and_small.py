"""Spec §9, shapes that used to plan as "no gaps" with nothing said: a person
who is principal leader of two organizations (兼任: a notice naming both
reviews, reviewed once per post) and a party branch below the minimum
membership (a gap naming the branch and its people), zh and en."""

from __future__ import annotations

from collections import Counter

import pytest

from domain.coverage import GapKind, NoticeKind, PlanRules, plan
from domain.org import Directory, Membership, Person, Role, Tier, Unit, UnitKind

M, L = Role.MEMBER, Role.LEADERSHIP
NAMES = {"P-1": "王建国", "P-2": "李秀英", "P-3": "张伟", "P-4": "张伟", "P-5": "刘芳", "P-6": "陈杰", "P-7": "杨静", "P-8": "赵磊"}


def _org(units: list[Unit], memberships: list[Membership], extra: tuple[str, ...] = ()) -> Directory:
    return Directory.build(units, [Person(id=p, name=n) for p, n in NAMES.items() if p not in extra], memberships)


HQ = Unit(id="U-A", name="总局党组", tier=Tier.HEADQUARTERS, kind=UnitKind.PARTY_GROUP, leader_id="P-1")
COMMITTEE = Unit(id="U-C", name="某院党委", parent_id="U-A", tier=Tier.AFFILIATED, kind=UnitKind.PARTY_COMMITTEE, leader_id="P-2")
BRANCH = Unit(id="U-B", name="某院综合党支部", parent_id="U-C", tier=Tier.BRANCH, kind=UnitKind.BRANCH, leader_id="P-6")
OTHER = Unit(id="U-D", name="某院研究党支部", parent_id="U-A", tier=Tier.BRANCH, kind=UnitKind.BRANCH, leader_id="P-2")


def _clean() -> tuple[list[Unit], list[Membership]]:
    return [HQ, COMMITTEE, BRANCH], [Membership("P-3", "U-B", M), Membership("P-4", "U-B", M), Membership("P-5", "U-C", L),
                                     Membership("P-7", "U-A", L), Membership("P-8", "U-B", M)]


def test_the_clean_shape_has_no_gap_and_no_notice():
    units, ms = _clean()
    _, summary = plan(_org(units, ms))
    assert summary.gaps == [] and summary.notices == []


def test_two_principal_posts_are_a_notice_naming_both_reviews_and_both_are_reviewed():
    units, ms = _clean()
    # P-2 leads the committee U-C and the branch U-D, which has members of its own
    d = _org(units + [OTHER], ms)
    d = Directory.build(list(d.units.values()), list(d.people.values()) + [Person(id="P-9", name="𠮷㑇"), Person(id="P-10", name="张伟")],
                        list(d.memberships) + [Membership("P-9", "U-D", M), Membership("P-10", "U-D", M)])
    derivation, summary = plan(d)
    assert summary.gaps == []
    led = [a for a in derivation.assignments if a.leader_id == "P-2"]
    assert sorted((a.subject_id, a.reviewer_id) for a in led) == [("U-C", "P-1"), ("U-D", "P-1")]  # once per post
    [n] = summary.notices
    assert (n.kind, n.person_id, n.unit_ids, n.subject_ids, n.reviewer_ids) == (
        NoticeKind.CONCURRENT_POSTS, "P-2", ("U-C", "U-D"), ("U-C", "U-D"), ("P-1", "P-1"))
    assert "李秀英（P-2）兼任某院党委（U-C）、某院研究党支部（U-D）的主要负责人" in n.message_zh
    assert "某院党委（U-C）由王建国（P-1）点评" in n.message_zh and "某院研究党支部（U-D）由王建国（P-1）点评" in n.message_zh
    assert "李秀英 (P-2) is the principal leader of 某院党委 (U-C) and 某院研究党支部 (U-D) (concurrent posts)" in n.message_en
    assert "reviewed once per post" in n.message_en and "please confirm" in n.message_en


def test_a_concurrent_post_at_the_top_says_it_is_reviewed_outside():
    units, ms = _clean()
    side = Unit(id="U-E", name="离退休干部党支部", parent_id="U-C", tier=Tier.BRANCH, kind=UnitKind.BRANCH, leader_id="P-1")
    d = _org([units[0], units[1], units[2], side], ms + [Membership(p, "U-E", M) for p in ("P-7",)])
    d = Directory.build(d.units.values(), d.people.values(), list(d.memberships) + [Membership("P-5", "U-E", M)])
    _, summary = plan(d)
    [n] = [n for n in summary.notices if n.person_id == "P-1"]
    assert n.unit_ids == ("U-A", "U-E") and n.reviewer_ids == ("", "P-2")
    assert "总局党组（U-A）在本名录之外点评" in n.message_zh and "总局党组 (U-A) outside this directory" in n.message_en


def test_a_branch_whose_secretary_is_its_only_member_is_a_gap_naming_it():
    """The secretary's own member row is dropped when the directory is built
    (the leader is the unit's subject); the branch must not then vanish."""
    units, ms = _clean()
    lonely = Unit(id="U-L", name="某院后勤党支部", parent_id="U-C", tier=Tier.BRANCH, kind=UnitKind.BRANCH, leader_id="P-5")
    ms = [m for m in ms if m.person_id != "P-5"] + [Membership("P-5", "U-L", M)]
    _, summary = plan(_org(units + [lonely], ms))
    [g] = summary.gaps
    assert (g.kind, g.unit_id, g.person_id, g.detail) == (GapKind.BRANCH_TOO_SMALL, "U-L", "P-5", ("P-5",))
    assert "某院后勤党支部（U-L）只有1名党员（刘芳（P-5））" in g.message_zh and "3名正式党员" in g.message_zh
    assert "上级组织某院党委（U-C）" in g.message_zh
    assert "某院后勤党支部 (U-L) has 1 member(s) (刘芳 (P-5)), fewer than the 3 full members" in g.message_en
    assert "parent organization 某院党委 (U-C)" in g.message_en


@pytest.mark.parametrize("least,expected", [(1, []), (3, []), (4, []), (5, ["U-B"]), (6, ["U-B"])])
def test_the_minimum_is_a_rule_counting_distinct_people(least, expected):
    """U-B has its secretary and three members (four people); a member also
    on the committee and the secretary listed as a member count once."""
    units, ms = _clean()
    ms = ms + [Membership("P-3", "U-B", L), Membership("P-6", "U-B", M)]
    _, summary = plan(_org(units, ms), rules=PlanRules(min_branch_members=least))
    assert [g.unit_id for g in summary.gaps if g.kind is GapKind.BRANCH_TOO_SMALL] == expected
    assert summary.rules.min_branch_members == least


def test_only_party_branches_have_a_minimum():
    units, ms = _clean()
    lonely = Unit(id="U-G", name="某院党总支", parent_id="U-C", tier=Tier.AFFILIATED, kind=UnitKind.GENERAL_BRANCH, leader_id="P-5")
    sub = Unit(id="U-GB", name="某院党总支第一党支部", parent_id="U-G", tier=Tier.BRANCH, kind=UnitKind.BRANCH, leader_id="P-7")
    ms = [m for m in ms if m.person_id not in ("P-5", "P-7")] + [Membership(p, "U-GB", M) for p in ("P-3", "P-4")]
    ms = [m for m in ms if not (m.unit_id == "U-B" and m.person_id in ("P-3", "P-4"))] + [Membership("P-7", "U-B", M), Membership("P-5", "U-B", M)]
    _, summary = plan(_org(units + [lonely, sub], ms))
    assert summary.gaps == []  # the general branch has no members of its own: no minimum applies to it


def test_with_a_minimum_of_one_a_lonely_secretary_still_is_not_silent():
    units, ms = _clean()
    lonely = Unit(id="U-L", name="某院后勤党支部", parent_id="U-C", tier=Tier.BRANCH, kind=UnitKind.BRANCH, leader_id="P-5")
    ms = [m for m in ms if m.person_id != "P-5"] + [Membership("P-5", "U-L", M)]
    _, summary = plan(_org(units + [lonely], ms), rules=PlanRules(min_branch_members=1))
    assert [(g.kind, g.unit_id, g.person_id) for g in summary.gaps] == [(GapKind.SECRETARY_NOT_REVIEWING, "U-L", "P-5")]


def test_a_leaf_committee_whose_secretary_reviews_nobody_is_named():
    units, ms = _clean()
    leaf = Unit(id="U-F", name="某中心党委", parent_id="U-A", tier=Tier.AFFILIATED, kind=UnitKind.PARTY_COMMITTEE, leader_id="P-5")
    ms = [m for m in ms if m.person_id != "P-5"]
    _, summary = plan(_org(units + [leaf], ms))
    assert [(g.kind, g.unit_id) for g in summary.gaps] == [(GapKind.SECRETARY_NOT_REVIEWING, "U-F")]


def test_someone_known_only_through_another_authority_is_a_notice():
    units, ms = _clean()
    ext = Unit(id="U-X", name="中共某省委员会", tier=Tier.HEADQUARTERS, kind=UnitKind.PARTY_COMMITTEE, leader_id="P-5", external=True)
    ms = [m for m in ms if m.person_id != "P-5"]
    _, summary = plan(_org(units + [ext], ms))
    assert summary.gaps == []
    assert [(n.kind, n.person_id, n.unit_ids) for n in summary.notices] == [(NoticeKind.REVIEWED_ELSEWHERE, "P-5", ("U-X",))]
    assert "中共某省委员会（U-X）" in summary.notices[0].message_zh and "another authority" in summary.notices[0].message_en


def test_repeated_names_are_different_people():
    units, ms = _clean()
    derivation, summary = plan(_org(units, ms))
    subjects = Counter(a.subject_id for a in derivation.assignments)
    assert subjects["P-3"] == subjects["P-4"] == 1 and NAMES["P-3"] == NAMES["P-4"]
