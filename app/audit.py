"""The auditor's use cases on one review: its timeline, its state as of a
moment (both rebuilt from the log with the domain's fold), and the
cross-check of the log against the workflow's own history. A person with a
role on the review may read its timeline and state; cross-checking, which
reads the engine's histories, is the auditor's (and the office's).

The log-wide tools (verify, checkpoint, export) stay with ``reviewctl audit``
over ``storage``: they read no review for a person and take files."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from app.access import not_found, require_read
from app.context import AppContext
from app.engine import engine_call
from app.errors import Forbidden
from app.principal import Principal
from domain.review import ReviewState, fold
from service.crosscheck import CrossCheckReport
from storage.timeline import TimelineEntry


class TimelineInput(BaseModel):
    review_id: str = Field(min_length=1, max_length=200)
    lang: Literal["zh", "en"] = "zh"


class Timeline(BaseModel):
    review_id: str
    entries: list[TimelineEntry]


async def review_timeline(ctx: AppContext, principal: Principal, inp: TimelineInput) -> Timeline:
    from storage.timeline import timeline

    entries = timeline(ctx.events, inp.review_id, inp.lang)
    if not entries:
        raise not_found(inp.review_id)
    require_read(ctx.directory, principal, inp.review_id, _state(ctx, inp.review_id))
    return Timeline(review_id=inp.review_id, entries=entries)


class StateAsOfInput(BaseModel):
    review_id: str = Field(min_length=1, max_length=200)
    as_of: datetime | None = None  # workflow time; None: now


async def state_as_of(ctx: AppContext, principal: Principal, inp: StateAsOfInput) -> ReviewState:
    from storage.timeline import state_as_of as build

    state = build(ctx.events, inp.review_id, inp.as_of)
    if state.version == 0:
        if inp.as_of is not None and ctx.events.stream_version(inp.review_id) > 0:
            require_read(ctx.directory, principal, inp.review_id, _state(ctx, inp.review_id))
            return state
        raise not_found(inp.review_id)
    require_read(ctx.directory, principal, inp.review_id, _state(ctx, inp.review_id))
    return state


def _state(ctx: AppContext, review_id: str) -> ReviewState:
    from domain.events import from_record

    return fold(from_record(r) for r in ctx.events.read_stream(review_id))


def _require_auditor(ctx: AppContext, principal: Principal) -> None:
    if principal.auditor or (principal.person_id is not None and principal.person_id in ctx.settings.supervisor_ids):
        return
    raise Forbidden("cross-checking reads the engine's histories: auditors only", field=None, message_zh="仅审计人员可以交叉核对")


class CrossCheckInput(BaseModel):
    review_id: str = Field(min_length=1, max_length=200)


async def cross_check(ctx: AppContext, principal: Principal, inp: CrossCheckInput) -> CrossCheckReport:
    from service.crosscheck import cross_check as check

    _require_auditor(ctx, principal)
    client = await ctx.temporal()
    async with engine_call(ctx, inp.review_id):
        return await check(client, ctx.events, inp.review_id)


class CrossCheckAll(BaseModel):
    reports: list[CrossCheckReport]

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.reports)


async def cross_check_all(ctx: AppContext, principal: Principal, inp: BaseModel | None = None) -> CrossCheckAll:
    from service.crosscheck import cross_check_all as check_all

    _require_auditor(ctx, principal)
    client = await ctx.temporal()
    async with engine_call(ctx, "*"):
        return CrossCheckAll(reports=await check_all(client, ctx.events, ctx.settings.task_queue))
