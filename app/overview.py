"""The supervisor's overview of a round: every review of their scope by step
and tier, the overdue ones and those due this week, coverage per unit (who is
due a review and has none yet), and a drill-down from the organization to a
unit to a review.

Served from the review-summary projection (``app.projections``: a projector
reads the event log by global position and keeps one row per review), caught
up before it is read; never by asking thousands of workflows."""

from __future__ import annotations

import asyncio

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
                   review_ids: list[str] | None = None) -> list[ReviewSummary]:
    """Rows of the review-summary projection (``app.projections``), optionally
    within some units, one campaign, or some reviews. Callers catch up first."""
    from app.projections.schema import review_summaries as t

    q = select(*(t.c[c] for c in _COLUMNS))
    if campaign_id is not None:
        q = q.where(t.c.campaign_id == campaign_id)
    if review_ids is not None:
        q = q.where(t.c.review_id.in_(review_ids))
    with ctx.read() as conn:
        rows = conn.execute(q).all()
    out = []
    for r in rows:
        if units is not None and r[4] not in units:
            continue
        due = r[9]
        started = r[11]
        out.append(ReviewSummary(review_id=r[0], campaign_id=r[1], subject_id=r[2], subject_name=r[3], unit_id=r[4], tier=r[5], level=r[6],
                                 reviewer_id=r[7], step=r[8], due_at=_utc(due), overdue=bool(r[10]), started_at=_utc(started)))
    return out


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
    d = ctx.directory.load()
    if inp.unit_id is not None:
        if d.unit(inp.unit_id) is None or (allowed is not None and inp.unit_id not in allowed):
            from app.errors import NotFound

            raise NotFound(f"no unit {inp.unit_id!r} in your scope", field="unit_id", message_zh=f"您的范围内没有单位 {inp.unit_id!r}")
        within = set(d.subtree(inp.unit_id))
        if allowed is not None:
            within &= allowed
    else:
        within = allowed
    rows = load_summaries(ctx, units=within, campaign_id=inp.campaign_id)
    counts: dict[str, dict[int, int]] = {s: {t: 0 for t in TIERS} for s in ALL_STEPS}
    for r in rows:
        counts.setdefault(r.step, {t: 0 for t in TIERS})[r.tier] = counts.get(r.step, {}).get(r.tier, 0) + 1
    far = datetime.max.replace(tzinfo=timezone.utc)

    def urgency(r: ReviewSummary):
        return (not r.overdue, r.due_at or far, r.review_id)

    open_rows = [r for r in rows if r.step in OPEN_STEPS]
    now = datetime.now(timezone.utc)
    week = now + timedelta(days=7)
    chosen = [r for r in rows if (inp.tier is None or r.tier == inp.tier) and (inp.step is None or r.step == inp.step)
              and (inp.overdue is None or r.overdue == inp.overdue)]
    chosen.sort(key=urgency)
    overdue = sorted((r for r in open_rows if r.overdue), key=urgency)
    soon = sorted((r for r in open_rows if not r.overdue and r.due_at and r.due_at <= week), key=urgency)

    # the drill-down: the roots of the scope (or the unit's children), with their subtree counts
    if inp.unit_id is not None:
        heads = list(d.children.get(inp.unit_id, []))
    elif allowed is None:
        heads = [u.id for u in d.roots()]
    else:
        heads = [u for u in (principal.supervisor_scopes or ()) if d.unit(u) is not None]
    per_unit = Counter(r.unit_id for r in rows)
    per_unit_overdue = Counter(r.unit_id for r in overdue)
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
        breadcrumb=crumbs, total=len(rows), counts=counts, matching=len(chosen), reviews=chosen[: inp.limit], overdue=overdue[: inp.limit],
        due_this_week=soon[: inp.limit], children=children, coverage=_coverage(ctx, d, rows, within, inp.campaign_id),
    )


MISSING_SHOWN = 10


def _coverage(ctx: AppContext, d, rows: list[ReviewSummary], within: set[str] | None, campaign_id: str | None) -> list[UnitCoverage]:
    """Per unit: the subjects the directory says are due a review, against the reviews there are."""
    from directory.service import iter_assignments

    by_subject: dict[str, list[ReviewSummary]] = defaultdict(list)
    for r in rows:
        by_subject[r.subject_id].append(r)
    units: dict[str, dict] = {}
    for a in iter_assignments(ctx.engine):
        if within is not None and a.unit_id not in within:
            continue
        u = units.setdefault(a.unit_id, {"due": 0, "reviewed": 0, "in_progress": 0, "missing": []})
        u["due"] += 1
        got = [r for r in by_subject.get(a.subject_id, []) if r.step != Step.CANCELLED.value]
        if any(r.step == Step.CLOSED.value for r in got):
            u["reviewed"] += 1
        elif got:
            u["in_progress"] += 1
        else:
            u["missing"].append(a.subject_name)
    out = [UnitCoverage(unit_id=uid, unit_name=d.unit_name(uid), due=v["due"], reviewed=v["reviewed"], in_progress=v["in_progress"],
                        missing=v["missing"][:MISSING_SHOWN], missing_count=len(v["missing"])) for uid, v in units.items()]
    out.sort(key=lambda c: (-c.missing_count, c.unit_id))
    return out
