"""The service commands: ``serve`` (the embedded default or a worker against a
cluster), ``status``, ``demo`` and ``outbox``."""

from __future__ import annotations

import asyncio
import json
import signal
from datetime import date, datetime, timedelta, timezone
from typing import Annotated, Optional

import typer
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from cli.common import act, err, log_engine, out, run, settings
from domain.local_time import local_text
from config.settings import Settings


def register(app: typer.Typer) -> None:
    app.command()(serve)
    app.command()(setup)
    app.command()(status)
    app.command()(demo)
    app.command()(outbox)


def serve() -> None:
    """Run Pingyi: with no TEMPORAL_ADDRESS, start the embedded Temporal dev
    server (SQLite under the data directory), migrate the database, load the
    example organization, and run the worker until Ctrl-C / SIGTERM."""
    s = settings()
    from config.logging import configure_logging

    configure_logging(s.effective_log_format, s.log_level)
    try:
        asyncio.run(_serve(s))
    except ServeStopped as e:
        err.print("[red]stopped:[/red] " + escape(str(e)), soft_wrap=True)
        raise typer.Exit(1) from None
    except RuntimeError as e:
        err.print("[red]cannot start:[/red] " + escape(str(e)), soft_wrap=True)
        raise typer.Exit(1) from None


class ServeStopped(Exception):
    """The service stopped on its own (its embedded server could not be kept running)."""


async def _serve(s: Settings) -> None:
    from service import datadir
    from service.devserver import DevServerSupervisor, start_dev_server, write_state

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    if not s.embedded:
        s.data_dir.mkdir(parents=True, exist_ok=True)
        return await _run_service(s, stop, None)
    # the embedded default owns its data directory: writable, with room, and ours alone
    datadir.check_writable(s.data_dir)
    lock = datadir.hold(s.data_dir)
    supervisor = None
    try:
        out.print(f"starting the embedded Temporal server (data in {s.data_dir.resolve()}) …")
        supervisor = DevServerSupervisor(s, await start_dev_server(s))
        watching = asyncio.create_task(supervisor.run(stop))
        try:
            await _run_service(s, stop, supervisor)
        finally:
            stop.set()
            await watching
    finally:
        if supervisor is not None:
            supervisor.server.stop()
            if supervisor.gave_up is None:
                write_state(s.data_dir, status="stopped", server_pid=None, restarts=len(supervisor.restarts), last_death=supervisor.last_death)
        lock.release()
    if supervisor is not None and supervisor.gave_up:
        raise ServeStopped(supervisor.gave_up)


async def _run_service(s: Settings, stop: asyncio.Event, supervisor) -> None:
    from service.checkpointer import sign_checkpoints
    from service.temporal import connect
    from storage.signing import signer_from_settings
    from worker import build_worker, worker_tuning

    server = supervisor.server if supervisor else None
    client = await _connect_with_retry(s, connect)
    engine = await _prepare(s, client)
    worker = build_worker(client, engine, s.task_queue, supervisor_ids=tuple(s.supervisor_ids), deadlines=s.step_deadlines(), **worker_tuning(s))
    from api.server import start_api
    from app.context import AppContext
    from pages.site import site

    api = await start_api(site(AppContext(s, engine=engine, client=client)), s.api_host, s.api_port)
    ui = server.ui_url if server else "(your cluster's Web UI)"
    out.print(
        Panel.fit(
            f"Pingyi is running.\n"
            f"  Temporal:   {s.address} (namespace {s.temporal_namespace})\n"
            f"  Web UI:     {ui}\n"
            f"  Event log:  {s.db_url}\n"
            f"  API:        {api.url}/api/v1   (docs: {api.url}/api/docs)\n\n"
            "Next, in another terminal:\n"
            "  .venv/bin/reviewctl status\n"
            "  .venv/bin/reviewctl demo                 # one review through all five steps\n"
            "  .venv/bin/reviewctl review list\n"
            "  .venv/bin/reviewctl directory plan       # who reviews whom in the example organization\n"
            "  .venv/bin/reviewctl audit verify\n"
            "Stop with Ctrl-C; running again keeps every review and its timers.",
            title="评议 Pingyi",
        )
    )
    from app.projections.registry import keep_current

    from activities.delivery import start_mail_relay, stop_mail_relay

    projections = asyncio.create_task(keep_current(engine, stop, s.projection_poll_seconds))  # the read models follow the log
    mail = start_mail_relay(s, engine, stop)  # off unless PINGYI_SMTP_HOST is set: the outbox page is the channel
    try:
        async with worker:
            await sign_checkpoints(engine, signer_from_settings(), s.checkpoint_every_seconds, stop)
    finally:
        await api.stop()
    stop.set()
    await projections
    await stop_mail_relay(mail)
    engine.dispose()
    out.print("stopped.")


async def _prepare(s: Settings, client, *, example: bool = True):
    """What must hold before a worker runs: search attributes registered, the
    database migrated, the example organization loaded unless ``example`` is
    false (each a no-op when done)."""
    from directory.service import load_example, load_rubrics
    from service.temporal import register_search_attributes
    from storage.migrate import upgrade

    await register_search_attributes(client, s.temporal_namespace)
    engine = log_engine()
    upgrade(engine)
    if example:
        load_example(engine)
    load_rubrics(engine)
    return engine


def setup(
    example: Annotated[bool, typer.Option("--example/--no-example", help="load the example organization (a production directory is imported instead)")] = True,
) -> None:
    """Prepare a cluster deployment once (docker-compose's pingyi-migrate): register
    the search attributes, migrate the database, load the example organization."""
    s = settings()
    from service.temporal import connect

    async def _go():
        engine = await _prepare(s, await _connect_with_retry(s, connect), example=example)
        engine.dispose()

    run(_go())
    out.print(f"ready: {s.address} namespace {s.temporal_namespace}; database migrated")


async def _connect_with_retry(s: Settings, connect, attempts: int = 60):
    for i in range(attempts):
        try:
            return await connect(s)
        except RuntimeError:
            if i == attempts - 1:
                raise
            await asyncio.sleep(0.5)


def status(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Exit 0 once the Temporal server and a worker are ready; otherwise say what is not."""
    s = settings()
    checks = run(_status(s))
    if as_json:
        out.print_json(json.dumps(checks))
    else:
        t = Table("component", "ready", "detail")
        for name, (ok, detail) in checks.items():
            t.add_row(name, "[green]yes[/green]" if ok else "[red]no[/red]", detail)
        out.print(t)
    if not all(ok for ok, _ in checks.values()):
        raise typer.Exit(1)


async def _status(s: Settings) -> dict[str, tuple[bool, str]]:
    from temporalio.api.enums.v1 import TaskQueueType
    from temporalio.api.taskqueue.v1 import TaskQueue
    from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest

    from service.temporal import connect

    checks: dict[str, tuple[bool, str]] = {}
    if s.embedded:
        checks["embedded server"] = embedded_server_check(s)
    try:
        client = await asyncio.wait_for(connect(s), 5)
    except (RuntimeError, asyncio.TimeoutError) as e:
        checks["temporal server"] = (False, f"not reachable at {s.address}: {e}")
        checks["worker"] = (False, "no server to ask")
        return checks
    checks["temporal server"] = (True, f"{s.address}, namespace {s.temporal_namespace}")
    now = datetime.now(timezone.utc)
    fresh = []
    for kind in (TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW, TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY):
        resp = await client.workflow_service.describe_task_queue(
            DescribeTaskQueueRequest(namespace=s.temporal_namespace, task_queue=TaskQueue(name=s.task_queue), task_queue_type=kind)
        )
        fresh.append([p for p in resp.pollers if now - p.last_access_time.ToDatetime(timezone.utc) < timedelta(minutes=1)])
    ok = all(fresh)
    checks["worker"] = (ok, f"{len(fresh[0])} polling task queue {s.task_queue}" if ok else f"nobody polls task queue {s.task_queue}")
    checks["api"] = await _api_status(s)
    return checks


def embedded_server_check(s: Settings) -> tuple[bool, str]:
    """What ``serve`` last said about the embedded server it watches: running
    (restarted how often after dying), being restarted, or given up on."""
    from service.devserver import pid_alive, read_state

    state = read_state(s.data_dir)
    if state is None:
        return (False, f"no 'reviewctl serve' has run on {s.data_dir.resolve()}")
    status, since = state.get("status"), str(state.get("at", ""))[:19].replace("T", " ")
    died = f"; it died {state['last_death']}" if state.get("last_death") else ""
    if status in ("running", "restarting") and not pid_alive(int(state.get("serve_pid") or 0)):
        return (False, f"'reviewctl serve' (pid {state.get('serve_pid')}) is gone without stopping cleanly; start it again")
    if status == "running":
        restarts = int(state.get("restarts") or 0)
        again = f", restarted {restarts} time(s) by serve{died}" if restarts else ""
        return (True, f"pid {state.get('server_pid')}, watched by serve (pid {state.get('serve_pid')}){again}")
    if status == "restarting":
        return (False, f"serve is restarting it (attempt {state.get('attempt')} of {state.get('of')}){died}")
    if status == "gave up":
        return (False, f"serve gave up and exited at {since} UTC: {state.get('message')}")
    return (False, f"serve stopped at {since} UTC")


async def _api_status(s: Settings) -> tuple[bool, str]:
    import httpx

    try:
        async with httpx.AsyncClient(timeout=3) as c:
            resp = await c.get(f"{s.api_url}/api/v1/auth/whoami")
    except httpx.HTTPError as e:
        return False, f"not answering at {s.api_url}: {e.__class__.__name__}"
    if resp.status_code != 200:
        return False, f"{s.api_url} answered {resp.status_code}"
    return True, f"{s.api_url}/api/v1 (docs {s.api_url}/api/docs)"


def demo(as_json: Annotated[bool, typer.Option("--json", help='print {"review_id", "final_step", "history_events"}')] = False) -> None:
    """Start one review of a small example subject and drive it through all five
    steps with simulated actors, using the same commands a person sends."""
    s = settings()
    result = run(_demo(s, progress=not as_json))
    if as_json:
        print(json.dumps(result, ensure_ascii=False))
    else:
        out.print(Panel.fit("\n".join(f"{k}: {v}" for k, v in result.items()), title="demo review"))


async def _demo(s: Settings, progress: bool) -> dict:
    from directory.service import iter_assignments, load_example, review_spec_for
    from domain.procedure import SubjectKind
    from service.reviews import drive_on_time, history_length, new_review_id, start_review
    from service.temporal import connect
    from storage.migrate import upgrade

    engine = log_engine()
    upgrade(engine)
    load_example(engine)
    # a small example: the first basic-level branch of the example organization
    subject = next((a for a in iter_assignments(engine, kind=SubjectKind.ORGANIZATION) if a.level == "B"), None)
    if subject is None:
        raise RuntimeError("the directory has no basic-level organization to review; import one with 'reviewctl directory import'")
    spec = review_spec_for(
        engine, subject.subject_id, review_id=new_review_id(s.default_campaign, subject.subject_id), campaign_id=s.default_campaign,
        supervisor_ids=tuple(s.supervisor_ids), deadlines=s.step_deadlines(),
    )
    client = await connect(s)
    if progress:
        out.print(f"reviewing {subject.subject_id} ({spec.level.value}, {spec.unit_category.value}) by {spec.reviewer_id}: {spec.review_id}")
    await start_review(client, spec, s.task_queue)
    result, sent = await drive_on_time(client, spec, date.today())
    return {"review_id": spec.review_id, "final_step": result.final_step.value, "subject_id": spec.subject.subject_id, "history_events": await history_length(client, spec.review_id), "commands": len(sent), "log_events": result.version}


def outbox(
    recipient: Annotated[Optional[str], typer.Option(help="only messages to this person")] = None,
    review: Annotated[Optional[str], typer.Option(help="only messages of this review")] = None,
    limit: Annotated[int, typer.Option(min=1, max=500)] = 50,
    cursor: Annotated[Optional[str], typer.Option(help="the next page: the cursor the previous page printed")] = None,
    actor: Annotated[Optional[str], typer.Option(help="as whom (development; default: every message, the auditor's view)")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """The messages the embedded notifier wrote: task prompts, reminders, escalations."""
    from app.outbox import OutboxInput, read_outbox

    s = settings()
    page = act(read_outbox, OutboxInput(recipient_id=recipient, review_id=review, limit=limit, cursor=cursor), s, actor=actor)
    if as_json:
        print(page.model_dump_json(indent=2))
        return
    t = Table("id", "review", "to", "kind", "subject", f"created ({s.timezone})")
    for m in page.items:
        t.add_row(str(m.id), Text(m.review_id), Text(m.recipient_id), m.kind, Text(m.subject), local_text(m.created_at, s.tz))
    out.print(t)
    if page.next_cursor:
        out.print(f"more: --cursor {page.next_cursor}", markup=False)
