"""The API of the real ``reviewctl serve``, as a person and another system
meet it: the README's walk-through with curl, then Schemathesis fuzzing every
operation from the API's own OpenAPI schema, authenticated as a reviewer and
as a supervisor (no 5xx, every status and body as the schema says). Bounded:
a few examples per operation and identity, the request count printed."""

from __future__ import annotations

import json
import os
import re
import subprocess

import pytest
import schemathesis
from helpers import BIN, REPO, free_port, reviewctl, stop_group, wait_until

from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import content_type_conformance, not_a_server_error, response_schema_conformance, status_code_conformance

pytestmark = pytest.mark.e2e
README = (REPO / "README.md").read_text(encoding="utf-8")


def api_block() -> str:
    section = README.split("## Through the HTTP API", 1)[1]
    return re.search(r"```sh\n(.*?)```", section, re.S).group(1)


def json_documents(text: str) -> list:
    """The JSON documents in curl's output (curl adds no newline between them)."""
    decoder, docs, i = json.JSONDecoder(), [], 0
    while (i := text.find("{", i)) != -1:
        doc, end = decoder.raw_decode(text, i)
        docs.append(doc)
        i = end
    return docs


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("api-service")
    api_port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TEMPORAL_", "PINGYI_"))}
    env.update(PINGYI_DATA_DIR=str(tmp / "var"), PINGYI_DEV_SERVER_PORT=str(free_port()), PINGYI_DEV_UI_PORT=str(free_port()), PINGYI_API_PORT=str(api_port))
    log = tmp / "serve.log"
    proc = subprocess.Popen([str(BIN / "reviewctl"), "serve"], cwd=REPO, env=env, stdout=open(log, "wb"), stderr=subprocess.STDOUT, start_new_session=True)
    try:
        wait_until(lambda: reviewctl("status", env=env, check=False).returncode == 0, 150, "reviewctl status (server, worker, API) to report ready")
        yield {"env": env, "tmp": tmp, "url": f"http://localhost:{api_port}", "log": log}
    finally:
        stop_group(proc)


def test_serve_prints_the_api_url_and_status_includes_it(service):
    assert f"{service['url']}/api/v1" in service["log"].read_text()
    status = json.loads(reviewctl("status", "--json", env=service["env"]).stdout)
    assert status["api"][0] is True and service["url"] in status["api"][1]


def test_serve_also_serves_the_pages(service):
    import httpx

    resp = httpx.get(f"{service['url']}/signin", timeout=30)
    assert resp.status_code == 200 and resp.headers["content-type"].startswith("text/html")


def test_the_readme_walk_through_with_curl(service):
    work = service["tmp"] / "walk"
    work.mkdir()
    (work / ".venv").symlink_to(REPO / ".venv")
    script = api_block().replace("http://localhost:8000", service["url"])
    done = subprocess.run(["bash", "-euo", "pipefail", "-c", script], cwd=work, env=service["env"], capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, f"the README walk-through failed\n{done.stdout}\n{done.stderr}"
    answers = json_documents(done.stdout)
    started, shown, findings, closed, refused = answers[-5:]
    assert started["review_id"] == "rv-api" and started["reviewer_id"] == "P-000368"
    assert shown["step"] == "investigate" and shown["your_roles"] == ["reviewer"]
    assert findings["actor_id"] == "P-000368" and findings["events"] == ["review.findings_recorded"]
    assert closed["step"] == "solicit_opinions"
    assert refused["error"]["code"] == "conflict" and refused["error"]["field"] == "kind"
    # reviewctl in remote mode read the review through the API as the supervisor's token
    assert re.search(r"reviewer\s*│\s*P-000368", done.stdout) and "supervisor" in done.stdout, done.stdout
    # the sign-in and the token are events of the audit log, and the log verifies with them in it
    reviewctl("audit", "verify", env=service["env"])


# ---- the CLI and the API give the same result for the same use case -------------------


def test_cli_and_api_give_the_same_results(service, identities):
    """One use case per family: a review (show), the command kinds, the
    outbox, the accounts (token list)."""
    import httpx

    env = service["env"]
    reviewer = {"Authorization": f"Bearer {identities['reviewer']}"}
    reviewctl("users", "add", "P-000004", "--no-password", env=env, check=False)
    reviewctl("users", "grant", "P-000004", "administrator", env=env)
    admin = json.loads(reviewctl("users", "token", "issue", "P-000004", "--name", "parity", "--scope", "accounts:admin", "--json", env=env).stdout)["secret"]
    with httpx.Client(base_url=f"{service['url']}/api/v1", timeout=30) as api:
        def get(path: str, headers: dict, **params):
            resp = api.get(path, headers=headers, params=params)
            assert resp.status_code == 200, resp.text
            return resp.json()

        def cli(*args: str):
            return json.loads(reviewctl(*args, "--json", env=env).stdout)

        assert get("/reviews/rv-api", reviewer) == cli("review", "show", "rv-api", "--actor", "P-000368")
        assert get("/command-kinds", reviewer, limit=500)["items"] == cli("review", "kinds")["kinds"]
        assert get("/outbox", reviewer) == cli("outbox", "--actor", "P-000368")
        assert get("/tokens", {"Authorization": f"Bearer {admin}"}) == cli("users", "token", "list")


# ---- Schemathesis ---------------------------------------------------------------

FUZZ_CHECKS = (not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance)
SCOPES = ("reviews:read", "reviews:write", "directory:read", "audit:read", "outbox:read", "campaigns:read", "campaigns:write")
EXAMPLES_PER_OPERATION = 12


@pytest.fixture(scope="module")
def identities(service) -> dict[str, str]:
    """Bearer tokens of the example branch's reviewer and of a supervisor of
    its part of the directory (tokens, not cookies: a fuzzed sign-out or
    password change must not end the identity mid-run)."""
    env = service["env"]
    out = {}
    for who, pid, grant in (("reviewer", "P-000368", None), ("supervisor", "P-000002", ("supervisor", "--scope", "U-AF01"))):
        reviewctl("users", "add", pid, "--no-password", env=env, check=False)  # the walk-through may have made it
        if grant:
            reviewctl("users", "grant", pid, *grant, env=env)
        scopes = [arg for scope in SCOPES for arg in ("--scope", scope)]
        out[who] = json.loads(reviewctl("users", "token", "issue", pid, "--name", "fuzz", *scopes, "--json", env=env).stdout)["secret"]
    return out


def fuzz_every_operation(url: str, token: str) -> tuple[int, list[str]]:
    """Every operation of the served schema, a bounded number of generated
    cases each (Hypothesis), each response checked; the requests sent and the
    failures (operation: what) come back."""
    schema = schemathesis.openapi.from_url(f"{url}/api/v1/openapi.json")
    sent = 0
    failures: list[str] = []
    for result in schema.get_all_operations():
        operation = result.ok()

        @given(case=operation.as_strategy())
        @settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, suppress_health_check=list(HealthCheck), phases=[Phase.explicit, Phase.generate], database=None)
        def run(case) -> None:
            nonlocal sent
            response = case.call(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=30)
            sent += 1
            case.validate_response(response, checks=FUZZ_CHECKS)

        try:
            run()
        except (Exception, BaseExceptionGroup) as exc:  # one operation's failure does not hide the others' (Schemathesis raises a group)
            failures.append(f"{operation.label}: {exc}"[:1500])
    return sent, failures


@pytest.mark.parametrize("who", ["reviewer", "supervisor"])
def test_schemathesis_fuzzes_the_running_api(service, identities, who, capsys):
    sent, failures = fuzz_every_operation(service["url"], identities[who])
    with capsys.disabled():
        print(f"\nschemathesis as the {who}: {sent} requests, {len(failures)} failing operations")
    assert not failures, "\n\n".join(failures)
    assert sent > 50
