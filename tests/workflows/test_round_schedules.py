"""A routine round's Temporal Schedule on the dev server (the time-skipping
test server does not implement schedules: CreateSchedule is unimplemented
there): created with the round's calendar, it fires (trigger now) and the
RoutineRound workflow plans the current period and launches it; firing again
in the same period launches nothing new; pause, resume, list, delete."""

from __future__ import annotations

import uuid
from datetime import datetime, timezone

import pytest
from conftest import running_worker
from test_campaign import OFFICE, _status_when, campaigns, directory_engine, starts_per_stream, until  # noqa: F401 (directory_engine: a fixture)

from activities.campaigns import period_of
from app.errors import Conflict, NotFound
from app.round_schedules import RoundSchedules, ScheduleRequest
from config.settings import Settings
from domain.campaign import Round


async def test_schedule_fires_launches_once_per_period_and_is_managed(dev_env, directory_engine, task_queue, tmp_path):
    prefix = f"hy-{uuid.uuid4().hex[:6]}"
    schedules = RoundSchedules(Settings(data_dir=tmp_path, task_queue=task_queue), dev_env.client)
    uc = campaigns(dev_env, directory_engine, task_queue, tmp_path)
    view = await schedules.create(OFFICE, ScheduleRequest(prefix=prefix, round=Round.HALF_YEARLY, unit_id="U-AF03"))
    try:
        assert view.round == "half_yearly" and view.unit_id == "U-AF03" and not view.paused
        nxt = view.next_fires[0].astimezone(timezone.utc)
        assert (nxt.month, nxt.day, nxt.hour, nxt.minute) in ((1, 1, 1, 0), (7, 1, 1, 0))
        with pytest.raises(Conflict):
            await schedules.create(OFFICE, ScheduleRequest(prefix=prefix, round=Round.HALF_YEARLY))
        assert prefix in [v.prefix for v in await schedules.list(OFFICE)]
        cid = f"{prefix}-{period_of('half_yearly', datetime.now(timezone.utc)).lower()}"
        async with running_worker(dev_env, directory_engine, task_queue):
            await schedules.trigger(OFFICE, prefix)
            await until(lambda: _launched_with(uc, cid, 4), timeout=90)
            await schedules.trigger(OFFICE, prefix)  # the same period again: nothing new
            fired = await until(lambda: _runs(schedules, prefix, 2), timeout=60)
            await until(lambda: _round_done(dev_env.client, fired[-1]), timeout=60)
        assert len(starts_per_stream(directory_engine, cid)) == 4
        assert (await schedules.pause(OFFICE, prefix, "directory being re-imported")).paused
        assert not (await schedules.resume(OFFICE, prefix)).paused
    finally:
        await schedules.delete(OFFICE, prefix)
    with pytest.raises(NotFound):
        await schedules.show(OFFICE, prefix)


async def _launched_with(uc, cid, n):
    try:
        return await _status_when(uc, cid, lambda st: st.counts.started == n)
    except NotFound:  # the round has not launched yet
        return None


async def _runs(schedules, prefix, n):
    view = await schedules.show(OFFICE, prefix)
    return view.recent_campaign_runs if len(view.recent_campaign_runs) >= n else None


async def _round_done(client, workflow_id):
    desc = await client.get_workflow_handle(workflow_id).describe()
    return desc.close_time is not None


def test_period_of_uses_the_office_calendar():
    assert period_of("half_yearly", datetime(2026, 6, 30, 17, 0, tzinfo=timezone.utc)) == "2026-H2"  # 01:00 on 1 July in Beijing
    assert period_of("half_yearly", datetime(2026, 6, 30, 15, 0, tzinfo=timezone.utc)) == "2026-H1"
    assert period_of("year_end", datetime(2026, 12, 7, 1, 0, tzinfo=timezone.utc)) == "2026-Y"
