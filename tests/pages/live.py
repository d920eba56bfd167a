"""The whole service in one background thread, as ``reviewctl serve`` runs it:
a real Temporal dev server (search attributes registered), the event log and
directory on SQLite with the example organization, a worker, and the FastAPI
application (API + pages) under uvicorn on a free port. The browser tests
drive it from the main thread with Playwright's sync API."""

from __future__ import annotations

import asyncio
import socket
import sys
import threading
import uuid
from pathlib import Path

from temporalio.testing import WorkflowEnvironment

BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LiveService:
    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.ready = threading.Event()
        self.error: BaseException | None = None
        self.loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self.ctx = None
        self.accounts = None
        self._thread = threading.Thread(target=self._run, name="pages-live-service", daemon=True)

    def start(self, timeout: float = 120) -> "LiveService":
        self._thread.start()
        if not self.ready.wait(timeout):
            raise TimeoutError("the live service did not start")
        if self.error:
            raise self.error
        return self

    def stop(self) -> None:
        if self.loop and self._stop:
            self.loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(60)

    def call(self, coro, timeout: float = 60):
        """Run a coroutine on the service's loop (to start reviews, say) and wait for it."""
        assert self.loop is not None
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def _run(self) -> None:
        try:
            asyncio.run(self._main())
        except BaseException as exc:  # noqa: BLE001 - handed to the test thread
            self.error = exc
            self.ready.set()

    async def _main(self) -> None:
        from api.server import start_api
        from app.accounts import Accounts
        from app.context import AppContext
        from config.settings import Settings
        from directory.service import load_example, load_rubrics
        from pages.site import site
        from service.temporal import data_converter
        from storage.db import make_engine
        from storage.migrate import upgrade
        from worker import build_worker
        from workflows import search_attributes as sa

        self.loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        settings = Settings(
            data_dir=self.data_dir, database_url=f"sqlite:///{self.data_dir / 'pingyi.db'}", task_queue=f"tq-pages-{uuid.uuid4().hex[:8]}",
            session_cookie_secure=False, dev_sign_in=True,
        )
        env = await WorkflowEnvironment.start_local(data_converter=data_converter(), dev_server_existing_path=str(BIN / "temporal"), search_attributes=sa.ALL_KEYS)
        engine = make_engine(settings.db_url)
        upgrade(engine)
        load_example(engine)
        load_rubrics(engine)
        self.ctx = AppContext(settings, engine=engine, client=env.client)
        self.accounts = Accounts.of(self.ctx)
        app = site(self.ctx, accounts=self.accounts)
        try:
            async with build_worker(env.client, engine, settings.task_queue):
                api = await start_api(app, "127.0.0.1", self.port)
                self.ready.set()
                await self._stop.wait()
                await api.stop()
        finally:
            await env.shutdown()
            engine.dispose()
