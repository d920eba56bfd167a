"""What the auditor reads: a review's events in order with who acted, in which
role, why, and at which step, in Chinese or English; and the review's state
rebuilt as of any moment with the domain's own ``fold`` — the function the
workflow uses, so the two cannot disagree unless the log was altered."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel

from domain.events import from_record
from domain.procedure import STEP_NAMES_ZH, Role, Step
from domain.review import ReviewState, evolve, fold
from storage.eventlog import EventStore

Lang = Literal["zh", "en"]

EVENT_LABELS: dict[str, tuple[str, str]] = {
    "review.started": ("点评启动", "review started"),
    "review.step_started": ("进入步骤", "step started"),
    "review.findings_recorded": ("记录调查发现", "findings recorded"),
    "review.investigation_closed": ("调查研究完成", "investigation closed"),
    "review.opinions_recorded": ("记录征求意见", "opinions recorded"),
    "review.opinion_solicitation_closed": ("征求意见结束", "opinion solicitation closed"),
    "review.review_submitted": ("提交点评意见", "review submitted"),
    "review.circulation_confirmed": ("确认通报点评意见", "circulation confirmed"),
    "review.rectification_plan_submitted": ("提交整改方案", "rectification plan submitted"),
    "review.rectification_plan_accepted": ("整改方案通过", "rectification plan accepted"),
    "review.rectification_plan_returned": ("整改方案退回", "rectification plan returned"),
    "review.progress_reported": ("报告整改进展", "progress reported"),
    "review.reported_back": ("整改情况报告", "reported back"),
    "review.report_back_evaluated": ("整改情况评定", "report-back evaluated"),
    "review.closed": ("点评完成", "review closed"),
    "review.reviewer_reassigned": ("更换点评人", "reviewer reassigned"),
    "review.co_reviewer_added": ("增加协助点评人", "co-reviewer added"),
    "review.deadline_extended": ("延长期限", "deadline extended"),
    "review.cancelled": ("点评撤销", "review cancelled"),
    "review.reminder_sent": ("发送提醒", "reminder sent"),
    "review.deadline_passed": ("期限已过", "deadline passed"),
}

ROLE_LABELS: dict[Role, tuple[str, str]] = {
    Role.REVIEWER: ("点评人", "reviewer"),
    Role.CO_REVIEWER: ("协助点评人", "co-reviewer"),
    Role.SUBJECT: ("被点评对象", "subject"),
    Role.SUPERVISOR: ("活动领导小组办公室", "supervisor"),
    Role.SYSTEM: ("系统（时限）", "system (clock)"),
    Role.ENGINE: ("工作流引擎（Temporal）", "workflow engine (Temporal)"),
}

STEP_LABELS_EN: dict[Step, str] = {
    Step.INVESTIGATE: "1 investigate",
    Step.SOLICIT_OPINIONS: "2 solicit opinions",
    Step.REVIEW: "3 review",
    Step.NOTIFY: "4 notify",
    Step.RECTIFY: "5 rectify and report back",
    Step.CLOSED: "closed",
    Step.CANCELLED: "cancelled",
}


def event_label(event_type: str, lang: Lang) -> str:
    zh, en = EVENT_LABELS.get(event_type, (event_type, event_type))
    return zh if lang == "zh" else en


def step_label(step: Step | None, lang: Lang) -> str:
    if step is None:
        return ""
    return STEP_NAMES_ZH[step] if lang == "zh" else STEP_LABELS_EN[step]


def role_label(role: str | None, lang: Lang) -> str:
    if role is None:
        return ""
    zh, en = ROLE_LABELS.get(Role(role), (role, role))
    return zh if lang == "zh" else en


class TimelineEntry(BaseModel):
    position: int
    version: int
    occurred_at: datetime
    recorded_at: datetime
    event_type: str
    event: str
    step: Step | None  # the step the review is at once this event applies
    step_name: str
    actor_id: str | None
    actor_role: str | None
    role_name: str
    reason: str | None
    causation_id: str | None


def timeline(store: EventStore, review_id: str, lang: Lang = "zh") -> list[TimelineEntry]:
    """One review's events fit in memory (tens, not millions)."""
    state = ReviewState()
    out = []
    for rec in store.read_stream(review_id):
        state = evolve(state, from_record(rec))
        out.append(
            TimelineEntry(
                position=rec.position,
                version=rec.version,
                occurred_at=rec.occurred_at,
                recorded_at=rec.recorded_at,
                event_type=rec.event_type,
                event=event_label(rec.event_type, lang),
                step=state.step,
                step_name=step_label(state.step, lang),
                actor_id=rec.actor_id,
                actor_role=rec.actor_role,
                role_name=role_label(rec.actor_role, lang),
                reason=rec.reason,
                causation_id=rec.causation_id,
            )
        )
    return out


def state_as_of(store: EventStore, review_id: str, as_of: datetime | None = None) -> ReviewState:
    """The review as it stood at ``as_of`` in workflow time (events that occurred
    at or before it), or now."""
    return fold(from_record(r) for r in store.read_stream(review_id, until=as_of))
