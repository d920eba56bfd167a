"""``bench.campaign`` runs end to end on five reviews: every review launched by
the campaign and driven through the application layer closes, the campaign
sees them closed, the projection counts them, and each figure the benchmark
prints is there (no rate is asserted: speed lives in the benchmark's own
output, not in a test)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from helpers import REPO


@pytest.mark.parametrize("order", [[], ["--campaign-first", "--fresh-servers"]], ids=["one-server", "campaign-first-fresh-servers"])
def test_the_campaign_benchmark_runs_on_five_reviews(tmp_path, order):
    out = tmp_path / "campaign.json"
    run = subprocess.run([sys.executable, "-m", "bench.campaign", "--reviews", "5", "--concurrency", "5", "--no-floor", "--json", str(out), "--dir", str(tmp_path), "--keep", *order],
                         cwd=REPO, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr[-3000:]
    got = json.loads(out.read_text())
    servers = sorted(p.parent.name for p in tmp_path.glob("pingyi-bench-campaign-*/**/temporal.db"))
    # a server of its own for each part: nothing the other parts started is in the campaign's database
    assert (got["servers"], servers) == (("one per part", ["temporal-campaign", "temporal-review_start", "temporal-yardsticks"]) if order
                                         else ("one", [next(tmp_path.glob("pingyi-bench-campaign-*")).name]))
    c = got["campaign"]
    assert (c["closed"], c["projection_closed"], c["campaign_state"]) == (5, 5, "completed")
    # the history budget (tests/workflows/test_history_budget.py); a workflow task retried on a loaded machine adds events
    assert c["history_events_min"] == 75 and c["history_events_max"] >= 75 and c["history_events_sampled"] == 5
    assert c["engine_sqlite_bytes_per_review"] > 0 and c["event_log_sqlite_bytes_per_review"] > 0
    lag = c["projection_lag_s"]
    assert lag["events"] == 5 * 16 and 0 <= lag["p50"] <= lag["p99"]  # every event of the five reviews was projected
    for phase in (c["launch"], c["complete"], got["bare"]["start"], got["bare"]["complete"], got["review_start"]):
        assert phase["per_s"] > 0 and phase["process_peak_rss_mib"] > 0 and phase["server_peak_rss_mib"] > 0
    assert set(got["targets"]) == {"launch", "completion"}
    assert "launch (reviews started/s)" in run.stdout and "completed reviews/min" in run.stdout and "the review workflow's own start" in run.stdout
    assert got["targets"]["launch"]["ratio_vs_review_start"] > 0
