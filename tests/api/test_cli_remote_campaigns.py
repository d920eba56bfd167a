"""``reviewctl --api URL --token TOKEN campaign …`` through a real uvicorn
server prints what local mode prints: the dry run, the launch (one API call;
with --wait the progress bar polls the status route), status (and --watch),
pause, resume, cancel (a blank reason is the same one line), the auditor's
redraw, the ledger and the round schedules; the token's person acts, so --actor is refused."""

from __future__ import annotations

import re
import time
import uuid

import pytest

from test_cli_remote import AUDITOR, SUPERVISOR, ok, one_line, served  # noqa: F401  (served: the fixture)

UNIT = "U-AF01-B01"  # the branch: an organization and its secretary in a half-yearly round
PERIOD = "2026-H2"


def plan_args(cid: str) -> list[str]:
    return ["campaign", "plan", cid, "--period", PERIOD, "--round", "half_yearly", "--unit", UNIT]


def plan_id_of(printed: str) -> str:
    return re.search(r"plan id ([0-9a-f]{32})", printed).group(1)


def alike(printed: str, *ids: str) -> str:
    """What was printed, with a campaign's own ids (its id, its plan id, its reviews') as placeholders."""
    for i, x in enumerate(ids):
        printed = printed.replace(x, f"<{i}>")
    return printed


async def by(served, who: str | None, *args: str):  # noqa: F811
    """The office here (None), or a person's token through the API."""
    return await (served.local(*args) if who is None else served.remote(who, *args))


async def test_campaign_commands_print_the_same_through_the_api(served, monkeypatch):  # noqa: F811
    import cli.campaigns
    from rich.console import Console

    monkeypatch.setattr(cli.campaigns, "out", Console(width=400))
    here, there = f"c-here-{uuid.uuid4().hex[:6]}", f"c-away-{uuid.uuid4().hex[:6]}"

    # the dry run: the office here, the supervisor of the subtree there; the same counts and gaps
    planned_here = ok(await served.local(*plan_args(here)))
    planned_there = ok(await served.remote(SUPERVISOR, *plan_args(there)))
    ids_here, ids_there = (here, plan_id_of(planned_here)), (there, plan_id_of(planned_there))
    assert alike(planned_here, *ids_here) == alike(planned_there, *ids_there)
    assert re.search(r"^[1-9] reviews$", planned_here, re.M), planned_here  # a small round
    import json

    as_json = [json.loads(ok(await x)) for x in (served.local(*plan_args(here), "--json"), served.remote(SUPERVISOR, *plan_args(there), "--json"))]
    for got in as_json:
        got.pop("plan_id"), got["spec"].pop("campaign_id")
    assert as_json[0] == as_json[1]

    # the launch: one call each way, the same line
    launch = ["--period", PERIOD, "--round", "half_yearly", "--unit", UNIT, "--batch-size", "1", "--no-wait"]
    launched_here = ok(await served.local("campaign", "launch", here, *launch, "--plan-id", ids_here[1]))
    launched_there = ok(await served.remote(SUPERVISOR, "campaign", "launch", there, *launch, "--plan-id", ids_there[1]))
    assert alike(launched_here, *ids_here) == alike(launched_there, *ids_there) and "already launched" not in launched_there
    # again with --wait: nothing new starts, and the bar polls the status route until every review has started
    waited = ok(await served.remote(SUPERVISOR, "campaign", "launch", there, *launch[:-1], "--wait", "--plan-id", ids_there[1]))
    planned = int(re.search(r"(\d+) reviews", launched_there).group(1))
    assert "(already launched: resumed watching)" in waited and f"{planned}/{planned}" in waited, waited
    # a stale plan id: the same refusal
    stale = ["campaign", "launch", "{cid}", *launch, "--plan-id", "0" * 32]
    assert alike(one_line(await served.local(*[a.format(cid=here) for a in stale]), 2), *ids_here) == \
        alike(one_line(await served.remote(SUPERVISOR, *[a.format(cid=there) for a in stale]), 2), *ids_there)

    # status: one campaign read both ways prints the same, once every review has started
    for cid in (here, there):
        for _ in range(100):
            printed = ok(await served.local("campaign", "status", cid))
            if f"planned {planned} · started {planned}" in printed and f"reviews: {planned} started" in printed:
                break
            time.sleep(0.1)
        assert printed == ok(await served.remote(SUPERVISOR, "campaign", "status", cid)), cid
        assert ok(await served.local("campaign", "status", cid, "--json")) == ok(await served.remote(SUPERVISOR, "campaign", "status", cid, "--json"))
    assert one_line(await served.local("campaign", "status", "c-none"), 2) == one_line(await served.remote(SUPERVISOR, "campaign", "status", "c-none"), 2)

    # status --watch polls the status route until Ctrl-C
    naps: list[float] = []

    def nap(seconds: float) -> None:
        naps.append(seconds)
        if len(naps) == 2:
            raise KeyboardInterrupt

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(cli.campaigns, "_sleep", nap)
        watched = ok(await served.remote(SUPERVISOR, "campaign", "status", there, "--watch", "--every", "0.5"))
    assert watched.count(f"campaign {there} · plan {ids_there[1]}") == 2 and naps == [0.5, 0.5], watched

    # a campaign fully started has nothing to pause: the same refusal
    assert alike(one_line(await served.local("campaign", "pause", here), 2), *ids_here) == alike(one_line(await served.remote(SUPERVISOR, "campaign", "pause", there), 2), *ids_there)
    assert one_line(await served.remote(SUPERVISOR, "campaign", "pause", there, "--actor", SUPERVISOR), 2).startswith("refused --actor:")

    # pause, resume, cancel: a pair of year-end rounds over the supervisor's subtree, started one review a
    # batch and paused as soon as launched (a pause once every review has started is the refusal above)
    pair, printed = [], []
    for cid, who in ((f"c-here-{uuid.uuid4().hex[:6]}", None), (f"c-away-{uuid.uuid4().hex[:6]}", SUPERVISOR)):
        year_end = ["--period", PERIOD, "--round", "year_end", "--unit", "U-AF01"]
        pid = plan_id_of(ok(await by(served, who, "campaign", "plan", cid, *year_end)))
        ok(await by(served, who, "campaign", "launch", cid, *year_end, "--plan-id", pid, "--batch-size", "1", "--no-wait"))
        pair.append((cid, pid))
        printed.append([ok(await by(served, who, "campaign", "pause", cid, "--reason", "the directory is being fixed")), ok(await by(served, who, "campaign", "resume", cid))])
    started = re.compile(r"· \d+/(\d+) started")

    def same(a: str, b: str) -> None:
        assert started.sub(r"· N/\1 started", alike(a, *pair[0])) == started.sub(r"· N/\1 started", alike(b, *pair[1]))

    for a, b in zip(*printed):
        same(a, b)
    assert "pause recorded" in printed[1][0] and "· paused" in printed[1][0] and "resume recorded" in printed[1][1]
    blank = one_line(await served.local("campaign", "cancel", pair[0][0], "--reason", "  "), 2)
    assert blank == one_line(await served.remote(SUPERVISOR, "campaign", "cancel", pair[1][0], "--reason", "  "), 2) and "reason" in blank
    cancelled_here = ok(await served.local("campaign", "cancel", pair[0][0], "--reason", "replaced by a year-end round"))
    cancelled_there = ok(await served.remote(SUPERVISOR, "campaign", "cancel", pair[1][0], "--reason", "replaced by a year-end round"))
    same(cancelled_here, cancelled_there)
    assert "cancelling its reviews" in cancelled_there

    # the auditor's redraw of a random round: the same draw here and through the API; a round that drew none, the same refusal
    spot = f"c-spot-{uuid.uuid4().hex[:6]}"
    drawn = ["--period", PERIOD, "--round", "half_yearly", "--unit", UNIT, "--method", "random", "--sample-size", "1", "--seed", "7"]
    ok(await served.local("campaign", "launch", spot, *drawn, "--plan-id", plan_id_of(ok(await served.local("campaign", "plan", spot, *drawn))), "--no-wait"))
    for argv in (["audit", "redraw", spot], ["audit", "redraw", spot, "--json"]):
        redrawn = ok(await served.local(*argv))
        assert redrawn == ok(await served.remote(AUDITOR, *argv)) and "reproduced" in redrawn, argv
    assert one_line(await served.local("audit", "redraw", here), 2) == one_line(await served.remote(AUDITOR, "audit", "redraw", here), 2)

    # the ledger: the office here, an auditor there (both read it whole), the same tables and the same CSV
    for argv in (["campaign", "ledger", PERIOD], ["campaign", "ledger", PERIOD, "--json"], ["campaign", "ledger", PERIOD, "--show", "1"]):
        assert ok(await served.local(*argv)) == ok(await served.remote(AUDITOR, *argv)), argv
    csv_here, csv_there = served.live.ctx.settings.data_dir / "here.csv", served.live.ctx.settings.data_dir / "there.csv"
    ok(await served.local("campaign", "ledger", PERIOD, "--csv", str(csv_here)))
    ok(await served.remote(AUDITOR, "campaign", "ledger", PERIOD, "--csv", str(csv_there)))
    assert csv_here.read_text() == csv_there.read_text() and ",rv-c-" in csv_there.read_text()
    assert one_line(await served.local("campaign", "ledger", "2026-Q1"), 2) == one_line(await served.remote(AUDITOR, "campaign", "ledger", "2026-Q1"), 2)


async def test_round_schedules_through_the_api(served, monkeypatch):  # noqa: F811
    import cli.campaigns
    from rich.console import Console

    monkeypatch.setattr(cli.campaigns, "out", Console(width=400))
    here, there = f"s-here-{uuid.uuid4().hex[:6]}", f"s-away-{uuid.uuid4().hex[:6]}"
    create = ["--round", "year_end", "--unit", UNIT, "--levels", "B", "--note", "routine"]
    try:
        made_here = ok(await served.local("campaign", "schedule", "create", here, *create))
        made_there = ok(await served.remote(SUPERVISOR, "campaign", "schedule", "create", there, *create))
        assert alike(made_here, here) == alike(made_there, there) and f"year_end over {UNIT}" in made_there
        assert one_line(await served.local("campaign", "schedule", "create", here, *create), 2) == \
            one_line(await served.remote(SUPERVISOR, "campaign", "schedule", "create", here, *create), 2)
        listed = ok(await served.local("campaign", "schedule", "list"))
        assert listed == ok(await served.remote(SUPERVISOR, "campaign", "schedule", "list")) and here in listed and there in listed
        assert ok(await served.local("campaign", "schedule", "list", "--json")) == ok(await served.remote(SUPERVISOR, "campaign", "schedule", "list", "--json"))
        paused = ok(await served.remote(SUPERVISOR, "campaign", "schedule", "pause", there, "--note", "re-importing"))
        assert "paused" in paused and "re-importing" in paused
        assert alike(ok(await served.local("campaign", "schedule", "pause", here, "--note", "re-importing")), here) == alike(paused, there)
        assert alike(ok(await served.local("campaign", "schedule", "resume", here)), here) == alike(ok(await served.remote(SUPERVISOR, "campaign", "schedule", "resume", there)), there)
    finally:
        deleted_here = await served.local("campaign", "schedule", "delete", here)
        deleted_there = await served.remote(SUPERVISOR, "campaign", "schedule", "delete", there)
    assert alike(ok(deleted_here), here) == alike(ok(deleted_there), there) == "schedule <0> deleted\n"
    assert one_line(await served.local("campaign", "schedule", "trigger", here), 2) == one_line(await served.remote(SUPERVISOR, "campaign", "schedule", "trigger", here), 2)
