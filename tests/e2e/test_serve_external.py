"""With TEMPORAL_ADDRESS set, ``reviewctl serve`` joins that server and starts
none of its own."""

from __future__ import annotations

import os
import subprocess

import pytest
from helpers import BIN, REPO, free_port, port_open, reviewctl, reviewctl_json, stop_group, wait_until

from config.settings import Settings
from service.devserver import start_dev_server

pytestmark = pytest.mark.e2e


async def test_serve_uses_the_given_server_and_starts_none(tmp_path):
    server = await start_dev_server(Settings(data_dir=tmp_path / "theirs", dev_server_port=free_port(), dev_ui_port=free_port()))
    own_port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TEMPORAL_", "PINGYI_"))}
    env.update(TEMPORAL_ADDRESS=server.address, PINGYI_DATA_DIR=str(tmp_path / "ours"), PINGYI_DEV_SERVER_PORT=str(own_port), PINGYI_TASK_QUEUE=f"tq-{own_port}", PINGYI_API_PORT=str(free_port()))
    service = subprocess.Popen([str(BIN / "reviewctl"), "serve"], cwd=REPO, env=env, stdout=open(tmp_path / "serve.log", "wb"), stderr=subprocess.STDOUT, start_new_session=True)
    try:
        wait_until(lambda: reviewctl("status", env=env, check=False).returncode == 0, 120, "reviewctl status against the given server")
        assert not port_open(own_port), "serve started a Temporal server of its own"
        assert not (tmp_path / "ours" / "temporal.db").exists()
        assert reviewctl_json("demo", env=env)["final_step"] == "closed"
    finally:
        stop_group(service)
        server.stop()
    assert "starting the embedded Temporal server" not in (tmp_path / "serve.log").read_text()
