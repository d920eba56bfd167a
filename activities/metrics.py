"""The Prometheus registry of a worker and the counters of what its
activities did (appends, their time and failures, events by type, reminders,
deadlines, messages queued, and what the mail relay delivered or failed to).
They live beside the activities that count, so activities import nothing
above their layer; ``service.telemetry`` serves this registry with the review
gauges added to it."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram

REGISTRY = CollectorRegistry()  # no auto-describe: registering the review gauges must not run their queries
APPEND_SECONDS = Histogram(
    "pingyi_event_log_append_seconds", "time to append one command's events (and its messages) to the event log",
    registry=REGISTRY, buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
EVENTS_APPENDED = Counter("pingyi_events_appended", "events this worker appended to the event log, by type", ["event_type"], registry=REGISTRY)
APPEND_FAILURES = Counter("pingyi_event_log_append_failures", "appends refused or failed (each retried by Temporal unless a conflict)", ["reason"], registry=REGISTRY)
REMINDERS_SENT = Counter("pingyi_reminders_sent", "reminders the reviews' clocks sent", registry=REGISTRY)
DEADLINES_PASSED = Counter("pingyi_deadlines_passed", "step deadlines that passed with the step unfinished", registry=REGISTRY)
MESSAGES_QUEUED = Counter("pingyi_deliveries_queued", "messages written to the outbox for delivery, by kind", ["kind"], registry=REGISTRY)
DELIVERIES_SENT = Counter("pingyi_deliveries_sent", "outbox messages the mail relay handed to the SMTP server, by kind (kind=reminder: reminders delivered)", ["kind"], registry=REGISTRY)
DELIVERIES_FAILED = Counter(
    "pingyi_deliveries_failed", "mail delivery attempts that failed, by kind and outcome (retry: tried again after a backoff; given_up: recorded as failed)",
    ["kind", "outcome"], registry=REGISTRY,
)


def count_appended(event_types: list[str], message_kinds: list[str]) -> None:
    for t in event_types:
        EVENTS_APPENDED.labels(t).inc()
        if t == "review.reminder_sent":
            REMINDERS_SENT.inc()
        elif t == "review.deadline_passed":
            DEADLINES_PASSED.inc()
    for k in message_kinds:
        MESSAGES_QUEUED.labels(k).inc()
