"""The CLI and the API give the same result for the same accounts use case:
``reviewctl users … --json`` against the API's answer over the same database."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from api_support import BASE, FAST, LocalContext

from api.main import create_app
from app.accounts import Accounts
from config.settings import Settings
from storage.db import make_engine

BIN = Path(sys.executable).parent


def cli(env: dict, *args: str, stdin: str | None = None) -> dict:
    p = subprocess.run([str(BIN / "reviewctl"), "users", *args, "--json"], env=env, input=stdin, capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout)


@pytest.fixture
def env(tmp_path) -> dict:
    e = {k: v for k, v in os.environ.items() if not k.startswith(("PINGYI_", "TEMPORAL_"))}
    e["PINGYI_DATA_DIR"] = str(tmp_path / "var")
    return e


async def test_accounts_and_tokens_read_the_same_through_both(env, tmp_path):
    from directory.service import load_example
    from storage.migrate import upgrade

    settings = Settings(data_dir=tmp_path / "var")
    engine = make_engine(settings.db_url)
    upgrade(engine)
    load_example(engine)
    added = cli(env, "add", "P-000001", "--password-stdin", stdin="administrator pw\n")
    granted = cli(env, "grant", "P-000001", "administrator")
    assert granted["grants"][0]["role"] == "administrator"
    issued = cli(env, "token", "issue", "P-000001", "--name", "portal", "--scope", "accounts:admin", "--scope", "reviews:read")
    ctx = LocalContext(settings, engine)
    app = create_app(ctx, accounts=Accounts(settings, engine, ctx.events, hasher=FAST))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE, headers={"Authorization": f"Bearer {issued['secret']}"}) as c:
        via_api = (await c.get("/api/v1/users/P-000001")).json()
        assert via_api == granted == cli(env, "list")["items"][0]
        assert via_api["account_id"] == added["account_id"]
        assert (await c.get("/api/v1/tokens")).json() == cli(env, "token", "list")
        assert (await c.get("/api/v1/users")).json() == cli(env, "list")
    engine.dispose()
