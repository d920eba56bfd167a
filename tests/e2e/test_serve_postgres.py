"""``reviewctl serve`` with PINGYI_DATABASE_URL on PostgreSQL (a database of
its own, created by the fixture): it migrates, loads the directory, runs a
review through all five steps with the log and the read models on
PostgreSQL, and the log verifies — nothing falls back to SQLite."""

from __future__ import annotations

import os
import subprocess

import pytest
from helpers import BIN, REPO, free_port, reviewctl, reviewctl_json, stop_group, wait_until
from sqlalchemy import create_engine, func, select

from app.projections.schema import review_summaries, tracking
from storage.schema import events

pytestmark = pytest.mark.e2e


def test_serve_on_postgresql_runs_a_review_end_to_end(tmp_path, pg_url):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TEMPORAL_", "PINGYI_"))}
    env.update(
        PINGYI_DATA_DIR=str(tmp_path / "var"), PINGYI_DATABASE_URL=pg_url, PINGYI_DEV_SERVER_PORT=str(free_port()), PINGYI_DEV_UI_PORT=str(free_port()),
        PINGYI_API_PORT=str(free_port()), PINGYI_TASK_QUEUE=f"pg-{free_port()}",
    )
    service = subprocess.Popen([str(BIN / "reviewctl"), "serve"], cwd=REPO, env=env, stdout=open(tmp_path / "serve.log", "wb"), stderr=subprocess.STDOUT, start_new_session=True)
    try:
        wait_until(lambda: reviewctl("status", env=env, check=False).returncode == 0, 180, "reviewctl serve on PostgreSQL to be ready")
        demo = reviewctl_json("demo", env=env)
        assert demo["final_step"] == "closed"
        engine = create_engine(pg_url)
        try:
            wait_until(lambda: _projected(engine, demo["review_id"]), 30, "the read model to project the review")
            with engine.connect() as conn:
                assert conn.execute(select(func.count()).select_from(events).where(events.c.stream_id == demo["review_id"])).scalar() == demo["log_events"]
        finally:
            engine.dispose()
        verified = reviewctl("audit", "verify", env=env)
        assert "verified" in verified.stdout
    finally:
        stop_group(service)
    assert not (tmp_path / "var" / "pingyi.db").exists(), "serve wrote a SQLite log beside the PostgreSQL one"


def _projected(engine, review_id: str) -> bool:
    with engine.connect() as conn:
        tracked = conn.execute(select(func.count()).select_from(tracking)).scalar()
        row = conn.execute(select(func.count()).select_from(review_summaries).where(review_summaries.c.review_id == review_id)).scalar()
    return bool(tracked and row)
