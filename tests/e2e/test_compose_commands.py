"""docker-compose.yml cannot run here (no Docker engine), so everything it runs
is run without Docker: its Pingyi services' commands, with their environment,
against a real Temporal server and the real PostgreSQL — only the host names
point at this machine instead of the compose network."""

from __future__ import annotations

import asyncio
import os
import subprocess
from datetime import date
from pathlib import Path

import pytest
import compose_spec
from helpers import BIN, REPO, free_port, wait_until

from config.settings import Settings
from service.devserver import start_dev_server
from service.reviews import drive_on_time, start_review
from service.temporal import connect

pytestmark = pytest.mark.e2e


def http_status(url: str, body: bytes | None = None) -> int:
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"}), timeout=5) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code
    except OSError:
        return 0
COMPOSE = compose_spec.load()
NAMESPACE = "pingyi"


def test_compose_file_is_consistent():
    services = COMPOSE["services"]
    assert {"postgresql", "temporal-schema", "temporal", "temporal-namespace", "temporal-ui", *compose_spec.PINGYI_SERVICES} <= set(services)
    dockerfile = (REPO / "Dockerfile").read_text()
    for name in compose_spec.PINGYI_SERVICES:
        command = services[name]["command"]
        assert (BIN / command[0]).exists(), f"{name} runs {command[0]!r}, which the project does not install"
        env = services[name]["environment"]
        assert env["TEMPORAL_ADDRESS"].split(":")[0] == "temporal"
        assert "@postgresql:5432/" in env["PINGYI_DATABASE_URL"]
    for package in ("api", "app", "pages", "domain", "workflows", "activities", "storage", "directory", "service", "config", "cli", "migrations"):
        assert f"COPY {package} {package}" in dockerfile, f"the image lacks {package}/"
    assert services["pingyi-worker"]["depends_on"]["pingyi-migrate"]["condition"] == "service_completed_successfully"


def compose_env(service: str, temporal_address: str, database_url: str, task_queue: str, data_dir: Path, **extra: str) -> dict[str, str]:
    """The service's environment as compose would give it from .env.example
    (secrets filled in), with only the addresses pointing at this machine."""
    filled = compose_spec.example_env() | dict(POSTGRES_PASSWORD="pw", PINGYI_SIGNING_KEY="compose-test-signing-key", PINGYI_SESSION_SECRET="compose-test-session-secret", PINGYI_CODEC_KEYS=os.environ["PINGYI_CODEC_KEYS"])
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TEMPORAL_", "PINGYI_"))}
    env.update(compose_spec.service_env(service, filled))
    env.update(TEMPORAL_ADDRESS=temporal_address, PINGYI_DATABASE_URL=database_url, PINGYI_TASK_QUEUE=task_queue, PINGYI_DATA_DIR=str(data_dir), **extra)
    return env


async def test_compose_services_run_without_docker(tmp_path: Path, pg_url: str):
    settings = Settings(data_dir=tmp_path / "temporal", dev_server_port=free_port(), dev_ui_port=free_port(), temporal_namespace=NAMESPACE)
    server = await start_dev_server(settings)
    workers: list[subprocess.Popen] = []
    api = None
    try:
        address = server.address
        queue = f"compose-{settings.dev_server_port}"
        data = tmp_path / "data"
        setup_cmd = COMPOSE["services"]["pingyi-migrate"]["command"]
        done = subprocess.run([str(BIN / setup_cmd[0]), *setup_cmd[1:]], env=compose_env("pingyi-migrate", address, pg_url, queue, data), cwd=tmp_path, capture_output=True, text=True, timeout=180)
        assert done.returncode == 0, done.stdout + done.stderr
        worker_cmd = COMPOSE["services"]["pingyi-worker"]["command"]
        probe_ports = []
        for i in range(COMPOSE["services"]["pingyi-worker"]["deploy"]["replicas"]):
            log = open(tmp_path / f"worker{i}.log", "wb")
            probe_ports.append(free_port())  # one host here, one network namespace per replica under compose
            env = compose_env("pingyi-worker", address, pg_url, queue, data, PINGYI_WORKER_HEALTH_BIND=f"127.0.0.1:{probe_ports[-1]}", PINGYI_WORKER_METRICS_BIND=f"127.0.0.1:{free_port()}")
            workers.append(subprocess.Popen([str(BIN / worker_cmd[0]), *worker_cmd[1:]], env=env, cwd=tmp_path, stdout=log, stderr=subprocess.STDOUT))
        api_cmd = COMPOSE["services"]["pingyi-api"]["command"]
        api_port = free_port()
        api_cmd = [str(BIN / api_cmd[0]), *[("127.0.0.1" if a == "0.0.0.0" else str(api_port) if a == "8000" else a) for a in api_cmd[1:]]]
        api = subprocess.Popen(api_cmd, env=compose_env("pingyi-api", address, pg_url, queue, data), cwd=tmp_path, stdout=open(tmp_path / "api.log", "wb"), stderr=subprocess.STDOUT)

        client = await connect(Settings(temporal_address=address, temporal_namespace=NAMESPACE))
        from directory.service import iter_assignments, load_example, review_spec_for
        from storage.db import make_engine

        engine = make_engine(pg_url)
        load_example(engine)  # production imports its directory; the migration job loaded none
        subject = next(a for a in iter_assignments(engine) if a.level == "B")
        specs = [review_spec_for(engine, subject.subject_id, review_id=f"rv-compose-{i}-{queue}", campaign_id="compose", supervisor_ids=("office",), deadlines=settings.step_deadlines()) for i in range(4)]
        for spec in specs:
            await start_review(client, spec, queue)
        finals = await asyncio.gather(*(drive_on_time(client, spec, date.today()) for spec in specs))
        assert [result.final_step.value for result, _ in finals] == ["closed"] * len(specs)
        from storage.eventlog import EventStore

        store = EventStore(engine)
        for spec, (state, _) in zip(specs, finals):
            assert [r.version for r in store.read_stream(spec.review_id)] == list(range(1, state.version + 1))
        engine.dispose()
        wait_until(lambda: all(w.poll() is None for w in workers), 1, "workers to stay up")
        for port in probe_ports:
            assert http_status(f"http://127.0.0.1:{port}/readyz") == 200
        wait_until(lambda: http_status(f"http://127.0.0.1:{api_port}/readyz") == 200, 60, "the API to be ready")
        assert http_status(f"http://127.0.0.1:{api_port}/codec/decode", b'{"payloads": []}') == 401  # the codec server wants a signed-in auditor
        assert http_status(f"http://127.0.0.1:{api_port}/signin") == 200  # the pages are served beside the API
        assert http_status(f"http://127.0.0.1:{api_port}/api/v1/openapi.json") == 200
    finally:
        if api:
            api.terminate()
            api.wait(30)
        for w in workers:
            w.terminate()
        for w in workers:
            w.wait(30)
        server.stop()
    for w in workers:
        assert w.returncode == 0, (tmp_path / "worker0.log").read_text()[-2000:]
