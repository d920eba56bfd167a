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


class StoredStamp(BaseModel):
    """What the log added to a record it stored exactly as sent: its global
    position and hash (so the engine's history still vouches for every event
    the cross-check finds in the log), with the type and, for a step's start,
    the step (the step sequence the cross-check compares)."""

    version: int
    event_type: str
    position: int
    hash: str
    step: str | None = None


class AppendResult(BaseModel):
    """The log's answer, as small as it can be: the workflow already holds the
    events it sent, so when the log stored exactly those (every first attempt)
    only the stamps come back, and it folds its own events. ``records`` holds
    the log's events when they are not the ones sent (a retry after a crash
    found the first attempt's, which win), and in every history recorded
    before stamps existed."""

    records: list[EventRecord] = []
    stamps: list[StoredStamp] = []
