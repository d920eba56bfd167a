"""What every use case runs against: the settings, ONE database engine per
process (the event log, the directory and the projections share it), ONE
long-lived Temporal client created on first use and reused, and the stores
built on them. An adapter builds one context when it starts (the CLI per
process, the API per application) and closes it when it stops; use cases
never connect on their own."""

from __future__ import annotations

import asyncio
from functools import cached_property

from sqlalchemy import Engine
from temporalio.client import Client

from app.errors import Unavailable
from config.settings import Settings, get_settings
from storage.directory import DirectoryStore
from storage.eventlog import EventStore


class AppContext:
    CONNECT_TIMEOUT = 10.0  # seconds: a person waits this long for a server that does not answer

    def __init__(self, settings: Settings | None = None, *, engine: Engine | None = None, client: Client | None = None) -> None:
        self.settings = settings or get_settings()
        self._engine = engine
        self._owns_engine = engine is None
        self._client = client
        self._client_lock: asyncio.Lock | None = None

    # ---- databases ---------------------------------------------------------

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            from storage.db import make_engine

            self._engine = make_engine(self.settings.db_url)
        return self._engine

    def read(self):
        """A read-only connection (on SQLite a deferred BEGIN: reading never
        takes the writer's lock)."""
        return self.engine.connect().execution_options(sqlite_deferred=True)

    @cached_property
    def events(self) -> EventStore:
        """The one EventStore of the process (it caches stream heads and holds
        per-thread driver connections: building one per call would waste both)."""
        return EventStore(self.engine)

    @cached_property
    def review_states(self):
        """Each review's folded state, brought up to date from its stream on
        every read (app.review_states)."""
        from app.review_states import ReviewStates

        return ReviewStates(self.events)

    @cached_property
    def projector(self):
        """The read models' projector (app.projections)."""
        from app.projections.registry import projector_for

        return projector_for(self.engine, self.events)

    async def catch_up(self) -> int:
        """Bring the projections up to the log's head before a read (the
        service's loop usually has; then this is two small queries)."""
        if not self.projector.behind():
            return 0
        return await asyncio.to_thread(self.projector.catch_up)

    @cached_property
    def directory(self) -> DirectoryStore:
        return DirectoryStore(self.engine)

    # ---- Temporal ----------------------------------------------------------

    async def temporal(self) -> Client:
        """The process's Temporal client, connected on first use. A server that
        does not answer is :class:`Unavailable`, never a traceback."""
        if self._client is not None:
            return self._client
        if self._client_lock is None:
            self._client_lock = asyncio.Lock()
        async with self._client_lock:
            if self._client is None:
                from service.temporal import connect

                try:
                    self._client = await asyncio.wait_for(connect(self.settings), self.CONNECT_TIMEOUT)
                except (RuntimeError, OSError, asyncio.TimeoutError) as exc:
                    raise unavailable(self.settings, exc) from None
        return self._client

    def close(self) -> None:
        if self._owns_engine and self._engine is not None:
            self._engine.dispose()
            self._engine = None


def unavailable(settings: Settings, exc: BaseException | None = None) -> Unavailable:
    detail = f" ({exc})" if exc and str(exc) else ""
    return Unavailable(
        f"cannot reach Temporal at {settings.address}: is 'make run' running?{detail}",
        field=None,
        message_zh=f"无法连接 Temporal ({settings.address})：服务是否已启动（make run）？",
    )
