"""Who reviews whom (点评责任, spec §3), derived from the directory instead of
assigned by hand:

- an organization and its principal leader are reviewed by the principal leader
  of the organization one level up — or, where the parent divides duties, by the
  member of the parent's leadership team in charge of it (按照分工);
- a member of an organization's leadership team is reviewed by that
  organization's principal leader;
- a member of a branch is reviewed by the branch secretary;
- an organization guided by another outside its line gets the guiding
  organization's principal leader as co-reviewer (协助点评: contributes
  findings, does not sign).

A person who leads an organization is reviewed with it (the subject is "the
organization together with its principal leader"), so is not a member subject
as well; a leadership-team seat outranks ordinary membership. Every rule reads
only the subject's unit, its parent and its guide, so deriving a whole period is
one linear pass, and deriving one subject needs only its neighbourhood.

Hot-path records are slotted dataclasses; pydantic models sit at the edges
(``AssignmentView`` for JSON and the CLI).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Iterator

from pydantic import BaseModel, ConfigDict

from domain.org import Directory, Unit, is_unit_id
from domain.procedure import SubjectKind
from domain.rubric import Rubric, SubjectLevel, UnitCategory, rubric


class Basis(StrEnum):
    """Why the reviewer is responsible: the post that makes them so."""

    PARENT_LEADER = "parent_leader"  # leads the organization one level up
    OVERSEER = "overseer"  # parent's leadership-team member in charge of the unit
    TEAM_LEADER = "team_leader"  # leads the organization whose leadership team the subject sits in
    UNIT_SECRETARY = "unit_secretary"  # secretary of the branch (unit) the member belongs to


class BlockReason(StrEnum):
    """Why a subject in scope got no reviewer. The values are also gap kinds
    (``domain.coverage.GapKind``)."""

    NO_PRINCIPAL_LEADER = "no_principal_leader"
    SELF_REVIEW = "self_review"
    PERSON_IN_TWO_BRANCHES = "person_in_two_branches"
    PERSON_IN_TWO_TEAMS = "person_in_two_teams"
    PERSON_WITHOUT_UNIT = "person_without_unit"
    ORPHAN_UNIT = "orphan_unit"
    CYCLE = "cycle"
    OVERSEER_OUTSIDE_TEAM = "overseer_outside_team"


@dataclass(frozen=True, slots=True)
class Assignment:
    """One (subject, reviewer) pair of a period, with everything a review
    needs to start. ``via_unit_id`` is the unit whose post makes the reviewer
    responsible; the assignment's tier is that unit's tier."""

    subject_id: str
    kind: SubjectKind
    unit_id: str  # the organization itself, or the one the member belongs to
    leader_id: str | None  # the organization's principal leader (organization subjects)
    reviewer_id: str
    via_unit_id: str
    basis: Basis
    level: SubjectLevel
    tier: int
    category: UnitCategory
    rubric_version: str
    rubric_points: tuple[str, ...]
    co_reviewer_ids: tuple[str, ...] = ()
    guide_unit_id: str | None = None


@dataclass(frozen=True, slots=True)
class Blocked:
    """A subject in scope that cannot get a reviewer, and the unit or person
    whose data is at fault."""

    subject_id: str
    kind: SubjectKind
    reason: BlockReason
    unit_id: str | None = None
    person_id: str | None = None


@dataclass(slots=True)
class Derivation:
    assignments: list[Assignment] = field(default_factory=list)
    blocked: list[Blocked] = field(default_factory=list)


class _Context:
    """What one derivation shares across subjects: the rubric, the point list
    per (level, category) computed once, and the tree's cycles."""

    __slots__ = ("rb", "points", "in_cycle", "member_level")

    def __init__(self, d: Directory, rb: Rubric) -> None:
        self.rb = rb
        self.member_level = rb.member_level
        self.points: dict[tuple[SubjectLevel, UnitCategory], tuple[str, ...]] = {}
        self.in_cycle = d.structure().in_cycle

    def points_for(self, level: SubjectLevel, category: UnitCategory) -> tuple[str, ...]:
        key = (level, category)
        got = self.points.get(key)
        if got is None:
            got = self.points[key] = tuple(p.code for p in self.rb.points_for(level, category))
        return got


# enum members looked up once: attribute access on an enum class is slow in the hot loop
_ORG, _MEMBER = SubjectKind.ORGANIZATION, SubjectKind.MEMBER
_TEAM_LEADER, _UNIT_SECRETARY = Basis.TEAM_LEADER, Basis.UNIT_SECRETARY


def _assign_unit(d: Directory, u: Unit, ctx: _Context) -> Assignment | Blocked | None:
    if u.external or u.parent_id is None:
        return None  # another authority's organization, or the top: reviewed outside this directory
    org = _ORG
    if u.id in ctx.in_cycle:
        return Blocked(u.id, org, BlockReason.CYCLE, unit_id=u.id)
    parent = d.units.get(u.parent_id)
    if parent is None:
        return Blocked(u.id, org, BlockReason.ORPHAN_UNIT, unit_id=u.id)
    if u.leader_id is None:
        return Blocked(u.id, org, BlockReason.NO_PRINCIPAL_LEADER, unit_id=u.id)
    if u.overseen_by is not None:
        if not d.in_team_of(u.overseen_by, parent):
            return Blocked(u.id, org, BlockReason.OVERSEER_OUTSIDE_TEAM, unit_id=u.id, person_id=u.overseen_by)
        reviewer, basis = u.overseen_by, Basis.OVERSEER
    else:
        if parent.leader_id is None:
            return Blocked(u.id, org, BlockReason.NO_PRINCIPAL_LEADER, unit_id=parent.id)
        reviewer, basis = parent.leader_id, Basis.PARENT_LEADER
    if reviewer == u.leader_id:
        return Blocked(u.id, org, BlockReason.SELF_REVIEW, unit_id=u.id, person_id=reviewer)
    co: tuple[str, ...] = ()
    guide = d.units.get(u.guided_by) if u.guided_by else None
    if guide is not None and guide.leader_id is not None and guide.leader_id not in (reviewer, u.leader_id):
        co = (guide.leader_id,)
    level = ctx.rb.level_of_unit(u.kind)
    return Assignment(
        subject_id=u.id, kind=org, unit_id=u.id, leader_id=u.leader_id, reviewer_id=reviewer,
        via_unit_id=parent.id, basis=basis, level=level, tier=int(parent.tier), category=u.category,
        rubric_version=ctx.rb.version, rubric_points=ctx.points_for(level, u.category),
        co_reviewer_ids=co, guide_unit_id=guide.id if co else None,
    )


def _internal(d: Directory, unit_ids: list[str] | None) -> list[Unit]:
    if not unit_ids:
        return []
    units = d.units
    if len(unit_ids) == 1:
        u = units.get(unit_ids[0])
        return [u] if u is not None and not u.external else []
    return [u for u in map(units.get, unit_ids) if u is not None and not u.external]


def _assign_person(d: Directory, pid: str, ctx: _Context) -> Assignment | Blocked | None:
    if d.leads.get(pid):
        return None  # reviewed with the organization they lead (or leads another authority's)
    member = _MEMBER
    teams = _internal(d, d.teams_of.get(pid))
    if len(teams) > 1:
        return Blocked(pid, member, BlockReason.PERSON_IN_TWO_TEAMS, person_id=pid)
    if teams:
        unit, basis = teams[0], _TEAM_LEADER
    else:
        branches = _internal(d, d.member_of.get(pid))
        if len(branches) > 1:
            return Blocked(pid, member, BlockReason.PERSON_IN_TWO_BRANCHES, person_id=pid)
        if not branches:
            outside = [uid for uid in (d.teams_of.get(pid, []) + d.member_of.get(pid, [])) if uid in d.units]
            if outside:
                return None  # belongs only to another authority's organization
            return Blocked(pid, member, BlockReason.PERSON_WITHOUT_UNIT, person_id=pid)
        unit, basis = branches[0], _UNIT_SECRETARY
    if unit.leader_id is None:
        return Blocked(pid, member, BlockReason.NO_PRINCIPAL_LEADER, unit_id=unit.id)
    level = ctx.member_level
    return Assignment(
        subject_id=pid, kind=member, unit_id=unit.id, leader_id=None, reviewer_id=unit.leader_id,
        via_unit_id=unit.id, basis=basis, level=level, tier=int(unit.tier), category=unit.category,
        rubric_version=ctx.rb.version, rubric_points=ctx.points_for(level, unit.category),
    )


def derive(d: Directory, rb: Rubric | None = None) -> Derivation:
    """Every assignment of a period over the whole directory, and every subject
    in scope that cannot get one. Organizations first (in directory order),
    then people."""
    ctx = _Context(d, rb or rubric())
    out = Derivation()
    add, block = out.assignments.append, out.blocked.append
    for u in d.units.values():
        r = _assign_unit(d, u, ctx)
        if r is None:
            continue
        (add if type(r) is Assignment else block)(r)
    for pid in d.people:
        r = _assign_person(d, pid, ctx)
        if r is None:
            continue
        (add if type(r) is Assignment else block)(r)
    return out


def assign_subject(d: Directory, subject_id: str, rb: Rubric | None = None) -> Assignment | Blocked | None:
    """The assignment of one subject (a unit id or a person id); ``None`` if it
    is not a subject of this directory (unknown, the top unit, another
    authority's, or a person reviewed with the organization they lead)."""
    ctx = _Context(d, rb or rubric())
    if is_unit_id(subject_id):
        u = d.units.get(subject_id)
        return _assign_unit(d, u, ctx) if u is not None else None
    if subject_id not in d.people:
        return None
    return _assign_person(d, subject_id, ctx)


def reviewees(assignments: list[Assignment], reviewer_id: str) -> Iterator[Assignment]:
    return (a for a in assignments if a.reviewer_id == reviewer_id or reviewer_id in a.co_reviewer_ids)


# --------------------------------------------------------------------------
# Explanations: every assignment says why, in both languages
# --------------------------------------------------------------------------


class Explanation(BaseModel):
    model_config = ConfigDict(frozen=True)

    zh: str
    en: str

    def text(self) -> str:
        """How a review records it (``ReviewSpec.explanation``): Chinese, then English on the next line."""
        return f"{self.zh}\n{self.en}"

    @classmethod
    def of_text(cls, text: str) -> "Explanation":
        """Back from :meth:`text`, so a page can show the one language its
        reader reads; a text in one language only (an explanation given by
        hand when a review was started) reads the same in both."""
        zh, _, en = text.strip().partition("\n")
        zh, en = zh.strip(), en.strip()
        return cls(zh=zh, en=en) if zh and en else cls(zh=zh or en, en=zh or en)


def _who(d: Directory, pid: str | None) -> str:
    return f"{d.name_of(pid)}（{pid}）" if pid else "—"


def _who_en(d: Directory, pid: str | None) -> str:
    return f"{d.name_of(pid)} ({pid})" if pid else "—"


def _unit(d: Directory, uid: str | None) -> str:
    return f"{d.unit_name(uid)}（{uid}）" if uid else "—"


def _unit_en(d: Directory, uid: str | None) -> str:
    return f"{d.unit_name(uid)} ({uid})" if uid else "—"


def explain(a: Assignment, d: Directory) -> Explanation:
    r, r_en = _who(d, a.reviewer_id), _who_en(d, a.reviewer_id)
    via, via_en = _unit(d, a.via_unit_id), _unit_en(d, a.via_unit_id)
    if a.kind is SubjectKind.ORGANIZATION:
        s, s_en = _unit(d, a.subject_id), _unit_en(d, a.subject_id)
        lead, lead_en = _who(d, a.leader_id), _who_en(d, a.leader_id)
        if a.basis is Basis.OVERSEER:
            zh = f"{r}点评{s}及其主要负责人{lead}：{r}是{via}领导班子成员，按照分工分管{s}。"
            en = f"{r_en} reviews {s_en} and its principal leader {lead_en} because {r_en} is the member of the leadership team of {via_en} in charge of it (division of duties)."
        else:
            zh = f"{r}点评{s}及其主要负责人{lead}：{r}是{via}的主要负责人，{via}是{s}的上一级党组织。"
            en = f"{r_en} reviews {s_en} and its principal leader {lead_en} because {r_en} leads {via_en}, the organization one level up."
        if a.co_reviewer_ids:
            g, g_en = _unit(d, a.guide_unit_id), _unit_en(d, a.guide_unit_id)
            c = "、".join(_who(d, x) for x in a.co_reviewer_ids)
            c_en = ", ".join(_who_en(d, x) for x in a.co_reviewer_ids)
            zh += f"{c}协助点评（提供意见，不签署点评意见）：{c}是{g}的主要负责人，{g}对{s}负有指导责任。"
            en += f" {c_en} co-reviews (contributes findings, does not sign) because {c_en} leads {g_en}, which guides it."
    else:
        s, s_en = _who(d, a.subject_id), _who_en(d, a.subject_id)
        if a.basis is Basis.TEAM_LEADER:
            zh = f"{r}点评{s}：{s}是{via}领导班子成员，{r}是{via}的主要负责人。"
            en = f"{r_en} reviews {s_en} because {s_en} sits in the leadership team of {via_en}, which {r_en} leads."
        else:
            zh = f"{r}点评党员{s}：{r}是{s}所在的{via}的书记。"
            en = f"{r_en} reviews member {s_en} because {r_en} is the secretary of {via_en}, which {s_en} belongs to."
    return Explanation(zh=zh, en=en)


class AssignmentView(BaseModel):
    """An assignment as it leaves the domain (JSON, CLI, the demo): names
    resolved, explanation attached."""

    model_config = ConfigDict(frozen=True)

    subject_id: str
    subject_kind: SubjectKind
    subject_name: str
    unit_id: str
    leader_id: str | None
    reviewer_id: str
    reviewer_name: str
    co_reviewer_ids: tuple[str, ...]
    basis: Basis
    level: SubjectLevel
    tier: int
    unit_category: UnitCategory
    rubric_version: str
    rubric_points: tuple[str, ...]
    explanation: Explanation

    @classmethod
    def of(cls, a: Assignment, d: Directory) -> "AssignmentView":
        name = d.unit_name(a.subject_id) if a.kind is SubjectKind.ORGANIZATION else d.name_of(a.subject_id)
        return cls(
            subject_id=a.subject_id, subject_kind=a.kind, subject_name=name, unit_id=a.unit_id,
            leader_id=a.leader_id, reviewer_id=a.reviewer_id, reviewer_name=d.name_of(a.reviewer_id),
            co_reviewer_ids=a.co_reviewer_ids, basis=a.basis, level=a.level, tier=a.tier,
            unit_category=a.category, rubric_version=a.rubric_version, rubric_points=a.rubric_points,
            explanation=explain(a, d),
        )
