"""The words of the procedure (spec §2, §5, §6): steps, roles, methods."""

from __future__ import annotations

from datetime import timedelta
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field


class Step(StrEnum):
    """The five steps (点评程序), in order, plus the two ends of a review."""

    INVESTIGATE = "investigate"  # 开展调查研究
    SOLICIT_OPINIONS = "solicit_opinions"  # 广泛征求意见
    REVIEW = "review"  # 具体实施点评
    NOTIFY = "notify"  # 通报点评意见
    RECTIFY = "rectify"  # 落实整改措施
    CLOSED = "closed"
    CANCELLED = "cancelled"


FIVE_STEPS: tuple[Step, ...] = (
    Step.INVESTIGATE,
    Step.SOLICIT_OPINIONS,
    Step.REVIEW,
    Step.NOTIFY,
    Step.RECTIFY,
)

STEP_NAMES_ZH = {
    Step.INVESTIGATE: "开展调查研究",
    Step.SOLICIT_OPINIONS: "广泛征求意见",
    Step.REVIEW: "具体实施点评",
    Step.NOTIFY: "通报点评意见",
    Step.RECTIFY: "落实整改措施",
    Step.CLOSED: "已完成",
    Step.CANCELLED: "已撤销",
}


def next_step(step: Step) -> Step:
    i = FIVE_STEPS.index(step)
    return FIVE_STEPS[i + 1] if i + 1 < len(FIVE_STEPS) else Step.CLOSED


class Role(StrEnum):
    REVIEWER = "reviewer"
    CO_REVIEWER = "co_reviewer"
    SUBJECT = "subject"
    SUPERVISOR = "supervisor"
    SYSTEM = "system"  # time: reminders and deadlines
    ENGINE = "engine"  # the workflow engine itself: an operator acting in Temporal, not through Pingyi


class ReviewMethod(StrEnum):
    """点评方法 (spec §5)."""

    CONCENTRATED = "concentrated"  # 集中
    INDIVIDUAL = "individual"  # 个别
    ON_SITE = "on_site"  # 现场
    RANDOM = "random"  # 随机
    THEMATIC = "thematic"  # 专题


class SubjectKind(StrEnum):
    ORGANIZATION = "organization"  # an organization together with its principal leader
    MEMBER = "member"


class StepDeadlines(BaseModel):
    """How long each step may take once it starts, and how long before a
    deadline the reminder goes out. Defaults come from settings; a review may
    override them when it is started."""

    model_config = ConfigDict(frozen=True)

    investigate: timedelta = timedelta(days=5)
    solicit_opinions: timedelta = timedelta(days=5)
    review: timedelta = timedelta(days=3)
    notify: timedelta = timedelta(days=2)
    rectify: timedelta = timedelta(days=30)
    reminder_lead: timedelta = Field(default=timedelta(days=1))

    def for_step(self, step: Step) -> timedelta:
        return getattr(self, step.value)

    def refusal(self) -> tuple[str, str] | None:
        """``(field, reason)`` for the first duration no review can run with, or
        None. A step of zero or less would be due the moment it starts (its
        reminder and deadline fire at once and nobody gets to act); a negative
        reminder lead would remind after the deadline. Checked when a review
        starts (``domain.review.start``), not by the model: events recorded
        with any value must still load."""
        for step in FIVE_STEPS:
            d = self.for_step(step)
            if d <= timedelta(0):
                return f"deadlines.{step.value}", f"the {step.value} step would last {_span(d)}: a step's duration must be longer than zero"
        if self.reminder_lead < timedelta(0):
            return "deadlines.reminder_lead", f"the reminder lead is {_span(self.reminder_lead)}: it cannot be negative"
        return None


def _span(d: timedelta) -> str:
    return "0 seconds" if not d else ("-" if d < timedelta(0) else "") + str(abs(d))
