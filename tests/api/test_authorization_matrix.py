"""Every API route × every role, with the expected status asserted per cell.

The rows come from the application's own route table (``api.main.route_table``):
a route without an entry in ``EXPECTED`` fails the test, so nobody adds a
route without deciding who may call it. The roles are people as the procedure
knows them (derived from two reviews' assignments), the granted standing
roles, nobody, and an expired token. People sign in with a password (cookie +
CSRF token); the expired token is a system's bearer token.

Runs against a real Temporal dev server and worker: the review routes answer
what the workflow answers.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Callable

import pytest
from api_support import PASSWORD, person, token
from sqlalchemy import update

from api.main import route_table
from api.security import SESSION_COOKIE, session_cookie_value
from app.accounts import CLI_ADMIN, IssueToken
from app.campaigns import Campaigns, with_settings_deadlines
from app.round_schedules import RoundSchedules, ScheduleRequest
from app.principal import Principal
from app.reviews import ExplicitAssignment, StartReviewInput, start_review
from domain.accounts import StandingRole
from domain.campaign import CampaignSpec, Round, Sample, Scope
from domain.procedure import ReviewMethod
from storage.accounts import tokens_t

# two reviews in two parts of the example directory
R_UNIT, R_LEADER, R_REVIEWER, R_CO = "U-AF01-B01", "P-000373", "P-000368", "P-000369"
R2_UNIT, R2_LEADER, R2_REVIEWER = "U-AF01-B02", "P-000382", "P-000383"
OTHER_PART = "U-SAC"  # a supervisor here does not supervise either review

ROLES = {
    # role: (person id, standing grants)
    "reviewer": (R_REVIEWER, ()),
    "other_reviewer": (R2_REVIEWER, ()),
    "co_reviewer": (R_CO, ()),
    "subject": (R_LEADER, ()),
    "other_subject": (R2_LEADER, ()),
    "supervisor_in_scope": ("P-000001", ((StandingRole.SUPERVISOR, "U-AF01"),)),
    "supervisor_out_of_scope": ("P-000002", ((StandingRole.SUPERVISOR, OTHER_PART),)),
    "auditor": ("P-000003", ((StandingRole.AUDITOR, None),)),
    "administrator": ("P-000004", ((StandingRole.ADMINISTRATOR, None),)),
    "anonymous": (None, ()),
    "expired_token": ("P-000005", ((StandingRole.AUDITOR, None),)),
}
# accounts the user routes act on (never one of the roles above, so a cell cannot lock a role out)
TARGET, NEW_PERSON = "P-000006", "P-000007"


def cells(default: int, **overrides: int) -> dict[str, int]:
    """Expected status per role: ``default`` for a signed-in role, 401 for
    anonymous and the expired token, then the overrides."""
    out = {r: default for r in ROLES}
    out["anonymous"] = out["expired_token"] = 401
    out.update(overrides)
    return out


READ_REVIEW = cells(200, other_reviewer=404, other_subject=404, supervisor_out_of_scope=404, administrator=403)
ADMIN_ONLY = cells(403, administrator=200)
PAYLOAD_READERS = cells(403, auditor=200, administrator=200)
# the plan of a period: supervisors (their subtrees), auditors, administrators
PLAN_READERS = cells(403, supervisor_in_scope=200, supervisor_out_of_scope=200, auditor=200, administrator=200)
# a campaign over R_UNIT's subtree is run by a supervisor over it (administrators manage accounts, not rounds)
RUNS_CAMPAIGN = cells(403, supervisor_in_scope=200)
LEDGER_READERS = cells(403, supervisor_in_scope=200, supervisor_out_of_scope=200, auditor=200)
SCHEDULE_READERS = cells(403, supervisor_in_scope=200, supervisor_out_of_scope=200, auditor=200, administrator=200)
PERIOD = "2026-H2"


@dataclass
class Call:
    expected: dict[str, int]
    # (world, role) -> (path params, json body or None, query params)
    request: Callable[["World", str], tuple[dict, Any, dict]] = lambda w, r: ({}, None, {})
    # routes run by this, then in the table's order: what ends something (a
    # campaign, a schedule) after what reads it, signing out after everything
    order: int = 0


def _command(w: "World", role: str):
    return {"review_id": w.review}, {"kind": "record_findings", "actor_id": "P-000001", "fields": w.findings}, {}


EXPECTED: dict[tuple[str, str], Call] = {
    ("POST", "/api/v1/auth/sign-in"): Call(
        {r: 200 for r in ROLES}, lambda w, r: ({}, {"login": TARGET, "password": PASSWORD}, {})),
    ("POST", "/api/v1/auth/dev-sign-in"): Call({r: 200 for r in ROLES}, lambda w, r: ({}, {"person_id": TARGET}, {})),
    ("GET", "/api/v1/auth/whoami"): Call(cells(200, anonymous=200)),
    ("POST", "/api/v1/auth/sign-out"): Call(cells(200, anonymous=200), order=2),
    ("POST", "/api/v1/reviews"): Call(
        cells(403, supervisor_in_scope=201),
        lambda w, r: ({}, {"subject_id": R_UNIT, "review_id": f"rv-m-{uuid.uuid4().hex[:8]}"}, {})),
    ("GET", "/api/v1/reviews"): Call(cells(200)),  # each sees the reviews that concern them (maybe none)
    ("GET", "/api/v1/tasks"): Call(cells(200)),
    ("GET", "/api/v1/reviews/{review_id}"): Call(READ_REVIEW, lambda w, r: ({"review_id": w.review}, None, {})),
    ("POST", "/api/v1/reviews/{review_id}/commands"): Call(
        cells(403, reviewer=200, co_reviewer=200, other_reviewer=404, other_subject=404, supervisor_out_of_scope=404), _command),
    ("GET", "/api/v1/command-kinds"): Call(cells(200)),
    ("GET", "/api/v1/command-kinds/{kind}/template"): Call(
        READ_REVIEW, lambda w, r: ({"kind": "record_findings"}, None, {"review_id": w.review})),
    ("GET", "/api/v1/outbox"): Call(cells(200)),
    # the directory: look-ups for anyone signed in, the plan for supervisors, auditors and administrators
    ("GET", "/api/v1/directory/units"): Call(cells(200), lambda w, r: ({}, None, {"parent_id": "U-AF01"})),
    ("GET", "/api/v1/directory/units/{unit_id}"): Call(cells(200), lambda w, r: ({"unit_id": R_UNIT}, None, {})),
    ("GET", "/api/v1/directory/units/{unit_id}/members"): Call(cells(200), lambda w, r: ({"unit_id": R_UNIT}, None, {})),
    ("GET", "/api/v1/directory/people/{person_id}"): Call(cells(200), lambda w, r: ({"person_id": R_LEADER}, None, {})),
    ("GET", "/api/v1/directory/subjects/{subject_id}/explanation"): Call(cells(200), lambda w, r: ({"subject_id": R_UNIT}, None, {})),
    ("GET", "/api/v1/directory/plan"): Call(PLAN_READERS, lambda w, r: ({}, None, {"period": PERIOD})),
    ("GET", "/api/v1/directory/plan/gaps"): Call(PLAN_READERS, lambda w, r: ({}, None, {"period": PERIOD})),
    ("GET", "/api/v1/directory/plan/notices"): Call(PLAN_READERS, lambda w, r: ({}, None, {"period": PERIOD})),
    # campaigns: the world's campaign over R_UNIT was launched by the office and has started every review
    ("POST", "/api/v1/campaigns/plans"): Call(RUNS_CAMPAIGN, lambda w, r: ({}, w.campaign_spec, {})),
    ("POST", "/api/v1/campaigns"): Call(RUNS_CAMPAIGN, lambda w, r: ({}, {**w.campaign_spec, "plan_id": w.plan_id}, {})),  # 200: launched before
    ("GET", "/api/v1/campaigns/{campaign_id}"): Call(cells(403, supervisor_in_scope=200, auditor=200), lambda w, r: ({"campaign_id": w.campaign}, None, {})),
    # the workflow's own answer once authorized: every review is started (nothing to pause), so nothing to resume
    ("POST", "/api/v1/campaigns/{campaign_id}/pause"): Call(cells(403, supervisor_in_scope=409), lambda w, r: ({"campaign_id": w.campaign}, {"reason": "matrix"}, {})),
    ("POST", "/api/v1/campaigns/{campaign_id}/resume"): Call(cells(403, supervisor_in_scope=409), lambda w, r: ({"campaign_id": w.campaign}, None, {})),
    ("POST", "/api/v1/campaigns/{campaign_id}/cancel"): Call(
        RUNS_CAMPAIGN, lambda w, r: ({"campaign_id": w.campaign}, {"reason": "the matrix is done with it"}, {}), order=1),
    ("GET", "/api/v1/campaigns/{campaign_id}/redraw"): Call(cells(403, auditor=200), lambda w, r: ({"campaign_id": w.campaign}, None, {})),
    ("GET", "/api/v1/ledgers/{period}"): Call(LEDGER_READERS, lambda w, r: ({"period": PERIOD}, None, {})),
    ("GET", "/api/v1/ledgers/{period}/csv"): Call(LEDGER_READERS, lambda w, r: ({"period": PERIOD}, None, {})),
    ("GET", "/api/v1/round-schedules"): Call(SCHEDULE_READERS),
    ("POST", "/api/v1/round-schedules"): Call(
        cells(403, supervisor_in_scope=201), lambda w, r: ({}, {"prefix": w.new_schedule, "round": "half_yearly", "unit_id": R_UNIT, "levels": ["B"]}, {})),
    ("GET", "/api/v1/round-schedules/{prefix}"): Call(SCHEDULE_READERS, lambda w, r: ({"prefix": w.schedule}, None, {})),
    ("POST", "/api/v1/round-schedules/{prefix}/pause"): Call(RUNS_CAMPAIGN, lambda w, r: ({"prefix": w.schedule}, {"note": "matrix"}, {})),
    ("POST", "/api/v1/round-schedules/{prefix}/resume"): Call(RUNS_CAMPAIGN, lambda w, r: ({"prefix": w.schedule}, None, {})),
    ("POST", "/api/v1/round-schedules/{prefix}/trigger"): Call(RUNS_CAMPAIGN, lambda w, r: ({"prefix": w.schedule}, None, {})),
    # the one who may deletes the schedule the create route made, so the others still meet one to be refused
    ("DELETE", "/api/v1/round-schedules/{prefix}"): Call(
        RUNS_CAMPAIGN, lambda w, r: ({"prefix": w.new_schedule if r == "supervisor_in_scope" else w.schedule}, None, {}), order=1),
    ("GET", "/api/v1/audit/reviews/{review_id}/timeline"): Call(READ_REVIEW, lambda w, r: ({"review_id": w.review}, None, {"lang": "en"})),
    ("GET", "/api/v1/audit/reviews/{review_id}/state"): Call(READ_REVIEW, lambda w, r: ({"review_id": w.review}, None, {})),
    ("GET", "/api/v1/audit/reviews/{review_id}/cross-check"): Call(cells(403, auditor=200), lambda w, r: ({"review_id": w.review}, None, {})),
    ("GET", "/api/v1/audit/cross-check"): Call(cells(403, auditor=200)),
    ("GET", "/api/v1/audit/verify"): Call(cells(403, auditor=200), lambda w, r: ({}, None, {"stream_id": w.review})),
    ("GET", "/api/v1/audit/export"): Call(cells(403, auditor=200), lambda w, r: ({}, None, {"stream_id": w.review, "format": "csv"})),
    ("GET", "/api/v1/users"): Call(ADMIN_ONLY),
    ("POST", "/api/v1/users"): Call(cells(403, administrator=201), lambda w, r: ({}, {"person_id": NEW_PERSON}, {})),
    ("GET", "/api/v1/users/{person_id}"): Call(ADMIN_ONLY, lambda w, r: ({"person_id": TARGET}, None, {})),
    ("PUT", "/api/v1/users/{person_id}/password"): Call(ADMIN_ONLY, lambda w, r: ({"person_id": TARGET}, {"password": PASSWORD}, {})),
    ("POST", "/api/v1/users/{person_id}/grants"): Call(
        ADMIN_ONLY, lambda w, r: ({"person_id": TARGET}, {"role": "supervisor", "scope": OTHER_PART}, {})),
    ("DELETE", "/api/v1/users/{person_id}/grants/{role}"): Call(
        ADMIN_ONLY, lambda w, r: ({"person_id": TARGET, "role": "auditor"}, None, {})),
    ("GET", "/api/v1/tokens"): Call(ADMIN_ONLY),
    ("POST", "/api/v1/tokens"): Call(
        cells(403, administrator=201), lambda w, r: ({}, {"person_id": TARGET, "name": "matrix", "scopes": ["reviews:read"]}, {})),
    ("DELETE", "/api/v1/tokens/{token_id}"): Call(ADMIN_ONLY, lambda w, r: ({"token_id": w.target_token}, None, {})),
    # beside the API: the probes, and the codec server for the Temporal Web UI
    ("GET", "/healthz"): Call({r: 200 for r in ROLES}),
    ("GET", "/readyz"): Call({r: 200 for r in ROLES}),
    ("POST", "/codec/decode"): Call(PAYLOAD_READERS, lambda w, r: ({}, {"payloads": []}, {})),
    ("POST", "/codec/encode"): Call(PAYLOAD_READERS, lambda w, r: ({}, {"payloads": []}, {})),
    ("OPTIONS", "/codec/{operation}"): Call({r: 204 for r in ROLES}, lambda w, r: ({"operation": "decode"}, None, {})),
}


@dataclass
class World:
    review: str
    findings: dict
    target_token: str
    campaign: str = ""
    campaign_spec: dict = field(default_factory=dict)  # its spec as a body
    plan_id: str = ""
    schedule: str = ""  # exists (the office made it)
    new_schedule: str = ""  # the one the create route makes
    auth: dict[str, dict] = field(default_factory=dict)  # role -> the headers that authenticate it


OFFICE = Principal(kind="person", person_id="office", via="cli")


async def build_world(live) -> World:
    from app.reviews import TemplateInput, command_template

    async def started(unit, leader, reviewer, co=()):
        rid = f"rv-m-{uuid.uuid4().hex[:8]}"
        x = ExplicitAssignment(reviewer_id=reviewer, unit_id=unit, leader_id=leader, level="B", category="technical_institution", co_reviewer_ids=list(co))
        await start_review(live.ctx, OFFICE, StartReviewInput(subject_id=unit, review_id=rid, explicit=x))
        return rid

    review = await started(R_UNIT, R_LEADER, R_REVIEWER, (R_CO,))
    await started(R2_UNIT, R2_LEADER, R2_REVIEWER)
    reviewer = Principal(kind="person", person_id=R_REVIEWER, via="cli")
    findings = (await command_template(live.ctx, reviewer, TemplateInput(kind="record_findings", review_id=review))).body
    acc = live.accounts
    person(acc, TARGET, (StandingRole.AUDITOR, None))
    target_token = acc.issue_token(CLI_ADMIN, IssueToken(person_id=TARGET, name="to revoke", scopes=("reviews:read",))).token_id
    world = World(review, findings, target_token)
    await launch_world_campaign(live, world)
    world.schedule, world.new_schedule = f"m-{uuid.uuid4().hex[:8]}", f"m-{uuid.uuid4().hex[:8]}"
    await RoundSchedules.of(live.ctx).create(OFFICE, ScheduleRequest(prefix=world.schedule, round=Round.HALF_YEARLY, unit_id=R_UNIT, levels=("B",)))
    for role, (pid, grants) in ROLES.items():
        if pid is None:
            world.auth[role] = {"headers": {}}
            continue
        person(acc, pid, *grants)
        if role == "expired_token":
            secret = token(acc, pid)
            with acc.store.engine.begin() as conn:
                conn.execute(update(tokens_t).where(tokens_t.c.account_id == acc.store.by_person(pid).id).values(expires_at=datetime.now(timezone.utc) - timedelta(minutes=1)))
            world.auth[role] = {"headers": {"Authorization": f"Bearer {secret}"}}
            continue
        session = acc.sign_in(pid, PASSWORD, "10.0.0.1")
        cookie = session_cookie_value(acc.settings, session.session_id)
        world.auth[role] = {"headers": {"X-CSRF-Token": session.csrf_token, "Cookie": f"{SESSION_COOKIE}={cookie}"}}
    return world


async def launch_world_campaign(live, world: World) -> None:
    """A random round of two subjects under R_UNIT, launched by the office,
    every review started before the matrix runs (so the answers do not
    depend on how fast the worker is)."""
    import asyncio

    uc = Campaigns.of(live.ctx)
    world.campaign = f"m-{uuid.uuid4().hex[:8]}"
    spec = with_settings_deadlines(CampaignSpec(campaign_id=world.campaign, period=PERIOD, round=Round.YEAR_END, method=ReviewMethod.RANDOM,
                                                scope=Scope(unit_id=R_UNIT), sample=Sample(size=2, seed=7)), live.ctx.settings)
    plan = uc.plan(OFFICE, spec)
    world.plan_id = plan.plan_id
    world.campaign_spec = spec.model_dump(mode="json")
    await uc.launch(OFFICE, spec, plan.plan_id, batch_size=1)
    for _ in range(300):
        st = await uc.status(OFFICE, world.campaign)
        if st.progress is not None and st.progress.started == plan.total:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"campaign {world.campaign} did not start its {plan.total} reviews")


async def _remove_schedules(live, world: World) -> None:
    from app.errors import NotFound

    for prefix in (world.schedule, world.new_schedule):
        try:
            await RoundSchedules.of(live.ctx).delete(OFFICE, prefix)
        except NotFound:
            pass


def test_every_route_has_an_entry_and_every_entry_a_route(live):
    routes = set(route_table(live.app))
    assert routes - set(EXPECTED) == set(), "routes without an authorization entry (add them to EXPECTED)"
    assert set(EXPECTED) - routes == set(), "entries for routes that do not exist"
    for key, call in EXPECTED.items():
        assert set(call.expected) == set(ROLES), f"{key}: a status for every role"


async def test_authorization_matrix(live):
    world = await build_world(live)
    try:
        await _run_matrix(live, world)
    finally:
        await _remove_schedules(live, world)


async def _run_matrix(live, world: World) -> None:
    routes = route_table(live.app)
    routes.sort(key=lambda rt: EXPECTED[rt].order if rt in EXPECTED else 0)
    got: dict[tuple[str, str, str], int] = {}
    wrong = []
    for method, path in routes:
        call = EXPECTED.get((method, path))
        if call is None:
            pytest.fail(f"{method} {path} has no entry in EXPECTED")
        for role in ROLES:
            params, body, query = call.request(world, role)
            url = path.format(**params)
            auth = world.auth[role]
            async with live.client() as c:
                resp = await c.request(method, url, json=body, params=query, headers=auth["headers"])
            got[(method, path, role)] = resp.status_code
            if resp.status_code != call.expected[role]:
                wrong.append(f"{method} {path} as {role}: {resp.status_code} (expected {call.expected[role]}) {resp.text[:200]}")
            if resp.status_code >= 400:
                assert set(resp.json()) == {"error"}, f"{method} {path} as {role}: not the error shape"
    print(f"authorization matrix: {len(routes)} routes x {len(ROLES)} roles = {len(got)} cells")
    assert not wrong, "\n".join(wrong)
