"""Every projection the service keeps current (add yours here)."""

from __future__ import annotations

import asyncio

from sqlalchemy import Engine

from app.projections.projector import Projection, Projector
from app.projections.reviews import ReviewProjection
from storage.eventlog import EventStore


def all_projections() -> list[Projection]:
    return [ReviewProjection()]


def projector_for(engine: Engine, store: EventStore | None = None) -> Projector:
    return Projector(engine, store or EventStore(engine), all_projections())


async def keep_current(engine: Engine, stop: asyncio.Event, every: float = 1.0) -> None:
    """The service's background task: poll the log and project until ``stop``."""
    await projector_for(engine).run(stop, every)
