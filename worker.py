"""The worker entry point: wires the review workflow and its activities to the
task queue. ``reviewctl serve`` runs it in-process on the embedded default;
``pingyi-worker`` runs it alone against any Temporal cluster (scale-out: start
more of them, see docker-compose.yml)."""

from __future__ import annotations

import asyncio
import concurrent.futures
import signal
from datetime import timedelta

import structlog
from sqlalchemy import Engine
from temporalio.client import Client
from temporalio.worker import UnsandboxedWorkflowRunner, Worker, WorkflowRunner

from activities.campaigns import CampaignActivities, EngineCalls, RoundActivities
from activities.delivery import start_mail_relay, stop_mail_relay
from activities.eventlog import EventLogActivities
from app.projections.registry import all_projections, keep_current, projector_for
from config.logging import configure_logging
from directory.service import load_rubrics
from config.settings import Settings, get_settings
from service.checkpointer import sign_checkpoints
from service import reviews as review_calls
from service import telemetry
from service.campaigns import launch_plan
from service.temporal import connect
from storage.db import make_engine
from storage.eventlog import EventStore
from storage.migrate import upgrade
from storage.signing import signer_from_settings
from domain.procedure import StepDeadlines
from workflows.campaign import CampaignWorkflow
from workflows.routine_round import RoutineRoundWorkflow
from workflows.review import ReviewWorkflow

log = structlog.get_logger("pingyi.worker")


def build_worker(
    client: Client,
    engine: Engine,
    task_queue: str,
    *,
    max_concurrent_activities: int = 64,
    workflow_runner: WorkflowRunner | None = None,
    supervisor_ids: tuple[str, ...] = ("office",),
    visible: bool = True,
    deadlines: StepDeadlines | None = None,
    graceful_shutdown_seconds: float = 30,
    cached_workflows: int = 1000,
    new_task_poll_ratio: float = 0.2,
) -> Worker:
    """The one place that decides what runs on a worker (also used by tests;
    ``workflow_runner`` only for a benchmark's A/B of the runner).

    Workflows run unsandboxed: the sandbox re-ran code in a fresh module
    context for every activation and every payload's serialization context,
    the largest cost of a review after the engine itself (bench.reviews
    --profile). Determinism is held instead by what the sandbox would only
    have caught at run time: the workflow modules import no I/O, take time and
    randomness from ``workflow``, and every saved history is replayed in CI
    under the SDK's sandboxed runner (tests/replay), which refuses any
    non-deterministic call on the paths those histories take."""
    eventlog = EventLogActivities(EventStore(engine))
    calls = EngineCalls(start_review=review_calls.start_review, send=review_calls.send, launch_plan=launch_plan)
    campaigns = CampaignActivities(client, engine, task_queue, supervisor_ids, calls, visible=visible)
    rounds = RoundActivities(client, engine, task_queue, deadlines or StepDeadlines(), calls)
    return Worker(
        client,
        task_queue=task_queue,
        workflows=[ReviewWorkflow, CampaignWorkflow, RoutineRoundWorkflow],
        activities=[eventlog.append, campaigns.start_reviews, campaigns.cancel_reviews, campaigns.count_reviews, rounds.launch_round],
        activity_executor=concurrent.futures.ThreadPoolExecutor(max_workers=max_concurrent_activities),
        max_concurrent_activities=max_concurrent_activities,
        max_concurrent_local_activities=max_concurrent_activities,
        workflow_runner=workflow_runner or UnsandboxedWorkflowRunner(),
        graceful_shutdown_timeout=timedelta(seconds=graceful_shutdown_seconds),
        max_cached_workflows=cached_workflows,
        nonsticky_to_sticky_poll_ratio=new_task_poll_ratio,
    )


def worker_tuning(settings: Settings) -> dict:
    """The settings' worker cache and poll share, as ``build_worker`` takes them."""
    return {"cached_workflows": settings.worker_cached_workflows, "new_task_poll_ratio": settings.worker_new_task_poll_ratio}


async def run_worker(settings: Settings, stop: asyncio.Event) -> None:
    """Until ``stop``: then drain (no new tasks; running ones get
    ``worker_shutdown_seconds`` to finish) and return."""
    engine = make_engine(settings.db_url)
    upgrade(engine)
    load_rubrics(engine)  # rubric versions an administrator registered, for the reviews that use them
    client = await connect(settings, runtime=telemetry.sdk_runtime(settings.worker_metrics_bind))
    worker = build_worker(
        client, engine, settings.task_queue, supervisor_ids=tuple(settings.supervisor_ids), deadlines=settings.step_deadlines(),
        graceful_shutdown_seconds=settings.worker_shutdown_seconds, **worker_tuning(settings),
    )
    probes = telemetry.Probes()
    probe_server = telemetry.serve_probes(settings.worker_health_bind, probes) if settings.worker_health_bind else None
    if probe_server:
        telemetry.REGISTRY.register(telemetry.ReviewGauges(client, asyncio.get_running_loop()))
        projector = projector_for(engine)
        telemetry.REGISTRY.register(telemetry.ProjectionLag(projector.positions, projector.store.head_position, [p.name for p in all_projections()]))
    heartbeat = asyncio.create_task(probes.heartbeat(stop))
    log.info("worker_started", task_queue=settings.task_queue, address=settings.address, namespace=settings.temporal_namespace)
    projections = asyncio.create_task(keep_current(engine, stop, settings.projection_poll_seconds))  # the read models follow the log
    mail = start_mail_relay(settings, engine, stop)  # the outbox by SMTP, when PINGYI_SMTP_HOST is set
    async with worker:
        probes.ready, probes.detail = True, f"polling {settings.task_queue}"
        await sign_checkpoints(engine, signer_from_settings(), settings.checkpoint_every_seconds, stop)
        probes.ready, probes.detail = False, "draining"
        log.info("worker_draining", within_seconds=settings.worker_shutdown_seconds)
    stop.set()
    await projections
    await stop_mail_relay(mail)
    await heartbeat
    if probe_server:
        probe_server.shutdown()
    engine.dispose()
    log.info("worker_stopped")


def main() -> None:
    settings = get_settings()
    configure_logging(settings.effective_log_format, settings.log_level)
    if settings.embedded:
        raise SystemExit("pingyi-worker joins an existing cluster: set TEMPORAL_ADDRESS (or use 'reviewctl serve' for the embedded default)")

    async def _main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await run_worker(settings, stop)

    asyncio.run(_main())


if __name__ == "__main__":
    main()
