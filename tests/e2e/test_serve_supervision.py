"""The embedded default watches its own server (issue 13, point 7): a real
SIGKILL of the Temporal dev server is noticed within seconds and the server
restarted on the same SQLite file — a review that was waiting still fires its
deadline and then completes, and ``audit verify`` passes; a server that cannot be restarted makes
``serve`` exit non-zero saying why, and ``status`` says which happened. A
second ``serve`` on the same data directory refuses with one clear line."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time

from datetime import date

import pytest
from helpers import BIN, REPO, free_port, reviewctl, reviewctl_json, stop_group, wait_until

from domain.procedure import Step
from domain.review import ReviewState
from service.demo import on_time_commands

pytestmark = pytest.mark.e2e


def service_env(tmp_path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TEMPORAL_", "PINGYI_"))}
    env.update(
        PINGYI_DATA_DIR=str(tmp_path / "var"),
        PINGYI_DEV_SERVER_PORT=str(free_port()),
        PINGYI_DEV_UI_PORT=str(free_port()),
        PINGYI_CHECKPOINT_EVERY_SECONDS="2",
    )
    return env


def serve(env: dict, log_path) -> subprocess.Popen:
    return subprocess.Popen([str(BIN / "reviewctl"), "serve"], cwd=REPO, env=env, stdout=open(log_path, "ab"), stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)


def state(env: dict) -> dict:
    return json.loads((REPO / env["PINGYI_DATA_DIR"] / "serve-state.json").read_text())


def status(env: dict) -> dict:
    p = reviewctl("status", "--json", env=env, check=False)
    return json.loads(p.stdout)


def drive_to_close(env: dict, review_id: str) -> ReviewState:
    """Send the on-time actors' nine commands (service.demo) with ``review do``."""
    spec = ReviewState.model_validate(reviewctl_json("review", "show", review_id, env=env)).spec
    for cmd in on_time_commands(spec, date.today()):
        fields = cmd.model_dump(mode="json", exclude={"kind", "actor_id", "reason"})
        reviewctl("review", "do", review_id, cmd.kind, "--actor", cmd.actor_id, "--data", json.dumps(fields, ensure_ascii=False), env=env)
    return ReviewState.model_validate(reviewctl_json("review", "show", review_id, env=env))


def ready(env: dict) -> bool:
    return reviewctl("status", env=env, check=False).returncode == 0


def test_a_killed_server_is_restarted_and_the_waiting_review_completes(tmp_path):
    env = service_env(tmp_path)
    service = serve(env, tmp_path / "serve.log")
    try:
        wait_until(lambda: ready(env), 120, "reviewctl status to report ready")
        demo = reviewctl_json("demo", env=env)
        waiting = "rv-e2e-supervised"
        # its investigate deadline ~35 s away: it must fire after the restart
        reviewctl("review", "start", "--subject", demo["subject_id"], "--review-id", waiting, "--days", "investigate=0.0004", env=env)
        assert reviewctl_json("review", "show", waiting, env=env)["step"] == "investigate"

        # a second serve on the same data directory refuses, in one line
        second = subprocess.run([str(BIN / "reviewctl"), "serve"], cwd=REPO, env=env, capture_output=True, text=True, timeout=60)
        assert second.returncode != 0
        said = second.stdout + second.stderr
        assert "already running on the data directory" in said and "Traceback" not in said, said

        killed = state(env)["server_pid"]
        os.kill(killed, signal.SIGKILL)
        t0 = time.monotonic()
        wait_until(lambda: state(env)["restarts"] >= 1, 10, "serve to notice the dead server", interval=0.2)
        noticed = time.monotonic() - t0
        wait_until(lambda: ready(env), 90, "reviewctl status after the restart")
        now = state(env)
        assert now["status"] == "running" and now["server_pid"] != killed and "SIGKILL" in now["last_death"]
        ok, detail = status(env)["embedded server"]
        assert ok and "restarted 1 time(s)" in detail and "SIGKILL" in detail
        log = (tmp_path / "serve.log").read_text(errors="replace")
        assert "restarting it on the same data file (attempt 1 of 3)" in log

        shown = wait_until(lambda: (s := reviewctl_json("review", "show", waiting, env=env)) and "investigate" in s["overdue"] and s, 120, "the waiting review's deadline after the restart")
        assert shown["step"] == "investigate"
        closed = drive_to_close(env, waiting)  # every actor plays their part, by the CLI
        assert closed.step.value == "closed" and closed.overdue == [Step.INVESTIGATE]
        again = reviewctl_json("review", "show", demo["review_id"], env=env)
        assert again["step"] == "closed"
        time.sleep(3)  # one checkpoint round after the last event
        verify = reviewctl("audit", "verify", env=env, check=False)
        assert verify.returncode == 0, verify.stdout + verify.stderr
        assert "witness up to size" in verify.stdout
    finally:
        stop_group(service)
    assert service.returncode == 0
    print(f"noticed the SIGKILL after {noticed:.1f}s")
    assert noticed < 5


def test_a_server_that_cannot_come_back_stops_serve_with_a_message(tmp_path):
    env = service_env(tmp_path)
    port = int(env["PINGYI_DEV_SERVER_PORT"])
    service = serve(env, tmp_path / "serve.log")
    squatter = socket.socket()
    try:
        wait_until(lambda: ready(env), 120, "reviewctl status to report ready")
        os.kill(state(env)["server_pid"], signal.SIGKILL)
        # someone else takes the port at once: every restart attempt finds it taken
        squatter.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        wait_until(lambda: _bind(squatter, port), 5, "the port to be free", interval=0.01)
        squatter.listen()
        service.wait(90)
    finally:
        stop_group(service)
        squatter.close()
    assert service.returncode == 1
    log = (tmp_path / "serve.log").read_text(errors="replace")
    assert "stopped:" in log and "could not be restarted" in log and "Traceback" not in log, log[-3000:]
    ok, detail = status(env)["embedded server"]
    assert not ok and "serve gave up" in detail and "could not be restarted" in detail
    assert reviewctl("status", env=env, check=False).returncode != 0


def _bind(sock: socket.socket, port: int) -> bool:
    try:
        sock.bind(("127.0.0.1", port))
        return True
    except OSError:
        return False
