"""What one review costs, for docs/capacity.md: N on-time reviews on a local
Temporal dev server with the event log on PostgreSQL (a database of its own),
the payload codec on, the worker in this process. Prints JSON:

- history events and bytes per review (the history as the engine stores it,
  sealed), and bytes per review opened by the codec, for comparison;
- event-log rows (events, outbox messages) and bytes per review (PostgreSQL's
  relation sizes, indexes included, before/after);
- CPU seconds per review of this process (worker + the driving client) and of
  the Temporal server process;
- launch rate (starts/s, all N at once) and completion rate (reviews/min while
  N are driven concurrently).

    .venv/bin/python -m bench.footprint [--reviews 50]
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

from sqlalchemy import create_engine, text

from config.logging import configure_logging
from config.settings import Settings
from directory.service import iter_assignments, load_example, review_spec_for
from service.devserver import start_dev_server
from service.reviews import drive_on_time, start_review
from service.temporal import connect
from storage.db import make_engine
from storage.migrate import upgrade
from worker import build_worker

PG_ADMIN = f"postgresql+psycopg://postgres@{os.environ.get('PINGYI_TEST_PG_HOST', '127.0.0.1')}:{os.environ.get('PINGYI_TEST_PG_PORT', '5432')}/postgres"
RELATIONS = ("events", "outbox", "log_head")


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cpu_self() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def cpu_of(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def relation_bytes(engine) -> int:
    with engine.connect() as conn:
        return sum(conn.execute(text("SELECT pg_total_relation_size(:r)"), {"r": r}).scalar() or 0 for r in RELATIONS)


async def main(n: int) -> dict:
    configure_logging("console", "WARNING")
    name = f"pingyi_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))
    url = PG_ADMIN.rsplit("/", 1)[0] + f"/{name}"
    tmp = Path(tempfile.mkdtemp(prefix="pingyi-footprint-"))
    settings = Settings(data_dir=tmp, dev_server_port=free_port(), dev_ui_port=free_port(), database_url=url)
    server = await start_dev_server(settings)
    engine = make_engine(url)
    try:
        upgrade(engine)
        load_example(engine)
        client = await connect(settings)
        queue = f"footprint-{uuid.uuid4().hex[:6]}"
        subject = next(a for a in iter_assignments(engine) if a.level == "B")
        specs = [review_spec_for(engine, subject.subject_id, review_id=f"rv-fp-{i}-{queue}", campaign_id="bench", supervisor_ids=("office",), deadlines=settings.step_deadlines()) for i in range(n)]
        with engine.connect() as conn:
            rows_before = {t: conn.execute(text(f"SELECT count(*) FROM {t}")).scalar() for t in ("events", "outbox")}
        bytes_before = relation_bytes(engine)
        async with build_worker(client, engine, queue):
            cpu0, srv0, t0 = cpu_self(), cpu_of(server.process.pid), time.perf_counter()
            await asyncio.gather(*(start_review(client, s, queue) for s in specs))
            launched = time.perf_counter() - t0
            results = await asyncio.gather(*(drive_on_time(client, s, date.today()) for s in specs))
            took = time.perf_counter() - t0
            cpu, srv = cpu_self() - cpu0, cpu_of(server.process.pid) - srv0
        assert all(r.final_step.value == "closed" for r, _ in results)
        with engine.connect() as conn:
            rows = {t: conn.execute(text(f"SELECT count(*) FROM {t}")).scalar() - rows_before[t] for t in ("events", "outbox")}
            payload = conn.execute(text("SELECT sum(octet_length(payload)) FROM events")).scalar()
        with admin.connect() as c:
            c.execute(text("CHECKPOINT"))
        log_bytes = relation_bytes(engine) - bytes_before
        events, sealed, opened = 0, 0, 0
        from temporalio.client import Client

        raw = Client(client.service_client, namespace=client.namespace)
        for s in specs[: min(n, 10)]:
            h = await raw.get_workflow_handle(s.review_id).fetch_history()
            events += len(h.events)
            sealed += sum(e.ByteSize() for e in h.events)
            opened += len((await client.get_workflow_handle(s.review_id).fetch_history()).to_json().encode())
        sampled = min(n, 10)
        return {
            "reviews": n,
            "history_events_per_review": events / sampled,
            "history_bytes_per_review_sealed_protobuf": round(sealed / sampled),
            "history_json_bytes_per_review_decoded": round(opened / sampled),
            "log_events_per_review": rows["events"] / n,
            "outbox_messages_per_review": rows["outbox"] / n,
            "log_payload_bytes_per_review": round(payload / n),
            "log_bytes_per_review_with_indexes": round(log_bytes / n),
            "worker_and_client_cpu_s_per_review": round(cpu / n, 4),
            "temporal_server_cpu_s_per_review": round(srv / n, 4),
            "launch_starts_per_s": round(n / launched, 1),
            "completed_reviews_per_min": round(n / took * 60, 1),
            "wall_s": round(took, 1),
        }
    finally:
        engine.dispose()
        server.stop()
        with admin.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--reviews", type=int, default=50)
    print(json.dumps(asyncio.run(main(ap.parse_args().reviews)), indent=2))
