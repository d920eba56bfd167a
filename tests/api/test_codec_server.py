"""The codec server the Temporal Web UI calls (Temporal's /encode and /decode
JSON protocol): auditors and administrators read sealed payloads, nobody
else does; CORS answers only the Web UI's origins, refusals included; and the
API's liveness/readiness probes."""

from __future__ import annotations

import asyncio
import json
import socket

import pytest
from api_support import person, token
from google.protobuf import json_format
from temporalio.api.common.v1 import Payload, Payloads

from config.settings import Settings
from domain.accounts import StandingRole, TokenScope
from service.temporal import codec

UI = "http://localhost:8080"
AUDITOR, READER, ADMIN = "P-000002", "P-000368", "P-000001"
SECRET_TEXT = "调研了解: 李建国同志".encode()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def api_settings(tmp_path) -> Settings:
    # no Temporal server answers here: readiness must say so
    return Settings(data_dir=tmp_path, temporal_address=f"127.0.0.1:{free_port()}")


def body_of(*payloads: Payload) -> str:
    return json_format.MessageToJson(Payloads(payloads=list(payloads)))


async def seal(ctx, data: bytes = SECRET_TEXT) -> Payload:
    [p] = await codec(ctx.settings).encode([Payload(metadata={"encoding": b"json/plain"}, data=data)])
    return p


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}", "Origin": UI, "Content-Type": "application/json", "X-Namespace": "default"}


async def test_an_auditor_reads_and_seals_payloads(client, accounts, ctx):
    person(accounts, AUDITOR, (StandingRole.AUDITOR, None))
    headers = bearer(token(accounts, AUDITOR, scopes=(TokenScope.AUDIT_READ,)))
    p = await seal(ctx)
    assert SECRET_TEXT not in p.data
    resp = await client.post("/codec/decode", content=body_of(p), headers=headers)
    assert resp.status_code == 200, resp.text
    [opened] = json_format.Parse(resp.text, Payloads()).payloads
    assert opened.data == SECRET_TEXT and opened.metadata["encoding"] == b"json/plain"
    assert resp.headers["access-control-allow-origin"] == UI and resp.headers["access-control-allow-credentials"] == "true"

    resp = await client.post("/codec/encode", content=body_of(opened), headers=headers)
    [again] = json_format.Parse(resp.text, Payloads()).payloads
    assert again.metadata["encryption-key-id"] == p.metadata["encryption-key-id"] and SECRET_TEXT not in again.data
    [back] = await codec(ctx.settings).decode([again])
    assert back.data == SECRET_TEXT


async def test_an_administrator_reads_too(client, accounts, ctx):
    person(accounts, ADMIN, (StandingRole.ADMINISTRATOR, None))
    resp = await client.post("/codec/decode", content=body_of(await seal(ctx)), headers=bearer(token(accounts, ADMIN)))
    assert resp.status_code == 200 and SECRET_TEXT in json_format.Parse(resp.text, Payloads()).payloads[0].data


@pytest.mark.parametrize("who", ["anonymous", "reader", "narrow-token", "bad-token"])
async def test_nobody_else_reads_and_the_refusal_is_readable_by_the_ui(client, accounts, ctx, who):
    headers = {"Origin": UI, "Content-Type": "application/json"}
    if who == "reader":
        person(accounts, READER)
        headers |= bearer(token(accounts, READER))
    elif who == "narrow-token":
        person(accounts, AUDITOR, (StandingRole.AUDITOR, None))
        headers |= bearer(token(accounts, AUDITOR, scopes=(TokenScope.REVIEWS_READ,)))
    elif who == "bad-token":
        headers |= {"Authorization": "Bearer not-a-token"}
    resp = await client.post("/codec/decode", content=body_of(await seal(ctx)), headers=headers)
    assert resp.status_code == (403 if who in ("reader", "narrow-token") else 401), resp.text
    assert SECRET_TEXT.decode() not in resp.text
    assert resp.headers["access-control-allow-origin"] == UI
    assert json.loads(resp.text)["error"]["code"]


async def test_bad_body_and_other_namespace_name_the_field(client, accounts, ctx):
    person(accounts, AUDITOR, (StandingRole.AUDITOR, None))
    headers = bearer(token(accounts, AUDITOR))
    resp = await client.post("/codec/decode", content="{not json", headers=headers)
    assert resp.status_code == 422 and resp.json()["error"]["field"] == "payloads"
    resp = await client.post("/codec/decode", content=body_of(await seal(ctx)), headers=headers | {"X-Namespace": "elsewhere"})
    assert resp.status_code == 422 and resp.json()["error"]["field"] == "X-Namespace"


async def test_preflight_answers_the_web_ui_origin_only(client):
    ok = await client.options("/codec/decode", headers={"Origin": UI, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type,x-namespace"})
    assert ok.headers["access-control-allow-origin"] == UI
    assert "x-namespace" in ok.headers["access-control-allow-headers"] and ok.headers["access-control-allow-methods"] == "POST"
    foreign = await client.options("/codec/decode", headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"})
    assert "access-control-allow-origin" not in foreign.headers


async def test_liveness_and_readiness(client):
    assert (await client.get("/healthz")).json()["status"] == "ok"
    ready = await client.get("/readyz")
    assert ready.status_code == 503
    checks = ready.json()["checks"]
    assert checks["database"] == "ok" and checks["temporal"].startswith("failing")
