"""The event-log activity: the only way a workflow writes facts. Idempotent
under retry through the store's (stream, version) + causation rule."""

from __future__ import annotations

import contextlib
import threading

import structlog
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.contracts import APPEND_EVENTS, AppendInput, AppendResult
from activities.metrics import APPEND_FAILURES, APPEND_SECONDS, count_appended
from storage.eventlog import EventConflict, EventStore, OutboxMessage

log = structlog.get_logger("pingyi.activities.eventlog")


class EventLogActivities:
    """Holds its store; built once per worker process (dependencies passed in)."""

    def __init__(self, store: EventStore) -> None:
        self.store = store
        # SQLite has one writer at a time and makes the others poll with growing
        # sleeps; queueing this process's appends on a lock hands the database
        # over at once instead (PostgreSQL takes concurrent appends as they come)
        self._write_lock = threading.Lock() if store.engine.dialect.name == "sqlite" else contextlib.nullcontext()

    @activity.defn(name=APPEND_EVENTS)
    def append(self, inp: AppendInput) -> AppendResult:
        bound = log.bind(review_id=inp.stream_id, step=inp.step, version=inp.expected_version)
        messages = [
            OutboxMessage(version=o.version, recipient_id=o.notification.recipient_id, kind=o.notification.kind, subject=o.notification.subject, body=o.notification.body)
            for o in inp.outbox
        ]
        try:
            with self._write_lock, APPEND_SECONDS.time():
                stored = self.store.append(inp.stream_id, inp.expected_version, inp.records, messages)
        except EventConflict as err:
            APPEND_FAILURES.labels("conflict").inc()
            bound.error("append_conflict", error=str(err))
            raise ApplicationError(str(err), type="EventConflict", non_retryable=True) from err
        except Exception as err:
            APPEND_FAILURES.labels(type(err).__name__).inc()
            raise
        count_appended([r.event_type for r in stored], [m.kind for m in messages])  # a retried append (rare) counts again
        bound.info("events_appended", types=[r.event_type for r in stored], last_version=stored[-1].version if stored else None, outbox=len(messages))
        return AppendResult(records=stored)
