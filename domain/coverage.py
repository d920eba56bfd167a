"""Full coverage (全覆盖): "every secretary makes reviews, every party
organization and every member is reviewed". A plan of a period is the
derivation of every assignment plus the list of everything that keeps the
directory from full coverage, each gap naming the unit or person at fault and
the subjects it leaves without a reviewer.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from domain.assignment import Assignment, Blocked, BlockReason, Derivation, derive  # noqa: F401 (Blocked re-exported)
from domain.org import TIER_NAMES, Directory, Tier
from domain.procedure import SubjectKind
from domain.rubric import Rubric, SubjectLevel, rubric


class GapKind(StrEnum):
    NO_PRINCIPAL_LEADER = BlockReason.NO_PRINCIPAL_LEADER.value
    SELF_REVIEW = BlockReason.SELF_REVIEW.value
    PERSON_IN_TWO_BRANCHES = BlockReason.PERSON_IN_TWO_BRANCHES.value
    PERSON_IN_TWO_TEAMS = BlockReason.PERSON_IN_TWO_TEAMS.value
    PERSON_WITHOUT_UNIT = BlockReason.PERSON_WITHOUT_UNIT.value
    ORPHAN_UNIT = BlockReason.ORPHAN_UNIT.value
    CYCLE = BlockReason.CYCLE.value
    OVERSEER_OUTSIDE_TEAM = BlockReason.OVERSEER_OUTSIDE_TEAM.value
    # these do not leave a subject without a reviewer, but break a rule of spec §3
    UNKNOWN_GUIDE = "unknown_guide"
    GUIDE_WITHOUT_LEADER = "guide_without_leader"
    SECRETARY_NOT_REVIEWING = "secretary_not_reviewing"


class Gap(BaseModel):
    model_config = ConfigDict(frozen=True)

    kind: GapKind
    unit_id: str | None = None
    person_id: str | None = None
    subject_ids: tuple[str, ...] = ()  # subjects left without a reviewer because of it
    detail: tuple[str, ...] = ()  # the cycle's units, the branches a person is in, …
    message_zh: str
    message_en: str


def _blocked_message(kind: GapKind, d: Directory, unit_id: str | None, person_id: str | None, detail: tuple[str, ...]) -> tuple[str, str]:
    u = f"{d.unit_name(unit_id)}（{unit_id}）" if unit_id else ""
    u_en = f"{d.unit_name(unit_id)} ({unit_id})" if unit_id else ""
    p = f"{d.name_of(person_id)}（{person_id}）" if person_id else ""
    p_en = f"{d.name_of(person_id)} ({person_id})" if person_id else ""
    units = "、".join(detail)
    match kind:
        case GapKind.NO_PRINCIPAL_LEADER:
            return f"{u}没有主要负责人：它本身及其所属组织和成员无人点评。", f"{u_en} has no principal leader: it and the organizations and members under it have no reviewer."
        case GapKind.SELF_REVIEW:
            return f"{p}将点评自己：他/她是{u}的主要负责人，又是其点评人。", f"{p_en} would review themselves: they lead {u_en} and are also its reviewer."
        case GapKind.PERSON_IN_TWO_BRANCHES:
            return f"{p}同时是多个支部的党员（{units}），无法确定由哪位书记点评。", f"{p_en} is a member of more than one branch ({', '.join(detail)}), so the reviewing secretary is ambiguous."
        case GapKind.PERSON_IN_TWO_TEAMS:
            return f"{p}同时是多个领导班子的成员（{units}），无法确定点评人。", f"{p_en} sits in more than one leadership team ({', '.join(detail)}), so the reviewer is ambiguous."
        case GapKind.PERSON_WITHOUT_UNIT:
            return f"{p}不属于任何组织，无人点评。", f"{p_en} belongs to no organization and has no reviewer."
        case GapKind.ORPHAN_UNIT:
            return f"{u}的上级组织不存在（{units}），无人点评。", f"{u_en} names a parent that does not exist ({', '.join(detail)}), so it has no reviewer."
        case GapKind.CYCLE:
            return f"组织隶属关系成环：{units}。", f"The parent relation forms a cycle: {' -> '.join(detail)}."
        case GapKind.OVERSEER_OUTSIDE_TEAM:
            return f"{u}的分管领导{p}不是上一级党组织领导班子成员。", f"{u_en} is assigned to {p_en}, who is not in the leadership team of its parent organization."
        case GapKind.UNKNOWN_GUIDE:
            return f"{u}的指导单位不存在（{units}），缺少协助点评人。", f"{u_en} names a guiding organization that does not exist ({', '.join(detail)}); it has no co-reviewer."
        case GapKind.GUIDE_WITHOUT_LEADER:
            return f"{u}的指导单位没有主要负责人（{units}），缺少协助点评人。", f"The organization guiding {u_en} has no principal leader ({', '.join(detail)}); it has no co-reviewer."
        case GapKind.SECRETARY_NOT_REVIEWING:
            return f"{u}的书记{p}没有点评任何对象（每个书记都要作点评）。", f"The secretary of {u_en}, {p_en}, reviews nobody (every secretary must review)."
    raise ValueError(kind)


def _gap(kind: GapKind, d: Directory, *, unit_id: str | None = None, person_id: str | None = None,
         subject_ids: tuple[str, ...] = (), detail: tuple[str, ...] = ()) -> Gap:
    zh, en = _blocked_message(kind, d, unit_id, person_id, detail)
    return Gap(kind=kind, unit_id=unit_id, person_id=person_id, subject_ids=subject_ids, detail=detail, message_zh=zh, message_en=en)


def gaps(d: Directory, derivation: Derivation) -> list[Gap]:
    """Everything that prevents full coverage, one gap per cause (a unit without
    a leader is one gap, however many subjects it leaves unreviewed), sorted by
    kind and the unit or person concerned."""
    structure = d.structure()
    grouped: dict[tuple[GapKind, str | None, str | None], list[str]] = defaultdict(list)
    for b in derivation.blocked:
        grouped[(GapKind(b.reason.value), b.unit_id, b.person_id)].append(b.subject_id)
    # a unit without a leader is a gap even when nothing depends on it yet
    for u in d.units.values():
        if u.leader_id is None and not u.external:
            grouped.setdefault((GapKind.NO_PRINCIPAL_LEADER, u.id, None), [])
    # a cycle is reported once, not once per unit in it
    cycle_of = {uid: c for c in structure.cycles for uid in c}
    for key in [k for k in grouped if k[0] is GapKind.CYCLE]:
        del grouped[key]
    out: list[Gap] = []
    for c in structure.cycles:
        out.append(_gap(GapKind.CYCLE, d, unit_id=c[0], subject_ids=c, detail=c))
    for (kind, unit_id, person_id), subjects in grouped.items():
        detail: tuple[str, ...] = ()
        if kind is GapKind.PERSON_IN_TWO_BRANCHES and person_id:
            detail = tuple(sorted(d.member_of.get(person_id, ())))
        elif kind is GapKind.PERSON_IN_TWO_TEAMS and person_id:
            detail = tuple(sorted(d.teams_of.get(person_id, ())))
        elif kind is GapKind.ORPHAN_UNIT and unit_id:
            detail = (str(d.units[unit_id].parent_id),)
        out.append(_gap(kind, d, unit_id=unit_id, person_id=person_id, subject_ids=tuple(subjects), detail=detail))
    # a person in two branches is wrong data even if a higher post decides their reviewer
    reported = {g.person_id for g in out if g.kind is GapKind.PERSON_IN_TWO_BRANCHES}
    for pid, units in d.member_of.items():
        internal = [uid for uid in units if uid in d.units and not d.units[uid].external]
        if len(internal) > 1 and pid not in reported:
            out.append(_gap(GapKind.PERSON_IN_TWO_BRANCHES, d, person_id=pid, detail=tuple(sorted(internal))))
    for u in d.units.values():
        if u.guided_by is None or u.external or u.id in cycle_of:
            continue
        guide = d.units.get(u.guided_by)
        if guide is None:
            out.append(_gap(GapKind.UNKNOWN_GUIDE, d, unit_id=u.id, detail=(u.guided_by,)))
        elif guide.leader_id is None:
            out.append(_gap(GapKind.GUIDE_WITHOUT_LEADER, d, unit_id=u.id, detail=(guide.id,)))
    out.extend(_idle_secretaries(d, derivation))
    order = list(GapKind)
    out.sort(key=lambda g: (order.index(g.kind), g.unit_id or "", g.person_id or ""))
    return out


def _idle_secretaries(d: Directory, derivation: Derivation) -> list[Gap]:
    """每个书记都作点评: the leader of every organization with organizations
    under it must review someone. Not reported where a child is blocked by
    another gap: that gap is the cause, and fixing it gives the leader work."""
    reviewers = {a.reviewer_id for a in derivation.assignments}
    blocked = {b.subject_id for b in derivation.blocked}
    out = []
    for uid, kids in d.children.items():
        u = d.units.get(uid)
        if u is None or u.external or u.leader_id is None or u.leader_id in reviewers:
            continue
        if any(k in blocked for k in kids):
            continue
        if any(k in d.units and not d.units[k].external for k in kids):
            out.append(_gap(GapKind.SECRETARY_NOT_REVIEWING, d, unit_id=uid, person_id=u.leader_id))
    return out


class PlanSummary(BaseModel):
    """What ``reviewctl directory plan`` prints: totals per tier and level, and the gaps."""

    model_config = ConfigDict(frozen=True)

    period: str
    rubric_version: str
    total: int
    subjects_in_scope: int
    by_tier_level: dict[int, dict[str, int]]
    by_kind: dict[str, int]
    co_reviewed: int
    gaps: list[Gap]

    @property
    def full_coverage(self) -> bool:
        return not self.gaps


def count_by_tier_level(assignments: list[Assignment]) -> dict[int, dict[str, int]]:
    """Every tier and level present, zeros included, so tables line up."""
    tally = Counter((a.tier, a.level) for a in assignments)
    counts: dict[int, dict[str, int]] = {int(t): {lv.value: 0 for lv in SubjectLevel} for t in Tier}
    for (tier, level), n in tally.items():
        counts.setdefault(tier, {lv.value: 0 for lv in SubjectLevel})[SubjectLevel(level).value] += n
    return counts


def plan(d: Directory, rb: Rubric | None = None, period: str = "") -> tuple[Derivation, PlanSummary]:
    """Derive a period's assignments and check them for full coverage."""
    rb = rb or rubric()
    derivation = derive(d, rb)
    found = gaps(d, derivation)
    kinds = Counter(a.kind for a in derivation.assignments)
    by_kind = {k.value: kinds.get(k, 0) for k in SubjectKind}
    co = sum(1 for a in derivation.assignments if a.co_reviewer_ids)
    summary = PlanSummary(
        period=period,
        rubric_version=rb.version,
        total=len(derivation.assignments),
        subjects_in_scope=len(derivation.assignments) + len(derivation.blocked),
        by_tier_level=count_by_tier_level(derivation.assignments),
        by_kind=by_kind,
        co_reviewed=co,
        gaps=found,
    )
    return derivation, summary


def tier_label(tier: int) -> str:
    names = TIER_NAMES.get(Tier(tier)) if tier in Tier._value2member_map_ else None
    return f"{tier} {names[0]} / {names[1]}" if names else str(tier)


__all__ = ["Gap", "GapKind", "PlanSummary", "Blocked", "count_by_tier_level", "gaps", "plan", "tier_label"]
