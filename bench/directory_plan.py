"""Benchmark: plan a generated organization of 100 000 subjects (time and
peak memory, in a fresh process, loading from the database the way
``reviewctl directory plan`` does), and the CSV import rate.

    .venv/bin/python -m bench.directory_plan [--subjects 100000] [--db URL]

Not a timed test: numbers depend on the machine; the targets are < 10 s and
< 1 GiB for planning 100 000 subjects.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def plan_in_this_process(url: str) -> dict:
    """Load the stored directory and plan it; run in a fresh interpreter so the
    peak memory is the plan's, not the generator's."""
    t0 = time.perf_counter()
    from directory.service import plan_period
    from storage.db import make_engine

    engine = make_engine(url)
    t_import = time.perf_counter()
    d, assignments, summary = plan_period(engine)
    t_done = time.perf_counter()
    from domain.coverage import plan

    t_mem = time.perf_counter()
    plan(d)
    t_mem_done = time.perf_counter()
    return {
        "subjects": summary.subjects_in_scope,
        "assignments": summary.total,
        "gaps": len(summary.gaps),
        "load_and_plan_s": round(t_done - t_import, 3),
        "plan_in_memory_s": round(t_mem_done - t_mem, 3),
        "process_s": round(t_done - t0, 3),
        "peak_rss_mib": round(_peak_rss_mib(), 1),
    }


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--subjects", type=int, default=100_000)
    ap.add_argument("--db", help="SQLAlchemy URL (default: a fresh SQLite file in a temp dir)")
    ap.add_argument("--plan-only", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.plan_only:
        print(json.dumps(plan_in_this_process(args.plan_only)))
        return

    from directory.csv_files import read_csv_dir, write_csv_dir
    from directory.synthetic import generate
    from storage.db import make_engine
    from storage.directory import DirectoryStore
    from storage.migrate import upgrade

    with tempfile.TemporaryDirectory(prefix="pingyi-bench-") as tmp:
        url = args.db or f"sqlite:///{tmp}/bench.db"
        t = time.perf_counter()
        d = generate(args.subjects)
        t_gen = time.perf_counter() - t
        write_csv_dir(d, Path(tmp) / "csv")
        rows = len(d.units) + len(d.people) + len(d.memberships)
        del d

        engine = make_engine(url)
        upgrade(engine)
        t = time.perf_counter()
        parsed = read_csv_dir(Path(tmp) / "csv")
        t_parse = time.perf_counter() - t
        t = time.perf_counter()
        DirectoryStore(engine).replace(parsed, source="bench")
        t_write = time.perf_counter() - t
        engine.dispose()
        del parsed

        out = subprocess.run([sys.executable, "-m", "bench.directory_plan", "--plan-only", url],
                             check=True, capture_output=True, text=True)
        planned = json.loads(out.stdout)

    print(f"directory plan benchmark ({args.subjects} subjects, {engine.dialect.name})")
    print(f"  generated in                 {t_gen:8.2f} s")
    print(f"  CSV import: {rows} rows (units+people+memberships)")
    print(f"    validate (pydantic)        {t_parse:8.2f} s")
    print(f"    write (one transaction)    {t_write:8.2f} s")
    print(f"    rate                       {rows / (t_parse + t_write):8.0f} rows/s  ({planned['subjects'] / (t_parse + t_write):.0f} subjects/s)")
    print(f"  plan (fresh process): {planned['assignments']} assignments, {planned['gaps']} gaps")
    print(f"    load from DB + plan        {planned['load_and_plan_s']:8.2f} s")
    print(f"    plan in memory             {planned['plan_in_memory_s']:8.2f} s")
    print(f"    peak RSS                   {planned['peak_rss_mib']:8.1f} MiB")


if __name__ == "__main__":
    main()
