"""Campaigns through HTTP against the session's Temporal dev server and a
worker: the dry run and the launch of exactly that plan, status, pause,
resume and cancel by a supervisor whose grant covers the scope (each review
cancelled in its own log with that supervisor as the actor), the auditor's
redraw, the coverage ledger (JSON pages and CSV), the routine rounds'
schedules; bad input names the field; a Temporal that does not answer is 503."""

from __future__ import annotations

import asyncio
import uuid

from api_support import person, token
from test_auth import assert_error

from domain.accounts import StandingRole

BRANCH = "U-AF01-B01"  # the branch organization and its 8 people
SUPERVISOR, AUDITOR, REVIEWER = "P-000001", "P-000003", "P-000368"
PERIOD = "2026-H2"


def people(live) -> dict[str, dict]:
    """Bearer headers of a supervisor of U-AF01, another of U-AF02, an auditor and a reviewer."""
    acc = live.accounts
    out = {}
    for who, pid, grants in (("supervisor", SUPERVISOR, ((StandingRole.SUPERVISOR, "U-AF01"),)), ("elsewhere", "P-000002", ((StandingRole.SUPERVISOR, "U-AF02"),)),
                             ("auditor", AUDITOR, ((StandingRole.AUDITOR, None),)), ("reviewer", REVIEWER, ())):
        person(acc, pid, *grants)
        out[who] = {"Authorization": f"Bearer {token(acc, pid)}"}
    return out


def spec(cid: str, **kw) -> dict:
    return {"campaign_id": cid, "period": PERIOD, "round": "year_end", "method": "concentrated", "scope": {"unit_id": BRANCH}, **kw}


async def until(check, timeout: float = 60):
    for _ in range(int(timeout * 10)):
        got = await check()
        if got:
            return got
        await asyncio.sleep(0.1)
    raise AssertionError("condition not met in time")


async def planned_and_launched(c, h, body: dict, batch_size: int = 200) -> dict:
    plan = await c.post("/api/v1/campaigns/plans", json=body, headers=h)
    assert plan.status_code == 200, plan.text
    launched = await c.post("/api/v1/campaigns", json={**body, "plan_id": plan.json()["plan_id"], "batch_size": batch_size}, headers=h)
    assert launched.status_code == 201, launched.text
    return plan.json()


async def test_plan_launch_once_and_status(live):
    h = people(live)
    cid = f"api-{uuid.uuid4().hex[:8]}"
    async with live.client() as c:
        plan = (await c.post("/api/v1/campaigns/plans", json=spec(cid), headers=h["supervisor"])).json()
        assert plan["planned"] == 9 and plan["gaps"] == [] and plan["spec"]["deadlines"]["rectify"] == "P30D"
        body = {**spec(cid), "plan_id": plan["plan_id"]}
        first = await c.post("/api/v1/campaigns", json=body, headers=h["supervisor"])
        assert first.status_code == 201 and first.json()["planned"] == 9 and not first.json()["already_launched"], first.text
        again = await c.post("/api/v1/campaigns", json=body, headers=h["supervisor"])
        assert again.status_code == 200 and again.json()["already_launched"]
        assert_error(await c.post("/api/v1/campaigns", json={**body, "plan_id": "0" * 32}, headers=h["supervisor"]), 409, "conflict", "plan_id")

        async def started():
            st = await c.get(f"/api/v1/campaigns/{cid}", headers=h["auditor"])
            assert st.status_code == 200, st.text
            return st.json() if st.json()["counts"]["started"] == 9 else None

        st = await until(started)
        assert st["plan_id"] == plan["plan_id"] and st["progress"]["planned"] == 9
        launched = [r for r in live.ctx.events.read_stream(f"campaign-{cid}") if r.event_type == "campaign.launched"]
        assert [r.actor_id for r in launched] == [SUPERVISOR]


async def test_campaign_input_and_rights_are_checked(live):
    h = people(live)
    cid = f"api-{uuid.uuid4().hex[:8]}"
    async with live.client() as c:
        plan = lambda body, who="supervisor": c.post("/api/v1/campaigns/plans", json=body, headers=h[who])  # noqa: E731
        assert_error(await plan(spec(cid, period="2026")), 422, "bad_input", "period")
        assert_error(await plan(spec(cid, method="random")), 422, "bad_input", "sample")
        assert_error(await plan(spec(cid, method="thematic")), 422, "bad_input", "theme")
        assert_error(await plan(spec(cid, deadlines={"investigate": "P0D"})), 422, "bad_input", "deadlines.investigate")
        assert_error(await plan(spec("Not An Id")), 422, "bad_input", "campaign_id")
        assert_error(await plan(spec(cid, scope={"unit_id": "U-AF02"})), 403, "forbidden", "principal")
        assert_error(await plan(spec(cid, scope={"unit_id": None})), 403, "forbidden", "principal")  # the whole organization needs a top grant
        assert_error(await plan(spec(cid), "elsewhere"), 403, "forbidden", "principal")
        assert_error(await plan(spec(cid), "auditor"), 403, "forbidden", "principal")
        assert_error(await plan(spec(cid), "reviewer"), 403, "forbidden", "principal")
        assert_error(await c.post("/api/v1/campaigns/plans", json=spec(cid)), 401, "not_signed_in")
        assert_error(await c.get("/api/v1/campaigns/no-such", headers=h["supervisor"]), 404, "not_found", "campaign_id")
        assert_error(await c.get("/api/v1/campaigns/No_Such", headers=h["supervisor"]), 422, "bad_input", "campaign_id")
        assert_error(await c.post("/api/v1/campaigns/no-such/cancel", json={}, headers=h["supervisor"]), 422, "bad_input", "reason")
        assert_error(await c.post("/api/v1/campaigns/no-such/pause", json={"reason": 1}, headers=h["supervisor"]), 422, "bad_input", "reason")


async def test_pause_resume_and_cancel_by_a_supervisor_by_grant(live):
    h = people(live)["supervisor"]
    cid = f"api-{uuid.uuid4().hex[:8]}"
    async with live.client() as c:
        await planned_and_launched(c, h, spec(cid), batch_size=1)
        paused = await c.post(f"/api/v1/campaigns/{cid}/pause", json={"reason": "directory fix first"}, headers=h)
        assert paused.status_code == 200 and paused.json()["paused"], paused.text
        assert_error(await c.post(f"/api/v1/campaigns/{cid}/pause", headers=h), 409, "conflict", "campaign")
        resumed = await c.post(f"/api/v1/campaigns/{cid}/resume", headers=h)
        assert resumed.status_code == 200 and not resumed.json()["paused"], resumed.text
        assert_error(await c.post(f"/api/v1/campaigns/{cid}/cancel", json={"reason": "   "}, headers=h), 422, "bad_input", "reason")
        cancelled = await c.post(f"/api/v1/campaigns/{cid}/cancel", json={"reason": "replaced by the year-end round"}, headers=h)
        assert cancelled.status_code == 200 and cancelled.json()["cancelled"] and cancelled.json()["cancelled_by"] == SUPERVISOR, cancelled.text
        assert_error(await c.post(f"/api/v1/campaigns/{cid}/cancel", json={"reason": "again"}, headers=h), 409, "conflict", "campaign")

        async def done():
            st = (await c.get(f"/api/v1/campaigns/{cid}", headers=h)).json()
            return st if st["progress"]["state"] == "cancelled" else None

        st = await until(done)
    started = st["progress"]["started"]
    assert started >= 1 and st["progress"]["reviews_cancelled"] == started
    types = [[r.event_type for r in live.ctx.events.read_stream(f"campaign-{cid}")]][0]
    assert types == ["campaign.launched", "campaign.paused", "campaign.resumed", "campaign.cancelled"]
    # the supervisor by grant cancelled each review in its own log, with the campaign's reason
    from sqlalchemy import select

    from storage.schema import events

    with live.ctx.engine.connect() as conn:
        rows = conn.execute(select(events.c.stream_id, events.c.actor_id, events.c.reason)
                            .where(events.c.event_type == "review.cancelled", events.c.stream_id.like(f"rv-{cid}-%"))).all()
    assert len(rows) == started and {(r.actor_id, r.reason) for r in rows} == {(SUPERVISOR, "replaced by the year-end round")}


async def test_the_auditor_redraws_a_random_round(live):
    h = people(live)
    cid = f"api-{uuid.uuid4().hex[:8]}"
    async with live.client() as c:
        await planned_and_launched(c, h["supervisor"], spec(cid, method="random", sample={"size": 3, "seed": 2026, "stratify_by": "tier"}))
        got = await c.get(f"/api/v1/campaigns/{cid}/redraw", headers=h["auditor"])
        assert got.status_code == 200, got.text
        assert got.json()["reproduced"] and len(got.json()["redrawn"]) == 3 and got.json()["seed"] == 2026 and got.json()["candidates"] == 9
        assert_error(await c.get(f"/api/v1/campaigns/{cid}/redraw", headers=h["supervisor"]), 403, "forbidden", "principal")
        plain = f"api-{uuid.uuid4().hex[:8]}"
        await planned_and_launched(c, h["supervisor"], spec(plain, scope={"unit_id": BRANCH, "levels": ["B"]}))
        assert_error(await c.get(f"/api/v1/campaigns/{plain}/redraw", headers=h["auditor"]), 422, "bad_input", "campaign_id")
        assert_error(await c.get("/api/v1/campaigns/no-such/redraw", headers=h["auditor"]), 404, "not_found", "campaign_id")


async def test_the_ledger_a_page_at_a_time_and_as_csv(live):
    h = people(live)
    async with live.client() as c:
        whole = await c.get(f"/api/v1/ledgers/{PERIOD}", headers=h["auditor"], params={"limit": 1000})
        assert whole.status_code == 200, whole.text
        rows = whole.json()["items"]
        assert whole.json()["round"] == "half_yearly" and whole.json()["total"]["required"] == len(rows) > 0 and whole.json()["next_cursor"] is None
        mine, cursor = [], None
        while True:
            page = (await c.get(f"/api/v1/ledgers/{PERIOD}", headers=h["supervisor"], params={"limit": 4, **({"cursor": cursor} if cursor else {})})).json()
            mine += page["items"]
            cursor = page["next_cursor"]
            if cursor is None:
                break
        under = {"U-AF01", "U-AF01-B01", "U-AF01-B02", "U-AF01-B03", "U-AF01-B04"}
        assert mine and {r["unit_id"] for r in mine} <= under and mine == [r for r in rows if r["unit_id"] in under]
        assert page["total"]["required"] == len(mine) and "percent" in page["total"]
        open_ = (await c.get(f"/api/v1/ledgers/{PERIOD}", headers=h["supervisor"], params={"covered": "false"})).json()["items"]
        assert open_ and all(not r["covered"] and r["why_not"] for r in open_)
        csv = await c.get(f"/api/v1/ledgers/{PERIOD}/csv", headers=h["supervisor"])
        assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv"), csv.text
        lines = csv.text.strip().splitlines()
        assert lines[0].startswith("subject_id,kind,tier") and len(lines) == len(mine) + 1
        assert_error(await c.get("/api/v1/ledgers/2026-Q3", headers=h["auditor"]), 422, "bad_input", "period")
        assert_error(await c.get(f"/api/v1/ledgers/{PERIOD}", headers=h["reviewer"]), 403, "forbidden", "principal")
        assert_error(await c.get(f"/api/v1/ledgers/{PERIOD}/csv", headers=h["reviewer"]), 403, "forbidden", "principal")


async def test_round_schedules(live):
    h = people(live)
    prefix = f"api-{uuid.uuid4().hex[:6]}"
    body = {"prefix": prefix, "round": "half_yearly", "unit_id": BRANCH, "levels": ["B"]}
    async with live.client() as c:
        created = await c.post("/api/v1/round-schedules", json=body, headers=h["supervisor"])
        assert created.status_code == 201, created.text
        try:
            assert created.json()["unit_id"] == BRANCH and created.json()["cron"] == ["0 1 1 1,7 *"] and not created.json()["paused"]
            assert_error(await c.post("/api/v1/round-schedules", json=body, headers=h["supervisor"]), 409, "conflict", "prefix")
            other = f"{prefix}-x"
            assert_error(await c.post("/api/v1/round-schedules", json={**body, "prefix": other, "cron": "not a cron at all"}, headers=h["supervisor"]), 422, "bad_input", "cron")
            assert_error(await c.post("/api/v1/round-schedules", json={**body, "prefix": other, "cron": "a b c d e"}, headers=h["supervisor"]), 422, "bad_input", "cron")
            assert_error(await c.post("/api/v1/round-schedules", json={**body, "prefix": other, "method": "random"}, headers=h["supervisor"]), 422, "bad_input", "method")
            assert_error(await c.post("/api/v1/round-schedules", json={**body, "prefix": other, "unit_id": "U-AF02"}, headers=h["supervisor"]), 403, "forbidden", "principal")
            assert_error(await c.post(f"/api/v1/round-schedules/{prefix}/pause", headers=h["elsewhere"]), 403, "forbidden", "principal")
            listed = (await c.get("/api/v1/round-schedules", headers=h["auditor"])).json()
            assert prefix in [v["prefix"] for v in listed["items"]]
            paused = await c.post(f"/api/v1/round-schedules/{prefix}/pause", json={"note": "directory being re-imported"}, headers=h["supervisor"])
            assert paused.status_code == 200 and paused.json()["paused"] and paused.json()["note"] == "directory being re-imported"
            assert not (await c.post(f"/api/v1/round-schedules/{prefix}/resume", headers=h["supervisor"])).json()["paused"]
        finally:
            gone = await c.delete(f"/api/v1/round-schedules/{prefix}", headers=h["supervisor"])
        assert gone.status_code == 200 and gone.json() == {"prefix": prefix, "deleted": True}
        assert_error(await c.get(f"/api/v1/round-schedules/{prefix}", headers=h["auditor"]), 404, "not_found", "prefix")
        assert_error(await c.get("/api/v1/round-schedules", headers=h["reviewer"]), 403, "forbidden", "principal")


async def test_a_temporal_that_does_not_answer_is_503(live, tmp_path):
    """The use cases take the context's one client, connected on first need:
    a server that does not answer is Unavailable, not a traceback."""
    from api.main import create_app
    from app.context import AppContext
    from config.settings import Settings
    from test_auth import assert_error as error_of

    h = people(live)
    cid = f"api-{uuid.uuid4().hex[:8]}"
    async with live.client() as c:
        await planned_and_launched(c, h["supervisor"], spec(cid, scope={"unit_id": BRANCH, "levels": ["B"]}))
    down = AppContext(Settings(database_url=str(live.ctx.engine.url), data_dir=tmp_path, temporal_address="127.0.0.1:1"), engine=live.ctx.engine)
    app = create_app(down, accounts=live.accounts)
    import httpx

    from api_support import BASE

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE) as c:
        error_of(await c.get(f"/api/v1/campaigns/{cid}", headers=h["auditor"]), 503, "unavailable")
        error_of(await c.get("/api/v1/round-schedules", headers=h["auditor"]), 503, "unavailable")
        # what needs no engine still answers
        assert (await c.get(f"/api/v1/ledgers/{PERIOD}", headers=h["auditor"], params={"limit": 1})).status_code == 200
