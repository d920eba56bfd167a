"""Names and payloads of the activities, importable by workflows without pulling
in any I/O library (the workflow sandbox re-imports what workflows import)."""

from __future__ import annotations

from pydantic import BaseModel

from domain.events import EventRecord
from domain.notifications import Notification

APPEND_EVENTS = "eventlog.append"


class OutboxEntry(BaseModel):
    version: int  # the event that caused the message
    notification: Notification


class AppendInput(BaseModel):
    """One command's events: one append, one transaction, one local activity."""

    stream_id: str
    step: str | None = None  # the review's step when the command came, for the logs
    expected_version: int
    records: list[EventRecord]
    outbox: list[OutboxEntry] = []


class AppendResult(BaseModel):
    records: list[EventRecord]  # as stored (a retry gets the first attempt's events back)
