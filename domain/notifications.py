"""Who is told what when a fact is recorded: task prompts to reviewers, the
review to the subject, reminders, escalations to supervisors. Pure, so the
messages are derived from events in the same transaction that stores them
(a transactional outbox): a retried append never sends twice or loses one."""

from __future__ import annotations

from datetime import tzinfo

from pydantic import BaseModel, ConfigDict

from domain import events as e
from domain.local_time import DEFAULT_TZ, local_text
from domain.procedure import STEP_NAMES_ZH, Step
from domain.review import ReviewState, subject_person_ids


class Notification(BaseModel):
    model_config = ConfigDict(frozen=True)

    recipient_id: str
    kind: str  # task_prompt | reminder | overdue | review_circulated | plan_returned | ...
    subject: str
    body: str


def _step(step: Step) -> str:
    return f"{STEP_NAMES_ZH[step]} ({step.value})"


def notifications_for(state: ReviewState, event: e.DomainEvent, tz: tzinfo | None = None) -> list[Notification]:
    """Messages caused by ``event``, given the state just after it. Times are
    written in ``tz`` (the organization's zone, default Asia/Shanghai) with the
    zone named, as people read them."""
    tz = tz or DEFAULT_TZ
    spec = state.spec
    if spec is None:
        return []
    rid = spec.review_id
    subject_people = sorted(subject_person_ids(spec))
    out: list[Notification] = []

    def to(people, kind: str, subject: str, body: str) -> None:
        out.extend(Notification(recipient_id=p, kind=kind, subject=subject, body=body) for p in people)

    match event:
        case e.StepStarted(step=step, due_at=due):
            people = subject_people if step is Step.RECTIFY else [spec.reviewer_id]
            to(people, "task_prompt", f"[{rid}] 请开始: {_step(step)}", f"Review {rid}: step {step.value} is open until {local_text(due, tz)}.")
        case e.ReminderSent(step=step, due_at=due, recipient_ids=ids):
            to(ids, "reminder", f"[{rid}] 提醒: {_step(step)} 将于 {local_text(due, tz)} 截止", f"Review {rid}: step {step.value} is due {local_text(due, tz)}.")
        case e.DeadlinePassed(step=step, due_at=due, notified_ids=ids):
            to(ids, "overdue", f"[{rid}] 逾期: {_step(step)}", f"Review {rid}: step {step.value} passed its deadline {local_text(due, tz)}; reviewer {spec.reviewer_id}.")
        case e.ReviewSubmitted():
            to(subject_people, "review_delivered", f"[{rid}] 点评意见已送达", f"Review {rid}: {len(event.problems)} problems to rectify.")
        case e.RectificationPlanSubmitted():
            to([spec.reviewer_id], "plan_submitted", f"[{rid}] 整改方案待审核", f"Review {rid}: rectification plan v{event.plan_version} awaits your decision.")
        case e.RectificationPlanReturned():
            to(subject_people, "plan_returned", f"[{rid}] 整改方案被退回", f"Review {rid}: plan v{event.plan_version} returned: {event.reason}")
        case e.ReportedBack():
            to([spec.reviewer_id], "report_back_submitted", f"[{rid}] 整改情况已报告", f"Review {rid}: the report-back awaits your evaluation.")
        case e.ReportBackEvaluated(outcome="needs_more_work"):
            to(subject_people, "report_back_returned", f"[{rid}] 整改需继续", f"Review {rid}: {event.comments}")
        case e.ReviewerReassigned(reviewer_id=new):
            to([new], "task_prompt", f"[{rid}] 您被指定为点评人", f"Review {rid}: you now review this subject ({event.reason}).")
        case e.CoReviewerAdded(co_reviewer_id=cid):
            to([cid], "task_prompt", f"[{rid}] 您被指定为协助点评人", f"Review {rid}: you assist in this review ({event.reason}).")
        case e.ReviewCancelled():
            to(sorted({spec.reviewer_id, *subject_people}), "cancelled", f"[{rid}] 点评已撤销", f"Review {rid} was cancelled: {event.reason}")
        case _:
            pass
    return out
