"""``reviewctl --api URL --token TOKEN``: the CLI acting through a real
uvicorn server on a free port prints what local mode prints for the same use
case (start, commands including the supervisor's, show, list, tasks, outbox,
audit look-ups), refusals are the same one line with the same exit code, and
a token that expired or was revoked, or production without a token, is one
line saying how to get one."""

from __future__ import annotations

import asyncio
import json
import time
import uuid

import pytest
import pytest_asyncio
from api_support import person, token
from rich.console import Console
from typer.testing import CliRunner

from api.server import start_api
from app.accounts import CLI_ADMIN
from cli.main import app as reviewctl
from config.settings import get_settings
from domain.accounts import StandingRole, TokenScope

SUBJECT = "U-AF01-B01"  # its reviewer is U-AF01's leader
REVIEWER = "P-000368"
SUPERVISOR = "P-000001"  # granted U-AF01's subtree here; the office acts locally
CO_REVIEWER, NEW_REVIEWER = "P-000369", "P-000370"
AUDITOR = "P-000002"
EVERY_SCOPE = tuple(TokenScope)


@pytest_asyncio.fixture
async def served(live, monkeypatch):
    """The live API on a free port, and reviewctl's environment pointing local
    mode at the same database, task queue and Temporal."""
    running = await start_api(live.app, "127.0.0.1", 0)
    s = live.ctx.settings
    for name in ("PINGYI_API_URL", "PINGYI_API_TOKEN", "PINGYI_ENVIRONMENT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PINGYI_DATABASE_URL", s.database_url)
    monkeypatch.setenv("PINGYI_DATA_DIR", str(s.data_dir))
    monkeypatch.setenv("PINGYI_TASK_QUEUE", s.task_queue)
    monkeypatch.setenv("TEMPORAL_ADDRESS", s.temporal_address)
    import cli.audit
    import cli.common
    import cli.reviews
    import cli.service

    wide = Console(width=400)
    for module in (cli.common, cli.reviews, cli.service, cli.audit):
        monkeypatch.setattr(module, "out", wide)
    get_settings.cache_clear()
    person(live.accounts, SUPERVISOR, (StandingRole.SUPERVISOR, "U-AF01"))
    person(live.accounts, REVIEWER)
    person(live.accounts, NEW_REVIEWER)
    person(live.accounts, AUDITOR, (StandingRole.AUDITOR, None))
    try:
        yield Served(running.url, live, monkeypatch)
    finally:
        get_settings.cache_clear()
        await running.stop()


class Served:
    def __init__(self, url: str, live, monkeypatch) -> None:
        self.url = url
        self.live = live
        self.monkeypatch = monkeypatch
        self.tokens = {p: token(live.accounts, p, EVERY_SCOPE) for p in (REVIEWER, SUPERVISOR, NEW_REVIEWER, AUDITOR)}

    async def local(self, *args: str):
        return await run(list(args))

    async def remote(self, who: str, *args: str, secret: str | None = None):
        return await run(["--api", self.url, "--token", secret or self.tokens[who], *args])


async def run(args: list[str]):
    got = await asyncio.to_thread(CliRunner().invoke, reviewctl, args, catch_exceptions=True)
    assert got.exception is None or isinstance(got.exception, SystemExit), f"{args} raised {got.exception!r}\n{got.output}"
    return got


def ok(got) -> str:
    assert got.exit_code == 0, got.output
    return got.output


def one_line(got, code: int) -> str:
    lines = [line for line in got.output.splitlines() if line.strip()]
    assert got.exit_code == code, got.output
    assert len(lines) == 1 and "Traceback" not in got.output, got.output
    return lines[0]


def same_but_ids(a: str, b: str, ids: tuple[str, str]) -> None:
    assert a.replace(ids[0], "RID") == b.replace(ids[1], "RID")


async def test_every_use_case_family_prints_the_same_through_the_api(served):
    here, there = f"rv-here-{uuid.uuid4().hex[:6]}", f"rv-away-{uuid.uuid4().hex[:6]}"
    # start: the office here, a supervisor of the subtree there; the same assignment
    started_here = json.loads(ok(await served.local("review", "start", "--subject", SUBJECT, "--review-id", here, "--json")))
    started_there = json.loads(ok(await served.remote(SUPERVISOR, "review", "start", "--subject", SUBJECT, "--review-id", there, "--json")))
    for got in (started_here, started_there):
        got.pop("review_id"), got.pop("first_due_at")
    assert started_here == started_there and started_there["reviewer_id"] == REVIEWER

    # commands of the reviewer: the same template, the same answers
    template_here = ok(await served.local("review", "template", "record_findings", "--review", here, "--actor", REVIEWER))
    template_there = ok(await served.remote(REVIEWER, "review", "template", "record_findings", "--review", there))
    assert template_here == template_there
    for kind, data in (("record_findings", template_here), ("close_investigation", None)):
        extra = ["--data", data] if data else []
        same_but_ids(ok(await served.local("review", "do", here, kind, "--actor", REVIEWER, *extra)),
                     ok(await served.remote(REVIEWER, "review", "do", there, kind, *extra)), (here, there))

    # the same refusals, one line each, with the same exit codes
    for argv in (["review", "do", "{rid}", "close_investigation"], ["review", "do", "{rid}", "dance"], ["review", "do", "{rid}", "cancel_review", "--reason", "x"]):
        local_line = one_line(await served.local(*[a.format(rid=here) for a in argv], "--actor", REVIEWER), 2)
        remote_line = one_line(await served.remote(REVIEWER, *[a.format(rid=there) for a in argv]), 2)
        same_but_ids(local_line, remote_line, (here, there))
    assert one_line(await served.local("review", "show", "rv-none", "--actor", REVIEWER), 2) == one_line(await served.remote(REVIEWER, "review", "show", "rv-none"), 2)

    # the supervisor's commands: the office here, the scoped supervisor there
    for argv in (["extend_deadline", "--reason", "a site visit moved", "--data", json.dumps({"step": "solicit_opinions", "due_at": "2027-01-15"})],
                 ["add_co_reviewer", "--reason", "a second pair of eyes", "--data", json.dumps({"co_reviewer_id": CO_REVIEWER})],
                 ["reassign_reviewer", "--reason", "the reviewer moved", "--data", json.dumps({"reviewer_id": NEW_REVIEWER})]):
        same_but_ids(ok(await served.local("review", "do", here, *argv, "--actor", "office")),
                     ok(await served.remote(SUPERVISOR, "review", "do", there, *argv)), (here, there))

    # show, list, tasks, outbox, audit: the same tables and the same JSON for the same person (the new reviewer)
    await asyncio.to_thread(served.live.ctx.projector.catch_up)
    for argv in (["review", "show", "{rid}"], ["review", "show", "{rid}", "--json"], ["audit", "timeline", "{rid}", "--lang", "en"],
                 ["audit", "timeline", "{rid}", "--json"], ["audit", "state", "{rid}"], ["audit", "state", "{rid}", "--as-of", "2030-01-01"]):
        for rid in (here, there):  # one review read both ways
            args = [a.format(rid=rid) for a in argv]
            assert ok(await served.local(*args, "--actor", NEW_REVIEWER)) == ok(await served.remote(NEW_REVIEWER, *args)), args
    for who, argv in ((NEW_REVIEWER, ["review", "list"]), (NEW_REVIEWER, ["review", "list", "--json"]), (NEW_REVIEWER, ["review", "tasks"]),
                      (NEW_REVIEWER, ["review", "tasks", "--json"]), (REVIEWER, ["outbox"]), (REVIEWER, ["outbox", "--json"])):
        printed = ok(await served.local(*argv, "--actor", who))
        assert printed == ok(await served.remote(who, *argv)), argv
        assert here in printed and there in printed, printed
    # cross-checking is the auditor's: refused alike to a reviewer; an auditor's token reads what the local operator (an auditor) reads
    assert one_line(await served.local("audit", "cross-check", here, "--actor", REVIEWER), 2) == one_line(await served.remote(REVIEWER, "audit", "cross-check", here), 2)
    for argv in (["audit", "cross-check", there], ["audit", "cross-check", there, "--json"], ["review", "list", "--json"], ["review", "kinds"], ["review", "kinds", "--json"],
                 ["directory", "plan", "--period", "2026H2"], ["directory", "plan", "--json"], ["directory", "explain", REVIEWER], ["directory", "explain", "U-AF01", "--json"]):
        assert ok(await served.local(*argv)) == ok(await served.remote(AUDITOR, *argv)), argv

    # cancel last: the review ends the same way in both
    same_but_ids(ok(await served.local("review", "do", here, "cancel_review", "--reason", "replaced", "--actor", "office")),
                 ok(await served.remote(SUPERVISOR, "review", "do", there, "cancel_review", "--reason", "replaced")), (here, there))


async def test_a_token_that_expired_or_was_revoked_is_one_line_saying_how_to_get_another(served):
    short = token(served.live.accounts, REVIEWER, EVERY_SCOPE, days=1 / 86_400 / 10)  # a tenth of a second
    time.sleep(0.2)
    line = one_line(await served.remote(REVIEWER, "review", "list", secret=short), 2)
    assert line.startswith("not signed in Authorization: the bearer token has expired") and "reviewctl users token issue" in line
    secret = served.tokens[REVIEWER]
    listed = served.live.accounts.list_tokens(CLI_ADMIN, REVIEWER, None, 50)
    for t in listed.items:
        if t.state == "active":
            served.live.accounts.revoke_token(CLI_ADMIN, t.token_id)
    line = one_line(await served.remote(REVIEWER, "review", "tasks", secret=secret), 2)
    assert "the bearer token was revoked" in line and "reviewctl users token issue" in line
    line = one_line(await served.remote(REVIEWER, "review", "show", "rv-x", secret="not-a-token"), 2)
    assert line.startswith("not signed in Authorization:")


async def test_a_token_without_the_scope_and_an_api_that_does_not_answer_are_one_line(served):
    narrow = token(served.live.accounts, REVIEWER, (TokenScope.REVIEWS_READ,))
    line = one_line(await served.remote(REVIEWER, "outbox", secret=narrow), 2)
    assert line == "forbidden Authorization: this token lacks the 'outbox:read' scope"
    down = await run(["--api", "http://127.0.0.1:1", "--token", "x", "review", "list"])
    assert one_line(down, 3).startswith("unavailable the API does not answer at http://127.0.0.1:1")
    assert one_line(await run(["--api", "ftp://host", "--token", "x", "review", "list"]), 2).startswith("invalid --api:")
    assert one_line(await run(["--api", served.url, "review", "list"]), 2).startswith("missing --token:")
    assert one_line(await served.remote(REVIEWER, "review", "tasks", "--actor", REVIEWER), 2).startswith("refused --actor:")
    assert one_line(await served.remote(REVIEWER, "audit", "timeline", "rv-x", "--db", "sqlite://"), 2).startswith("refused --db:")
    # what has no API route runs on the server only: with --api it says so, it does not act on this machine's database
    for argv in (["directory", "show", "U-AF01"], ["directory", "import", "org.yaml"], ["audit", "verify"], ["audit", "export", "--all", "--out", "x.jsonl"]):
        assert one_line(await served.remote(REVIEWER, *argv), 2).endswith("has no API route yet: run it on the server without --api"), argv
    for argv in (["users", "list"],):
        assert one_line(await served.remote(REVIEWER, *argv), 2).startswith("refused --api:"), argv


async def test_production_without_a_token_says_how_to_get_one_and_with_one_acts(served):
    from service.codec import new_key_entry

    mp = served.monkeypatch
    mp.setenv("PINGYI_ENVIRONMENT", "production")
    mp.setenv("PINGYI_SIGNING_KEY", "a production signing key")
    mp.setenv("PINGYI_SESSION_SECRET", "a production session secret")
    mp.setenv("PINGYI_CODEC_KEYS", new_key_entry("k1"))
    get_settings.cache_clear()
    for argv in (["review", "list"], ["review", "show", "rv-x"], ["review", "tasks"], ["outbox"], ["audit", "timeline", "rv-x"],
                 ["review", "start", "--subject", SUBJECT], ["review", "do", "rv-x", "close_investigation"]):
        line = one_line(await run(argv), 2)
        assert line.startswith("missing --token: in production a person acts through the API") and "reviewctl users token issue" in line, line
    assert one_line(await run(["review", "tasks", "--actor", REVIEWER]), 2).startswith("refused --actor")
    assert "record_findings" in ok(await run(["review", "kinds"]))  # reads no review: no token needed
    mp.setenv("PINGYI_API_URL", served.url)
    mp.setenv("PINGYI_API_TOKEN", served.tokens[REVIEWER])
    get_settings.cache_clear()
    page = json.loads(ok(await run(["review", "tasks", "--json"])))
    assert page["person_id"] == REVIEWER
    assert one_line(await run(["--api", "http://pingyi.example.org", "review", "list"]), 2).startswith("refused --api: http://pingyi.example.org is plain http")


def test_a_route_answered_a_page_at_a_time_is_read_whole_and_an_error_keeps_its_type():
    """The API may page a list the use case answers whole (command kinds, a
    timeline): every page is read; an error comes back as the use case's type."""
    import httpx

    from app.errors import Conflict, OtherError, Unavailable
    from app.reviews import command_kinds
    from cli.remote import Remote

    kinds = [{"kind": f"k{i}", "roles": ["reviewer"], "steps": None, "reason_required": False, "summary": "s"} for i in range(5)]
    asked: list[dict] = []

    def answer(request: httpx.Request) -> httpx.Response:
        asked.append(dict(request.url.params))
        assert request.headers["authorization"] == "Bearer secret"
        start = int(request.url.params.get("cursor", "0"))
        return httpx.Response(200, json={"items": kinds[start:start + 2], "next_cursor": str(start + 2) if start + 2 < len(kinds) else None})

    got = Remote("https://pingyi.test", "secret", transport=httpx.MockTransport(answer)).call(command_kinds)
    assert [k.kind for k in got.kinds] == [k["kind"] for k in kinds] and [a.get("cursor") for a in asked] == [None, "2", "4"]

    def refuse(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/command-kinds"):
            return httpx.Response(405, json={"error": {"code": "method_not_allowed", "field": None, "message": "Method Not Allowed", "message_zh": "x"}})
        return httpx.Response(409, json={"error": {"code": "conflict", "field": "kind", "message": "kind: wrong step", "message_zh": "步骤不对"}})

    from app.reviews import SendCommandInput, send_command

    remote = Remote("https://pingyi.test", "secret", transport=httpx.MockTransport(refuse))
    with pytest.raises(Conflict) as info:
        remote.call(send_command, SendCommandInput(review_id="rv-x", kind="close_investigation"))
    assert (info.value.field, info.value.message, info.value.exit_code) == ("kind", "wrong step", 2)
    with pytest.raises(OtherError) as other:
        remote.call(command_kinds)
    assert (other.value.code, other.value.status) == ("method_not_allowed", 405)
    html = Remote("https://pingyi.test", "secret", transport=httpx.MockTransport(lambda r: httpx.Response(502, text="<html>bad gateway</html>")))
    with pytest.raises(Unavailable) as gateway:
        html.call(command_kinds)
    assert gateway.value.exit_code == 3 and "without Pingyi's error shape" in gateway.value.message
