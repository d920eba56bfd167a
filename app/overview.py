"""The supervisor's overview of a round: every review of their scope by step
and tier, the overdue ones and those due this week, coverage per unit (who is
due a review and has none yet), and a drill-down from the organization to a
unit to a review.

Served from the review-summary projection (``app.projections``: a projector
reads the event log by global position and keeps one row per review), caught
up before it is read; never by asking thousands of workflows."""

from __future__ import annotations

import asyncio
import threading

from collections import Counter, defaultdict
from datetime import datetime, timedelta, timezone

from pydantic import BaseModel, Field
from sqlalchemy import select

from app.access import require_signed_in_person
from app.context import AppContext
from app.errors import Forbidden
from app.principal import Principal
from domain.procedure import FIVE_STEPS, Step

OPEN_STEPS = tuple(s.value for s in FIVE_STEPS)
ALL_STEPS = OPEN_STEPS + (Step.CLOSED.value, Step.CANCELLED.value)
TIERS = (1, 2, 3, 4)


class ReviewSummary(BaseModel):
    review_id: str
    campaign_id: str
    subject_id: str
    subject_name: str | None = None
    unit_id: str
    tier: int
    level: str
    reviewer_id: str
    step: str
    due_at: datetime | None = None
    overdue: bool = False
    started_at: datetime


_COLUMNS = ("review_id", "campaign_id", "subject_id", "subject_name", "unit_id", "tier", "level", "reviewer_id", "step", "due_at", "overdue", "started_at")


def load_summaries(ctx: AppContext, *, units: set[str] | None = None, campaign_id: str | None = None,
                   review_ids: list[str] | None = None, where=(), order_by=(), limit: int | None = None) -> list[ReviewSummary]:
    """Rows of the review-summary projection (``app.projections``), optionally
    within some units, one campaign, some reviews, further conditions, in an
    order and up to a limit. Callers catch up first."""
    from app.projections.schema import review_summaries as t

    q = select(*(t.c[c] for c in _COLUMNS))
    if campaign_id is not None:
        q = q.where(t.c.campaign_id == campaign_id)
    if review_ids is not None:
        q = q.where(t.c.review_id.in_(review_ids))
    if units is not None:
        q = q.where(t.c.unit_id.in_(sorted(units)))
    for cond in where:
        q = q.where(cond)
    if order_by:
        q = q.order_by(*order_by)
    if limit is not None:
        q = q.limit(limit)
    with ctx.read() as conn:
        rows = conn.execute(q).all()
    # our own projection's rows: constructed without re-validation
    return [ReviewSummary.model_construct(review_id=r[0], campaign_id=r[1], subject_id=r[2], subject_name=r[3], unit_id=r[4], tier=r[5], level=r[6],
                                          reviewer_id=r[7], step=r[8], due_at=_utc(r[9]), overdue=bool(r[10]), started_at=_utc(r[11])) for r in rows]


def _lean(ctx: AppContext, units: set[str] | None, campaign_id: str | None) -> list[tuple]:
    """(subject_id, unit_id, tier, step, overdue) of every review in scope: what the counts need, nothing more."""
    from app.projections.schema import review_summaries as t

    q = select(t.c.subject_id, t.c.unit_id, t.c.tier, t.c.step, t.c.overdue)
    if campaign_id is not None:
        q = q.where(t.c.campaign_id == campaign_id)
    with ctx.read() as conn:
        rows = conn.execute(q).all()
    return [tuple(r) for r in rows if units is None or r[1] in units]


def _utc(v: datetime | None) -> datetime | None:
    if v is None:
        return None
    return v if v.tzinfo else v.replace(tzinfo=timezone.utc)


# --------------------------------------------------------------------------
# the use case
# --------------------------------------------------------------------------


class OverviewInput(BaseModel):
    campaign_id: str | None = None
    unit_id: str | None = Field(default=None, description="drill down: this unit's subtree only")
    tier: int | None = Field(default=None, ge=1, le=4)
    step: str | None = None
    overdue: bool | None = None
    limit: int = Field(default=200, ge=1, le=2000)


class UnitCoverage(BaseModel):
    unit_id: str
    unit_name: str
    due: int  # subjects of this unit the directory says must be reviewed
    reviewed: int  # closed reviews
    in_progress: int
    missing: list[str]  # subject names with no review yet (first few)
    missing_count: int


class UnitLink(BaseModel):
    unit_id: str
    unit_name: str
    reviews: int
    overdue: int


class Overview(BaseModel):
    scope: list[str]  # the units this overview covers (empty: the whole organization)
    unit_id: str | None
    unit_name: str | None
    breadcrumb: list[UnitLink]
    total: int
    counts: dict[str, dict[int, int]]  # step -> tier -> number of reviews
    matching: int
    reviews: list[ReviewSummary]  # the filtered list, overdue first then soonest due
    overdue: list[ReviewSummary]
    due_this_week: list[ReviewSummary]
    children: list[UnitLink]  # the next level down, for the drill-down
    coverage: list[UnitCoverage]


def _allowed_units(ctx: AppContext, principal: Principal) -> set[str] | None:
    """None: everything (the office, an auditor); else the supervised subtrees."""
    person = require_signed_in_person(principal)
    if person in ctx.settings.supervisor_ids or principal.auditor:
        return None
    if principal.supervisor_scopes:
        from app.access import subtree_units

        return subtree_units(ctx.directory, principal.supervisor_scopes)
    raise Forbidden("the overview is for supervisors (a granted scope) and auditors", field="principal", message_zh="总览仅供督导人员（已授权范围）和审计人员查看")


async def overview(ctx: AppContext, principal: Principal, inp: OverviewInput) -> Overview:
    await ctx.catch_up()
    return await asyncio.to_thread(_overview, ctx, principal, inp)


def _overview(ctx: AppContext, principal: Principal, inp: OverviewInput) -> Overview:
    allowed = _allowed_units(ctx, principal)
    d, due = directory_facts(ctx)
    if inp.unit_id is not None:
        if d.unit(inp.unit_id) is None or (allowed is not None and inp.unit_id not in allowed):
            from app.errors import NotFound

            raise NotFound(f"no unit {inp.unit_id!r} in your scope", field="unit_id", message_zh=f"您的范围内没有单位 {inp.unit_id!r}")
        within = set(d.subtree(inp.unit_id))
        if allowed is not None:
            within &= allowed
    else:
        within = allowed
    from app.projections.schema import review_summaries as t

    rows = _lean(ctx, within, inp.campaign_id)
    counts: dict[str, dict[int, int]] = {s: {tier: 0 for tier in TIERS} for s in ALL_STEPS}
    for _subject, _unit, tier, step, _overdue in rows:
        counts.setdefault(step, {x: 0 for x in TIERS})[tier] = counts.get(step, {}).get(tier, 0) + 1
    matching = sum(1 for _s, _u, tier, step, od in rows if (inp.tier is None or tier == inp.tier) and (inp.step is None or step == inp.step)
                   and (inp.overdue is None or bool(od) == inp.overdue))
    urgency = (t.c.overdue.desc(), t.c.due_at, t.c.review_id)
    week = datetime.now(timezone.utc) + timedelta(days=7)
    is_open = t.c.step.in_(OPEN_STEPS)
    filters = [c for c in (t.c.tier == inp.tier if inp.tier is not None else None, t.c.step == inp.step if inp.step is not None else None,
                           t.c.overdue == inp.overdue if inp.overdue is not None else None) if c is not None]
    scoped = dict(units=within, campaign_id=inp.campaign_id, limit=inp.limit)
    chosen = load_summaries(ctx, where=filters, order_by=urgency, **scoped)
    overdue = load_summaries(ctx, where=[is_open, t.c.overdue.is_(True)], order_by=urgency, **scoped)
    soon = load_summaries(ctx, where=[is_open, t.c.overdue.is_(False), t.c.due_at <= week], order_by=urgency, **scoped)

    # the drill-down: the roots of the scope (or the unit's children), with their subtree counts
    if inp.unit_id is not None:
        heads = list(d.children.get(inp.unit_id, []))
    elif allowed is None:
        heads = [u.id for u in d.roots()]
    else:
        heads = [u for u in (principal.supervisor_scopes or ()) if d.unit(u) is not None]
    per_unit = Counter(r[1] for r in rows)
    per_unit_overdue = Counter(r[1] for r in rows if r[4] and r[3] in OPEN_STEPS)
    children = []
    for uid in heads:
        sub = set(d.subtree(uid))
        children.append(UnitLink(unit_id=uid, unit_name=d.unit_name(uid), reviews=sum(per_unit[u] for u in sub), overdue=sum(per_unit_overdue[u] for u in sub)))
    crumbs: list[UnitLink] = []
    if inp.unit_id is not None:
        for uid in reversed([inp.unit_id, *d.ancestors(inp.unit_id)]):
            if allowed is None or uid in allowed:
                crumbs.append(UnitLink(unit_id=uid, unit_name=d.unit_name(uid), reviews=0, overdue=0))
    return Overview(
        scope=sorted(allowed) if allowed is not None else [], unit_id=inp.unit_id, unit_name=d.unit_name(inp.unit_id) if inp.unit_id else None,
        breadcrumb=crumbs, total=len(rows), counts=counts, matching=matching, reviews=chosen, overdue=overdue,
        due_this_week=soon, children=children, coverage=_coverage(d, due, rows, within),
    )


MISSING_SHOWN = 10


class _Facts:
    """The directory and who it says is due a review, derived once per
    directory import (deriving the plan takes seconds on a national
    directory; it changes only when a new directory is imported)."""

    lock = threading.Lock()
    cache: dict[tuple, tuple] = {}


def directory_facts(ctx: AppContext):
    from directory.service import iter_assignments

    latest = ctx.directory.imports(limit=1)
    key = (str(ctx.engine.url), (latest[0].imported_at, latest[0].fingerprint) if latest else None)
    with _Facts.lock:
        got = _Facts.cache.get(key)
        if got is None:
            d = ctx.directory.load()
            due: dict[str, list[tuple[str, str]]] = defaultdict(list)
            for a in iter_assignments(ctx.engine):
                due[a.unit_id].append((a.subject_id, a.subject_name))
            _Facts.cache.clear()  # only the newest import is worth keeping
            got = _Facts.cache[key] = (d, due)
    return got


COVERAGE_UNITS = 200


def _coverage(d, due: dict[str, list[tuple[str, str]]], rows: list[tuple], within: set[str] | None) -> list[UnitCoverage]:
    """Per unit: the subjects the directory says are due a review, against the
    reviews there are; the units with the most subjects still missing first."""
    closed, open_ = set(), set()
    for subject_id, _unit, _tier, step, _od in rows:
        if step == Step.CLOSED.value:
            closed.add(subject_id)
        elif step != Step.CANCELLED.value:
            open_.add(subject_id)
    tallies = []
    for unit_id, subjects in due.items():
        if within is not None and unit_id not in within:
            continue
        reviewed = sum(1 for s, _ in subjects if s in closed)
        in_progress = sum(1 for s, _ in subjects if s not in closed and s in open_)
        missing = [name for s, name in subjects if s not in closed and s not in open_]
        tallies.append((unit_id, len(subjects), reviewed, in_progress, missing))
    tallies.sort(key=lambda t: (-len(t[4]), t[0]))
    return [UnitCoverage(unit_id=u, unit_name=d.unit_name(u), due=n, reviewed=rv, in_progress=ip, missing=m[:MISSING_SHOWN], missing_count=len(m))
            for u, n, rv, ip, m in tallies[:COVERAGE_UNITS]]
