"""The task inbox of one reviewer with many reviews in the store, at the
application layer: N reviews whose events come from the real domain
(``start`` / ``decide`` / ``evolve``) appended through the real EventStore,
projected by the real projector, then ``app.tasks.task_inbox`` for one
reviewer timed against the baseline without read models (read the whole log
and fold every review, as a list would have to), in the same run.

    .venv/bin/python -m bench.inbox [--reviews 10000] [--reviewers 200] [--db URL] [--repeat 50]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from datetime import datetime, timedelta, timezone
from pathlib import Path

from app.context import AppContext
from app.principal import Principal
from app.tasks import InboxInput, task_inbox
from config.settings import Settings
from domain import commands as c
from domain.events import ReviewSpec, Subject, from_record, to_records
from domain.procedure import StepDeadlines, SubjectKind
from domain.review import decide, fold, start
from domain.rubric import CURRENT_RUBRIC_VERSION, SubjectLevel, UnitCategory, rubric
from domain.tasks import open_tasks
from service import demo
from storage.db import make_engine
from storage.eventlog import EventStore
from storage.migrate import upgrade

T0 = datetime(2026, 11, 2, 1, 0, tzinfo=timezone.utc)


def spec_for(i: int, reviewers: int, campaign: str = "bench") -> ReviewSpec:
    level, category = SubjectLevel.B, UnitCategory.WINDOW_SERVICE
    return ReviewSpec(
        review_id=f"rv-{campaign}-{i:06d}", campaign_id=campaign,
        subject=Subject(kind=SubjectKind.ORGANIZATION, subject_id=f"U-B{i:06d}", unit_id=f"U-B{i:06d}", leader_id=f"P-S{i:06d}"),
        level=level, unit_category=category, tier=4, reviewer_id=f"P-R{i % reviewers:04d}", supervisor_ids=("office",),
        rubric_version=CURRENT_RUBRIC_VERSION, rubric_points=tuple(p.code for p in rubric().points_for(level, category)),
        deadlines=StepDeadlines(), explanation=f"reviewer of U-B{i:06d}: secretary of the parent organization",
    )


def populate(store: EventStore, reviews: int, reviewers: int, campaign: str = "bench", *, reviewer_of=None) -> None:
    """Every review opened; one in three has its findings recorded, one in
    six moved on to soliciting opinions, one in ten cancelled: commands decided
    by the domain, as the workflow would. ``reviewer_of(i)`` may name a
    reviewer for review ``i`` (None keeps the generated one)."""
    for i in range(reviews):
        spec = spec_for(i, reviewers, campaign)
        if reviewer_of is not None and (person := reviewer_of(i)) is not None:
            spec = spec.model_copy(update={"reviewer_id": person})
        now = T0 + timedelta(seconds=i)
        events = start(spec, now)
        state = fold(events)
        cmds: list[c.Command] = []
        if i % 3 == 0:
            cmds.append(demo.findings(spec))
            if i % 6 == 0:
                cmds.append(c.CloseInvestigation(actor_id=spec.reviewer_id))
        if i % 10 == 1:
            cmds.append(c.CancelReview(actor_id="office", reason="merged"))
        for cmd in cmds:
            more = decide(state, cmd, now)
            events += more
            state = fold(more, state)
        store.append(spec.review_id, 0, to_records(spec.review_id, 0, events, f"start:bench-{i}"))


def baseline_inbox(store: EventStore, person: str) -> list:
    """Without read models: read the whole log, fold every review, keep its tasks for ``person``."""
    streams: dict[str, list] = defaultdict(list)
    for r in store.read_all():
        streams[r.stream_id].append(from_record(r))
    tasks = []
    for evs in streams.values():
        tasks += [t for t in open_tasks(fold(evs)) if t.person_id == person]
    return sorted(tasks, key=lambda t: t.due_at)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reviews", type=int, default=10_000)
    ap.add_argument("--reviewers", type=int, default=200)
    ap.add_argument("--repeat", type=int, default=50)
    ap.add_argument("--db", help="SQLAlchemy URL (default: a SQLite file in a temporary folder)")
    args = ap.parse_args(argv)

    with tempfile.TemporaryDirectory() as tmp:
        url = args.db or f"sqlite:///{Path(tmp) / 'bench-inbox.db'}"
        engine = make_engine(url)
        upgrade(engine)
        store = EventStore(engine)
        t = time.perf_counter()
        populate(store, args.reviews, args.reviewers)
        t_fill = time.perf_counter() - t
        ctx = AppContext(Settings(database_url=url, data_dir=Path(tmp)), engine=engine)
        t = time.perf_counter()
        projected = ctx.projector.catch_up()
        t_project = time.perf_counter() - t
        person = "P-R0007"
        principal = Principal(kind="person", person_id=person, via="cli")

        async def inbox():
            return await task_inbox(ctx, principal, InboxInput(limit=50))

        loop = asyncio.new_event_loop()
        first = loop.run_until_complete(inbox())
        app_times = []
        for _ in range(args.repeat):
            t = time.perf_counter()
            page = loop.run_until_complete(inbox())
            app_times.append(time.perf_counter() - t)
        loop.close()
        base_times = []
        for _ in range(max(1, min(3, args.repeat))):
            t = time.perf_counter()
            base = baseline_inbox(store, person)
            base_times.append(time.perf_counter() - t)
        # the projection answers what the fold answers
        assert [x.review_id for x in page.items] == [x.review_id for x in first.items]
        assert [x.due_at for x in page.items] == [tk.due_at for tk in base][: len(page.items)], "projection and fold disagree"
        assert len(page.items) == min(50, len(base))
        app_ms = statistics.median(app_times) * 1000
        base_ms = statistics.median(base_times) * 1000
        print(f"database: {engine.dialect.name}; {args.reviews} reviews, {store.head_position()} events; filled in {t_fill:.1f}s; projected {projected} events in {t_project:.1f}s")
        print(f"inbox of {person}: {len(page.items)} tasks shown of {len(base)} open")
        print(f"  app.tasks.task_inbox (projection)  median {app_ms:8.2f} ms  p95 {sorted(app_times)[int(0.95 * len(app_times)) - 1] * 1000:8.2f} ms  ({args.repeat} calls)")
        print(f"  baseline: fold the whole log       median {base_ms:8.2f} ms  ({len(base_times)} calls)")
        print(f"  speed-up {base_ms / app_ms:.0f}x; target < 50 ms: {'met' if app_ms < 50 else 'MISSED'}")
        engine.dispose()
        if app_ms >= 50:
            sys.exit(1)


if __name__ == "__main__":
    main()
