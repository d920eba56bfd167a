"""Random organization trees for the property tests, each with an *oracle*:
the reviewer every subject must get, recorded while the tree is built (from
the intent of the construction, not by re-running the rules), so a wrong rule
shows up as a disagreement.

The trees are ones an import accepts (tiers never rise going down, a branch
is tier 4 and has no organizations under it), so the same tree can also go
through the CSV, YAML and Excel readers.

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
    branch_people: dict[str, frozenset[str]] = field(default_factory=dict)  # branch id -> its distinct people, secretary included
    concurrent: dict[str, tuple[str, ...]] = field(default_factory=dict)  # person -> the units they lead, when more than one

    def small_branches(self, least: int = 3) -> set[str]:
        return {uid for uid, people in self.branch_people.items() if len(people) < least}

    def idle_secretaries(self, least: int = 3) -> set[str]:
        """Units of ours whose leader reviews nobody, other than the small
        branches (named for that instead)."""
        reviewers = set(self.expected_reviewer.values())
        small = self.small_branches(least)
        return {u.id for u in self.units if not u.external and u.leader_id not in reviewers and u.id not in small}

    def directory(self) -> Directory:
        return Directory.build(self.units, self.people, self.memberships)


# repeated names, compound surnames and characters outside the BMP (𠮷) and in extension A (㑇)
NAMES = ["王伟", "李娜", "张敏", "欧阳晓燕", "陈静", "刘洋", "𠮷祥", "㑇明", "王伟"]
NON_BRANCH = [UnitKind.PARTY_GROUP, UnitKind.PARTY_COMMITTEE, UnitKind.GENERAL_BRANCH]


@st.composite
def org_trees(draw, max_units: int = 14) -> Tree:
    """A well-formed tree: one root (reviewed outside), sometimes an outside
    authority's committee owning a guided unit, leaders, leadership teams,
    members, division of duties, people holding two posts (a team seat and a
    unit's leadership; or two principal posts, 兼任), branches of every size."""
    n = draw(st.integers(min_value=1, max_value=max_units))
    kinds: list[UnitKind] = [draw(st.sampled_from(NON_BRANCH))] + [draw(st.sampled_from(list(UnitKind))) for _ in range(1, n)]
    parents: list[int | None] = [None]
    for i in range(1, n):
        can_own = [j for j in range(i) if kinds[j] is not UnitKind.BRANCH]
        parents.append(draw(st.sampled_from(can_own)))
    tiers: list[Tier] = [Tier.HEADQUARTERS]
    for i in range(1, n):
        if kinds[i] is UnitKind.BRANCH:
            tiers.append(Tier.BRANCH)
        else:
            tiers.append(draw(st.sampled_from([t for t in Tier if tiers[parents[i]] <= t < Tier.BRANCH])))
    has_external = n > 1 and draw(st.booleans())
    people: list[Person] = []
    memberships: list[Membership] = []
    units: list[Unit] = []
    expected: dict[str, str] = {}
    expected_co: dict[str, tuple[str, ...]] = {}

    def person(pid: str) -> str:
        people.append(Person(id=pid, name=draw(st.sampled_from(NAMES))))
        return pid

    teams: dict[int, list[str]] = {}
    leaders: dict[int, str] = {}
    led_by: dict[str, list[int]] = {}
    leader_taken: set[str] = set()  # team members who lead a child unit (then reviewed with it)
    ext_leader = person("P-EXT") if has_external else None
    ext_unit = "U-EXT"
    for i in range(n):
        uid = f"U-{i}"
        p = parents[i]
        leader: str | None = None
        # sometimes a leadership-team member of the parent leads this unit (two posts)
        if p is not None and teams.get(p) and draw(st.booleans()):
            candidates = [x for x in teams[p] if x not in leader_taken and x not in led_by]
            if candidates:
                leader = draw(st.sampled_from(candidates))
                leader_taken.add(leader)
        # sometimes the leader of another organization leads this one too (兼任), never its parent's leader
        if leader is None and p is not None and draw(st.integers(min_value=0, max_value=3)) == 0:
            candidates = sorted({leaders[k] for k in range(i) if leaders[k] != leaders[p]})
            if candidates:
                leader = draw(st.sampled_from(candidates))
        if leader is None:
            leader = person(f"P-L{i}")
        leaders[i] = leader
        led_by.setdefault(leader, []).append(i)
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
            id=uid, name=f"第{i}党组织", parent_id=parent_id, tier=tiers[i], kind=kinds[i],
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
        # the secretary listed among the members (as rosters do): still reviewed with the unit only
        if draw(st.booleans()):
            memberships.append(Membership(leader, uid, Role.MEMBER))
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
    branch_people = {
        f"U-{i}": frozenset([leaders[i], *teams[i]] + [m.person_id for m in memberships if m.unit_id == f"U-{i}"])
        for i in range(n) if kinds[i] is UnitKind.BRANCH
    }
    concurrent = {pid: tuple(sorted(f"U-{i}" for i in led)) for pid, led in led_by.items() if len(led) > 1}
    return Tree(units, people, memberships, expected, expected_co, branch_people, concurrent)
