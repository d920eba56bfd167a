"""A supervisor's live counts for a campaign of N reviews (default 100,000)
from the review projection: open reviews by step x tier, completed,
cancelled, overdue and the overdue list, on the embedded default (SQLite).
Prints the query's median and worst time over repeated reads, next to a
direct COUNT(*) of the campaign's rows in the same run (the floor), and the
target (< 200 ms).

    .venv/bin/python -m bench.campaign_counts [--reviews 100000]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import func, insert, select

from app.projections.campaign_counts import campaign_counts
from app.projections.schema import review_summaries as rs
from storage.db import make_engine
from storage.migrate import upgrade

STEPS = ["investigate", "solicit_opinions", "review", "notify", "rectify"]


def fill(engine, n: int, campaign_id: str) -> None:
    rng = random.Random(1)
    now = datetime.now(timezone.utc)
    rows = []
    for i in range(n):
        status = rng.choices(["open", "closed", "cancelled"], [80, 18, 2])[0]
        step = rng.choice(STEPS) if status == "open" else status
        rows.append(dict(
            review_id=f"rv-{campaign_id}-P-{i:07d}", campaign_id=campaign_id, subject_id=f"P-{i:07d}", subject_kind="member", subject_name="x", unit_id=f"U-{i // 50:05d}",
            tier=rng.randint(1, 4), level="C", reviewer_id=f"P-R{i // 50:05d}", co_reviewer_ids="[]", subject_person_ids="[]", step=step, due_at=now,
            overdue=status == "open" and rng.random() < 0.05, status=status, started_at=now, last_event_type="review.step_started", last_event_at=now,
            last_position=i, version=3, state="{" + "\"pad\": \"" + "x" * 2000 + "\"}",  # a folded state's size, so a scan would show
        ))
        if len(rows) == 5000:
            with engine.begin() as conn:
                conn.execute(insert(rs), rows)
            rows = []
    if rows:
        with engine.begin() as conn:
            conn.execute(insert(rs), rows)


def timed(fn, repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t0) * 1000)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--reviews", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=20)
    args = ap.parse_args()
    db = Path(tempfile.mkdtemp(prefix="pingyi-counts-")) / "log.db"
    engine = make_engine(f"sqlite:///{db}")
    upgrade(engine)
    fill(engine, args.reviews, "big")
    fill(engine, args.reviews // 10, "other")  # another campaign's rows in the same table
    counts = campaign_counts(engine, "big")
    query = timed(lambda: campaign_counts(engine, "big"), args.repeat)

    def floor():
        with engine.connect() as conn:
            conn.execute(select(func.count()).select_from(rs).where(rs.c.campaign_id == "big")).scalar_one()

    base = timed(floor, args.repeat)
    print(json.dumps({
        "reviews": args.reviews, "started": counts.started, "open_by_step": {k: sum(v.values()) for k, v in counts.by_step_tier.items()}, "overdue": counts.overdue,
        "counts_ms_median": round(statistics.median(query), 1), "counts_ms_max": round(max(query), 1),
        "count_star_ms_median": round(statistics.median(base), 1), "ratio_vs_count_star": round(statistics.median(query) / statistics.median(base), 2),
        "target_ms": 200, "db_mib": round(db.stat().st_size / 2**20, 1),
    }, indent=2))
    engine.dispose()


if __name__ == "__main__":
    main()
