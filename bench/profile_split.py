"""Split a py-spy profile of the worker process into where a review's CPU goes:
engine (the Temporal server process, measured apart, and the SDK's Rust core
behind the bridge), SDK (the Python workflow/activity machinery), sandbox,
conversion (payload converter, pydantic (de)serialisation it drives), our
domain and workflow code, the append (activity, event store, SQLite), and the
benchmark's own clients.

A sample is owned by the innermost frame that belongs to a category owner;
library frames (pydantic, copy, json, typing, the stdlib) are charged to
whoever called them, so a ``model_copy`` inside ``evolve`` is domain time and
a ``model_validate`` inside the converter is conversion time.

    py-spy record --format raw -o PHASE.txt --pid PID   (what bench.reviews --profile runs)
    .venv/bin/python -m bench.profile_split PHASE.txt --reviews N
"""

from __future__ import annotations

import argparse
import re
from collections import Counter
from pathlib import Path

# first match wins, tested innermost frame first; None = a library frame that
# is charged to its caller
OWNERS: list[tuple[str, str | None]] = [
    ("workflow_sandbox", "sandbox"),
    ("temporalio/converter", "conversion"),
    ("temporalio/contrib/pydantic", "conversion"),
    ("activities/", "append"),
    ("storage/", "append"),
    ("sqlalchemy", "append"),
    ("sqlite3", "append"),
    ("domain/", "domain"),
    ("workflows/", "domain"),
    ("bench/bare_review", "domain"),
    ("temporalio/bridge", "engine (core bridge)"),
    ("temporalio/client", "client (benchmark driver)"),
    ("service/", "client (benchmark driver)"),
    ("bench/", "client (benchmark driver)"),
    ("temporalio/", "SDK"),
    ("google/protobuf", "SDK"),
    ("structlog", "logging"),
    ("logging/", "logging"),
]
CATEGORIES = ["engine (server process)", "engine (core bridge)", "SDK", "sandbox", "conversion", "domain", "append", "logging", "client (benchmark driver)", "other"]
_FRAME = re.compile(r"^(?P<func>.*?) \((?P<file>[^:)]*)(?::\d+)?\)$")


def owner_of(stack: str) -> str:
    frames = stack.split(";")
    for frame in reversed(frames):
        m = _FRAME.match(frame.strip())
        path = m.group("file") if m else frame
        for needle, category in OWNERS:
            if path.startswith(needle) or "/" + needle in path:
                if category is not None:
                    return category
                break
    return "other"


def split(path: Path) -> Counter:
    """Samples per category from py-spy's raw (collapsed) output."""
    counts: Counter = Counter()
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        stack, _, n = line.rpartition(" ")
        if not stack or not n.isdigit():
            continue
        counts[owner_of(stack)] += int(n)
    return counts


def table(samples: Counter, rate: int, reviews: int, server_cpu: float = 0.0) -> dict[str, float]:
    """Milliseconds of CPU per review in each category."""
    per = {c: round(samples.get(c, 0) / rate / reviews * 1000, 2) for c in CATEGORIES}
    per["engine (server process)"] = round(server_cpu / reviews * 1000, 2)
    per["total"] = round(sum(v for k, v in per.items()), 2)
    return per


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("profile", type=Path)
    ap.add_argument("--reviews", type=int, required=True)
    ap.add_argument("--rate", type=int, default=200)
    args = ap.parse_args()
    for k, v in table(split(args.profile), args.rate, args.reviews).items():
        print(f"{k:28s} {v:8.2f} ms")


if __name__ == "__main__":
    main()
