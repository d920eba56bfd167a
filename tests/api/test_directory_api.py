"""The directory through HTTP: look-ups a page at a time (pages follow on, a
foreign cursor is refused naming the field), who reviews whom and why, and the
plan of a period — whole for auditors, limited to a supervisor's subtrees,
refused to anyone else."""

from __future__ import annotations

import pytest
from api_support import person, token
from sqlalchemy import update
from test_auth import assert_error

from domain.accounts import StandingRole, TokenScope
from storage.directory import units_t

API = "/api/v1/directory"
SUPERVISED = "U-AF01"
# units whose principal leader goes missing below: two gaps in U-AF01's subtree, one outside it
LEADERLESS = ("U-AF01-B02", "U-AF01-B03", "U-AF02-B01")


def bearer(accounts, pid: str, *grants, scopes=tuple(TokenScope)) -> dict:
    person(accounts, pid, *grants)
    return {"Authorization": f"Bearer {token(accounts, pid, scopes=scopes)}"}


async def every_page(client, path: str, headers: dict, limit: int, **params) -> list[dict]:
    items, cursor, pages = [], None, 0
    while True:
        got = await client.get(path, headers=headers, params={**params, "limit": limit, **({"cursor": cursor} if cursor else {})})
        assert got.status_code == 200, got.text
        body = got.json()
        assert len(body["items"]) <= limit
        items += body["items"]
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            return items
        assert pages < 100


async def test_units_members_and_people(client, accounts):
    h = bearer(accounts, "P-000368")
    unit = (await client.get(f"{API}/units/{SUPERVISED}", headers=h)).json()
    assert unit["id"] == SUPERVISED and unit["leader_id"] == "P-000368" and unit["leader_name"] and unit["parent_id"] == "U-HQ-ORG"
    assert unit["units_under"] == 4 and unit["people"] == 4
    children = await every_page(client, f"{API}/units", h, 3, parent_id=SUPERVISED)
    assert [u["id"] for u in children] == ["U-AF01-B01", "U-AF01-B02", "U-AF01-B03", "U-AF01-B04"]
    assert all(u["parent_id"] == SUPERVISED for u in children)
    tops = (await client.get(f"{API}/units", headers=h, params={"limit": 500})).json()["items"]
    assert tops and all(u["parent_id"] is None for u in tops)
    members = await every_page(client, f"{API}/units/U-AF01-B01/members", h, 3)
    assert len(members) == 8 and [m["person_id"] for m in members] == sorted(m["person_id"] for m in members)
    assert {m["role"] for m in members} == {"leadership", "member"}
    leader = (await client.get(f"{API}/people/P-000373", headers=h)).json()
    assert leader["posts"] == [{"unit_id": "U-AF01-B01", "unit_name": leader["posts"][0]["unit_name"], "role": "leader"}] and leader["name"]


async def test_who_reviews_whom_and_why(client, accounts):
    h = bearer(accounts, "P-000373")
    got = (await client.get(f"{API}/subjects/U-AF01-B01/explanation", headers=h)).json()
    assert got["reviewed_by"][0]["reviewer_id"] == "P-000368" and got["reviewed_by"][0]["why_en"]
    whole = (await client.get(f"{API}/subjects/P-000368/explanation", headers=h)).json()
    assert whole["reviews_total"] == len(whole["reviews"]) > 2 and whole["next_cursor"] is None
    paged, cursor = [], None
    while True:
        page = (await client.get(f"{API}/subjects/P-000368/explanation", headers=h, params={"limit": 2, **({"cursor": cursor} if cursor else {})})).json()
        paged += page["reviews"]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert paged == whole["reviews"]


async def test_look_ups_refuse_naming_the_field(client, accounts):
    h = bearer(accounts, "P-000368")
    assert_error(await client.get(f"{API}/units/U-NOPE", headers=h), 404, "not_found", "unit_id")
    assert_error(await client.get(f"{API}/units", headers=h, params={"parent_id": "U-NOPE"}), 404, "not_found", "parent_id")
    assert_error(await client.get(f"{API}/people/P-NOPE", headers=h), 404, "not_found", "person_id")
    assert_error(await client.get(f"{API}/subjects/X-1/explanation", headers=h), 404, "not_found", "subject_id")
    assert_error(await client.get(f"{API}/units", headers=h, params={"limit": 0}), 422, "bad_input", "limit")
    assert_error(await client.get(f"{API}/units", headers=h, params={"cursor": "%%"}), 422, "bad_input", "cursor")
    # a cursor of another list names no item of this one
    other = (await client.get(f"{API}/subjects/P-000368/explanation", headers=h, params={"limit": 1})).json()["next_cursor"]
    assert_error(await client.get(f"{API}/subjects/P-000001/explanation", headers=h, params={"cursor": other}), 422, "bad_input", "cursor")
    assert_error(await client.get(f"{API}/units/{SUPERVISED}"), 401, "not_signed_in")
    narrow = {"Authorization": f"Bearer {token(accounts, 'P-000368', scopes=(TokenScope.REVIEWS_READ,))}"}
    assert_error(await client.get(f"{API}/units/{SUPERVISED}", headers=narrow), 403, "forbidden", "Authorization")


@pytest.fixture
def leaderless(ctx):
    with ctx.engine.begin() as conn:
        conn.execute(update(units_t).where(units_t.c.id.in_(LEADERLESS)).values(leader_id=None))


async def test_the_plan_whole_for_auditors_and_scoped_for_supervisors(client, accounts, leaderless):
    auditor = bearer(accounts, "P-000003", (StandingRole.AUDITOR, None))
    supervisor = bearer(accounts, "P-000001", (StandingRole.SUPERVISOR, SUPERVISED))
    whole = (await client.get(f"{API}/plan", headers=auditor, params={"period": "2026-H2"})).json()
    mine = (await client.get(f"{API}/plan", headers=supervisor, params={"period": "2026-H2"})).json()
    assert whole["scope"] is None and mine["scope"] == [SUPERVISED]
    assert whole["gaps"] >= 3 and mine["gaps"] == 2 and not mine["full_coverage"]
    assert 0 < mine["total"] < whole["total"]
    assert mine["total"] == sum(sum(v.values()) for v in mine["by_tier_level"].values()) == sum(mine["by_kind"].values())
    gaps = await every_page(client, f"{API}/plan/gaps", auditor, 1, period="2026-H2")
    assert len(gaps) == whole["gaps"] and {"U-AF01-B02", "U-AF01-B03", "U-AF02-B01"} <= {g["unit_id"] for g in gaps}
    my_gaps = await every_page(client, f"{API}/plan/gaps", supervisor, 1, period="2026-H2")
    assert sorted(g["unit_id"] for g in my_gaps) == ["U-AF01-B02", "U-AF01-B03"] and all(g["message_en"] for g in my_gaps)
    notices = (await client.get(f"{API}/plan/notices", headers=auditor)).json()
    assert notices["items"] == [] and notices["next_cursor"] is None


async def test_the_plan_is_refused_to_people_without_a_standing_role(client, accounts):
    reviewer = bearer(accounts, "P-000368")
    assert_error(await client.get(f"{API}/plan", headers=reviewer), 403, "forbidden", "principal")
    assert_error(await client.get(f"{API}/plan/gaps", headers=reviewer), 403, "forbidden", "principal")
    admin = bearer(accounts, "P-000004", (StandingRole.ADMINISTRATOR, None))
    assert (await client.get(f"{API}/plan", headers=admin)).json()["scope"] is None
    assert_error(await client.get(f"{API}/plan", headers=admin, params={"period": "x" * 41}), 422, "bad_input", "period")
