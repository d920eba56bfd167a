"""The task list: what must I do now, on which review, for whom, by when, and
why me (the role, and the directory's explanation recorded when the review
started). Served from the task-inbox projection (``app.projections``), caught
up with the log before it is read, so it never asks thousands of workflows;
who must act comes from the domain (``domain.tasks.open_tasks``: in step 5 the
subject acts until a plan or a report-back waits for the reviewer).

Two shapes of the same rows: ``task_inbox`` (soonest first, cursor pages: the
CLI and the API) and ``my_tasks`` (overdue first, one list: the pages)."""

from __future__ import annotations

import json
from datetime import datetime

from pydantic import BaseModel, Field
from sqlalchemy import and_, or_, select

from app.access import require_signed_in_person
from app.context import AppContext
from app.cursor import Page, after_of, encode_cursor
from app.errors import BadInput, Forbidden
from app.principal import Principal
from app.projections.schema import review_summaries, review_tasks
from domain.assignment import Explanation
from domain.tasks import explanation_in

MAX_TASKS = 500


class InboxInput(BaseModel):
    # whose inbox; default the principal's own (an auditor may read anyone's)
    person_id: str | None = None
    limit: int = Field(default=50, ge=1, le=MAX_TASKS)
    cursor: str | None = None


class InboxTask(BaseModel):
    review_id: str
    campaign_id: str
    subject_id: str  # for whom
    subject_name: str | None = None
    unit_id: str
    role: str
    step: str
    due_at: datetime  # by when (UTC; adapters show it in local time)
    overdue: bool
    actions: list[str]  # what: the command kinds this person may send now
    why: str  # why me


class InboxPage(Page[InboxTask]):
    """Soonest deadline first."""

    person_id: str


def _key(t: InboxTask) -> str:
    return json.dumps([t.due_at.isoformat(), t.review_id])


def _after(cursor: str | None) -> tuple[datetime, str] | None:
    key = after_of(cursor)
    if key is None:
        return None
    try:
        due, rid = json.loads(key)
        return datetime.fromisoformat(due), str(rid)
    except (ValueError, TypeError):
        raise BadInput("not a cursor this list returned", field="cursor", message_zh="无效的分页游标") from None


def _whose(principal: Principal, person_id: str | None) -> str:
    if person_id is None:
        return require_signed_in_person(principal)
    if person_id != principal.person_id and not principal.auditor:
        raise Forbidden("you read your own task list only", field="person_id", message_zh="只能查看自己的待办")
    return person_id


def _rows(ctx: AppContext, person: str, *, after: tuple[datetime, str] | None, limit: int, overdue_first: bool = False) -> list[InboxTask]:
    t, s = review_tasks, review_summaries
    order = (t.c.overdue.desc(), t.c.due_at, t.c.review_id) if overdue_first else (t.c.due_at, t.c.review_id)
    q = (select(t.c.review_id, s.c.campaign_id, s.c.subject_id, s.c.subject_name, s.c.unit_id, t.c.role, t.c.step, t.c.due_at, t.c.overdue, t.c.actions, t.c.why)
         .join(s, s.c.review_id == t.c.review_id)
         .where(t.c.person_id == person)
         .order_by(*order)
         .limit(limit))
    if after is not None:
        q = q.where(or_(t.c.due_at > after[0], and_(t.c.due_at == after[0], t.c.review_id > after[1])))
    with ctx.read() as conn:
        rows = conn.execute(q).all()
    return [InboxTask(review_id=r[0], campaign_id=r[1], subject_id=r[2], subject_name=r[3], unit_id=r[4], role=r[5], step=r[6], due_at=r[7],
                      overdue=r[8], actions=json.loads(r[9]), why=r[10]) for r in rows]


async def task_inbox(ctx: AppContext, principal: Principal, inp: InboxInput) -> InboxPage:
    person = _whose(principal, inp.person_id)
    await ctx.catch_up()
    tasks = _rows(ctx, person, after=_after(inp.cursor), limit=inp.limit + 1)
    items = tasks[: inp.limit]
    return InboxPage(person_id=person, items=items, next_cursor=encode_cursor(_key(items[-1])) if len(tasks) > inp.limit and items else None)


# ---- the pages' shape ------------------------------------------------------


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
    # the directory's explanation in both languages, for a page to show its reader's
    # (none for the subject's own tasks)
    explanation: Explanation | None = None
    actions: list[str] = Field(default_factory=list)


class MyTasks(BaseModel):
    person_id: str
    tasks: list[Task]


async def my_tasks(ctx: AppContext, principal: Principal, inp: MyTasksInput | None = None) -> MyTasks:
    """The principal's open tasks, overdue first, then the soonest due."""
    inp = inp or MyTasksInput()
    person = require_signed_in_person(principal)
    await ctx.catch_up()
    rows = _rows(ctx, person, after=None, limit=inp.limit, overdue_first=True)
    return MyTasks(person_id=person, tasks=[Task(review_id=r.review_id, subject_id=r.subject_id, subject_name=r.subject_name, step=r.step, role=r.role,
                                                 due_at=r.due_at, overdue=r.overdue, why=r.why, explanation=_explanation(r.why), actions=r.actions) for r in rows])


def _explanation(why: str) -> Explanation | None:
    text = explanation_in(why)
    return Explanation.of_text(text) if text else None


# ---- the subject's side ----------------------------------------------------


class ReviewsOfMe(BaseModel):
    person_id: str
    reviews: list  # app.overview.ReviewSummary, newest first
    asked: dict[str, list[str]]  # review id -> what the subject may do there now


async def reviews_of_me(ctx: AppContext, principal: Principal) -> ReviewsOfMe:
    """Every review of which the person is the subject (or acts for it), and
    what each asks of them now (from the task inbox)."""
    from app.overview import load_summaries
    from app.projections.schema import review_people

    person = require_signed_in_person(principal)
    await ctx.catch_up()
    with ctx.read() as conn:
        ids = [r[0] for r in conn.execute(select(review_people.c.review_id).where(review_people.c.person_id == person, review_people.c.role == "subject"))]
        asked = {r[0]: json.loads(r[1]) for r in conn.execute(select(review_tasks.c.review_id, review_tasks.c.actions).where(review_tasks.c.person_id == person))}
    rows = sorted(load_summaries(ctx, review_ids=ids), key=lambda r: r.started_at, reverse=True) if ids else []
    return ReviewsOfMe(person_id=person, reviews=rows, asked={k: v for k, v in asked.items() if k in set(ids)})
