"""A campaign's live counts, read from the review projection (never from its
100,000 workflows; Temporal visibility cannot group, temporalio/temporal#4986):
open reviews by step x tier, completed, cancelled, overdue, and the overdue
list. The covering index of migration 0009 answers them without touching the
summaries' rows."""

from __future__ import annotations

from pydantic import BaseModel, Field
from sqlalchemy import ColumnElement, Connection, Engine, func, select

from app.projections.schema import review_summaries as rs


class CampaignCounts(BaseModel):
    campaign_id: str
    started: int = 0
    by_step_tier: dict[str, dict[int, int]] = Field(default_factory=dict)  # open reviews: step -> tier -> n
    completed: int = 0
    cancelled: int = 0
    overdue: int = 0
    overdue_reviews: list[str] = Field(default_factory=list)


def grouped_counts(conn: Connection, *where: ColumnElement[bool]) -> list[tuple[str, str, int, bool, int]]:
    """(status, step, tier, overdue, number of reviews) of the summaries
    matching ``where``: the one GROUP BY behind a campaign's live counts and
    the supervisor's overview (an ended review's step is closed or cancelled)."""
    q = select(rs.c.status, rs.c.step, rs.c.tier, rs.c.overdue, func.count()).where(*where).group_by(rs.c.status, rs.c.step, rs.c.tier, rs.c.overdue)
    return [(status, step, int(tier), bool(overdue), n) for status, step, tier, overdue, n in conn.execute(q)]


def campaign_counts(engine: Engine, campaign_id: str, *, overdue_limit: int = 100) -> CampaignCounts:
    out = CampaignCounts(campaign_id=campaign_id)
    with engine.connect() as conn:
        for status, step, tier, overdue, n in grouped_counts(conn, rs.c.campaign_id == campaign_id):
            out.started += n
            if status == "closed":
                out.completed += n
            elif status == "cancelled":
                out.cancelled += n
            else:
                row = out.by_step_tier.setdefault(step, {})
                row[tier] = row.get(tier, 0) + n
                out.overdue += n if overdue else 0
        if out.overdue:
            out.overdue_reviews = list(conn.execute(
                select(rs.c.review_id).where(rs.c.campaign_id == campaign_id, rs.c.status == "open", rs.c.overdue.is_(True)).order_by(rs.c.review_id).limit(overdue_limit)
            ).scalars())
    return out
