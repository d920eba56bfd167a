"""A campaign of N reviews on the embedded default, end to end, next to the
bare workflow on the same server in the same run.

A synthetic organization of exactly N subjects (``directory.synthetic``) is
imported into a fresh event log (SQLite), a Temporal dev server is started
from the venv's ``temporal`` binary (SQLite under a temp dir), and the worker
runs in this process with the projector beside it, as ``reviewctl serve``
does. Then, in this order:

1. yardsticks: N bare workflows (``bench.bare_review.BareReview``) started by
   plain ``client.start_workflow`` with as many starts in flight as the
   campaign's start activity keeps, then driven with the very commands the
   reviews will get (same payloads, same nine updates, same step timers);
   the same again for the bare workflow plus one no-op local activity per
   command (the floor of our design). They run first, so the campaign meets
   a server database that already holds them: any bias is against the review
   (``--campaign-first`` turns the order round, for a long run that may be
   stopped before the end: every phase notes its figures on stderr as it ends);
   then the floor of the launch: the review workflow itself started N times
   by plain ``service.reviews.start_review`` (its real input and search
   attributes, the worker and projector running), opened, and terminated;
2. the campaign: planned and launched through ``app.campaigns`` (the plan id
   of the dry run), every review driven through all five steps by simulated
   actors through ``app.reviews.send_command`` as the reviewer or the
   subject (each command checked by the application layer as a person's is).

Prints a table and JSON: launch rate against the raw start rate, completed
reviews per minute against the bare workflow (target ratios 0.8 and 0.75,
with the rate each target asks for printed beside it), history events per
review, SQLite bytes per review (the engine's file and the event log's, as
logical pages in use), the projection lag from an event's append to the
projector's commit of it (p50/p99), and the peak RSS of this process (worker,
projector and the simulated actors) and of the server during each phase.

``--fresh-servers`` gives each part (the yardsticks, the launch's floor, the
campaign) a Temporal dev server of its own, a new SQLite file: in one server
a 10,000-review run's campaign meets the 20,000 or 30,000 workflows the
earlier parts left in its database, which slows it by more than any change of
ours moves it.

    .venv/bin/python -m bench.campaign [--reviews 1000] [--concurrency 200] [--no-floor] [--campaign-first] [--fresh-servers] [--dir DIR] [--json FILE] [--profile DIR]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from bisect import bisect_left
from datetime import date, timezone
from pathlib import Path

from sqlalchemy import func, select
from temporalio.client import Client, WorkflowHandle, WorkflowUpdateRPCTimeoutOrCancelledError
from temporalio.service import RPCError, RPCStatusCode
from temporalio.runtime import LoggingConfig, Runtime, TelemetryConfig, TelemetryFilter
from temporalio.worker import Worker

from activities.campaigns import PARALLEL_STARTS, assignment_of
from app.campaigns import Campaigns, workflow_id_of
from app.context import AppContext
from app.principal import Principal
from app.projections.campaign_counts import campaign_counts
from app.projections.projector import Projector
from app.projections.registry import all_projections
from app.reviews import SendCommandInput, send_command, state_from_log
from bench.bare_review import BareReview, BareReviewWithLocalActivity, noop
from bench.profile_split import split, table as cpu_table
from bench.reviews import free_port, process_cpu
from bench.spy import Spy
from config.logging import configure_logging
from config.settings import Settings
from directory.service import spec_from_assignment
from directory.synthetic import generate
from domain.campaign import CampaignSpec, Round, review_id_for
from domain.commands import Command
from domain.procedure import ReviewMethod
from service.demo import on_time_commands
from service.devserver import start_dev_server
from service.reviews import UPDATE_ATTEMPTS, start_review, wait_opened
from service.temporal import connect, register_search_attributes
from storage.db import make_engine
from storage.directory import DirectoryStore
from storage.eventlog import EventStore
from storage.migrate import upgrade
from storage.schema import events as events_t
from workflows.campaign_messages import CampaignProgress
from workflows.messages import CommandInput, ReviewResult
from worker import build_worker, worker_tuning

OFFICE = Principal(kind="person", person_id="office", administrator=True, via="cli")
TARGET_LAUNCH, TARGET_COMPLETION = 0.8, 0.75
ENVELOPE = ("kind", "actor_id", "reason")
OPEN_TIMEOUT = 1800.0  # a loaded shared machine opens thousands of reviews slowly; the rate is what we measure


# ---- what the machine spends --------------------------------------------------------


def peak_rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    return float("nan")


def reset_peak_rss(pid: int) -> None:
    """Start the process's high-water mark again from its current RSS (Linux:
    writing 5 to clear_refs), so each phase reports its own peak."""
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
    except OSError:
        pass  # not permitted here: the peak then spans the earlier phases too


def sqlite_bytes(path: Path) -> int:
    """Bytes of the pages a SQLite database uses, as a reader sees it (the
    write-ahead log's committed pages included, free pages not)."""
    if not path.exists():
        return 0
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)
    try:
        size = conn.execute("PRAGMA page_size").fetchone()[0]
        pages = conn.execute("PRAGMA page_count").fetchone()[0]
        free = conn.execute("PRAGMA freelist_count").fetchone()[0]
        return (pages - free) * size
    finally:
        conn.close()


class Phase:
    """Wall time, CPU of this process and of the server, and both peak RSS."""

    profile_dir: Path | None = None  # --profile: py-spy samples each phase (bench.spy)
    rate = 200

    def __init__(self, name: str, n: int, server_pid: int) -> None:
        self.name, self.n, self.server_pid = name, n, server_pid
        self.spy: Spy | None = None

    def __enter__(self) -> "Phase":
        for pid in (os.getpid(), self.server_pid):
            reset_peak_rss(pid)
        if self.profile_dir is not None:
            self.spy = Spy(self.profile_dir, self.name, self.rate).__enter__()
        self.cpu0, self.server0, self.t0 = time.process_time(), process_cpu(self.server_pid), time.perf_counter()
        return self

    def __exit__(self, *exc) -> None:
        self.seconds = time.perf_counter() - self.t0
        self.cpu = time.process_time() - self.cpu0
        self.server_cpu = process_cpu(self.server_pid) - self.server0
        self.rss, self.server_rss = peak_rss_mib(os.getpid()), peak_rss_mib(self.server_pid)
        if self.spy is not None:
            self.spy.__exit__(*exc)

    def report(self) -> dict:
        split_ms = {"cpu_ms_per_review": cpu_table(split(self.spy.out), self.rate, self.n, self.server_cpu)} if self.spy is not None and self.spy.out.exists() else {}
        return split_ms | {
            "seconds": round(self.seconds, 2), "per_s": round(self.n / self.seconds, 2), "per_min": round(self.n / self.seconds * 60, 1),
            "process_cpu_ms_per_review": round(self.cpu / self.n * 1000, 2), "server_cpu_ms_per_review": round(self.server_cpu / self.n * 1000, 2),
            "process_peak_rss_mib": self.rss, "server_peak_rss_mib": self.server_rss,
        }


# ---- the projector, timed -------------------------------------------------------------


class TimedProjector(Projector):
    """The service's projector, noting when each page committed (its last
    position and the time), so each event's lag can be read off afterwards."""

    def __init__(self, *args, **kw) -> None:
        super().__init__(*args, **kw)
        self.pages: list[tuple[int, float]] = []

    def _apply_page(self, page) -> None:
        super()._apply_page(page)
        self.pages.append((page[-1].position, time.time()))


def projection_lags(engine, pages: list[tuple[int, float]], stream_prefix: str) -> list[float]:
    """Seconds from each event's append (its ``recorded_at``) to the commit of
    the projector's page that held it, for the events of the campaign's reviews."""
    ends = [p for p, _ in pages]
    with engine.connect() as conn:
        rows = conn.execute(select(events_t.c.position, events_t.c.recorded_at).where(events_t.c.stream_id.like(f"{stream_prefix}%"))).all()
    lags = []
    for pos, recorded in rows:
        i = bisect_left(ends, pos)
        if i < len(pages):
            at = recorded if recorded.tzinfo else recorded.replace(tzinfo=timezone.utc)
            lags.append(pages[i][1] - at.timestamp())
    return lags


def opened(engine, stream_prefix: str) -> int:
    """How many review streams with this prefix hold their opening events."""
    with engine.connect() as conn:
        return conn.execute(select(func.count(func.distinct(events_t.c.stream_id))).where(events_t.c.stream_id.like(f"{stream_prefix}%"))).scalar_one()


def percentile(xs: list[float], q: float) -> float:
    if not xs:
        return float("nan")
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(q * (len(xs) - 1))))]


# ---- driving --------------------------------------------------------------------------


def note(phase: str, **figures) -> None:
    """A line on stderr as the run goes, so a run stopped early still tells
    how far it got and at what rate."""
    print(json.dumps({"phase": phase, "at": time.strftime("%H:%M:%S"), **figures}), file=sys.stderr, flush=True)


async def gathered(n: int, limit: int, one, label: str = "", every: float = 30.0) -> list:
    """``one(i)`` for i in 0..n-1 with at most ``limit`` in flight (progress
    noted every ``every`` seconds)."""
    gate = asyncio.Semaphore(limit)
    done = 0
    t0 = time.perf_counter()

    async def run(i: int):
        nonlocal done
        async with gate:
            out = await one(i)
        done += 1
        return out

    async def report() -> None:
        while True:
            await asyncio.sleep(every)
            took = time.perf_counter() - t0
            note(label, done=done, of=n, seconds=round(took, 1), per_min=round(done / took * 60, 1))

    reporter = asyncio.create_task(report()) if label else None
    tasks = [asyncio.create_task(run(i)) for i in range(n)]
    try:
        return await asyncio.gather(*tasks)
    finally:
        for t in tasks:  # one failed: stop the others before the server goes
            t.cancel()
        if reporter:
            reporter.cancel()


async def execute_update(handle: WorkflowHandle, cmd: Command) -> None:
    """A raw update as ``service.reviews.send`` sends it (resent under the same
    id when the server did not answer in time)."""
    update_id = f"cmd-{uuid.uuid4()}"
    for attempt in range(UPDATE_ATTEMPTS):
        try:
            await handle.execute_update("command", CommandInput.of(cmd), id=update_id)
            return
        except WorkflowUpdateRPCTimeoutOrCancelledError:
            if attempt == UPDATE_ATTEMPTS - 1:
                raise


async def progress_of(handle: WorkflowHandle) -> CampaignProgress:
    """The campaign's progress query; a query the loaded worker did not answer
    in time is asked again (the measurement must not end the run)."""
    while True:
        try:
            return await handle.query("progress", result_type=CampaignProgress)
        except RPCError as err:
            if err.status not in (RPCStatusCode.DEADLINE_EXCEEDED, RPCStatusCode.UNAVAILABLE, RPCStatusCode.CANCELLED) and "timeout" not in (err.message or "").lower():
                raise
            await asyncio.sleep(1.0)


def as_person(review_id: str, cmd: Command) -> tuple[Principal, SendCommandInput]:
    """The command as its actor sends it through the application layer: the
    actor signed in, the kind and its fields (the actor is the principal)."""
    body = cmd.model_dump(mode="json")
    fields = {k: v for k, v in body.items() if k not in ENVELOPE}
    return Principal(kind="person", person_id=cmd.actor_id, via="cli"), SendCommandInput(review_id=review_id, kind=body["kind"], reason=body.get("reason"), fields=fields)


async def bare_phase(client: Client, label: str, workflow_cls, activities, commands: list[list[Command]], concurrency: int, server_pid: int) -> dict:
    n = len(commands)
    queue = f"{label}-{uuid.uuid4().hex[:8]}"
    async with Worker(client, task_queue=queue, workflows=[workflow_cls], activities=activities, max_concurrent_workflow_tasks=100):
        with Phase(f"{label}.start", n, server_pid) as started:
            handles = await gathered(n, PARALLEL_STARTS, lambda i: client.start_workflow(workflow_cls.run, id=f"{label}-{i}-{queue}", task_queue=queue))
        note(f"{label}.start", **started.report())

        async def drive(i: int) -> None:
            h = handles[i]
            await wait_opened(h, timeout=OPEN_TIMEOUT)
            for cmd in commands[i]:
                await execute_update(h, cmd)
            await h.result()

        with Phase(f"{label}.complete", n, server_pid) as completed:
            await gathered(n, concurrency, drive, f"{label}.complete")
        note(f"{label}.complete", **completed.report())
        events = len((await handles[0].fetch_history()).events)
    return {"start": started.report(), "complete": completed.report(), "history_events_per_workflow": events}


class Servers:
    """The Temporal dev servers of a run: one for every part, or with
    ``fresh`` a new one (its own SQLite file) for each part, so no part meets
    the workflows an earlier part left in the server's database."""

    def __init__(self, settings: Settings, data: Path, fresh: bool) -> None:
        self.settings, self.data, self.fresh = settings, data, fresh
        self._shared: tuple | None = None
        self._running: list = []
        # the SDK core's own warnings (slow workflow tasks on a loaded machine) on stderr, not amid the table
        self.runtime = Runtime(telemetry=TelemetryConfig(logging=LoggingConfig(filter=TelemetryFilter(core_level="ERROR", other_level="ERROR"))))

    async def start(self, part: str) -> tuple[Client, int, Path]:
        """(client, server pid, the server's SQLite file) for ``part``."""
        if not self.fresh and self._shared is not None:
            return self._shared
        s = self.settings
        if self.fresh:
            s = s.model_copy(update={"data_dir": self.data / f"temporal-{part}", "dev_server_port": free_port(), "dev_ui_port": free_port()})
        server = await start_dev_server(s)
        self._running.append(server)
        client = await connect(s, runtime=self.runtime)
        await register_search_attributes(client, s.temporal_namespace)
        got = (client, server.process.pid, s.data_dir / "temporal.db")
        if not self.fresh:
            self._shared = got
        return got

    def done(self, part_pid: int) -> None:
        """A fresh part's server is stopped once the part is measured."""
        if self.fresh:
            for server in [x for x in self._running if x.process.pid == part_pid]:
                server.stop()
                self._running.remove(server)

    def stop_all(self) -> None:
        for server in self._running:
            server.stop()
        self._running.clear()


async def run(n: int, concurrency: int, batch_size: int, seed: int, floor: bool, keep: bool = False, campaign_first: bool = False, parent: Path | None = None,
              fresh_servers: bool = False) -> dict:
    data = Path(tempfile.mkdtemp(prefix="pingyi-bench-campaign-", dir=parent))
    settings = Settings(data_dir=data, dev_server_port=free_port(), dev_ui_port=free_port(), task_queue=f"bench-campaign-{uuid.uuid4().hex[:6]}")
    log_db = Path(settings.db_url.removeprefix("sqlite:///"))
    servers = Servers(settings, data, fresh_servers)
    out: dict = {"reviews": n, "order": "campaign, yardsticks" if campaign_first else "yardsticks, campaign", "servers": "one per part" if fresh_servers else "one",
                 "concurrency": concurrency, "batch_size": batch_size, "parallel_starts": PARALLEL_STARTS, "worker": worker_tuning(settings), "data_dir": str(data)}
    try:
        engine = make_engine(settings.db_url)
        upgrade(engine)
        t = time.perf_counter()
        DirectoryStore(engine).replace(generate(n, seed), source="bench.campaign")
        out["directory_import_s"] = round(time.perf_counter() - t, 2)

        events = EventStore(engine)
        campaigns = Campaigns(settings, engine, events)  # the campaign's client is given once its server runs
        cid = f"bench-{uuid.uuid4().hex[:6]}"
        spec = CampaignSpec(campaign_id=cid, period=f"{date.today().year}-Y", round=Round.YEAR_END, method=ReviewMethod.CONCENTRATED, deadlines=settings.step_deadlines())
        t = time.perf_counter()
        plan = campaigns.plan(OFFICE, spec)
        out["plan_s"] = round(time.perf_counter() - t, 2)
        if plan.total != n or plan.gaps:
            raise SystemExit(f"the synthetic organization planned {plan.total} reviews with {len(plan.gaps)} gaps, not {n} without gaps")

        # the commands each review will be sent, from the spec its start activity builds
        today = date.today()
        neighbourhoods = DirectoryStore(engine).load_neighbourhoods(e.subject_id for e in plan.entries)
        commands, rspecs = [], []
        for e in plan.entries:
            rspec = spec_from_assignment(assignment_of(e), neighbourhoods, review_id=review_id_for(cid, e.subject_id), campaign_id=cid,
                                         supervisor_ids=("office",), deadlines=spec.deadlines)
            rspecs.append(rspec)
            commands.append(on_time_commands(rspec, today))

        async def yardsticks() -> None:
            client, spid, _ = await servers.start("yardsticks")
            out["bare"] = await bare_phase(client, "bare", BareReview, [], commands, concurrency, spid)
            if floor:
                out["bare_la"] = await bare_phase(client, "bare_la", BareReviewWithLocalActivity, [noop], commands, concurrency, spid)
            servers.done(spid)

        async def review_starts() -> dict:
            """The launch's floor: the review workflow itself started N times by
            plain ``start_review`` (its real input and search attributes, as
            many in flight as the start activity keeps), with the worker and the
            projector running as in the launch; each then opens (its first task
            appends the opening events) and is terminated before the campaign."""
            raw = [r.model_copy(update={"review_id": f"rv-raw-{cid}-{r.subject.subject_id}", "campaign_id": f"raw-{cid}"}) for r in rspecs]
            client, spid, _ = await servers.start("review_start")
            async with (build_worker(client, engine, settings.task_queue, supervisor_ids=("office",), deadlines=settings.step_deadlines(), **worker_tuning(settings)) if servers.fresh
                        else contextlib.nullcontext()):
                with Phase("review.start", n, spid) as started:
                    handles = await gathered(n, PARALLEL_STARTS, lambda i: start_review(client, raw[i], settings.task_queue))
                note("review.start", **started.report())
                end = time.monotonic() + OPEN_TIMEOUT
                while await asyncio.to_thread(opened, engine, f"rv-raw-{cid}-") < n and time.monotonic() < end:  # one query, off the loop the worker runs on
                    await asyncio.sleep(1.0)
                if not servers.fresh:  # a server of its own is simply stopped
                    await gathered(n, PARALLEL_STARTS, lambda i: handles[i].terminate("bench.campaign: the launch's floor is measured"))
            servers.done(spid)
            return started.report()

        if not campaign_first:
            await yardsticks()
        stop = asyncio.Event()
        projector = TimedProjector(engine, events, all_projections())
        projecting = asyncio.create_task(projector.run(stop, settings.projection_poll_seconds))
        if servers.fresh:  # before the campaign's server and worker exist
            out["review_start"] = await review_starts()
        client, spid, engine_db = await servers.start("campaign")
        ctx = AppContext(settings, engine=engine, client=client)
        campaigns.client = client
        async with build_worker(client, engine, settings.task_queue, supervisor_ids=("office",), deadlines=settings.step_deadlines(), **worker_tuning(settings)):
            if not servers.fresh:
                out["review_start"] = await review_starts()
            bytes0 = {"engine": sqlite_bytes(engine_db), "event_log": sqlite_bytes(log_db)}
            handle = client.get_workflow_handle(workflow_id_of(cid))
            with Phase("campaign.launch", n, spid) as launched:
                await campaigns.launch(OFFICE, spec, plan.plan_id, batch_size=batch_size, count_every_seconds=5)
                while (await progress_of(handle)).started < n:
                    await asyncio.sleep(0.1)
            note("campaign.launch", **launched.report())

            async def drive(i: int) -> str:
                rid = review_id_for(cid, plan.entries[i].subject_id)
                loop = asyncio.get_running_loop()
                end = loop.time() + OPEN_TIMEOUT
                while state_from_log(ctx, rid).spec is None:  # opened: its log has the opening events (the actor's task appears)
                    if loop.time() > end:
                        raise TimeoutError(f"review {rid} did not open within {OPEN_TIMEOUT}s")
                    await asyncio.sleep(0.2)
                step = None
                for cmd in commands[i]:
                    step = (await send_command(ctx, *as_person(rid, cmd))).step
                result = await client.get_workflow_handle(rid, result_type=ReviewResult).result()
                return f"{step.value}/{result.final_step.value}"

            with Phase("campaign.complete", n, spid) as completed:
                ends = await gathered(n, concurrency, drive, "campaign.complete")
            note("campaign.complete", **completed.report())
            progress = await progress_of(handle)
            while progress.state != "completed":  # the campaign's own count sees every review closed
                await asyncio.sleep(0.5)
                progress = await progress_of(handle)
            sample = [review_id_for(cid, e.subject_id) for e in plan.entries[: min(n, 20)]]
            review_events = [len((await client.get_workflow_handle(r).fetch_history()).events) for r in sample]
            await asyncio.to_thread(projector.catch_up)
            stop.set()
            await projecting
        bytes1 = {"engine": sqlite_bytes(engine_db), "event_log": sqlite_bytes(log_db)}  # before the yardsticks of --campaign-first add to the file
        lags = projection_lags(engine, projector.pages, f"rv-{cid}-")
        live = campaign_counts(engine, cid)
        if campaign_first:
            servers.done(spid)
            await yardsticks()
        engine.dispose()
    finally:
        servers.stop_all()
        if not keep:
            shutil.rmtree(data, ignore_errors=True)

    bare, camp_launch, camp_complete = out["bare"], launched.report(), completed.report()
    out["campaign"] = {
        "launch": camp_launch, "complete": camp_complete, "closed": sum(1 for e in ends if e == "closed/closed"), "campaign_state": progress.state,
        "campaign_runs": progress.runs, "projection_closed": live.completed,
        # an on-time review's budget is the minimum; a workflow task timed out or retried on a loaded machine adds events
        "history_events_per_review": statistics.mean(review_events), "history_events_min": min(review_events), "history_events_max": max(review_events),
        "history_events_sampled": len(review_events),
        "engine_sqlite_bytes_per_review": round((bytes1["engine"] - bytes0["engine"]) / n),
        "event_log_sqlite_bytes_per_review": round((bytes1["event_log"] - bytes0["event_log"]) / n),
        "projection_lag_s": {"p50": round(percentile(lags, 0.5), 3), "p99": round(percentile(lags, 0.99), 3), "max": round(max(lags), 3) if lags else None, "events": len(lags),
                             "poll_s": settings.projection_poll_seconds},
    }
    launch_ratio = camp_launch["per_s"] / bare["start"]["per_s"]
    completion_ratio = camp_complete["per_min"] / bare["complete"]["per_min"]
    out["targets"] = {
        "launch": {"ratio": round(launch_ratio, 3), "target": TARGET_LAUNCH, "needed_per_s": round(TARGET_LAUNCH * bare["start"]["per_s"], 2), "met": launch_ratio >= TARGET_LAUNCH},
        "completion": {"ratio": round(completion_ratio, 3), "target": TARGET_COMPLETION, "needed_per_min": round(TARGET_COMPLETION * bare["complete"]["per_min"], 1), "met": completion_ratio >= TARGET_COMPLETION},
    }
    out["targets"]["launch"]["ratio_vs_review_start"] = round(camp_launch["per_s"] / out["review_start"]["per_s"], 3)
    out["targets"]["launch"]["review_start_vs_raw"] = round(out["review_start"]["per_s"] / bare["start"]["per_s"], 3)
    if floor:
        out["targets"]["completion"]["ratio_vs_bare_la"] = round(camp_complete["per_min"] / out["bare_la"]["complete"]["per_min"], 3)
        out["targets"]["completion"]["bare_la_vs_bare"] = round(out["bare_la"]["complete"]["per_min"] / bare["complete"]["per_min"], 3)
    return out


def table(r: dict) -> str:
    c, b, t = r["campaign"], r["bare"], r["targets"]
    la = r.get("bare_la")

    def verdict(x: dict) -> str:
        return "met" if x["met"] else "MISSED"

    rows = [
        ("launch (reviews started/s)", f"{c['launch']['per_s']:.1f}", f"raw start_workflow {b['start']['per_s']:.1f}/s", f"{t['launch']['ratio']:.2f}x",
         f">= {TARGET_LAUNCH}x = {t['launch']['needed_per_s']:.1f}/s: {verdict(t['launch'])}"),
        ("completed reviews/min", f"{c['complete']['per_min']:.0f}", f"bare workflow {b['complete']['per_min']:.0f}/min", f"{t['completion']['ratio']:.2f}x",
         f">= {TARGET_COMPLETION}x = {t['completion']['needed_per_min']:.0f}/min: {verdict(t['completion'])}"),
    ]
    rows.insert(1, ("  floor: the review workflow's own start", f"{r['review_start']['per_s']:.1f}", "start_review, worker running", f"{t['launch']['review_start_vs_raw']:.2f}x",
                    f"launch/floor {t['launch']['ratio_vs_review_start']:.2f}x"))
    if la:
        rows.append(("  floor: bare + no-op local activity", f"{la['complete']['per_min']:.0f}", "", f"{t['completion']['bare_la_vs_bare']:.2f}x", f"review/floor {t['completion']['ratio_vs_bare_la']:.2f}x"))
    lag = c["projection_lag_s"]
    rows += [
        ("history events per review", f"{c['history_events_per_review']:.1f}", f"bare {b['history_events_per_workflow']}", f"{c['history_events_per_review'] / b['history_events_per_workflow']:.2f}x",
         f"min {c['history_events_min']}, max {c['history_events_max']} of {c['history_events_sampled']} sampled"),
        ("engine SQLite bytes per review", f"{c['engine_sqlite_bytes_per_review']:,}", "", "", ""),
        ("event-log SQLite bytes per review", f"{c['event_log_sqlite_bytes_per_review']:,}", "", "", ""),
        ("projection lag p50 / p99 (s)", f"{lag['p50']:.2f} / {lag['p99']:.2f}", f"poll every {lag['poll_s']} s", "", f"{lag['events']} events"),
        ("peak RSS worker process (MiB)", f"{max(c['launch']['process_peak_rss_mib'], c['complete']['process_peak_rss_mib']):.0f}", f"bare {b['complete']['process_peak_rss_mib']:.0f}", "", "worker + projector + actors"),
        ("peak RSS Temporal server (MiB)", f"{max(c['launch']['server_peak_rss_mib'], c['complete']['server_peak_rss_mib']):.0f}", f"bare {b['complete']['server_peak_rss_mib']:.0f}", "", ""),
        ("CPU ms per review: process / server", f"{c['complete']['process_cpu_ms_per_review']:.0f} / {c['complete']['server_cpu_ms_per_review']:.0f}",
         f"bare {b['complete']['process_cpu_ms_per_review']:.0f} / {b['complete']['server_cpu_ms_per_review']:.0f}", "", "driving phase"),
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(5)]
    head = f"campaign of {r['reviews']} reviews ({c['closed']} closed; {r['concurrency']} driven at once), embedded default"
    return "\n".join([head] + ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in rows])


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--reviews", type=int, default=1000)
    ap.add_argument("--concurrency", type=int, default=200, help="reviews driven at once (the same for the bare workflow)")
    ap.add_argument("--batch-size", type=int, default=200, help="the campaign's reviews started per batch")
    ap.add_argument("--seed", type=int, default=1, help="of the synthetic organization")
    ap.add_argument("--no-floor", action="store_true", help="skip the completion's floor (the bare + local activity yardstick); the launch's floor always runs")
    ap.add_argument("--campaign-first", action="store_true", help="run the campaign before the yardsticks (a long run that may be stopped measures it first)")
    ap.add_argument("--fresh-servers", action="store_true", help="a new Temporal dev server (its own SQLite file) for each part: the yardsticks, the launch's floor, the campaign")
    ap.add_argument("--dir", type=Path, default=None, help="where the run's data dir is made (default: the system's temp dir)")
    ap.add_argument("--keep", action="store_true", help="keep the temp data dir (the engine's and the log's SQLite files)")
    ap.add_argument("--json", type=Path, default=None, help="also write the JSON here")
    ap.add_argument("--profile", type=Path, default=None, help="directory for py-spy profiles of each phase (CPU per review split by bench.profile_split)")
    args = ap.parse_args(argv)
    if args.reviews < 3:
        ap.error("--reviews: at least 3 (the smallest synthetic organization)")
    if args.concurrency < 1:
        ap.error("--concurrency: at least 1")
    if args.profile is not None:
        args.profile.mkdir(parents=True, exist_ok=True)
        Phase.profile_dir = args.profile
    configure_logging("console", "WARNING")
    result = asyncio.run(run(args.reviews, args.concurrency, args.batch_size, args.seed, not args.no_floor, args.keep, args.campaign_first, args.dir, args.fresh_servers))
    print(table(result))
    text = json.dumps(result, indent=2, default=str)
    print(text)
    if args.json:
        args.json.write_text(text + "\n")
    closed = result["campaign"]["closed"]
    if closed != args.reviews:
        print(f"only {closed} of {args.reviews} reviews closed", file=sys.stderr)
        raise SystemExit(1)


if __name__ == "__main__":
    main()
