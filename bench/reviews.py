"""Throughput of the embedded default: N on-time reviews driven concurrently
through all five steps, next to two yardsticks in the same process and the
same run, each receiving the same updates and setting the same step timers:
the bare workflow (nothing else), and the bare workflow plus one no-op local
activity per command (the floor of our design, where a review appends each
command's events). Prints reviews/min, history events per review and the
ratios; with ``--profile DIR`` also the CPU per review of each phase, split
into engine, SDK, sandbox, conversion, domain and append (py-spy samples of
this process, the server's CPU from /proc).

    .venv/bin/python -m bench.reviews [--reviews 200] [--rounds 1] [--runners default,sandboxed] [--profile DIR]

``--runners`` runs the review phase once per workflow runner named
(``default`` is what the worker ships with; ``sandboxed`` the SDK's default
sandbox; ``unsandboxed``), so an A/B of the runner lands in one run.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import tempfile
import time
import uuid
from datetime import date
from pathlib import Path

from temporalio.client import WorkflowUpdateRPCTimeoutOrCancelledError
from temporalio.worker import UnsandboxedWorkflowRunner, Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner

from bench.bare_review import BareReview, BareReviewWithLocalActivity, noop
from bench.profile_split import split, table
from bench.spy import Spy
from config.logging import configure_logging
from config.settings import Settings
from directory.service import iter_assignments, load_example, review_spec_for
from service.devserver import start_dev_server
from service.reviews import UPDATE_ATTEMPTS, drive_on_time, history_length, start_review, wait_opened
from service.temporal import connect, register_search_attributes
from storage.db import make_engine
from storage.migrate import upgrade
from workflows.messages import CommandInput
from worker import build_worker

OPEN_TIMEOUT = 900  # a loaded shared machine opens 200 reviews slowly; the rate is what we measure
RUNNERS = {"default": None, "sandboxed": SandboxedWorkflowRunner, "unsandboxed": UnsandboxedWorkflowRunner}  # default: what build_worker picks


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def process_cpu(pid: int) -> float:
    """user + system seconds of a process (and its reaped children) from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return sum(int(x) for x in fields[11:15]) / os.sysconf("SC_CLK_TCK")


class Phase:
    """Times one phase; with a profile directory, py-spy samples this process
    meanwhile, and the server's and this process's CPU are read around it."""

    def __init__(self, name: str, n: int, server_pid: int, profile_dir: Path | None, rate: int) -> None:
        self.name, self.n, self.server_pid, self.profile_dir, self.rate = name, n, server_pid, profile_dir, rate
        self.spy: Spy | None = None

    def __enter__(self) -> "Phase":
        self.spy = Spy(self.profile_dir, self.name, self.rate).__enter__() if self.profile_dir is not None else None
        self.server0, self.self0 = process_cpu(self.server_pid), time.process_time()
        self.t0 = time.perf_counter()
        return self

    def __exit__(self, *exc) -> None:
        self.seconds = time.perf_counter() - self.t0
        self.server_cpu = process_cpu(self.server_pid) - self.server0
        self.worker_cpu = time.process_time() - self.self0
        if self.spy is not None:
            self.spy.__exit__(*exc)

    def report(self) -> dict:
        out = {"seconds": round(self.seconds, 2), "per_min": round(self.n / self.seconds * 60, 1), "worker_process_cpu_ms_per_review": round(self.worker_cpu / self.n * 1000, 2), "server_cpu_ms_per_review": round(self.server_cpu / self.n * 1000, 2)}
        if self.spy is not None and self.spy.out.exists():
            out["cpu_ms_per_review"] = table(split(self.spy.out), self.rate, self.n, self.server_cpu)
        return out


async def run(n: int, rounds: int, runners: list[str], profile_dir: Path | None, rate: int) -> dict:
    data = Path(tempfile.mkdtemp(prefix="pingyi-bench-"))
    settings = Settings(data_dir=data, dev_server_port=free_port(), dev_ui_port=free_port())
    server = await start_dev_server(settings)
    phases: dict[str, list[dict]] = {}
    events: dict[str, int] = {}
    try:
        client = await connect(settings)
        await register_search_attributes(client, settings.temporal_namespace)
        engine = make_engine(settings.db_url)
        upgrade(engine)
        load_example(engine)
        subjects = [a.subject_id for a in iter_assignments(engine) if a.level == "B"][:n]
        today = date.today()
        sent: list = []

        def specs():
            return [
                review_spec_for(engine, subjects[i % len(subjects)], review_id=f"rv-bench-{i}-{uuid.uuid4().hex[:6]}", campaign_id="bench", supervisor_ids=("office",), deadlines=settings.step_deadlines())
                for i in range(n)
            ]

        async def review_phase(label: str, runner: str) -> None:
            batch = specs()
            factory = RUNNERS[runner]
            kwargs = {} if factory is None else {"workflow_runner": factory()}
            async with build_worker(client, engine, settings.task_queue, **kwargs):
                with Phase(label, n, server.process.pid, profile_dir, rate) as ph:

                    async def one(spec):
                        handle = await start_review(client, spec, settings.task_queue)
                        await wait_opened(handle, timeout=OPEN_TIMEOUT)
                        _, cmds = await drive_on_time(client, spec, today)
                        return cmds

                    results = await asyncio.gather(*(one(s) for s in batch))
            sent[:] = results
            phases.setdefault(label, []).append(ph.report())
            events[label] = await history_length(client, batch[0].review_id)

        async def bare_phase(label: str, workflow_cls, activities) -> None:
            queue = f"{label}-{uuid.uuid4()}"
            async with Worker(client, task_queue=queue, workflows=[workflow_cls], activities=activities, max_concurrent_workflow_tasks=100):
                with Phase(label, n, server.process.pid, profile_dir, rate) as ph:

                    async def bare(cmds):
                        h = await client.start_workflow(workflow_cls.run, id=f"{label}-{uuid.uuid4()}", task_queue=queue)
                        await wait_opened(h, timeout=OPEN_TIMEOUT)
                        for cmd in cmds:
                            update_id = f"cmd-{uuid.uuid4()}"
                            for attempt in range(UPDATE_ATTEMPTS):  # as service.reviews.send does
                                try:
                                    await h.execute_update("command", CommandInput.of(cmd), id=update_id)
                                    break
                                except WorkflowUpdateRPCTimeoutOrCancelledError:
                                    if attempt == UPDATE_ATTEMPTS - 1:
                                        raise
                        await h.result()
                        return h

                    handles = await asyncio.gather(*(bare(cmds) for cmds in sent))
            phases.setdefault(label, []).append(ph.report())
            events[label] = len((await handles[0].fetch_history()).events)

        for r in range(rounds):
            order = [("review", rn) for rn in runners] + [("bare", None), ("bare_la", None)]
            if r % 2:
                order.reverse()
            if not sent:  # the yardsticks replay the commands the reviews were sent
                order.sort(key=lambda p: p[0] != "review")
            for kind, rn in order:
                if kind == "review":
                    await review_phase(f"review[{rn}]", rn)
                elif kind == "bare":
                    await bare_phase("bare", BareReview, [])
                else:
                    await bare_phase("bare_la", BareReviewWithLocalActivity, [noop])
        engine.dispose()
    finally:
        server.stop()

    def rate_of(label: str) -> float:
        return sum(p["per_min"] for p in phases[label]) / len(phases[label])

    result: dict = {"reviews": n, "rounds": rounds, "phases": phases, "history_events": events}
    result["ratios_vs_bare"] = {label: round(rate_of(label) / rate_of("bare"), 3) for label in phases if label != "bare"}
    result["ratios_vs_bare_la"] = {label: round(rate_of(label) / rate_of("bare_la"), 3) for label in phases if label.startswith("review")}
    result["history_ratio_vs_bare"] = {label: round(v / events["bare"], 3) for label, v in events.items() if label != "bare"}
    result["peak_rss_mib"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    return result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--reviews", type=int, default=200)
    ap.add_argument("--rounds", type=int, default=1, help="alternate the phase order round by round")
    ap.add_argument("--runners", default="default", help=f"comma-separated, of {', '.join(RUNNERS)}")
    ap.add_argument("--profile", type=Path, default=None, help="directory for py-spy profiles (needs py-spy installed)")
    ap.add_argument("--rate", type=int, default=200, help="py-spy samples per second")
    args = ap.parse_args()
    runners = [r.strip() for r in args.runners.split(",") if r.strip()]
    bad = [r for r in runners if r not in RUNNERS]
    if bad:
        ap.error(f"--runners: unknown {', '.join(bad)} (known: {', '.join(RUNNERS)})")
    if args.profile is not None:
        args.profile.mkdir(parents=True, exist_ok=True)
    configure_logging("console", "WARNING")
    result = asyncio.run(run(args.reviews, args.rounds, runners, args.profile, args.rate))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
