"""Several ``pingyi-worker`` processes on one task queue, one PostgreSQL event
log, a real Temporal server:

- two workers share a campaign's reviews (its launch batches and the reviews
  it starts); SIGKILL one mid-campaign and the other finishes every review:
  each subject's review started once and closed once, every stream 1..N, the
  campaign counts every review completed, the log verifies; both workers'
  mail relays deliver the outbox to a real SMTP server, every message at
  least once; the survivor's /metrics then lists our metrics (deliveries
  sent among them) and its SDK port Temporal's;
- SIGTERM drains: an append held in flight (its table locked) finishes after
  the signal, the worker takes no new task meanwhile, readiness says so, and
  the process exits 0 within its shutdown bound.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import time
import urllib.error
import urllib.request
from datetime import date
from pathlib import Path

import pytest
from helpers import BIN, REPO, free_port, wait_until
from sqlalchemy import create_engine, func, select, text

from smtp_sink import smtp_sink

from app.campaigns import Campaigns
from app.principal import Principal
from config.settings import Settings
from directory.service import iter_assignments, load_example, review_spec_for
from domain.campaign import CampaignSpec, Round, Scope, review_id_for
from domain.procedure import ReviewMethod
from service import demo
from service.devserver import start_dev_server
from service.reviews import get_state, send, start_review, wait_opened
from service.temporal import connect
from storage.db import make_engine
from storage.directory import people_t
from storage.eventlog import EventStore
from storage.migrate import upgrade
from storage.schema import events, outbox
from workflows.messages import ReviewResult

pytestmark = pytest.mark.e2e
SHUTDOWN_SECONDS = 10
OFFICE = Principal(kind="person", person_id="office", administrator=True, auditor=True, via="cli")
BRANCH = "U-HQ-D08"  # 12 subjects: the department's organization and its 11 members


def get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()
    except OSError:
        return 0, ""


class Cluster:
    """A dev server, a migrated PostgreSQL log, and worker processes."""

    def __init__(self, tmp_path: Path, pg_url: str) -> None:
        self.tmp, self.db_url = tmp_path, pg_url
        self.settings = Settings(data_dir=tmp_path / "temporal", dev_server_port=free_port(), dev_ui_port=free_port())
        self.queue = f"workers-{self.settings.dev_server_port}"
        self.workers: dict[str, tuple[subprocess.Popen, int, int]] = {}
        self.extra_env: dict[str, str] = {}

    async def start(self) -> None:
        self.server = await start_dev_server(self.settings)
        self.engine = make_engine(self.db_url)
        upgrade(self.engine)
        load_example(self.engine)
        self.client = await connect(Settings(temporal_address=self.server.address))

    def worker(self, name: str) -> subprocess.Popen:
        health, metrics = free_port(), free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith(("TEMPORAL_", "PINGYI_"))}
        env.update(
            TEMPORAL_ADDRESS=self.server.address, PINGYI_DATABASE_URL=self.db_url, PINGYI_TASK_QUEUE=self.queue, PINGYI_CODEC_KEYS=os.environ["PINGYI_CODEC_KEYS"],
            PINGYI_DATA_DIR=str(self.tmp / "data"), PINGYI_WORKER_HEALTH_BIND=f"127.0.0.1:{health}", PINGYI_WORKER_METRICS_BIND=f"127.0.0.1:{metrics}",
            PINGYI_WORKER_SHUTDOWN_SECONDS=str(SHUTDOWN_SECONDS), PINGYI_LOG_FORMAT="json", **self.extra_env,
        )
        proc = subprocess.Popen([str(BIN / "pingyi-worker")], env=env, cwd=REPO, stdout=open(self.tmp / f"{name}.log", "wb"), stderr=subprocess.STDOUT)
        self.workers[name] = (proc, health, metrics)
        wait_until(lambda: get(f"http://127.0.0.1:{health}/readyz")[0] == 200 or proc.poll() is not None, 60, f"{name} to be ready")
        assert proc.poll() is None, self.log(name)
        return proc

    def log(self, name: str) -> str:
        return (self.tmp / f"{name}.log").read_text(errors="replace")

    def specs(self, n: int, tag: str):
        subject = next(a for a in iter_assignments(self.engine) if a.level == "B")
        return [
            review_spec_for(self.engine, subject.subject_id, review_id=f"rv-{tag}-{i}-{self.queue}", campaign_id="workers", supervisor_ids=("office",), deadlines=self.settings.step_deadlines())
            for i in range(n)
        ]

    async def drive(self, spec) -> ReviewResult:
        """The on-time commands with fixed update ids: a command resent after a
        worker died is the same update, never a second one."""
        await wait_opened(self.client.get_workflow_handle(spec.review_id), timeout=120)
        return await self._commands(spec)

    async def drive_started(self, review_id: str) -> ReviewResult:
        """A review someone else (a campaign) starts: wait for it, read its
        spec from the review itself, then the on-time commands."""
        for attempt in range(240):
            try:
                await wait_opened(self.client.get_workflow_handle(review_id), timeout=5)
                spec = (await asyncio.wait_for(get_state(self.client, review_id), 15)).spec
                break
            except Exception:  # not started yet, or the worker holding it died: ask again
                if attempt == 239:
                    raise
                await asyncio.sleep(0.5)
        return await self._commands(spec)

    async def _commands(self, spec) -> ReviewResult:
        for i, cmd in enumerate(demo.on_time_commands(spec, date.today())):
            for attempt in range(20):
                try:
                    await send(self.client, spec.review_id, cmd, update_id=f"{spec.review_id}-cmd-{i}")
                    break
                except Exception:  # the worker holding the review died: the same update again
                    if attempt == 19:
                        raise
                    await asyncio.sleep(1)
        return await self.client.get_workflow_handle(spec.review_id, result_type=ReviewResult).result()

    def check_log(self, review_ids: list[str]) -> None:
        with self.engine.connect() as conn:
            for rid in review_ids:
                rows = conn.execute(select(events.c.version, events.c.event_type).where(events.c.stream_id == rid).order_by(events.c.version)).all()
                assert [v for v, _ in rows] == list(range(1, len(rows) + 1)), rid
                types = [t for _, t in rows]
                assert types.count("review.started") == 1 and types.count("review.closed") == 1 and types[-1] == "review.closed", (rid, types)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("TEMPORAL_", "PINGYI_"))} | {"PINGYI_DATABASE_URL": self.db_url, "PINGYI_DATA_DIR": str(self.tmp / "data")}
        verified = subprocess.run([str(BIN / "reviewctl"), "audit", "verify"], env=env, cwd=REPO, capture_output=True, text=True, timeout=180)
        assert verified.returncode == 0, verified.stdout + verified.stderr

    def stop(self) -> None:
        for proc, _, _ in self.workers.values():
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        self.engine.dispose()
        self.server.stop()


@pytest.fixture
async def cluster(tmp_path, pg_url):
    c = Cluster(tmp_path, pg_url)
    await c.start()
    yield c
    c.stop()


def appended_by(cluster: Cluster, name: str) -> int:
    return cluster.log(name).count('"events_appended"')


async def test_sigkill_one_worker_mid_campaign_the_other_finishes_every_review(cluster):
    with cluster.engine.begin() as conn:  # every person of the example gets an address: the relays mail the whole outbox
        conn.execute(people_t.update().values(email=people_t.c.id + "@example.org"))
    with smtp_sink() as mail:
        cluster.extra_env = dict(PINGYI_SMTP_HOST="127.0.0.1", PINGYI_SMTP_PORT=str(mail.port), PINGYI_SMTP_TLS="none",
                                 PINGYI_SMTP_FROM="pingyi@example.org", PINGYI_MAIL_POLL_SECONDS="0.2", PINGYI_MAIL_RETRY_SECONDS="1",
                                 PINGYI_SMTP_TIMEOUT_SECONDS="1")  # a claim's lease: 10 s, what a message the killed relay held waits
        cluster.worker("a")
        cluster.worker("b")
        cid = f"workers-{cluster.settings.dev_server_port}"
        uc = Campaigns(Settings(data_dir=cluster.tmp / "data", task_queue=cluster.queue), cluster.engine, EventStore(cluster.engine), cluster.client)
        spec = CampaignSpec(campaign_id=cid, period="2026-H2", round=Round.YEAR_END, method=ReviewMethod.CONCENTRATED, scope=Scope(unit_id=BRANCH))
        plan = uc.plan(OFFICE, spec)
        review_ids = [review_id_for(cid, e.subject_id) for e in plan.entries]
        assert len(review_ids) == 12
        await uc.launch(OFFICE, spec, plan.plan_id, batch_size=2)  # six launch batches, shared by both workers too
        drives = [asyncio.create_task(cluster.drive_started(rid)) for rid in review_ids]
        deadline = time.monotonic() + 60
        while not (appended_by(cluster, "a") >= 5 and appended_by(cluster, "b") >= 5) and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        assert appended_by(cluster, "a") >= 5 and appended_by(cluster, "b") >= 5, "both workers should be taking the campaign's reviews"
        killed, _, _ = cluster.workers["a"]
        killed.send_signal(signal.SIGKILL)
        killed.wait()
        unfinished_at_kill = sum(not d.done() for d in drives)
        results = await asyncio.wait_for(asyncio.gather(*drives), 150)
        assert unfinished_at_kill > 0, "the kill came after every review had finished: not mid-campaign"
        assert [r.final_step.value for r in results] == ["closed"] * len(review_ids)

        # no review lost or doubled: one review.started per subject, and nothing else the campaign's
        with cluster.engine.connect() as conn:
            started = conn.execute(select(events.c.stream_id).where(events.c.event_type == "review.started", events.c.stream_id.like(f"rv-{cid}-%"))).scalars().all()
        assert sorted(started) == sorted(review_ids)
        cluster.check_log(review_ids)
        status = await uc.status(OFFICE, cid)
        assert (status.counts.started, status.counts.completed) == (12, 12)
        # a launch batch the killed worker held is retried by the survivor once its heartbeat
        # times out (20 s): it finds its reviews started, and starts none twice
        for _ in range(120):
            if status.progress.started == 12:
                break
            await asyncio.sleep(0.5)
            status = await uc.status(OFFICE, cid)
        assert status.progress.started == status.progress.started_by_this_launch + status.progress.already_existing == 12

        # every message the campaign's reviews caused was mailed (at least once: the killed relay may have held one)
        with cluster.engine.connect() as conn:
            ids = conn.execute(select(outbox.c.id).where(outbox.c.stream_id.like(f"rv-{cid}-%"))).scalars().all()
        wait_until(lambda: _all_delivered(cluster, cid), 60, "every outbox message to be delivered")
        mailed = {msg["Message-ID"] for _, msg in mail.received}
        assert {f"<pingyi.outbox.{i}@example.org>" for i in ids} <= mailed and len(ids) >= 12

    # the survivor's metrics: ours on the probe port, the SDK's on its own
    _, health, sdk = cluster.workers["b"]
    status, body = get(f"http://127.0.0.1:{health}/metrics")
    assert status == 200
    for name in ("pingyi_event_log_append_seconds_count", 'pingyi_events_appended_total{event_type="review.closed"}', "pingyi_reviews_by_step", "pingyi_deliveries_queued_total",
                 "pingyi_reminders_sent_total", 'pingyi_projection_lag_events{projection="', "pingyi_deliveries_sent_total{kind="):
        assert name in body, f"{name} missing from /metrics"
    closed_line = next(line for line in body.splitlines() if line.startswith('pingyi_events_appended_total{event_type="review.closed"}'))
    assert float(closed_line.split()[-1]) >= 1
    status, sdk_body = get(f"http://127.0.0.1:{sdk}/metrics")
    assert status == 200 and "temporal_workflow_task" in sdk_body


def _all_delivered(cluster: Cluster, cid: str) -> bool:
    with cluster.engine.connect() as conn:
        return not conn.execute(select(func.count()).select_from(outbox).where(outbox.c.stream_id.like(f"rv-{cid}-%"), outbox.c.delivered_at.is_(None))).scalar()


async def test_sigterm_drains_the_append_in_flight_and_takes_no_new_task(cluster):
    proc = cluster.worker("a")
    [spec, later] = cluster.specs(2, "drain")
    await start_review(cluster.client, spec, cluster.queue)
    await wait_opened(cluster.client.get_workflow_handle(spec.review_id))
    first = demo.on_time_commands(spec, date.today())[0]
    _, health, _ = cluster.workers["a"]

    admin = create_engine(cluster.db_url)
    with admin.connect() as locker:
        locker.execute(text("LOCK TABLE events IN EXCLUSIVE MODE"))  # the append waits for this transaction
        sent = asyncio.create_task(send(cluster.client, spec.review_id, first, update_id=f"{spec.review_id}-held"))
        with admin.connect() as watch:
            blocked = "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
            for _ in range(200):
                if watch.execute(text(blocked)).scalar():
                    break
                await asyncio.sleep(0.05)
            assert watch.execute(text(blocked)).scalar(), "the append never reached the locked table"
        proc.send_signal(signal.SIGTERM)
        signalled = time.monotonic()
        await asyncio.sleep(1)
        status, body = get(f"http://127.0.0.1:{health}/readyz")
        assert status == 503 and "draining" in body
        await start_review(cluster.client, later, cluster.queue)  # arrives while the worker drains
        await asyncio.sleep(2)
        assert proc.poll() is None, "the worker exited with an append in flight"
        locker.rollback()  # release: the append in flight completes
    code = await asyncio.to_thread(proc.wait, SHUTDOWN_SECONDS + 15)
    took = time.monotonic() - signalled
    admin.dispose()
    assert code == 0, cluster.log("a")[-3000:]
    assert took < SHUTDOWN_SECONDS + 10, f"drained in {took:.1f}s"
    assert (await asyncio.wait_for(sent, 30)).version > 2  # the in-flight command was recorded and answered

    with cluster.engine.connect() as conn:
        count = conn.execute(select(func.count()).select_from(events).where(events.c.stream_id == later.review_id)).scalar()
    assert count == 0, "the draining worker took a new review"
    log = cluster.log("a")
    assert log.index('"worker_draining"') < log.rindex('"worker_stopped"')

    cluster.worker("b")  # a fresh worker finishes both
    rest = demo.on_time_commands(spec, date.today())[1:]
    for cmd in rest:
        await send(cluster.client, spec.review_id, cmd)
    await cluster.client.get_workflow_handle(spec.review_id).result()
    await asyncio.wait_for(cluster.drive(later), 120)
    cluster.check_log([spec.review_id, later.review_id])
