"""The supervisor's overview of a round: every review of their scope by step
and tier, the overdue ones and those due this week, coverage per unit (who is
due a review and has none yet), and a drill-down from the organization to a
unit to a review.

Served from the review-summary projection's tables (``app.projections``: a
projector reads the event log by global position and keeps one row per
review), caught up before they are read; never by asking thousands of
workflows, and without folding or scanning the reviews here: the counts by
step x tier are one GROUP BY (``grouped_counts``, shared with a campaign's live
counts), the reviews and overdue ones per unit another, the lists read in the
order of an index (migration 0010) up to what the page shows, and coverage
sets the directory's due list (derived once per import) against the
(subject, status) pairs of the due units' reviews."""

from __future__ import annotations

import asyncio
import threading

from collections import Counter, defaultdict
from datetime import datetime, timedelta, timezone

from pydantic import BaseModel, Field
from sqlalchemy import and_, func, select

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


def _scoped(t, units: set[str] | None, campaign_id: str | None) -> list:
    """The conditions that keep a query within the principal's units and one campaign."""
    conds = []
    if units is not None:
        conds.append(t.c.unit_id.in_(sorted(units)))
    if campaign_id is not None:
        conds.append(t.c.campaign_id == campaign_id)
    return conds


def _overview(ctx: AppContext, principal: Principal, inp: OverviewInput) -> Overview:
    from app.projections.campaign_counts import grouped_counts
    from app.projections.schema import review_summaries as t

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
    scope = _scoped(t, within, inp.campaign_id)

    # the drill-down: the roots of the scope (or the unit's children), with their subtree counts
    if inp.unit_id is not None:
        heads = list(d.children.get(inp.unit_id, []))
    elif allowed is None:
        heads = [u.id for u in d.roots()]
    else:
        heads = [u for u in (principal.supervisor_scopes or ()) if d.unit(u) is not None]
    head_of = {u: h for h in heads for u in d.subtree(h) if within is None or u in within}
    due_units = sorted(u for u in due if within is None or u in within)

    is_open = t.c.status == "open"
    with ctx.read() as conn:
        groups = grouped_counts(conn, *scope)
        per_unit = conn.execute(select(t.c.unit_id, func.count(), func.count().filter(and_(is_open, t.c.overdue.is_(True))))
                                .where(*scope, t.c.unit_id.in_(sorted(head_of))).group_by(t.c.unit_id)).all() if head_of else []
        reviewed = conn.execute(select(t.c.subject_id, t.c.status).distinct()
                                .where(*_scoped(t, None, inp.campaign_id), t.c.unit_id.in_(due_units), t.c.status != Step.CANCELLED.value)).all() if due_units else []

    counts: dict[str, dict[int, int]] = {s: {tier: 0 for tier in TIERS} for s in ALL_STEPS}
    for _status, step, tier, _overdue, n in groups:
        row = counts.setdefault(step, {x: 0 for x in TIERS})
        row[tier] = row.get(tier, 0) + n
    matching = sum(n for _status, step, tier, od, n in groups
                   if (inp.tier is None or tier == inp.tier) and (inp.step is None or step == inp.step) and (inp.overdue is None or od == inp.overdue))

    urgency = (t.c.overdue.desc(), t.c.due_at, t.c.review_id)  # the order of ix_review_summaries_urgency
    week = datetime.now(timezone.utc) + timedelta(days=7)
    filters = [c for c in (t.c.tier == inp.tier if inp.tier is not None else None, t.c.step == inp.step if inp.step is not None else None,
                           t.c.overdue == inp.overdue if inp.overdue is not None else None) if c is not None]
    scoped = dict(units=within, campaign_id=inp.campaign_id, limit=inp.limit)
    # overdue first, then the soonest due, then the ended reviews (no deadline): two queries in
    # index order, since the databases disagree where NULL sorts and NULLS LAST defeats the index
    chosen = load_summaries(ctx, where=[*filters, t.c.due_at.is_not(None)], order_by=urgency, **scoped)
    if len(chosen) < inp.limit:
        chosen += load_summaries(ctx, where=[*filters, t.c.due_at.is_(None)], order_by=(t.c.review_id,), **{**scoped, "limit": inp.limit - len(chosen)})
    overdue = load_summaries(ctx, where=[t.c.overdue.is_(True), is_open], order_by=urgency, **scoped)
    soon = load_summaries(ctx, where=[t.c.overdue.is_(False), t.c.due_at <= week, is_open], order_by=urgency, **scoped)

    reviews, late = Counter(), Counter()
    for unit_id, n, n_overdue in per_unit:
        reviews[head_of[unit_id]] += n
        late[head_of[unit_id]] += n_overdue
    children = [UnitLink(unit_id=h, unit_name=d.unit_name(h), reviews=reviews[h], overdue=late[h]) for h in heads]
    crumbs: list[UnitLink] = []
    if inp.unit_id is not None:
        for uid in reversed([inp.unit_id, *d.ancestors(inp.unit_id)]):
            if allowed is None or uid in allowed:
                crumbs.append(UnitLink(unit_id=uid, unit_name=d.unit_name(uid), reviews=0, overdue=0))
    return Overview(
        scope=sorted(allowed) if allowed is not None else [], unit_id=inp.unit_id, unit_name=d.unit_name(inp.unit_id) if inp.unit_id else None,
        breadcrumb=crumbs, total=sum(g[4] for g in groups), counts=counts, matching=matching, reviews=chosen, overdue=overdue,
        due_this_week=soon, children=children, coverage=_coverage(d, {u: due[u] for u in due_units}, reviewed),
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


def _coverage(d, due: dict[str, list[tuple[str, str]]], reviewed: list[tuple[str, str]]) -> list[UnitCoverage]:
    """Per unit: the subjects the directory says are due a review, against
    their reviews in the projection ((subject, status) of every review not
    cancelled); the units with the most subjects still missing first."""
    status_of: dict[str, str] = {}
    for subject, status in reviewed:  # a closed review counts over one still open
        if status_of.get(subject) != Step.CLOSED.value:
            status_of[subject] = status
    tallies = []
    for unit_id, subjects in due.items():
        done = in_progress = 0
        missing = []
        for s, name in subjects:
            status = status_of.get(s)
            if status is None:
                missing.append(name)
            elif status == "open":
                in_progress += 1
            else:
                done += 1
        tallies.append((unit_id, len(subjects), done, in_progress, missing))
    tallies.sort(key=lambda t: (-len(t[4]), t[0]))
    return [UnitCoverage(unit_id=u, unit_name=d.unit_name(u), due=n, reviewed=rv, in_progress=ip, missing=m[:MISSING_SHOWN], missing_count=len(m))
            for u, n, rv, ip, m in tallies[:COVERAGE_UNITS]]
