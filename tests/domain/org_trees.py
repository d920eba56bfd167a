"""Random organization trees for the property tests, each with an *oracle*:
the reviewer every subject must get, recorded while the tree is built (from
the intent of the construction, not by re-running the rules), so a wrong rule
shows up as a disagreement.

Import as ``from org_trees import ...`` from a test under ``tests/domain``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from hypothesis import strategies as st

from domain.org import Directory, Membership, Person, Role, Tier, Unit, UnitKind
from domain.rubric import UnitCategory


@dataclass
class Tree:
    units: list[Unit]
    people: list[Person]
    memberships: list[Membership]
    expected_reviewer: dict[str, str] = field(default_factory=dict)  # subject id -> reviewer id
    expected_co: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def directory(self) -> Directory:
        return Directory.build(self.units, self.people, self.memberships)


@st.composite
def org_trees(draw, max_units: int = 14) -> Tree:
    """A well-formed tree: one root (reviewed outside), sometimes an outside
    authority's committee owning a guided unit, leaders, leadership teams,
    members, division of duties, people holding two posts."""
    n = draw(st.integers(min_value=1, max_value=max_units))
    parents: list[int | None] = [None] + [draw(st.integers(min_value=0, max_value=i - 1)) for i in range(1, n)]
    has_external = n > 1 and draw(st.booleans())
    people: list[Person] = []
    memberships: list[Membership] = []
    units: list[Unit] = []
    expected: dict[str, str] = {}
    expected_co: dict[str, tuple[str, ...]] = {}

    def person(pid: str) -> str:
        people.append(Person(id=pid, name=draw(st.sampled_from(["王伟", "李娜", "张敏", "欧阳晓燕", "陈静", "刘洋"]))))
        return pid

    teams: dict[int, list[str]] = {}
    leaders: dict[int, str] = {}
    leader_taken: set[str] = set()  # team members who lead a child unit (then reviewed with it)
    ext_leader = person("P-EXT") if has_external else None
    ext_unit = "U-EXT"
    for i in range(n):
        uid = f"U-{i}"
        p = parents[i]
        leader: str | None = None
        # sometimes a leadership-team member of the parent leads this unit (two posts)
        if p is not None and teams.get(p) and draw(st.booleans()):
            candidates = [x for x in teams[p] if x not in leader_taken]
            if candidates:
                leader = draw(st.sampled_from(candidates))
                leader_taken.add(leader)
        if leader is None:
            leader = person(f"P-L{i}")
        leaders[i] = leader
        overseen_by = None
        if p is not None and teams.get(p) and draw(st.booleans()):
            options = [x for x in teams[p] if x != leader]
            if options:
                overseen_by = draw(st.sampled_from(options))
        parent_id = f"U-{p}" if p is not None else None
        guided_by = None
        if i == n - 1 and has_external:
            parent_id = ext_unit  # the last unit is owned by the outside committee and guided by the root
            guided_by = "U-0"
            overseen_by = None
        units.append(Unit(
            id=uid, name=f"第{i}党组织", parent_id=parent_id,
            tier=draw(st.sampled_from(list(Tier))), kind=draw(st.sampled_from(list(UnitKind))),
            category=draw(st.sampled_from(list(UnitCategory))), leader_id=leader, overseen_by=overseen_by, guided_by=guided_by,
        ))
        team = [person(f"P-T{i}-{k}") for k in range(draw(st.integers(min_value=0, max_value=3)))]
        teams[i] = team
        memberships.extend(Membership(t, uid, Role.LEADERSHIP) for t in team)
        for k in range(draw(st.integers(min_value=0, max_value=4))):
            memberships.append(Membership(person(f"P-M{i}-{k}"), uid, Role.MEMBER))
        # a team member who is also an ordinary member of the same unit: the team seat decides
        if team and draw(st.booleans()):
            memberships.append(Membership(team[0], uid, Role.MEMBER))
    if has_external:
        units.append(Unit(id=ext_unit, name="地方党委", tier=Tier.HEADQUARTERS, kind=UnitKind.PARTY_COMMITTEE,
                          leader_id=ext_leader, external=True))

    # the oracle, from the construction's intent
    by_id = {u.id: u for u in units}
    for i, u in enumerate(units[:n]):
        if u.parent_id is None:
            continue
        parent = by_id[u.parent_id]
        expected[u.id] = u.overseen_by or parent.leader_id
        if u.guided_by:
            g = by_id[u.guided_by].leader_id
            if g not in (expected[u.id], u.leader_id):
                expected_co[u.id] = (g,)
    for i in range(n):
        for pid in teams[i]:
            if pid not in leader_taken:
                expected[pid] = leaders[i]
    for m in memberships:
        if m.role is Role.MEMBER and m.person_id.startswith("P-M"):
            expected[m.person_id] = by_id[m.unit_id].leader_id
    return Tree(units, people, memberships, expected, expected_co)
