"""uvicorn inside the service's own asyncio loop (``reviewctl serve``): one
process runs the worker, the checkpointer and the API, sharing one engine and
one Temporal client. The service owns SIGINT/SIGTERM, so the embedded server
installs no signal handlers of its own; it stops when told to."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Generator

import uvicorn
from fastapi import FastAPI


class EmbeddedServer(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield

    @property
    def port(self) -> int:
        """The bound port (the one asked for, or the free one picked for port 0)."""
        for server in self.servers:
            for sock in server.sockets:
                return sock.getsockname()[1]
        return self.config.port


class RunningApi:
    def __init__(self, server: EmbeddedServer, task: asyncio.Task) -> None:
        self.server = server
        self.task = task

    @property
    def url(self) -> str:
        host = self.server.config.host
        shown = "localhost" if host in ("127.0.0.1", "localhost") else f"[{host}]" if ":" in host else host
        return f"http://{shown}:{self.server.port}"

    async def stop(self) -> None:
        self.server.should_exit = True
        with contextlib.suppress(asyncio.CancelledError, SystemExit):
            await self.task


async def start_api(app: FastAPI, host: str, port: int, *, timeout: float = 30) -> RunningApi:
    """Bind and start serving; a port in use is a plain RuntimeError, not uvicorn's exit."""
    config = uvicorn.Config(app, host=host, port=port, log_config=None, access_log=False, lifespan="off", server_header=False)
    server = EmbeddedServer(config)

    async def run() -> None:
        try:
            await server.serve()
        except SystemExit as exc:  # uvicorn exits the process when it cannot bind
            raise RuntimeError(f"the API cannot listen on {host}:{port} (in use, or not an address of this machine)") from exc

    task = asyncio.create_task(run(), name="pingyi-api")
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not server.started:
        if task.done():
            task.result()
            raise RuntimeError(f"the API stopped while starting on {host}:{port}")
        if loop.time() > deadline:
            server.should_exit = True
            raise RuntimeError(f"the API did not start on {host}:{port} within {timeout:.0f}s")
        await asyncio.sleep(0.02)
    return RunningApi(server, task)
