"""Directory use cases: explain who reviews a person or a unit (and whom they
review), and plan a period (assignments per tier and level, gaps, notices).
The directory is the organization's own structure, not review content: any
signed-in principal may read it (the CLI's local operator too)."""

from __future__ import annotations

from pydantic import BaseModel, Field

from app.context import AppContext
from app.errors import NotFound, NotSignedIn
from app.principal import Principal
from domain.assignment import explain
from domain.coverage import PlanSummary
from domain.procedure import SubjectKind

MAX_LISTED = 200


def _require_signed_in(principal: Principal) -> None:
    if not principal.signed_in:
        raise NotSignedIn("sign in to read the directory", message_zh="请先登录")


class ExplainInput(BaseModel):
    subject_id: str = Field(min_length=1, max_length=64, description="a person id (P-…) or a unit id (U-…)")


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
    reviews: list[Reviews]  # the first MAX_LISTED
    reviews_total: int


async def explain_subject(ctx: AppContext, principal: Principal, inp: ExplainInput) -> Explanation:
    from directory.service import plan_period

    _require_signed_in(principal)
    d, assignments, _ = plan_period(ctx.engine)
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
               for a in theirs[:MAX_LISTED]]
    return Explanation(id=pid, name=name, reviewed_by=reviewed_by, reviews=reviews, reviews_total=len(theirs))


class PlanInput(BaseModel):
    period: str = Field(default="", max_length=40)


async def plan(ctx: AppContext, principal: Principal, inp: PlanInput) -> PlanSummary:
    from directory.service import load_rubrics, plan_period

    _require_signed_in(principal)
    load_rubrics(ctx.engine)
    _, _, summary = plan_period(ctx.engine, inp.period)
    return summary
