"""Throughput of the embedded default: N on-time reviews driven concurrently
through all five steps, next to the bare workflow (same updates, same step
timers, nothing else) in the same run. Prints reviews/min, history events per
review, and the ratios.

    .venv/bin/python -m bench.reviews [--reviews 200]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import tempfile
import time
import uuid
from datetime import date
from pathlib import Path

from temporalio.worker import Worker

from bench.bare_review import BareReview
from config.logging import configure_logging
from config.settings import Settings
from directory.service import iter_assignments, load_example, review_spec_for
from service.devserver import start_dev_server
from service.reviews import drive_on_time, history_length, start_review, wait_opened
from service.temporal import connect, register_search_attributes
from storage.db import make_engine
from storage.migrate import upgrade
from workflows.messages import CommandInput
from worker import build_worker


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def run(n: int) -> dict:
    data = Path(tempfile.mkdtemp(prefix="pingyi-bench-"))
    settings = Settings(data_dir=data, dev_server_port=free_port(), dev_ui_port=free_port())
    server = await start_dev_server(settings)
    try:
        client = await connect(settings)
        await register_search_attributes(client, settings.temporal_namespace)
        engine = make_engine(settings.db_url)
        upgrade(engine)
        load_example(engine)
        subjects = [a.subject_id for a in iter_assignments(engine) if a.level == "B"][:n]
        specs = [
            review_spec_for(engine, subjects[i % len(subjects)], review_id=f"rv-bench-{i}-{uuid.uuid4().hex[:6]}", campaign_id="bench", supervisor_ids=("office",), deadlines=settings.step_deadlines())
            for i in range(n)
        ]
        today = date.today()

        async with build_worker(client, engine, settings.task_queue):
            t0 = time.perf_counter()

            async def one(spec):
                await start_review(client, spec, settings.task_queue)
                _, sent = await drive_on_time(client, spec, today)
                return sent

            results = await asyncio.gather(*(one(s) for s in specs))
            review_secs = time.perf_counter() - t0
        review_events = await history_length(client, specs[0].review_id)

        bare_queue = f"bare-{uuid.uuid4()}"
        async with Worker(client, task_queue=bare_queue, workflows=[BareReview], max_concurrent_workflow_tasks=100):
            t0 = time.perf_counter()

            async def bare(sent):
                h = await client.start_workflow(BareReview.run, id=f"bare-{uuid.uuid4()}", task_queue=bare_queue)
                await wait_opened(h)
                for cmd in sent:
                    await h.execute_update("command", CommandInput.of(cmd))
                await h.result()
                return h

            handles = await asyncio.gather(*(bare(sent) for sent in results))
            bare_secs = time.perf_counter() - t0
        bare_events = len((await handles[0].fetch_history()).events)
        engine.dispose()
    finally:
        server.stop()
    return {
        "reviews": n,
        "review_seconds": round(review_secs, 2),
        "reviews_per_min": round(n / review_secs * 60, 1),
        "bare_seconds": round(bare_secs, 2),
        "bare_per_min": round(n / bare_secs * 60, 1),
        "rate_ratio_review_vs_bare": round((n / review_secs) / (n / bare_secs), 3),
        "history_events_review": review_events,
        "history_events_bare": bare_events,
        "history_ratio": round(review_events / bare_events, 3),
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--reviews", type=int, default=200)
    args = ap.parse_args()
    configure_logging("console", "WARNING")
    result = asyncio.run(run(args.reviews))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
