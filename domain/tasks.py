"""What each person must do now on one review: the task list's rule, derived
from the review's state and the one declaration of commands. Pure, so the
projection that keeps task inboxes and any reader of a single review give the
same answer."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict

from domain.commands import COMMANDS
from domain.procedure import STEP_NAMES_ZH, Role, Step
from domain.review import ReviewState, subject_person_ids, who_must_act


class OpenTask(BaseModel):
    model_config = ConfigDict(frozen=True)

    person_id: str
    role: Role
    step: Step
    due_at: datetime | None
    overdue: bool
    actions: tuple[str, ...]  # the command kinds this person may send now
    why: str  # why this person: their role, and the directory's explanation of the assignment


_WHY = {
    Role.REVIEWER: ("reviewer", "点评人"),
    Role.CO_REVIEWER: ("co-reviewer", "协助点评人"),
    Role.SUBJECT: ("the subject", "被点评对象"),
}


WHY_SEPARATOR = "; "  # between the role and step, and the directory's explanation


def explanation_in(why: str) -> str | None:
    """The directory's explanation a task's ``why`` carries (none for the
    subject's own tasks), as the review recorded it."""
    _, _, explanation = why.partition(WHY_SEPARATOR)
    return explanation or None


def _actions(state: ReviewState, role: Role) -> tuple[str, ...]:
    kinds = []
    for kind, d in COMMANDS.items():
        if d.by_workflow or role not in d.roles or (d.steps is not None and state.step not in d.steps):
            continue
        kinds.append(kind)
    if state.step is Step.RECTIFY:  # the plan's state narrows the rectification step's commands
        plan = state.plan_status
        if role is Role.SUBJECT:
            if plan in ("awaiting", "returned"):
                kinds = [k for k in kinds if k == "submit_rectification_plan"]
            else:
                kinds = [k for k in kinds if k in ("report_progress", "report_back")]
        elif role is Role.REVIEWER:
            if plan == "submitted":
                kinds = [k for k in kinds if k in ("accept_rectification_plan", "return_rectification_plan")]
            else:
                kinds = [k for k in kinds if k == "evaluate_report_back"]
    return tuple(kinds)


def open_tasks(state: ReviewState) -> list[OpenTask]:
    """One task per person who must act on the review's current step (none once it ended)."""
    spec = state.spec
    if spec is None or state.step is None or state.finished:
        return []
    subjects = subject_person_ids(spec)
    out: list[OpenTask] = []
    for pid in who_must_act(state):
        role = Role.SUBJECT if pid in subjects else Role.REVIEWER if pid == spec.reviewer_id else Role.CO_REVIEWER
        en, zh = _WHY[role]
        why = f"you are the {en} ({zh}) of {spec.subject.subject_id}, step {STEP_NAMES_ZH[state.step]} ({state.step.value})"
        if spec.explanation and role is not Role.SUBJECT:
            why += f"{WHY_SEPARATOR}{spec.explanation}"
        out.append(OpenTask(person_id=pid, role=role, step=state.step, due_at=state.current_due(), overdue=state.is_overdue(), actions=_actions(state, role), why=why))
    return out
