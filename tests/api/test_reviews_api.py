"""Reviews through HTTP against a real Temporal dev server and worker: a
command is a workflow update (the answer is the workflow's own accept or
reject), the actor is always the principal, errors keep the one shape."""

from __future__ import annotations

import uuid

from api_support import person, token
from test_auth import assert_error

from domain.accounts import StandingRole

SUBJECT = "U-AF01-B01"  # a branch under U-AF01; its reviewer is U-AF01's leader
REVIEWER = "P-000368"
SUPERVISOR = "P-000001"


async def start(live, sup_headers) -> str:
    rid = f"rv-api-{uuid.uuid4().hex[:8]}"
    async with live.client(**sup_headers) as c:
        resp = await c.post("/api/v1/reviews", json={"subject_id": SUBJECT, "review_id": rid})
    assert resp.status_code == 201, resp.text
    assert resp.json()["reviewer_id"] == REVIEWER
    return rid


async def test_the_actor_is_the_principal_even_when_the_body_names_another(live):
    person(live.accounts, SUPERVISOR, (StandingRole.SUPERVISOR, "U-AF01"))
    person(live.accounts, REVIEWER)
    sup = {"Authorization": f"Bearer {token(live.accounts, SUPERVISOR)}"}
    rid = await start(live, sup)
    async with live.client(Authorization=f"Bearer {token(live.accounts, REVIEWER)}") as c:
        tpl = await c.get("/api/v1/command-kinds/record_findings/template", params={"review_id": rid})
        assert tpl.status_code == 200, tpl.text
        fields = {**tpl.json()["body"], "actor_id": SUPERVISOR}
        resp = await c.post(f"/api/v1/reviews/{rid}/commands", json={"kind": "record_findings", "actor_id": SUPERVISOR, "fields": fields})
        assert resp.status_code == 200, resp.text
        assert resp.json()["actor_id"] == REVIEWER and resp.json()["events"] == ["review.findings_recorded"]
    recorded = [r for r in live.ctx.events.read_stream(rid) if r.event_type == "review.findings_recorded"]
    assert [r.actor_id for r in recorded] == [REVIEWER]


async def test_rejections_come_back_in_the_one_shape(live):
    person(live.accounts, SUPERVISOR, (StandingRole.SUPERVISOR, "U-AF01"))
    person(live.accounts, REVIEWER)
    rid = await start(live, {"Authorization": f"Bearer {token(live.accounts, SUPERVISOR)}"})
    async with live.client(Authorization=f"Bearer {token(live.accounts, REVIEWER)}") as c:
        # nothing recorded yet: the workflow's own rule, naming the field
        assert_error(await c.post(f"/api/v1/reviews/{rid}/commands", json={"kind": "close_investigation"}), 422, "bad_input", "findings")
        # the right command at the wrong step
        assert_error(await c.post(f"/api/v1/reviews/{rid}/commands", json={"kind": "close_opinion_solicitation"}), 409, "conflict", "kind")
        assert_error(await c.post(f"/api/v1/reviews/{rid}/commands", json={"kind": "no_such_kind"}), 422, "bad_input", "kind")
        assert_error(await c.post(f"/api/v1/reviews/{rid}/commands", json={"kind": "record_findings", "fields": {"findings": "x"}}), 422, "bad_input")
        assert_error(await c.post(f"/api/v1/reviews/{rid}/commands", json={"kind": "cancel_review", "reason": "x"}), 403, "forbidden")
        assert_error(await c.get("/api/v1/reviews/rv-nope"), 404, "not_found", "review_id")
        view = (await c.get(f"/api/v1/reviews/{rid}")).json()
        assert view["step"] == "investigate" and view["your_roles"] == ["reviewer"] and view["version"] >= 2


async def test_command_kinds_and_the_timeline_come_a_page_at_a_time(live):
    person(live.accounts, SUPERVISOR, (StandingRole.SUPERVISOR, "U-AF01"))
    person(live.accounts, REVIEWER)
    rid = await start(live, {"Authorization": f"Bearer {token(live.accounts, SUPERVISOR)}"})
    async with live.client(Authorization=f"Bearer {token(live.accounts, REVIEWER)}") as c:
        async def pages(path: str, limit: int, **params) -> tuple[list, int]:
            items, cursor, n = [], None, 0
            while True:
                got = await c.get(path, params={**params, "limit": limit, **({"cursor": cursor} if cursor else {})})
                assert got.status_code == 200, got.text
                items += got.json()["items"]
                n += 1
                if (cursor := got.json()["next_cursor"]) is None:
                    return items, n

        whole = (await c.get("/api/v1/command-kinds", params={"limit": 500})).json()
        paged, n = await pages("/api/v1/command-kinds", 3)
        assert paged == whole["items"] and whole["next_cursor"] is None and n == -(-len(paged) // 3) > 1
        assert "record_findings" in [k["kind"] for k in paged]
        timeline = (await c.get(f"/api/v1/audit/reviews/{rid}/timeline", params={"lang": "en"})).json()
        assert timeline["review_id"] == rid and [e["event_type"] for e in timeline["items"]][:2] == ["review.started", "review.step_started"]
        one_by_one, n = await pages(f"/api/v1/audit/reviews/{rid}/timeline", 1, lang="en")
        assert one_by_one == timeline["items"] and n == len(one_by_one)
        assert_error(await c.get("/api/v1/command-kinds", params={"limit": 0}), 422, "bad_input", "limit")
        foreign = (await c.get("/api/v1/command-kinds", params={"limit": 1})).json()["next_cursor"]
        assert_error(await c.get(f"/api/v1/audit/reviews/{rid}/timeline", params={"cursor": foreign}), 422, "bad_input", "cursor")
