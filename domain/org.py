"""The organization directory as the review procedure sees it (spec §3): units
in a tree, each with a tier, a kind, a unit category and a principal leader;
leadership teams and members; and the guidance relation by which an upper
organization assists in reviewing a unit it does not own.

Pure data plus the indexes the assignment rules walk. Nothing here decides who
reviews whom (``domain.assignment``) or what is missing (``domain.coverage``);
this module only answers structural questions cheaply, in one pass, so that
planning 100 000 subjects stays a linear walk over dicts.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from enum import IntEnum, StrEnum
from typing import Annotated, Iterable, Mapping, NamedTuple

from pydantic import AfterValidator, BaseModel, ConfigDict, StringConstraints

from domain.rubric import UnitCategory

# Ids are stable codes, never names (names are personal data; ids travel into
# workflow ids, search attributes and logs). The prefix keeps the two id spaces
# apart, so a subject id alone says whether it is an organization or a person.
UnitId = Annotated[str, StringConstraints(pattern=r"^U-[A-Za-z0-9][A-Za-z0-9._-]{0,62}$")]
PersonId = Annotated[str, StringConstraints(pattern=r"^P-[A-Za-z0-9][A-Za-z0-9._-]{0,62}$")]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


_EMAIL = re.compile(r"[^@\s<>(),;:\"\[\]]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+")


def check_email(value: str) -> str:
    """One plain mailbox (``name@example.org``), the form an SMTP ``RCPT TO``
    takes: no display name, no list, so a typo in a spreadsheet cell is
    refused at import instead of bouncing at the first reminder."""
    if len(value) > 254 or not _EMAIL.fullmatch(value):
        raise ValueError(f"{value[:60]!r} is not an e-mail address (one mailbox: name@example.org)")
    return value


Email = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1), AfterValidator(check_email)]


def is_unit_id(subject_id: str) -> bool:
    return subject_id.startswith("U-")


def is_person_id(subject_id: str) -> bool:
    return subject_id.startswith("P-")


class Tier(IntEnum):
    """The four layers of responsibility of spec §3, named for the unit whose
    leader reviews: an assignment's tier is the tier of the reviewer's unit."""

    HEADQUARTERS = 1  # headquarters party group, headquarters organs' party committee, the local party committees it assists
    LOCAL_BUREAU = 2  # a local bureau's (or commission's) party group, reviewing by division of duties
    AFFILIATED = 3  # party committees / general branches of directly affiliated units and institutes
    BRANCH = 4  # party branches, whose secretaries review their members


TIER_NAMES = {
    Tier.HEADQUARTERS: ("总局层面", "headquarters"),
    Tier.LOCAL_BUREAU: ("地方两局党组层面", "local bureau party groups"),
    Tier.AFFILIATED: ("直属单位党委（党总支）层面", "affiliated units' committees"),
    Tier.BRANCH: ("党支部层面", "branches"),
}


class UnitKind(StrEnum):
    PARTY_GROUP = "party_group"  # 党组
    PARTY_COMMITTEE = "party_committee"  # 党委 (incl. organs' party committees, 机关党委)
    GENERAL_BRANCH = "general_branch"  # 党总支
    BRANCH = "branch"  # 党支部


KIND_NAMES = {
    UnitKind.PARTY_GROUP: ("党组", "party group"),
    UnitKind.PARTY_COMMITTEE: ("党委", "party committee"),
    UnitKind.GENERAL_BRANCH: ("党总支", "general branch"),
    UnitKind.BRANCH: ("党支部", "branch"),
}

CATEGORY_NAMES = {
    UnitCategory.LAW_ENFORCEMENT: ("执法单位", "law enforcement"),
    UnitCategory.TECHNICAL_INSTITUTION: ("技术机构", "technical institution"),
    UnitCategory.WINDOW_SERVICE: ("窗口单位、服务部门", "window & service"),
    UnitCategory.OTHER: ("其他", "other"),
}


class Unit(BaseModel):
    """One party organization. ``leader_id`` is its principal leader (书记 /
    党组书记); ``overseen_by`` names the member of the parent's leadership team
    in charge of it by division of duties (按照分工, spec §3 tier 2), who then
    reviews it instead of the parent's principal leader; ``guided_by`` is an
    organization outside its own line that assists in reviewing it (协助点评);
    ``external`` marks another authority's organization (a local party
    committee) known only because its leader reviews units of ours."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: UnitId
    name: Name
    parent_id: UnitId | None = None
    tier: Tier
    kind: UnitKind
    category: UnitCategory = UnitCategory.OTHER
    leader_id: PersonId | None = None
    overseen_by: PersonId | None = None
    guided_by: UnitId | None = None
    external: bool = False


class Person(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: PersonId
    name: Name
    email: Email | None = None  # where the mail relay delivers this person's messages (optional: without it, the outbox page is their channel)


class Role(StrEnum):
    LEADERSHIP = "leadership"  # member of the unit's leadership team (班子成员, 支委), besides the principal leader
    MEMBER = "member"  # ordinary member (党员) of the unit, normally a branch


class Membership(NamedTuple):
    """A person's place in a unit. A plain tuple: a large directory has one per
    member, and they are compared as sets when a re-import is diffed."""

    person_id: str
    unit_id: str
    role: Role


@dataclass(frozen=True, slots=True)
class Structure:
    """What is wrong with the shape of the tree, found in one pass."""

    orphans: tuple[str, ...]  # units whose parent id names no unit
    cycles: tuple[tuple[str, ...], ...]  # each cycle once, in parent order, starting at its smallest id
    in_cycle: frozenset[str]


@dataclass(slots=True)
class Directory:
    """The whole organization, indexed. Built once per plan; the rules only
    read it. A partial directory (a subject's neighbourhood) is fine too: the
    rules are local, so they give the same answer on it."""

    units: dict[str, Unit]
    people: dict[str, Person]
    memberships: tuple[Membership, ...] = ()
    children: dict[str, list[str]] = field(default_factory=dict)
    team: dict[str, list[str]] = field(default_factory=dict)  # unit -> leadership-team members (not the leader)
    members: dict[str, list[str]] = field(default_factory=dict)  # unit -> ordinary members (not the leader)
    leads: dict[str, list[str]] = field(default_factory=dict)  # person -> units they lead
    teams_of: dict[str, list[str]] = field(default_factory=dict)  # person -> units whose team they sit in
    member_of: dict[str, list[str]] = field(default_factory=dict)  # person -> units they are a member of

    @classmethod
    def build(cls, units: Iterable[Unit], people: Iterable[Person], memberships: Iterable[Membership] = ()) -> "Directory":
        unit_map = {u.id: u for u in units}
        d = cls(units=unit_map, people={p.id: p for p in people}, memberships=tuple(memberships))
        children: dict[str, list[str]] = defaultdict(list)
        leads: dict[str, list[str]] = defaultdict(list)
        for u in unit_map.values():
            if u.parent_id is not None:
                children[u.parent_id].append(u.id)
            if u.leader_id is not None:
                leads[u.leader_id].append(u.id)
        team: dict[str, list[str]] = defaultdict(list)
        members: dict[str, list[str]] = defaultdict(list)
        teams_of: dict[str, list[str]] = defaultdict(list)
        member_of: dict[str, list[str]] = defaultdict(list)
        seen: set[tuple[str, str, str]] = set()
        for pid, uid, role in d.memberships:
            key = (pid, uid, role)
            if key in seen:
                continue
            seen.add(key)
            u = unit_map.get(uid)
            if u is not None and u.leader_id == pid:
                continue  # the principal leader is the unit's subject, not one of its members
            if role == Role.LEADERSHIP:
                team[uid].append(pid)
                teams_of[pid].append(uid)
            else:
                members[uid].append(pid)
                member_of[pid].append(uid)
        d.children, d.leads, d.team, d.members, d.teams_of, d.member_of = (
            dict(children), dict(leads), dict(team), dict(members), dict(teams_of), dict(member_of))
        return d

    # ---- plain look-ups -------------------------------------------------

    def unit(self, unit_id: str) -> Unit | None:
        return self.units.get(unit_id)

    def name_of(self, person_id: str | None) -> str:
        if person_id is None:
            return "—"
        p = self.people.get(person_id)
        return p.name if p else person_id

    def unit_name(self, unit_id: str | None) -> str:
        if unit_id is None:
            return "—"
        u = self.units.get(unit_id)
        return u.name if u else unit_id

    def parent(self, unit: Unit) -> Unit | None:
        return self.units.get(unit.parent_id) if unit.parent_id else None

    def is_leaf(self, unit_id: str) -> bool:
        return not self.children.get(unit_id)

    def in_team_of(self, person_id: str, unit: Unit) -> bool:
        return person_id == unit.leader_id or unit.id in self.teams_of.get(person_id, ())

    def roots(self) -> list[Unit]:
        return [u for u in self.units.values() if u.parent_id is None]

    def ancestors(self, unit_id: str) -> list[str]:
        """Parent chain upwards, stopping at a root, a missing unit or a repeat."""
        chain: list[str] = []
        seen = {unit_id}
        u = self.units.get(unit_id)
        while u is not None and u.parent_id is not None and u.parent_id not in seen:
            chain.append(u.parent_id)
            seen.add(u.parent_id)
            u = self.units.get(u.parent_id)
        return chain

    def subtree(self, unit_id: str) -> list[str]:
        """The unit and everything below it, depth first, each once."""
        out: list[str] = []
        seen: set[str] = set()
        stack = [unit_id]
        while stack:
            uid = stack.pop()
            if uid in seen:
                continue
            seen.add(uid)
            out.append(uid)
            stack.extend(reversed(self.children.get(uid, ())))
        return out

    def membership_set(self) -> frozenset[Membership]:
        return frozenset(self.memberships)

    # ---- shape ---------------------------------------------------------

    def structure(self) -> Structure:
        """Orphans and cycles, in O(units): each unit is coloured once while
        following parent pointers (the functional-graph walk)."""
        orphans = sorted(u.id for u in self.units.values() if u.parent_id is not None and u.parent_id not in self.units)
        state: dict[str, int] = {}  # 1 = on the current path, 2 = done
        cycles: list[tuple[str, ...]] = []
        for start in self.units:
            if start in state:
                continue
            path: list[str] = []
            uid: str | None = start
            while uid is not None and uid in self.units and uid not in state:
                state[uid] = 1
                path.append(uid)
                uid = self.units[uid].parent_id
            if uid is not None and state.get(uid) == 1:
                cyc = path[path.index(uid):]
                i = cyc.index(min(cyc))
                cycles.append(tuple(cyc[i:] + cyc[:i]))
            for p in path:
                state[p] = 2
        cycles.sort()
        return Structure(orphans=tuple(orphans), cycles=tuple(cycles), in_cycle=frozenset(x for c in cycles for x in c))


# --------------------------------------------------------------------------
# What changed between two versions of the directory (a re-import)
# --------------------------------------------------------------------------


class ChangeKind(StrEnum):
    UNIT_ADDED = "unit_added"
    UNIT_REMOVED = "unit_removed"
    UNIT_MOVED = "unit_moved"  # parent changed
    LEADER_REPLACED = "leader_replaced"
    UNIT_CHANGED = "unit_changed"  # any other field
    PERSON_ADDED = "person_added"
    PERSON_REMOVED = "person_removed"
    PERSON_RENAMED = "person_renamed"
    PERSON_CHANGED = "person_changed"  # any other field (the address itself is not recorded)
    PERSON_MOVED = "person_moved"  # member of another unit now
    TEAM_JOINED = "team_joined"
    TEAM_LEFT = "team_left"
    MEMBERSHIP_ADDED = "membership_added"
    MEMBERSHIP_REMOVED = "membership_removed"


class DirectoryChange(BaseModel):
    model_config = ConfigDict(frozen=True)

    kind: ChangeKind
    unit_id: str | None = None
    person_id: str | None = None
    field: str | None = None
    before: str | None = None
    after: str | None = None


_UNIT_FIELDS = ("name", "tier", "kind", "category", "overseen_by", "guided_by", "external")


def _s(v: object) -> str | None:
    if v is None:
        return None
    return str(v.value if isinstance(v, (StrEnum, IntEnum)) else v)


def diff_directories(old: Directory, new: Directory) -> list[DirectoryChange]:
    """Every difference that matters to reviews, in a stable order: who moved,
    which leader was replaced, which unit was re-parented. Linear in the size
    of both directories."""
    out: list[DirectoryChange] = []
    for uid in sorted(new.units.keys() - old.units.keys()):
        out.append(DirectoryChange(kind=ChangeKind.UNIT_ADDED, unit_id=uid, after=new.units[uid].name))
    for uid in sorted(old.units.keys() - new.units.keys()):
        out.append(DirectoryChange(kind=ChangeKind.UNIT_REMOVED, unit_id=uid, before=old.units[uid].name))
    for uid in sorted(old.units.keys() & new.units.keys()):
        a, b = old.units[uid], new.units[uid]
        if a == b:
            continue
        if a.parent_id != b.parent_id:
            out.append(DirectoryChange(kind=ChangeKind.UNIT_MOVED, unit_id=uid, field="parent_id", before=a.parent_id, after=b.parent_id))
        if a.leader_id != b.leader_id:
            out.append(DirectoryChange(kind=ChangeKind.LEADER_REPLACED, unit_id=uid, field="leader_id", before=a.leader_id, after=b.leader_id))
        for f in _UNIT_FIELDS:
            va, vb = getattr(a, f), getattr(b, f)
            if va != vb:
                out.append(DirectoryChange(kind=ChangeKind.UNIT_CHANGED, unit_id=uid, field=f, before=_s(va), after=_s(vb)))
    for pid in sorted(new.people.keys() - old.people.keys()):
        out.append(DirectoryChange(kind=ChangeKind.PERSON_ADDED, person_id=pid))
    for pid in sorted(old.people.keys() - new.people.keys()):
        out.append(DirectoryChange(kind=ChangeKind.PERSON_REMOVED, person_id=pid))
    for pid in sorted(old.people.keys() & new.people.keys()):
        if old.people[pid].name != new.people[pid].name:
            out.append(DirectoryChange(kind=ChangeKind.PERSON_RENAMED, person_id=pid, field="name", before=old.people[pid].name, after=new.people[pid].name))
        if old.people[pid].email != new.people[pid].email:
            out.append(DirectoryChange(kind=ChangeKind.PERSON_CHANGED, person_id=pid, field="email"))

    old_m, new_m = old.membership_set(), new.membership_set()
    gone, came = old_m - new_m, new_m - old_m
    by_person_gone: dict[tuple[str, Role], list[str]] = defaultdict(list)
    by_person_came: dict[tuple[str, Role], list[str]] = defaultdict(list)
    for m in gone:
        by_person_gone[(m.person_id, m.role)].append(m.unit_id)
    for m in came:
        by_person_came[(m.person_id, m.role)].append(m.unit_id)
    for key in sorted(by_person_gone.keys() | by_person_came.keys()):
        pid, role = key
        before, after = sorted(by_person_gone.get(key, ())), sorted(by_person_came.get(key, ()))
        if role == Role.MEMBER and len(before) == 1 and len(after) == 1:
            out.append(DirectoryChange(kind=ChangeKind.PERSON_MOVED, person_id=pid, field="member_of", before=before[0], after=after[0]))
            continue
        gone_kind = ChangeKind.TEAM_LEFT if role == Role.LEADERSHIP else ChangeKind.MEMBERSHIP_REMOVED
        came_kind = ChangeKind.TEAM_JOINED if role == Role.LEADERSHIP else ChangeKind.MEMBERSHIP_ADDED
        out.extend(DirectoryChange(kind=gone_kind, person_id=pid, unit_id=u) for u in before)
        out.extend(DirectoryChange(kind=came_kind, person_id=pid, unit_id=u) for u in after)
    return out


def summarize_changes(changes: Iterable[DirectoryChange]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for c in changes:
        counts[c.kind.value] = counts.get(c.kind.value, 0) + 1
    return dict(sorted(counts.items()))


def directory_from_mappings(units: Iterable[Mapping], people: Iterable[Mapping], memberships: Iterable[Mapping]) -> Directory:
    """Validate plain rows into a directory (tests and small callers; importers
    validate row by row to name the line of a bad one)."""
    return Directory.build(
        (Unit.model_validate(u) for u in units),
        (Person.model_validate(p) for p in people),
        (Membership(m["person_id"], m["unit_id"], Role(m["role"])) for m in memberships),
    )
