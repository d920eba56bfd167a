"""Server time of the two heaviest pages with 10,000 reviews in the store: a
reviewer's task list (/tasks) and the dashboard over every review (/dashboard,
as an auditor: no scope limit), rendered by the real FastAPI application (API
+ pages) in process through httpx's ASGI transport, signed in with the real
session cookie. The reviews' events come from the real domain (bench.inbox's
population), projected by the real projector. Baseline in the same run: the
sign-in page, which renders a template and reads nothing.

    .venv/bin/python -m bench.pages [--reviews 10000] [--reviewers 200] [--repeat 30]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

from app.accounts import CLI_ADMIN, Accounts, AddAccount, GrantRole
from app.context import AppContext
from bench.inbox import populate as inbox_populate
from config.settings import Settings
from directory.service import load_example
from domain.accounts import StandingRole
from storage.db import make_engine
from storage.migrate import upgrade

TARGET_MS = 200
PERSON = "P-000368"  # a reviewer of the example organization: the bench gives them every 200th review


def populate(ctx: AppContext, reviews: int, reviewers: int) -> None:
    """bench.inbox's population, with PERSON the reviewer of every
    ``reviewers``-th review so their task list has work on it."""
    inbox_populate(ctx.events, reviews, reviewers, reviewer_of=lambda i: PERSON if i % reviewers == 7 else None)


async def timed(client: httpx.AsyncClient, path: str, repeat: int) -> tuple[list[float], int]:
    first = await client.get(path)
    assert first.status_code == 200, f"{path}: {first.status_code} {first.text[:300]}"
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        r = await client.get(path)
        times.append(time.perf_counter() - t)
        assert r.status_code == 200
    return times, len(first.content)


def ms(times: list[float]) -> tuple[float, float]:
    s = sorted(times)
    return statistics.median(s) * 1000, s[max(0, int(0.95 * len(s)) - 1)] * 1000


async def run(args) -> int:
    from pages.site import site

    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench-pages.db'}"
        engine = make_engine(url)
        upgrade(engine)
        load_example(engine)
        settings = Settings(database_url=url, data_dir=Path(tmp), session_cookie_secure=False, dev_sign_in=True)
        ctx = AppContext(settings, engine=engine)
        t = time.perf_counter()
        populate(ctx, args.reviews, args.reviewers)
        t_fill = time.perf_counter() - t
        t = time.perf_counter()
        projected = ctx.projector.catch_up()
        t_project = time.perf_counter() - t
        accounts = Accounts.of(ctx)
        accounts.add_account(CLI_ADMIN, AddAccount(person_id=PERSON))
        accounts.grant(CLI_ADMIN, GrantRole(person_id=PERSON, role=StandingRole.AUDITOR))
        app = site(ctx, accounts=accounts)
        session = accounts.dev_sign_in(PERSON, "bench")
        from api.security import SESSION_COOKIE, _signer

        cookies = {SESSION_COOKIE: _signer(settings).dumps(session.session_id)}
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench", cookies=cookies) as client:
            base, base_size = await timed(client, "/signin", args.repeat)
            tasks, tasks_size = await timed(client, "/tasks", args.repeat)
            dash, dash_size = await timed(client, "/dashboard", args.repeat)
            dash_f, _ = await timed(client, "/dashboard?tier=4&overdue=no&step=investigate", args.repeat)
        engine.dispose()
    b, _ = ms(base)
    print(f"{args.reviews} reviews; filled in {t_fill:.1f}s; projected {projected} events in {t_project:.1f}s; {args.repeat} requests each (median, p95)")
    print(f"  baseline /signin (no data)            {b:8.2f} ms  {base_size:>8} bytes")
    worst = 0.0
    for name, times, size in (("/tasks (one reviewer)", tasks, tasks_size), ("/dashboard (all reviews)", dash, dash_size), ("/dashboard filtered", dash_f, None)):
        med, p95 = ms(times)
        worst = max(worst, p95)
        print(f"  {name:<37} {med:8.2f} ms  p95 {p95:8.2f} ms  {b and med / b:6.1f}x baseline" + (f"  {size} bytes" if size else ""))
    print(f"  target p95 < {TARGET_MS} ms server time: {'met' if worst < TARGET_MS else 'MISSED'}")
    return 0 if worst < TARGET_MS else 1


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reviews", type=int, default=10_000)
    ap.add_argument("--reviewers", type=int, default=200)
    ap.add_argument("--repeat", type=int, default=30)
    args = ap.parse_args(argv)
    sys.exit(asyncio.run(run(args)))


if __name__ == "__main__":
    main()
