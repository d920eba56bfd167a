"""Directory use cases: look up a unit, the units under one, a unit's people
and a person's posts; explain who reviews a person or a unit (and whom they
review); plan a period (assignments per tier and level, gaps, notices).

Who may: the directory is the organization's own structure, not review
content, so any signed-in principal reads the look-ups and the explanations
(the CLI's local operator too). The plan of a period is the office's working
list of what to fix before a round: supervisors read it for their subtrees
(counts, gaps and notices that touch a unit in them), auditors, administrators
(they grant supervisors their scopes from it) and the office read all of it;
anyone else is refused. Every list comes a page at a time (``app.cursor``).
A unit's tree to a depth is ``reviewctl directory show``'s. Importing (replacing)
the directory is the administrator's (the server's local administrator,
``app.accounts.CLI_ADMIN``, runs ``reviewctl directory import``)."""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path
from typing import Callable

from pydantic import BaseModel, Field

from app.access import is_office
from app.context import AppContext
from app.cursor import Page, after_of, page_in_order, page_of
from app.errors import BadInput, Forbidden, NotFound, NotSignedIn
from app.principal import Principal
from domain.assignment import Assignment, explain
from domain.coverage import Gap, Notice, PlanRules, PlanSummary, count_by_tier_level
from domain.procedure import SubjectKind
from storage.directory import ImportResult

MAX_LISTED = 200


def _require_signed_in(principal: Principal) -> None:
    if not principal.signed_in:
        raise NotSignedIn("sign in to read the directory", message_zh="请先登录")


def _no_unit(unit_id: str) -> NotFound:
    return NotFound(f"no unit {unit_id!r} in the directory", field="unit_id", message_zh=f"目录中没有单位 {unit_id!r}")


# ---- look-ups ---------------------------------------------------------------


class UnitInput(BaseModel):
    unit_id: str = Field(min_length=1, max_length=64)


class UnitSummary(BaseModel):
    id: str
    name: str
    parent_id: str | None
    tier: int
    kind: str
    category: str
    leader_id: str | None
    external: bool


class UnitView(UnitSummary):
    parent_name: str | None
    leader_name: str | None
    overseen_by: str | None
    guided_by: str | None
    units_under: int  # directly under it: GET …/units?parent_id=
    people: int  # its leadership team and members (not the leader): GET …/units/{id}/members


class UnitPage(Page[UnitSummary]):
    parent_id: str | None


class UnitsInput(BaseModel):
    parent_id: str | None = Field(default=None, min_length=1, max_length=64, description="none: the units at the top of the tree")
    cursor: str | None = None
    limit: int = Field(default=100, ge=1, le=500)


class Member(BaseModel):
    person_id: str
    name: str
    role: str  # leadership | member


class MemberPage(Page[Member]):
    unit_id: str


class MembersInput(UnitInput):
    cursor: str | None = None
    limit: int = Field(default=100, ge=1, le=500)


class PersonInput(BaseModel):
    person_id: str = Field(min_length=1, max_length=64)


class Post(BaseModel):
    unit_id: str
    unit_name: str
    role: str  # leader | leadership | member


class PersonView(BaseModel):
    id: str
    name: str
    posts: list[Post]  # the units they lead, sit in the team of, or belong to


def _summary(u) -> dict:
    return dict(id=u.id, name=u.name, parent_id=u.parent_id, tier=int(u.tier), kind=u.kind.value, category=u.category.value, leader_id=u.leader_id, external=u.external)


async def show_unit(ctx: AppContext, principal: Principal, inp: UnitInput) -> UnitView:
    _require_signed_in(principal)
    store = ctx.directory
    u = store.unit(inp.unit_id)
    if u is None:
        raise _no_unit(inp.unit_id)
    parent = store.unit(u.parent_id) if u.parent_id else None
    leader = store.person(u.leader_id) if u.leader_id else None
    under, people = store.unit_sizes(u.id)
    return UnitView(**_summary(u), parent_name=parent.name if parent else None, leader_name=leader[0].name if leader else None,
                    overseen_by=u.overseen_by, guided_by=u.guided_by, units_under=under, people=people)


async def list_units(ctx: AppContext, principal: Principal, inp: UnitsInput) -> UnitPage:
    _require_signed_in(principal)
    if inp.parent_id is not None and ctx.directory.unit(inp.parent_id) is None:
        raise NotFound(f"no unit {inp.parent_id!r} in the directory", field="parent_id", message_zh=f"目录中没有单位 {inp.parent_id!r}")
    rows = ctx.directory.units_under(inp.parent_id, after_of(inp.cursor), inp.limit + 1)
    return page_of(UnitPage, [UnitSummary(**_summary(u)) for u in rows], inp.limit, key=lambda v: v.id, parent_id=inp.parent_id)


async def unit_members(ctx: AppContext, principal: Principal, inp: MembersInput) -> MemberPage:
    _require_signed_in(principal)
    if ctx.directory.unit(inp.unit_id) is None:
        raise _no_unit(inp.unit_id)
    rows = ctx.directory.members_of(inp.unit_id, after_of(inp.cursor), inp.limit + 1)
    return page_of(MemberPage, [Member(person_id=p, name=n, role=r) for p, n, r in rows], inp.limit, key=lambda m: m.person_id, unit_id=inp.unit_id)


async def show_person(ctx: AppContext, principal: Principal, inp: PersonInput) -> PersonView:
    _require_signed_in(principal)
    got = ctx.directory.person(inp.person_id)
    if got is None:
        raise NotFound(f"no person {inp.person_id!r} in the directory", field="person_id", message_zh=f"目录中没有人员 {inp.person_id!r}")
    p, posts = got
    return PersonView(id=p.id, name=p.name, posts=[Post(unit_id=u, unit_name=n, role=r) for u, n, r in posts])


# ---- who reviews whom, and why -------------------------------------------------


class ExplainInput(BaseModel):
    subject_id: str = Field(min_length=1, max_length=64, description="a person id (P-…) or a unit id (U-…)")
    cursor: str | None = Field(default=None, description="of the subjects this one reviews")
    limit: int = Field(default=MAX_LISTED, ge=1, le=500)


class ReviewedBy(BaseModel):
    subject_id: str
    kind: str
    reviewer_id: str
    reviewer_name: str
    co_reviewer_ids: list[str]
    level: str
    tier: int
    rubric_points: list[str]
    why_zh: str
    why_en: str


class Reviews(BaseModel):
    subject_id: str
    subject_name: str
    kind: str
    level: str
    tier: int
    role: str  # reviewer | co_reviewer


class Explanation(BaseModel):
    id: str
    name: str
    reviewed_by: list[ReviewedBy]
    reviews: list[Reviews]  # a page of the subjects it reviews (``limit`` of them)
    reviews_total: int
    next_cursor: str | None = Field(default=None, description="the next page of ``reviews``")


class _ReviewsPage(Page[Reviews]):
    pass


async def explain_subject(ctx: AppContext, principal: Principal, inp: ExplainInput) -> Explanation:
    from directory.service import plan_period

    _require_signed_in(principal)
    d, assignments, _ = await asyncio.to_thread(plan_period, ctx.engine)  # the whole derivation: off the event loop
    pid = inp.subject_id
    if pid not in d.people and pid not in d.units:
        raise NotFound(f"no person or unit {pid!r} in the directory", field="subject_id", message_zh=f"目录中没有 {pid!r}")
    name = d.name_of(pid) if pid in d.people else d.unit_name(pid)
    mine = [a for a in assignments if a.subject_id == pid or (a.kind is SubjectKind.ORGANIZATION and a.leader_id == pid)]
    reviewed_by = []
    for a in mine:
        why = explain(a, d)
        reviewed_by.append(ReviewedBy(subject_id=a.subject_id, kind=a.kind.value, reviewer_id=a.reviewer_id, reviewer_name=d.name_of(a.reviewer_id),
                                      co_reviewer_ids=list(a.co_reviewer_ids), level=a.level.value, tier=a.tier, rubric_points=list(a.rubric_points),
                                      why_zh=why.zh, why_en=why.en))
    theirs = [a for a in assignments if a.reviewer_id == pid or pid in a.co_reviewer_ids]
    reviews = [Reviews(subject_id=a.subject_id, subject_name=d.unit_name(a.subject_id) if a.kind is SubjectKind.ORGANIZATION else d.name_of(a.subject_id),
                       kind=a.kind.value, level=a.level.value, tier=a.tier, role="reviewer" if a.reviewer_id == pid else "co_reviewer")
               for a in theirs]
    page = page_in_order(_ReviewsPage, reviews, inp.cursor, inp.limit, key=lambda r: f"{r.subject_id}\t{r.role}")
    return Explanation(id=pid, name=name, reviewed_by=reviewed_by, reviews=page.items, reviews_total=len(theirs), next_cursor=page.next_cursor)


# ---- the plan of a period ---------------------------------------------------------


class PlanInput(BaseModel):
    period: str = Field(default="", max_length=40)


class PlanListInput(PlanInput):
    cursor: str | None = None
    limit: int = Field(default=100, ge=1, le=500)


class PlanOverview(BaseModel):
    """The plan's counts; its gaps and notices come a page at a time."""

    period: str
    rubric_version: str
    scope: list[str] | None  # the supervised units it is limited to; None: the whole directory
    total: int
    subjects_in_scope: int
    by_tier_level: dict[int, dict[str, int]]
    by_kind: dict[str, int]
    co_reviewed: int
    gaps: int
    notices: int
    full_coverage: bool
    rules: PlanRules


class GapPage(Page[Gap]):
    period: str


class NoticePage(Page[Notice]):
    period: str


def _scoped(principal: Principal, ctx: AppContext) -> tuple[str, ...] | None:
    """The scopes the principal's plan is limited to (None: all of it)."""
    if not principal.signed_in:
        raise NotSignedIn("sign in to read the plan", message_zh="请先登录")
    if principal.auditor or principal.administrator or is_office(ctx.settings, principal):
        return None
    if principal.supervisor_scopes:
        return principal.supervisor_scopes
    raise Forbidden("the plan of a period is for supervisors, auditors and administrators; 'directory/subjects/{id}/explanation' says who reviews whom",
                    field="principal", message_zh="只有督导、审计和管理员可以查看点评安排")


def _plan_in_scope(ctx: AppContext, principal: Principal, period: str) -> tuple[PlanSummary, tuple[str, ...] | None]:
    from directory.service import load_rubrics, plan_period

    scopes = _scoped(principal, ctx)
    load_rubrics(ctx.engine)
    d, assignments, summary = plan_period(ctx.engine, period)
    if scopes is None:
        return summary, None
    units = {u for scope in scopes if scope in d.units for u in d.subtree(scope)}

    def person_in(pid: str | None) -> bool:
        return pid is not None and any(u in units for u in (*d.leads.get(pid, ()), *d.teams_of.get(pid, ()), *d.member_of.get(pid, ())))

    def subject_in(sid: str) -> bool:
        return sid in units or person_in(sid)

    mine: list[Assignment] = [a for a in assignments if a.unit_id in units]
    gaps = [g for g in summary.gaps if g.unit_id in units or person_in(g.person_id) or any(subject_in(s) for s in g.subject_ids)]
    notices = [n for n in summary.notices if any(u in units for u in n.unit_ids) or any(subject_in(s) for s in n.subject_ids)]
    blocked = {s for g in gaps for s in g.subject_ids}
    kinds = Counter(a.kind for a in mine)
    scoped = summary.model_copy(update=dict(
        total=len(mine), subjects_in_scope=len(mine) + len(blocked), by_tier_level=count_by_tier_level(mine),
        by_kind={k.value: kinds.get(k, 0) for k in SubjectKind}, co_reviewed=sum(1 for a in mine if a.co_reviewer_ids), gaps=gaps, notices=notices,
    ))
    return scoped, scopes


async def plan(ctx: AppContext, principal: Principal, inp: PlanInput) -> PlanSummary:
    """The whole summary (gaps and notices in full), limited to a
    supervisor's subtrees."""
    return (await asyncio.to_thread(_plan_in_scope, ctx, principal, inp.period))[0]


async def plan_overview(ctx: AppContext, principal: Principal, inp: PlanInput) -> PlanOverview:
    s, scopes = await asyncio.to_thread(_plan_in_scope, ctx, principal, inp.period)
    return PlanOverview(period=s.period, rubric_version=s.rubric_version, scope=list(scopes) if scopes is not None else None, total=s.total,
                        subjects_in_scope=s.subjects_in_scope, by_tier_level=s.by_tier_level, by_kind=s.by_kind, co_reviewed=s.co_reviewed,
                        gaps=len(s.gaps), notices=len(s.notices), full_coverage=s.full_coverage, rules=s.rules)


def _gap_key(g: Gap) -> str:
    return "\t".join([g.kind.value, g.unit_id or "", g.person_id or "", ",".join(g.subject_ids), ",".join(g.detail)])


def _notice_key(n: Notice) -> str:
    return "\t".join([n.kind.value, n.person_id, ",".join(n.unit_ids), ",".join(n.subject_ids)])


async def plan_gaps(ctx: AppContext, principal: Principal, inp: PlanListInput) -> GapPage:
    s, _ = await asyncio.to_thread(_plan_in_scope, ctx, principal, inp.period)
    return page_in_order(GapPage, s.gaps, inp.cursor, inp.limit, key=_gap_key, period=s.period)


async def plan_notices(ctx: AppContext, principal: Principal, inp: PlanListInput) -> NoticePage:
    s, _ = await asyncio.to_thread(_plan_in_scope, ctx, principal, inp.period)
    return page_in_order(NoticePage, s.notices, inp.cursor, inp.limit, key=_notice_key, period=s.period)


# ---- one unit's tree -------------------------------------------------------


class UnitTreeInput(BaseModel):
    unit_id: str = Field(min_length=1, max_length=64, description="a unit id, e.g. U-HQ")
    depth: int = Field(default=2, ge=0, le=20, description="levels of units below to show")
    people: bool = Field(default=False, description="list the leadership-team members and the members")


class Named(BaseModel):
    id: str
    name: str


class UnitNode(BaseModel):
    id: str
    name: str
    kind_zh: str
    tier: int
    category_zh: str
    category_en: str
    leader_id: str | None
    leader_name: str
    team_count: int
    member_count: int
    overseen_by: Named | None = None
    guided_by: Named | None = None
    external: bool = False
    team: list[Named] = Field(default_factory=list)  # with people only
    members: list[Named] = Field(default_factory=list)  # with people only
    children: list["UnitNode"] = Field(default_factory=list)
    more_below: int = 0  # units below not shown (past the depth)
    cycle_to: list[str] = Field(default_factory=list)  # children that lead back up the tree (bad data)


class UnitTree(BaseModel):
    parent: Named | None
    root: UnitNode


async def unit_tree(ctx: AppContext, principal: Principal, inp: UnitTreeInput) -> UnitTree:
    """A unit, its leaders and categories, and the units below to ``depth``."""
    from domain.org import CATEGORY_NAMES, KIND_NAMES

    _require_signed_in(principal)
    d = await asyncio.to_thread(ctx.directory.load)
    if inp.unit_id not in d.units:
        raise _no_unit(inp.unit_id)

    def people(ids) -> list[Named]:
        return [Named(id=pid, name=d.name_of(pid)) for pid in ids] if inp.people else []

    def node(uid: str, level: int, seen: frozenset[str]) -> UnitNode:
        u = d.units[uid]
        kind_zh, _ = KIND_NAMES[u.kind]
        cat_zh, cat_en = CATEGORY_NAMES[u.category]
        kids = d.children.get(uid, [])
        shown = [k for k in kids if k not in seen] if level < inp.depth else []
        return UnitNode(
            id=u.id, name=u.name, kind_zh=kind_zh, tier=int(u.tier), category_zh=cat_zh, category_en=cat_en,
            leader_id=u.leader_id, leader_name=d.name_of(u.leader_id), team_count=len(d.team.get(uid, ())), member_count=len(d.members.get(uid, ())),
            overseen_by=Named(id=u.overseen_by, name=d.name_of(u.overseen_by)) if u.overseen_by else None,
            guided_by=Named(id=u.guided_by, name=d.unit_name(u.guided_by)) if u.guided_by else None, external=bool(u.external),
            team=people(d.team.get(uid, ())), members=people(d.members.get(uid, ())),
            children=[node(k, level + 1, seen | {k}) for k in shown],
            more_below=len(kids) if level >= inp.depth else 0,
            cycle_to=[k for k in kids if k in seen] if level < inp.depth else [],
        )

    u = d.units[inp.unit_id]
    parent = Named(id=u.parent_id, name=d.unit_name(u.parent_id)) if u.parent_id else None
    return UnitTree(parent=parent, root=node(inp.unit_id, 0, frozenset({inp.unit_id})))


# ---- import ----------------------------------------------------------------


class ImportInput(BaseModel):
    path: Path = Field(description="a .yaml file, an Excel workbook (.xlsx, sheets units/people/memberships), or a folder with units.csv, people.csv, memberships.csv")


class ImportRefused(BadInput):
    """The input was refused whole and nothing was written: one line per
    problem (file and sheet, line or row, field) in ``details``. Exit 1, as
    the import always answered a refused file."""

    exit_code = 1

    def __init__(self, message: str, details: list[str], **kw) -> None:
        super().__init__(message, **kw)
        self.details = details


def _read_and_replace(ctx: AppContext, inp: ImportInput, progress: Callable[[int, int], None] | None):
    from directory.issues import DirectoryImportError
    from directory.service import read_directory_source

    try:
        got = read_directory_source(inp.path)
    except DirectoryImportError as exc:
        total = len(exc.issues) + exc.more
        details = [str(i) for i in exc.issues] + ([f"… and {exc.more} more problems"] if exc.more else [])
        raise ImportRefused(f"{inp.path}: import refused, nothing written ({total} problem{'s' if total != 1 else ''}):", details, field="path",
                            message_zh=f"导入被拒绝，未写入任何内容（{total} 个问题）") from None
    except ValueError as exc:
        raise BadInput(str(exc), field="path", message_zh="无法识别的目录文件") from None
    except OSError as exc:
        raise BadInput(f"{inp.path}: {exc.strerror or exc}", field="path", message_zh="无法读取目录文件") from None
    result = ctx.directory.replace(got.directory, source=str(inp.path), progress=progress)
    return result.model_copy(update={"read_as": got.read_as}), got.format


class ImportOutcome(BaseModel):
    result: ImportResult
    format: str  # yaml, csv or xlsx: how the source was read


async def import_directory(ctx: AppContext, principal: Principal, inp: ImportInput,
                           progress: Callable[[int, int], None] | None = None) -> ImportOutcome:
    """Import (or re-import) the directory: refused whole on any problem;
    ``progress(done, total)`` while the rows are written."""
    if not principal.signed_in:
        raise NotSignedIn("sign in to import the directory", message_zh="请先登录")
    if not principal.administrator:
        raise Forbidden("importing the directory is the administrator's", field="principal", message_zh="只有管理员可以导入组织目录")
    result, fmt = await asyncio.to_thread(_read_and_replace, ctx, inp, progress)
    return ImportOutcome(result=result, format=fmt)
