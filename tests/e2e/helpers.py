"""Running the product as a person does: real processes, real ports."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from ports import free_port  # noqa: F401 (the e2e tests import it from here)

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.3)
        return s.connect_ex(("127.0.0.1", port)) == 0


def reviewctl(*args: str, env: dict, check: bool = True, timeout: float = 120) -> subprocess.CompletedProcess:
    p = subprocess.run([str(BIN / "reviewctl"), *args], env=env, cwd=REPO, capture_output=True, text=True, timeout=timeout)
    if check and p.returncode != 0:
        raise AssertionError(f"reviewctl {' '.join(args)} exited {p.returncode}\nstdout: {p.stdout}\nstderr: {p.stderr}")
    return p


def reviewctl_json(*args: str, env: dict):
    return json.loads(reviewctl(*args, "--json", env=env).stdout)


def wait_until(predicate, timeout: float, what: str, interval: float = 0.5):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")


def stop_group(proc: subprocess.Popen, timeout: float = 40) -> None:
    """Ctrl-C the way a terminal does: SIGINT to the whole process group."""
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGINT)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            raise AssertionError("the service did not stop within %ss of Ctrl-C" % timeout)
