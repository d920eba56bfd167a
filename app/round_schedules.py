"""Routine rounds on a calendar (spec §7): a Temporal Schedule per round and
scope that starts the ``RoutineRound`` workflow, which plans the period the
moment it fires in and launches that plan as campaign ``<prefix>-<period>``.
Create, list, pause, resume, trigger now, delete — the use cases behind
``reviewctl campaign schedule …``.

Default calendars, in the office's time (UTC+8, 09:00): half-yearly on 1
January and 1 July; the year-end round on 7 December (the source's round was
announced then, to finish "before the end of the year"). Temporal keeps the
schedule: it fires while no Pingyi process runs a timer, and a missed firing
is caught up within the catch-up window when the server is back.

Who may: a schedule launches rounds, so creating, pausing, resuming,
triggering and deleting one takes what launching its round takes
(``app.campaigns.campaign_rights``: a supervisor over its whole scope, or the
office); supervisors, auditors and administrators read them.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Awaitable, Callable

from pydantic import BaseModel, ConfigDict, Field, field_validator
from temporalio.client import (
    Client, Schedule, ScheduleActionStartWorkflow, ScheduleAlreadyRunningError, ScheduleOverlapPolicy, SchedulePolicy, ScheduleSpec, ScheduleState,
)
from temporalio.service import RPCError, RPCStatusCode

from activities.campaign_contracts import RoundInput
from app.errors import BadInput, Conflict, Forbidden, NotFound, Unavailable
from app.principal import Principal
from config.settings import Settings
from domain.campaign import CAMPAIGN_ID, Round
from domain.procedure import ReviewMethod
from domain.rubric import SubjectLevel
from storage.directory import DirectoryStore

# minute hour day month weekday, in UTC: 01:00 UTC is 09:00 in Beijing
DEFAULT_CRON = {Round.HALF_YEARLY: "0 1 1 1,7 *", Round.YEAR_END: "0 1 7 12 *"}
SCHEDULE_PREFIX = "pingyi-round-"
_CRON = re.compile(r"^\S+ \S+ \S+ \S+ \S+$")


class ScheduleRequest(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    prefix: str  # campaign ids become <prefix>-<period>; also the schedule's name
    round: Round
    unit_id: str | None = Field(default=None, min_length=1, max_length=64)
    levels: tuple[SubjectLevel, ...] = Field(default=(SubjectLevel.A, SubjectLevel.B, SubjectLevel.C), min_length=1)
    method: ReviewMethod = ReviewMethod.CONCENTRATED
    cron: str | None = Field(default=None, max_length=200)  # default: DEFAULT_CRON[round]
    note: str = Field(default="", max_length=500)

    @field_validator("method")
    @classmethod
    def _method(cls, v: ReviewMethod) -> ReviewMethod:
        if v in (ReviewMethod.RANDOM, ReviewMethod.THEMATIC):
            raise ValueError("a routine round is concentrated, individual or on_site: a random or thematic round is planned on its own ('campaign plan')")
        return v

    @field_validator("prefix")
    @classmethod
    def _prefix(cls, v: str) -> str:
        if not CAMPAIGN_ID.match(v) or len(v) > 38:
            raise ValueError("lower-case letters, digits and '-', at most 38 (the period is added)")
        return v

    @field_validator("cron")
    @classmethod
    def _cron(cls, v: str | None) -> str | None:
        if v is not None and not _CRON.match(v.strip()):
            raise ValueError("five fields: minute hour day month weekday (UTC)")
        return v.strip() if v else v


class ScheduleView(BaseModel):
    schedule_id: str
    prefix: str
    round: str
    unit_id: str | None
    cron: list[str]
    paused: bool
    note: str
    next_fires: list[datetime]
    recent_campaign_runs: list[str]  # workflow ids of its latest firings


def schedule_id_of(prefix: str) -> str:
    return f"{SCHEDULE_PREFIX}{prefix}"


class RoundSchedules:
    """``client`` or ``connect`` as in :class:`app.campaigns.Campaigns`;
    ``directory``: to check a supervisor's grant against a schedule's scope
    (without it only the office may change schedules)."""

    def __init__(self, settings: Settings, client: Client | None = None, *, connect: Callable[[], Awaitable[Client]] | None = None,
                 directory: DirectoryStore | None = None) -> None:
        self.settings, self._client, self._connect, self.directory = settings, client, connect, directory

    @classmethod
    def of(cls, ctx) -> "RoundSchedules":
        """Over an application context: its long-lived Temporal client (Unavailable when the server does not answer)."""
        return cls(ctx.settings, connect=ctx.temporal, directory=ctx.directory)

    async def client(self) -> Client:
        if self._client is None:
            if self._connect is None:
                raise Unavailable("no Temporal client in this context", message_zh="未连接 Temporal")
            self._client = await self._connect()
        return self._client

    async def create(self, principal: Principal, req: ScheduleRequest) -> ScheduleView:
        self._require_rights(principal, req.unit_id)
        if req.unit_id is not None and self.directory is not None and self.directory.unit(req.unit_id) is None:
            raise NotFound(f"no unit {req.unit_id!r} in the directory", field="unit_id", message_zh=f"目录中没有单位 {req.unit_id!r}")
        cron = req.cron or DEFAULT_CRON[req.round]
        inp = RoundInput(round=req.round.value, prefix=req.prefix, unit_id=req.unit_id, levels=[lv.value for lv in req.levels], method=req.method.value)
        schedule = Schedule(
            action=ScheduleActionStartWorkflow("RoutineRound", inp, id=f"round-{req.prefix}", task_queue=self.settings.task_queue),
            spec=ScheduleSpec(cron_expressions=[cron]),
            policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP, catchup_window=timedelta(days=7)),
            state=ScheduleState(note=req.note or f"{req.round.value} round over {req.unit_id or 'the whole organization'}"),
        )
        client = await self.client()
        try:
            await client.create_schedule(schedule_id_of(req.prefix), schedule, memo={"round": req.round.value, "unit_id": req.unit_id or "", "levels": ",".join(inp.levels), "cron": cron})
        except ScheduleAlreadyRunningError:
            raise Conflict(f"a schedule named {req.prefix} exists already", field="prefix", message_zh=f"已有名为 {req.prefix} 的计划") from None
        except RPCError as e:
            if e.status is RPCStatusCode.INVALID_ARGUMENT:  # the server's own reading of the calendar
                raise BadInput(f"Temporal refused the calendar: {e.message}", field="cron", message_zh="Temporal 不接受该日程表达式") from None
            raise Unavailable(f"Temporal did not take the schedule: {e.message}") from None
        return await self.show(principal, req.prefix)

    async def show(self, principal: Principal, prefix: str) -> ScheduleView:
        _require_reader(self.settings, principal)
        handle = (await self.client()).get_schedule_handle(schedule_id_of(prefix))
        try:
            d = await handle.describe()
        except RPCError as e:
            if e.status is RPCStatusCode.NOT_FOUND:
                raise NotFound(f"no schedule {prefix}", field="prefix", message_zh=f"没有计划 {prefix}") from None
            raise Unavailable(f"Temporal did not answer: {e.message}") from None
        memo = await d.memo()
        info = d.info
        return ScheduleView(
            schedule_id=d.id, prefix=prefix, round=str(memo.get("round", "")), unit_id=str(memo.get("unit_id") or "") or None, cron=[str(memo["cron"])] if memo.get("cron") else list(d.schedule.spec.cron_expressions),  # the server keeps a cron as calendars
            paused=d.schedule.state.paused, note=d.schedule.state.note or "", next_fires=list(info.next_action_times[:3]),
            recent_campaign_runs=[a.action.workflow_id for a in info.recent_actions if hasattr(a.action, "workflow_id")],
        )

    async def list(self, principal: Principal) -> list[ScheduleView]:
        _require_reader(self.settings, principal)
        out: list[ScheduleView] = []
        try:
            async for entry in await (await self.client()).list_schedules():
                if entry.id.startswith(SCHEDULE_PREFIX):
                    try:
                        out.append(await self.show(principal, entry.id.removeprefix(SCHEDULE_PREFIX)))
                    except NotFound:
                        continue  # deleted since the listing (visibility lags)
        except RPCError as e:
            raise Unavailable(f"Temporal did not answer: {e.message}") from None
        return sorted(out, key=lambda v: v.prefix)

    async def pause(self, principal: Principal, prefix: str, note: str | None = None) -> ScheduleView:
        handle = await self._changing(principal, prefix)
        await _answered(handle.pause(note=note or "paused"))
        return await self.show(principal, prefix)

    async def resume(self, principal: Principal, prefix: str, note: str | None = None) -> ScheduleView:
        handle = await self._changing(principal, prefix)
        await _answered(handle.unpause(note=note or "resumed"))
        return await self.show(principal, prefix)

    async def trigger(self, principal: Principal, prefix: str) -> ScheduleView:
        """Fire now: plan the current period and launch it (once per period)."""
        handle = await self._changing(principal, prefix)
        await _answered(handle.trigger(overlap=ScheduleOverlapPolicy.ALLOW_ALL))
        return await self.show(principal, prefix)

    async def delete(self, principal: Principal, prefix: str) -> None:
        """Remove the schedule; campaigns it launched go on."""
        handle = await self._changing(principal, prefix)
        await _answered(handle.delete())

    async def _changing(self, principal: Principal, prefix: str):
        """The schedule's handle, once the principal may change it (they
        must be able to read it first: readers learn it exists)."""
        view = await self.show(principal, prefix)
        self._require_rights(principal, view.unit_id)
        return (await self.client()).get_schedule_handle(schedule_id_of(prefix))

    def _require_rights(self, principal: Principal, unit_id: str | None) -> None:
        from app.access import is_office
        from app.campaigns import campaign_rights

        if is_office(self.settings, principal):
            return
        if self.directory is None:
            raise Forbidden("only the office may change round schedules here", field="principal", message_zh="只有办公室可以管理例行点评计划")
        campaign_rights(self.settings, self.directory, principal, unit_id)


async def _answered(call) -> None:
    try:
        await call
    except RPCError as e:
        if e.status is RPCStatusCode.NOT_FOUND:
            raise NotFound("the schedule was deleted meanwhile", field="prefix", message_zh="该计划已被删除") from None
        raise Unavailable(f"Temporal did not answer: {e.message}") from None


def _require_reader(settings: Settings, principal: Principal) -> None:
    from app.access import is_office

    if not (principal.administrator or principal.auditor or principal.supervisor_scopes or is_office(settings, principal)):
        raise Forbidden("only a supervisor, an auditor or an administrator may read round schedules", field="principal")


# ---- the use cases one at a time (ctx, principal, input): what reviewctl and the API call --------


class ScheduleRef(BaseModel):
    model_config = ConfigDict(frozen=True)

    prefix: str = Field(min_length=1, max_length=64)


class ScheduleNote(ScheduleRef):
    note: str | None = Field(default=None, max_length=500)


class ScheduleList(BaseModel):
    """Every round schedule, by name (the API answers them a page at a time)."""

    schedules: list[ScheduleView]


class Deleted(BaseModel):
    prefix: str
    deleted: bool


async def create_schedule(ctx, principal: Principal, req: ScheduleRequest) -> ScheduleView:
    return await RoundSchedules.of(ctx).create(principal, req)


async def list_schedules(ctx, principal: Principal) -> ScheduleList:
    return ScheduleList(schedules=await RoundSchedules.of(ctx).list(principal))


async def pause_schedule(ctx, principal: Principal, inp: ScheduleNote) -> ScheduleView:
    return await RoundSchedules.of(ctx).pause(principal, inp.prefix, inp.note)


async def resume_schedule(ctx, principal: Principal, inp: ScheduleNote) -> ScheduleView:
    return await RoundSchedules.of(ctx).resume(principal, inp.prefix, inp.note)


async def trigger_schedule(ctx, principal: Principal, inp: ScheduleRef) -> ScheduleView:
    return await RoundSchedules.of(ctx).trigger(principal, inp.prefix)


async def delete_schedule(ctx, principal: Principal, inp: ScheduleRef) -> Deleted:
    await RoundSchedules.of(ctx).delete(principal, inp.prefix)
    return Deleted(prefix=inp.prefix, deleted=True)


__all__ = ["RoundSchedules", "ScheduleRequest", "ScheduleView", "ScheduleRef", "ScheduleNote", "ScheduleList", "Deleted", "create_schedule", "list_schedules",
           "pause_schedule", "resume_schedule", "trigger_schedule", "delete_schedule", "DEFAULT_CRON", "schedule_id_of"]
