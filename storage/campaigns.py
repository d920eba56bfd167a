"""What a launched campaign keeps outside Temporal: its plan, entry by entry.

The campaign workflow pages through these rows by sequence number (an
activity reads one batch, starts its reviews, returns only counts), so its
history carries offsets, never 100,000 subjects. Rows are written once at
launch, keyed by (campaign, sequence): a second launch of the same plan
writes nothing.

The campaign's facts (launched, the draw, paused, resumed, cancelled) are
events in the audit log, stream ``campaign-<id>`` (:mod:`storage.eventlog`);
the live counts come from the reviews' own events (:func:`review_counts`).
"""

from __future__ import annotations

import json
from datetime import datetime, timezone

from sqlalchemy import JSON, Column, DateTime, Engine, Integer, MetaData, String, Table, Text, func, insert, select

from domain.campaign import CampaignPlan, CampaignSpec, PlanEntry

metadata = MetaData()

campaigns_t = Table(
    "campaigns",
    metadata,
    Column("campaign_id", String(48), primary_key=True),
    Column("plan_id", String(64), nullable=False),
    Column("spec", JSON, nullable=False),
    Column("total", Integer, nullable=False),
    Column("launched_at", DateTime(timezone=True), nullable=False),
)

entries_t = Table(
    "campaign_entries",
    metadata,
    Column("campaign_id", String(48), primary_key=True),
    Column("seq", Integer, primary_key=True, autoincrement=False),
    Column("subject_id", String(64), nullable=False),
    Column("tier", Integer, nullable=False),
    Column("level", String(1), nullable=False),
    Column("entry", Text, nullable=False),
)


class PlanMismatch(Exception):
    """The campaign id is taken by another plan."""

    def __init__(self, campaign_id: str, stored_plan_id: str) -> None:
        super().__init__(f"campaign {campaign_id} was launched with plan {stored_plan_id}")
        self.campaign_id, self.stored_plan_id = campaign_id, stored_plan_id


class CampaignStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def save_plan(self, plan: CampaignPlan, *, chunk: int = 2000) -> bool:
        """Store a plan's entries once; True if written now, False if this very
        plan was stored before (a retried launch). Another plan under the same
        campaign id raises PlanMismatch."""
        cid = plan.spec.campaign_id
        with self.engine.begin() as conn:
            row = conn.execute(select(campaigns_t.c.plan_id).where(campaigns_t.c.campaign_id == cid)).first()
            if row is not None:
                if row.plan_id != plan.plan_id:
                    raise PlanMismatch(cid, row.plan_id)
                return False
            conn.execute(insert(campaigns_t).values(campaign_id=cid, plan_id=plan.plan_id, spec=plan.spec.model_dump(mode="json"), total=plan.total, launched_at=datetime.now(timezone.utc)))
            rows = [{"campaign_id": cid, "seq": i, "subject_id": e.subject_id, "tier": e.tier, "level": e.level.value, "entry": e.model_dump_json()} for i, e in enumerate(plan.entries)]
            for i in range(0, len(rows), chunk):
                conn.execute(insert(entries_t), rows[i : i + chunk])
        return True

    def spec(self, campaign_id: str) -> tuple[CampaignSpec, str, int] | None:
        """The stored spec, plan id and total of a launched campaign."""
        with self.engine.connect() as conn:
            row = conn.execute(select(campaigns_t).where(campaigns_t.c.campaign_id == campaign_id)).first()
        if row is None:
            return None
        spec = row.spec if isinstance(row.spec, dict) else json.loads(row.spec)
        return CampaignSpec.model_validate(spec), row.plan_id, row.total

    def entries(self, campaign_id: str, offset: int, limit: int) -> list[PlanEntry]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(entries_t.c.entry).where(entries_t.c.campaign_id == campaign_id, entries_t.c.seq >= offset, entries_t.c.seq < offset + limit).order_by(entries_t.c.seq)
            ).all()
        return [PlanEntry.model_validate_json(r.entry) for r in rows]

    def count(self, campaign_id: str) -> int:
        with self.engine.connect() as conn:
            return conn.execute(select(func.count()).select_from(entries_t).where(entries_t.c.campaign_id == campaign_id)).scalar_one()

    def campaign_ids(self) -> list[str]:
        with self.engine.connect() as conn:
            return [r.campaign_id for r in conn.execute(select(campaigns_t.c.campaign_id).order_by(campaigns_t.c.launched_at))]


# the events that move a review's step, close it, or make it overdue
STATUS_EVENTS = ("review.started", "review.step_started", "review.closed", "review.cancelled", "review.deadline_passed", "review.deadline_extended")


class ReviewStatus:
    """A review's place as its events tell it: current step, overdue, tier."""

    __slots__ = ("step", "overdue", "tier")

    def __init__(self) -> None:
        self.step, self.overdue, self.tier = "investigate", False, 0

    def apply(self, event_type: str, payload: dict) -> None:
        if event_type == "review.started":
            self.tier = int(payload.get("spec", {}).get("tier", 0))
        elif event_type == "review.step_started":
            self.step, self.overdue = payload["step"], False
        elif event_type == "review.closed":
            self.step, self.overdue = "closed", False
        elif event_type == "review.cancelled":
            self.step, self.overdue = "cancelled", False
        elif event_type == "review.deadline_passed" and payload.get("step") == self.step:
            self.overdue = True
        elif event_type == "review.deadline_extended" and payload.get("step") == self.step:
            self.overdue = False


def review_statuses(engine: Engine, campaign_id: str) -> dict[str, ReviewStatus]:
    """Every review of the campaign, folded from the log (a scan of its
    streams: the direct count the projection is checked against)."""
    from storage.schema import events

    prefix = f"rv-{campaign_id}-"
    out: dict[str, ReviewStatus] = {}
    q = (
        select(events.c.stream_id, events.c.event_type, events.c.payload)
        .where(events.c.stream_id.like(prefix.replace("_", r"\_").replace("%", r"\%") + "%", escape="\\"), events.c.event_type.in_(STATUS_EVENTS))
        .order_by(events.c.position)
    )
    with engine.connect() as conn:
        for stream_id, event_type, payload in conn.execute(q):
            st = out.get(stream_id)
            if st is None:
                st = out[stream_id] = ReviewStatus()
            st.apply(event_type, json.loads(payload))
    return out


def review_counts(engine: Engine, campaign_id: str) -> dict:
    """started, open by step, completed, cancelled, overdue."""
    statuses = review_statuses(engine, campaign_id)
    by_step: dict[str, int] = {}
    completed = cancelled = overdue = 0
    for st in statuses.values():
        if st.step == "closed":
            completed += 1
        elif st.step == "cancelled":
            cancelled += 1
        else:
            by_step[st.step] = by_step.get(st.step, 0) + 1
            overdue += st.overdue
    return {"started": len(statuses), "by_step": by_step, "completed": completed, "cancelled": cancelled, "overdue": overdue}


def launched_specs(engine: Engine) -> list[tuple[CampaignSpec, str]]:
    """Every launched campaign's spec and plan id, oldest first."""
    with engine.connect() as conn:
        rows = conn.execute(select(campaigns_t.c.spec, campaigns_t.c.plan_id).order_by(campaigns_t.c.launched_at)).all()
    return [(CampaignSpec.model_validate(r.spec if isinstance(r.spec, dict) else json.loads(r.spec)), r.plan_id) for r in rows]


def planned_subjects(engine: Engine, campaign_id: str) -> set[str]:
    with engine.connect() as conn:
        return {r.subject_id for r in conn.execute(select(entries_t.c.subject_id).where(entries_t.c.campaign_id == campaign_id))}
