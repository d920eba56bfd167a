"""Full coverage (全覆盖): "every secretary makes reviews, every party
organization and every member is reviewed". A plan of a period is the
derivation of every assignment plus the list of everything that keeps the
directory from full coverage, each gap naming the unit or person at fault and
the subjects it leaves without a reviewer, plus the notices: legitimate shapes
the office must confirm because they change who is reviewed how often
(spec §9: a person holding two principal posts, 兼任).

Nothing may pass silently: every person of the directory ends up a subject
(once per post), a reviewer, or named in a gap or a notice.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from domain.assignment import Assignment, Blocked, BlockReason, Derivation, derive  # noqa: F401 (Blocked re-exported)
from domain.org import TIER_NAMES, Directory, Tier, UnitKind
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
    BRANCH_TOO_SMALL = "branch_too_small"


# Party rules: a party branch is formed where there are at least three full
# members (正式党员三人以上). An organization may set another number (a setting).
MIN_BRANCH_MEMBERS = 3


class PlanRules(BaseModel):
    """The rules of a plan an organization may set, carried in the plan's
    output so a reader sees which were applied."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    min_branch_members: int = Field(default=MIN_BRANCH_MEMBERS, ge=1, description="the fewest full members (secretary included) a party branch may have")


class NoticeKind(StrEnum):
    CONCURRENT_POSTS = "concurrent_posts"  # 兼任: principal leader of two or more organizations
    REVIEWED_ELSEWHERE = "reviewed_elsewhere"  # every post of theirs is in another authority's organization


class Notice(BaseModel):
    """A shape that is legitimate but must be seen: the office confirms it.
    ``subject_ids`` are the reviews it concerns (for concurrent posts: one
    per organization led, each with its ``reviewer_ids`` entry, "" where the
    organization is reviewed outside this directory or has no reviewer)."""

    model_config = ConfigDict(frozen=True)

    kind: NoticeKind
    person_id: str
    unit_ids: tuple[str, ...] = ()
    subject_ids: tuple[str, ...] = ()
    reviewer_ids: tuple[str, ...] = ()
    message_zh: str
    message_en: str


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


def gaps(d: Directory, derivation: Derivation, rules: PlanRules | None = None, reviewers: set[str] | None = None) -> list[Gap]:
    """Everything that prevents full coverage, one gap per cause (a unit without
    a leader is one gap, however many subjects it leaves unreviewed), sorted by
    kind and the unit or person concerned."""
    rules = rules or PlanRules()
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
        if len(units) < 2:
            continue  # nearly everyone: one branch
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
    small = _small_branches(d, rules)
    out.extend(small)
    if reviewers is None:
        reviewers = {a.reviewer_id for a in derivation.assignments}
    out.extend(_idle_secretaries(d, derivation, {g.unit_id for g in small}, reviewers))
    order = list(GapKind)
    out.sort(key=lambda g: (order.index(g.kind), g.unit_id or "", g.person_id or ""))
    return out


def _small_branches(d: Directory, rules: PlanRules) -> list[Gap]:
    """A party branch below the minimum membership: counted as its distinct
    people (secretary, branch committee, members), so a secretary listed as
    the only member counts once, and the branch is named with everyone in it."""
    out = []
    least = rules.min_branch_members
    team, members = d.team, d.members
    for u in d.units.values():
        if u.kind is not UnitKind.BRANCH or u.external:
            continue
        people = team.get(u.id, []) + members.get(u.id, [])
        if u.leader_id is not None:
            people = [u.leader_id, *people]
        if len(people) >= least and len(set(people)) >= least:
            continue
        named = tuple(dict.fromkeys(people))
        if len(named) < least:
            zh, en = _small_branch_message(d, u.id, named, least)
            out.append(Gap(kind=GapKind.BRANCH_TOO_SMALL, unit_id=u.id, person_id=u.leader_id, detail=named,
                           message_zh=zh, message_en=en))
    return out


def _small_branch_message(d: Directory, unit_id: str, people: tuple[str, ...], least: int) -> tuple[str, str]:
    u, u_en = f"{d.unit_name(unit_id)}（{unit_id}）", f"{d.unit_name(unit_id)} ({unit_id})"
    who = "、".join(f"{d.name_of(x)}（{x}）" for x in people) or "无人"
    who_en = ", ".join(f"{d.name_of(x)} ({x})" for x in people) or "nobody"
    parent_id = d.units[unit_id].parent_id
    up = f"，上级组织{d.unit_name(parent_id)}（{parent_id}）" if parent_id else ""
    up_en = f"; parent organization {d.unit_name(parent_id)} ({parent_id})" if parent_id else ""
    return (f"{u}只有{len(people)}名党员（{who}），少于党支部至少应有的{least}名正式党员{up}：请补充党员或与其他支部合并。",
            f"{u_en} has {len(people)} member(s) ({who_en}), fewer than the {least} full members a party branch needs{up_en}: add members or merge it with another branch.")


def _idle_secretaries(d: Directory, derivation: Derivation, reported: set[str | None], reviewers: set[str]) -> list[Gap]:
    """每个书记都作点评: the leader of every organization of ours must review
    someone. Not reported where something the leader would review is blocked
    by another gap, or where the unit is already named for being too small:
    that gap is the cause, and fixing it gives the leader work."""
    blocked = {b.subject_id for b in derivation.blocked}
    children, team, members = d.children, d.team, d.members
    out = []
    for u in d.units.values():
        if u.external or u.leader_id is None or u.leader_id in reviewers or u.id in reported:
            continue
        if any(x in blocked for x in children.get(u.id, ())) or any(x in blocked for x in team.get(u.id, ())) \
                or any(x in blocked for x in members.get(u.id, ())):
            continue
        out.append(_gap(GapKind.SECRETARY_NOT_REVIEWING, d, unit_id=u.id, person_id=u.leader_id))
    return out


def notices(d: Directory, derivation: Derivation, reviewers: set[str] | None = None) -> list[Notice]:
    """What the office must confirm: people holding two principal posts (兼任,
    reviewed once per post, spec §9), and people known here only through
    another authority's organizations who review nobody here."""
    out: list[Notice] = []
    internal = d.units
    concurrent = {pid: [uid for uid in led if uid in internal and not internal[uid].external] for pid, led in d.leads.items()}
    concurrent = {pid: sorted(led) for pid, led in concurrent.items() if len(led) > 1}
    if concurrent:
        wanted = {uid for led in concurrent.values() for uid in led}
        by_unit = {a.subject_id: a for a in derivation.assignments if a.subject_id in wanted}
        for pid in sorted(concurrent):
            led = concurrent[pid]
            reviewers = tuple(by_unit[uid].reviewer_id if uid in by_unit else "" for uid in led)
            out.append(_concurrent_notice(d, pid, tuple(led), reviewers))
    if reviewers is None:
        reviewers = {a.reviewer_id for a in derivation.assignments}
    co_reviewers: set[str] | None = None
    elsewhere: set[str] = set()
    for u in internal.values():
        if u.external:
            elsewhere.update(x for x in (u.leader_id, *d.team.get(u.id, ()), *d.members.get(u.id, ())) if x)
    for pid in sorted(elsewhere):
        if pid in reviewers or pid not in d.people:
            continue
        posts = d.leads.get(pid, []) + d.teams_of.get(pid, []) + d.member_of.get(pid, [])
        if any(uid in internal and not internal[uid].external for uid in posts):
            continue
        if co_reviewers is None:
            co_reviewers = {c for a in derivation.assignments if a.co_reviewer_ids for c in a.co_reviewer_ids}
        if pid in co_reviewers:
            continue
        units = tuple(sorted({uid for uid in posts if uid in internal}))
        who, who_en = f"{d.name_of(pid)}（{pid}）", f"{d.name_of(pid)} ({pid})"
        names = "、".join(f"{d.unit_name(x)}（{x}）" for x in units)
        names_en = ", ".join(f"{d.unit_name(x)} ({x})" for x in units)
        out.append(Notice(kind=NoticeKind.REVIEWED_ELSEWHERE, person_id=pid, unit_ids=units,
                          message_zh=f"{who}只属于其他党组织（{names}），在本名录中既不被点评，也不点评任何对象。",
                          message_en=f"{who_en} belongs only to another authority's organizations ({names_en}): neither reviewed nor reviewing here."))
    return out


def _concurrent_notice(d: Directory, pid: str, led: tuple[str, ...], reviewers: tuple[str, ...]) -> Notice:
    who, who_en = f"{d.name_of(pid)}（{pid}）", f"{d.name_of(pid)} ({pid})"
    posts = "、".join(f"{d.unit_name(x)}（{x}）" for x in led)
    posts_en = " and ".join(f"{d.unit_name(x)} ({x})" for x in led)
    parts, parts_en = [], []
    for uid, rid in zip(led, reviewers):
        unit = f"{d.unit_name(uid)}（{uid}）"
        unit_en = f"{d.unit_name(uid)} ({uid})"
        if rid:
            parts.append(f"{unit}由{d.name_of(rid)}（{rid}）点评")
            parts_en.append(f"{unit_en} by {d.name_of(rid)} ({rid})")
        elif d.units[uid].parent_id is None:
            parts.append(f"{unit}在本名录之外点评")
            parts_en.append(f"{unit_en} outside this directory")
        else:
            parts.append(f"{unit}暂无点评人（见缺口）")
            parts_en.append(f"{unit_en} has no reviewer yet (see the gaps)")
    return Notice(
        kind=NoticeKind.CONCURRENT_POSTS, person_id=pid, unit_ids=led, subject_ids=led, reviewer_ids=reviewers,
        message_zh=f"{who}兼任{posts}的主要负责人：按每个职务各接受一次点评（{'；'.join(parts)}），请确认。",
        message_en=f"{who_en} is the principal leader of {posts_en} (concurrent posts): reviewed once per post ({'; '.join(parts_en)}); please confirm.",
    )


class PlanSummary(BaseModel):
    """What ``reviewctl directory plan`` prints: totals per tier and level,
    the gaps, the notices to confirm, and the rules applied. Notices do not
    stand in the way of full coverage; gaps do."""

    model_config = ConfigDict(frozen=True)

    period: str
    rubric_version: str
    total: int
    subjects_in_scope: int
    by_tier_level: dict[int, dict[str, int]]
    by_kind: dict[str, int]
    co_reviewed: int
    gaps: list[Gap]
    notices: list[Notice] = Field(default_factory=list)
    rules: PlanRules = Field(default_factory=PlanRules)

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


def plan(d: Directory, rb: Rubric | None = None, period: str = "", rules: PlanRules | None = None) -> tuple[Derivation, PlanSummary]:
    """Derive a period's assignments and check them for full coverage."""
    rb = rb or rubric()
    rules = rules or PlanRules()
    derivation = derive(d, rb)
    reviewers = {a.reviewer_id for a in derivation.assignments}
    found = gaps(d, derivation, rules, reviewers)
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
        notices=notices(d, derivation, reviewers),
        rules=rules,
    )
    return derivation, summary


def tier_label(tier: int) -> str:
    names = TIER_NAMES.get(Tier(tier)) if tier in Tier._value2member_map_ else None
    return f"{tier} {names[0]} / {names[1]}" if names else str(tier)


__all__ = ["Gap", "GapKind", "MIN_BRANCH_MEMBERS", "Notice", "NoticeKind", "PlanRules", "PlanSummary", "Blocked",
           "count_by_tier_level", "gaps", "notices", "plan", "tier_label"]
