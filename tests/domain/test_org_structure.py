"""The directory's shape: ids, cycles and orphans (checked against a brute
force on random parent maps), and what a re-import changed."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from domain.org import ChangeKind, Directory, Membership, Person, Role, Tier, Unit, UnitKind, diff_directories, summarize_changes


def _unit(uid: str, parent: str | None, leader: str | None = None) -> Unit:
    return Unit(id=uid, name=uid, parent_id=parent, tier=Tier.BRANCH, kind=UnitKind.BRANCH, leader_id=leader)


@pytest.mark.parametrize("bad", ["王建国", "U-", "P-1", "U-中文", "U-a b", ""])
def test_unit_ids_are_codes_not_names(bad):
    with pytest.raises(ValidationError):
        _unit(bad, None)


@pytest.mark.parametrize("bad", ["王建国", "P-", "U-1", "P-李"])
def test_person_ids_are_codes_not_names(bad):
    with pytest.raises(ValidationError):
        Person(id=bad, name="王建国")


def test_chinese_names_are_normal():
    assert Person(id="P-1", name="  欧阳晓燕 ").name == "欧阳晓燕"


@settings(max_examples=150, deadline=None)
@given(st.lists(st.integers(min_value=-2, max_value=11), min_size=1, max_size=12))
def test_cycles_and_orphans_match_a_brute_force(parents):
    n = len(parents)
    units = [_unit(f"U-{i}", None if p == -1 else f"U-{p}" if p != -2 else "U-GONE") for i, p in enumerate(parents)]
    s = Directory.build(units, []).structure()

    def on_cycle(i: int) -> bool:
        seen, cur = set(), i
        while True:
            p = parents[cur]
            if p < 0 or p >= n:
                return False
            if p == i:
                return True
            if p in seen:
                return False
            seen.add(p)
            cur = p

    assert s.in_cycle == {f"U-{i}" for i in range(n) if on_cycle(i)}
    assert set(s.orphans) == {f"U-{i}" for i, p in enumerate(parents) if p == -2 or p >= n}
    assert sum(len(c) for c in s.cycles) == len(s.in_cycle)  # each cycle once


def test_diff_reports_people_moved_leaders_replaced_units_moved():
    people = [Person(id=f"P-{i}", name=n) for i, n in enumerate(["王伟", "李娜", "张敏", "陈静"])]
    old = Directory.build([_unit("U-A", None, "P-0"), _unit("U-B", "U-A", "P-1"), _unit("U-C", "U-A", "P-1")], people,
                          [Membership("P-2", "U-B", Role.MEMBER), Membership("P-3", "U-B", Role.LEADERSHIP)])
    people2 = people[:3] + [Person(id="P-4", name="赵磊")]
    people2[2] = Person(id="P-2", name="张敏华")
    new = Directory.build([_unit("U-A", None, "P-0"), _unit("U-B", "U-A", "P-4"), _unit("U-C", "U-B", "P-1")], people2,
                          [Membership("P-2", "U-C", Role.MEMBER)])
    changes = diff_directories(old, new)
    kinds = {(c.kind, c.unit_id, c.person_id) for c in changes}
    assert (ChangeKind.LEADER_REPLACED, "U-B", None) in kinds
    assert (ChangeKind.UNIT_MOVED, "U-C", None) in kinds
    assert (ChangeKind.PERSON_MOVED, None, "P-2") in kinds
    assert (ChangeKind.PERSON_RENAMED, None, "P-2") in kinds
    assert (ChangeKind.PERSON_REMOVED, None, "P-3") in kinds and (ChangeKind.PERSON_ADDED, None, "P-4") in kinds
    assert (ChangeKind.TEAM_LEFT, "U-B", "P-3") in kinds
    moved = next(c for c in changes if c.kind is ChangeKind.PERSON_MOVED)
    assert (moved.before, moved.after) == ("U-B", "U-C")
    replaced = next(c for c in changes if c.kind is ChangeKind.LEADER_REPLACED)
    assert (replaced.before, replaced.after) == ("P-1", "P-4")
    assert summarize_changes(changes)["person_moved"] == 1
    assert diff_directories(new, new) == []
