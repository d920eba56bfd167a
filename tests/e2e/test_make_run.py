"""The README's run command, the way a new user runs it: start, wait for
``reviewctl status``, ``reviewctl demo``, stop, start again — the demo review is
still there, and a review that was waiting kept waiting and its timers fired."""

from __future__ import annotations

import os
import subprocess

import pytest
from helpers import REPO, free_port, port_open, reviewctl, reviewctl_json, stop_group, wait_until

pytestmark = pytest.mark.e2e


def readme_block(after: str) -> list[str]:
    """The shell lines of the first code block after the paragraph starting ``after``."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    block = text[text.index(after):].split("```sh\n", 1)[1].split("```", 1)[0]
    return [line.split("  #")[0].strip() for line in block.splitlines() if line.strip()]


def start_service(env: dict, log_path) -> subprocess.Popen:
    log = open(log_path, "ab")
    return subprocess.Popen(["make", "run"], cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)


def test_make_run_demo_stop_start_keeps_everything(tmp_path):
    port, ui_port = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TEMPORAL_", "PINGYI_"))}
    env.update(PINGYI_DATA_DIR=str(tmp_path / "var"), PINGYI_DEV_SERVER_PORT=str(port), PINGYI_DEV_UI_PORT=str(ui_port), PINGYI_API_PORT=str(free_port()))

    # once installed, `make run` installs nothing again: only the serve command is left to run
    subprocess.run(["make", "install"], cwd=REPO, env=env, capture_output=True, check=True)
    dry = subprocess.run(["make", "-n", "run"], cwd=REPO, env=env, capture_output=True, text=True, check=True).stdout
    assert "pip install" not in dry and "reviewctl serve" in dry

    service = start_service(env, tmp_path / "run1.log")
    try:
        wait_until(lambda: reviewctl("status", env=env, check=False).returncode == 0, 120, "reviewctl status to report ready")
        demo = reviewctl_json("demo", env=env)
        assert demo["final_step"] == "closed"
        assert 0 < demo["history_events"] <= 100
        # a review that must wait across the restart: its first deadline ~40 s away
        waiting = f"rv-e2e-wait-{port}"
        reviewctl("review", "start", "--subject", demo["subject_id"], "--review-id", waiting, "--days", "investigate=0.0005", env=env)
        assert reviewctl_json("review", "show", waiting, env=env)["step"] == "investigate"
        # the README's commands, exactly as written there, from a scratch folder
        (tmp_path / ".venv").symlink_to(REPO / ".venv")
        for line in readme_block("With `make run` running") + readme_block("Walking one review by hand"):
            done = subprocess.run(line, shell=True, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
            assert done.returncode == 0, f"README command failed: {line}\n{done.stdout}\n{done.stderr}"
        by_hand = reviewctl_json("review", "show", "rv-by-hand", env=env)
        assert by_hand["step"] == "solicit_opinions" and len(by_hand["findings"]) == len(by_hand["spec"]["rubric_points"])
    finally:
        stop_group(service)
    assert not port_open(port), "the embedded Temporal server kept running after Ctrl-C"
    assert reviewctl("status", env=env, check=False).returncode != 0

    service = start_service(env, tmp_path / "run2.log")
    try:
        wait_until(lambda: reviewctl("status", env=env, check=False).returncode == 0, 120, "reviewctl status after restart")
        again = reviewctl_json("review", "show", demo["review_id"], env=env)
        assert again["step"] == "closed" and again["version"] == demo["log_events"]
        state = wait_until(lambda: (s := reviewctl_json("review", "show", waiting, env=env)) and "investigate" in s["overdue"] and s, 120, "the waiting review's deadline to fire after the restart")
        assert "investigate" in state["reminded"] or state["overdue"] == ["investigate"]
        outbox = reviewctl_json("outbox", "--review", waiting, env=env)
        assert {"task_prompt", "overdue"} <= {m["kind"] for m in outbox["items"]}
        verify = reviewctl("audit", "verify", env=env, check=False)
        assert verify.returncode == 0, verify.stdout + verify.stderr
    finally:
        stop_group(service)
