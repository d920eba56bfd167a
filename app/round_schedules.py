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
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from pydantic import BaseModel, ConfigDict, Field, field_validator
from temporalio.client import (
    Client, Schedule, ScheduleActionStartWorkflow, ScheduleAlreadyRunningError, ScheduleOverlapPolicy, SchedulePolicy, ScheduleSpec, ScheduleState,
)
from temporalio.service import RPCError, RPCStatusCode

from activities.campaign_contracts import RoundInput
from app.errors import Conflict, Forbidden, NotFound, Unavailable
from app.principal import Principal
from config.settings import Settings
from domain.campaign import CAMPAIGN_ID, Round

# minute hour day month weekday, in UTC: 01:00 UTC is 09:00 in Beijing
DEFAULT_CRON = {Round.HALF_YEARLY: "0 1 1 1,7 *", Round.YEAR_END: "0 1 7 12 *"}
SCHEDULE_PREFIX = "pingyi-round-"
_CRON = re.compile(r"^\S+ \S+ \S+ \S+ \S+$")


class ScheduleRequest(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    prefix: str  # campaign ids become <prefix>-<period>; also the schedule's name
    round: Round
    unit_id: str | None = None
    levels: tuple[str, ...] = ("A", "B", "C")
    method: str = "concentrated"
    cron: str | None = None  # default: DEFAULT_CRON[round]
    note: str = Field(default="", max_length=500)

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
    def __init__(self, settings: Settings, client: Client) -> None:
        self.settings, self.client = settings, client

    @classmethod
    def of(cls, ctx) -> "RoundSchedules":
        return cls(ctx.settings, ctx.client)

    async def create(self, principal: Principal, req: ScheduleRequest) -> ScheduleView:
        _require_admin(principal)
        cron = req.cron or DEFAULT_CRON[req.round]
        inp = RoundInput(round=req.round.value, prefix=req.prefix, unit_id=req.unit_id, levels=list(req.levels), method=req.method)
        schedule = Schedule(
            action=ScheduleActionStartWorkflow("RoutineRound", inp, id=f"round-{req.prefix}", task_queue=self.settings.task_queue),
            spec=ScheduleSpec(cron_expressions=[cron]),
            policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP, catchup_window=timedelta(days=7)),
            state=ScheduleState(note=req.note or f"{req.round.value} round over {req.unit_id or 'the whole organization'}"),
        )
        try:
            await self.client.create_schedule(schedule_id_of(req.prefix), schedule, memo={"round": req.round.value, "unit_id": req.unit_id or "", "levels": ",".join(req.levels)})
        except ScheduleAlreadyRunningError:
            raise Conflict(f"a schedule named {req.prefix} exists already", field="prefix", message_zh=f"已有名为 {req.prefix} 的计划") from None
        except RPCError as e:
            raise Unavailable(f"Temporal did not take the schedule: {e.message}") from None
        return await self.show(principal, req.prefix)

    async def show(self, principal: Principal, prefix: str) -> ScheduleView:
        _require_reader(principal)
        handle = self.client.get_schedule_handle(schedule_id_of(prefix))
        try:
            d = await handle.describe()
        except RPCError as e:
            if e.status is RPCStatusCode.NOT_FOUND:
                raise NotFound(f"no schedule {prefix}", field="prefix", message_zh=f"没有计划 {prefix}") from None
            raise Unavailable(f"Temporal did not answer: {e.message}") from None
        memo = await d.memo()
        info = d.info
        return ScheduleView(
            schedule_id=d.id, prefix=prefix, round=str(memo.get("round", "")), unit_id=str(memo.get("unit_id") or "") or None, cron=list(d.schedule.spec.cron_expressions),
            paused=d.schedule.state.paused, note=d.schedule.state.note or "", next_fires=list(info.next_action_times[:3]),
            recent_campaign_runs=[a.action.workflow_id for a in info.recent_actions if hasattr(a.action, "workflow_id")],
        )

    async def list(self, principal: Principal) -> list[ScheduleView]:
        _require_reader(principal)
        out: list[ScheduleView] = []
        async for entry in await self.client.list_schedules():
            if entry.id.startswith(SCHEDULE_PREFIX):
                out.append(await self.show(principal, entry.id.removeprefix(SCHEDULE_PREFIX)))
        return sorted(out, key=lambda v: v.prefix)

    async def pause(self, principal: Principal, prefix: str, note: str | None = None) -> ScheduleView:
        _require_admin(principal)
        await self.show(principal, prefix)
        await self.client.get_schedule_handle(schedule_id_of(prefix)).pause(note=note or "paused")
        return await self.show(principal, prefix)

    async def resume(self, principal: Principal, prefix: str, note: str | None = None) -> ScheduleView:
        _require_admin(principal)
        await self.show(principal, prefix)
        await self.client.get_schedule_handle(schedule_id_of(prefix)).unpause(note=note or "resumed")
        return await self.show(principal, prefix)

    async def trigger(self, principal: Principal, prefix: str) -> ScheduleView:
        """Fire now: plan the current period and launch it (once per period)."""
        _require_admin(principal)
        await self.show(principal, prefix)
        await self.client.get_schedule_handle(schedule_id_of(prefix)).trigger(overlap=ScheduleOverlapPolicy.ALLOW_ALL)
        return await self.show(principal, prefix)

    async def delete(self, principal: Principal, prefix: str) -> None:
        """Remove the schedule; campaigns it launched go on."""
        _require_admin(principal)
        await self.show(principal, prefix)
        await self.client.get_schedule_handle(schedule_id_of(prefix)).delete()


def _require_admin(principal: Principal) -> None:
    if not principal.administrator:
        raise Forbidden("only an administrator may change round schedules", field="principal", message_zh="只有管理员可以管理例行点评计划")


def _require_reader(principal: Principal) -> None:
    if not (principal.administrator or principal.auditor or principal.supervisor_scopes):
        raise Forbidden("only a supervisor, an auditor or an administrator may read round schedules", field="principal")


__all__ = ["RoundSchedules", "ScheduleRequest", "ScheduleView", "DEFAULT_CRON", "schedule_id_of"]
