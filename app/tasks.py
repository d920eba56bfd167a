"""The reviewer's task list ("my work"): every open review in which the
principal must act now, overdue first, then the soonest due, with the subject,
the step, the deadline and why this person reviews it (the directory's
explanation recorded when the review started).

Candidates come from the engine's visibility store (the reviewer search
attribute, running reviews only), so the list never asks thousands of
workflows; each candidate's state is then folded from the event log to tell
whether the reviewer is the one who must act (in step 5 the subject acts until
a plan or a report-back waits for the reviewer)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from app.access import require_signed_in_person
from app.context import AppContext
from app.engine import engine_call
from app.principal import Principal
from domain.review import who_must_act
from workflows import search_attributes as sa

MAX_TASKS = 500


class MyTasksInput(BaseModel):
    limit: int = Field(default=200, ge=1, le=MAX_TASKS)


class Task(BaseModel):
    review_id: str
    subject_id: str
    subject_name: str | None = None
    step: str
    role: str
    due_at: datetime | None
    overdue: bool
    why: str | None = None


class MyTasks(BaseModel):
    person_id: str
    tasks: list[Task]


def _quoted(v: str) -> str:
    return "'" + v.replace("\\", "\\\\").replace("'", "\\'") + "'"


async def my_tasks(ctx: AppContext, principal: Principal, inp: MyTasksInput | None = None) -> MyTasks:
    from app.reviews import state_from_log

    inp = inp or MyTasksInput()
    person = require_signed_in_person(principal)
    client = await ctx.temporal()
    query = f"{sa.REVIEWER.name} = {_quoted(person)} AND ExecutionStatus = 'Running'"
    ids: list[str] = []
    async with engine_call(ctx, person):
        async for wf in client.list_workflows(query, limit=inp.limit):
            ids.append(wf.id)
    tasks: list[Task] = []
    for rid in ids:
        state = state_from_log(ctx, rid)
        if state.spec is None or state.finished or person not in who_must_act(state):
            continue
        spec = state.spec
        tasks.append(Task(
            review_id=rid, subject_id=spec.subject.subject_id, subject_name=spec.subject.display_name, step=state.step.value,
            role="reviewer" if person == spec.reviewer_id else "co_reviewer", due_at=state.current_due(), overdue=state.is_overdue(),
            why=spec.explanation,
        ))
    far = datetime.max.replace(tzinfo=None)
    tasks.sort(key=lambda t: (not t.overdue, (t.due_at.replace(tzinfo=None) if t.due_at else far), t.review_id))
    return MyTasks(person_id=person, tasks=tasks)
