"""``reviewctl audit cross-check``: the SQL log against the workflow that wrote it.

Temporal's history is replayable but not tamper-evident and is subject to
retention; the SQL log is tamper-evident but knows nothing of workflows. Each
vouches for the other here:

- the log's events folded with the domain's ``evolve`` must equal the state the
  workflow reports (query ``state``), up to the version the workflow has folded;
- every event the workflow recorded — the ``eventlog.append`` local-activity
  results stored in its history as markers, hashes included — must be in the
  log, its columns hashing to the recorded hash, and every log event must be
  in the history;
- every command the workflow accepted (a successful update) must have caused
  events in the log (``causation_id = "update:<id>"``), and every such event
  must name an update the history accepted;
- the step transitions read from both must be the same sequence;
- the execution's status must agree with how the log says the review stands:
  an execution Temporal terminated, cancelled or timed out (which the workflow
  cannot record, or did not) while the log says the review is still open is
  reported, naming who ended it and why, as the history says.
"""

from __future__ import annotations

import json
from datetime import timedelta

from pydantic import BaseModel, Field
from sqlalchemy import select
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowExecutionStatus, WorkflowQueryFailedError
from temporalio.service import RPCError

from activities.contracts import APPEND_EVENTS, AppendResult
from domain.events import EventRecord, from_record
from domain.review import ReviewState, fold
from storage.canonical import record_hash
from storage.eventlog import EventStore
from storage.schema import events as events_t

LOCAL_ACTIVITY_MARKER = "core_local_activity"
QUERY_TIMEOUT = timedelta(seconds=15)
STEP_EVENTS = {"review.step_started", "review.closed", "review.cancelled"}


class CrossCheckReport(BaseModel):
    review_id: str
    log_events: int = 0
    history_events: int = 0
    commands: int = 0
    runs: int = 0
    status: str | None = None  # the execution's, as Temporal describes it (RUNNING, COMPLETED, TERMINATED, ...)
    log_step: str | None = None  # where the log says the review stands
    queried_version: int | None = None
    steps: list[str] = Field(default_factory=list)
    problems: list[str] = Field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _steps(records: list[EventRecord]) -> list[str]:
    out = []
    for r in records:
        if r.event_type == "review.step_started":
            out.append(str(r.payload.get("step")))
        elif r.event_type in STEP_EVENTS:
            out.append(r.event_type.removeprefix("review."))
    return out


def _state_diff(a: ReviewState, b: ReviewState) -> list[str]:
    da, db = a.model_dump(mode="json"), b.model_dump(mode="json")
    return sorted(k for k in da.keys() | db.keys() if da.get(k) != db.get(k))


async def _history(client: Client, review_id: str):
    """All runs of the review, oldest first (continue-as-new starts a new run)."""
    runs = []
    handle = client.get_workflow_handle(review_id)
    while True:
        history = await handle.fetch_history()
        runs.append(history)
        started = history.events[0].workflow_execution_started_event_attributes
        if not started.continued_execution_run_id:
            break
        handle = client.get_workflow_handle(review_id, run_id=started.continued_execution_run_id)
    return list(reversed(runs))


ENDED_BY_ENGINE = {
    WorkflowExecutionStatus.TERMINATED: "terminated",
    WorkflowExecutionStatus.CANCELED: "cancelled",
    WorkflowExecutionStatus.TIMED_OUT: "timed out",
    WorkflowExecutionStatus.FAILED: "failed",
}


def _who_ended(last_run) -> str:
    """Who ended the run and why, from its closing history events."""
    for e in reversed(last_run.events):
        if e.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED:
            a = e.workflow_execution_terminated_event_attributes
            return f" by {a.identity or 'an unnamed client'}" + (f" (reason: {a.reason})" if a.reason else "")
        if e.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CANCEL_REQUESTED:
            a = e.workflow_execution_cancel_requested_event_attributes
            return f" by {a.identity or 'an unnamed client'}" + (f" (reason: {a.cause})" if a.cause else "")
    return ""


def _status_problems(status: WorkflowExecutionStatus | None, log_state: ReviewState, last_run, report: CrossCheckReport) -> None:
    if status is None or status in (WorkflowExecutionStatus.RUNNING, WorkflowExecutionStatus.CONTINUED_AS_NEW):
        return
    if log_state.finished:
        return  # the log says how the review ended; the run's own end does not change that
    at = f"still at step {log_state.step.value}" if log_state.step else "not even opened"
    if status in ENDED_BY_ENGINE:
        report.problems.append(
            f"the workflow execution was {ENDED_BY_ENGINE[status]} in Temporal{_who_ended(last_run)}, but the log says the review is {at}: "
            "no event records how it ended (the review is no longer running)"
        )
    else:
        report.problems.append(f"the workflow execution is {status.name} but the log says the review is {at}")


async def cross_check(client: Client, store: EventStore, review_id: str) -> CrossCheckReport:
    report = CrossCheckReport(review_id=review_id)
    problems = report.problems
    handle = client.get_workflow_handle(review_id)
    status = (await handle.describe()).status
    report.status = status.name if status is not None else None
    # the query next: the log may only have grown since
    try:
        queried: ReviewState | None = await handle.query("state", result_type=ReviewState, rpc_timeout=QUERY_TIMEOUT)
    except (RPCError, WorkflowQueryFailedError) as e:  # no worker polls its task queue, it is busy, or it is no review: the history checks still run
        queried = None
        problems.append(f"the workflow did not answer the state query ({e.message}); is a worker running on its task queue?")
    records = store.read_stream(review_id)
    report.log_events = len(records)
    report.steps = _steps(records)
    log_state = fold(from_record(r) for r in records)
    report.log_step = log_state.step.value if log_state.step else None
    if queried is not None:
        report.queried_version = queried.version
        if len(records) < queried.version:
            problems.append(f"the workflow has folded {queried.version} events, the log holds {len(records)}")
        replayed = fold(from_record(r) for r in records[: queried.version])
        if replayed != queried:
            problems.append(f"state replayed from the log differs from the workflow's in: {', '.join(_state_diff(replayed, queried))}")

    recorded: dict[int, EventRecord] = {}
    accepted: dict[str, str] = {}  # update id -> outcome
    runs = await _history(client, review_id)
    report.runs = len(runs)
    _status_problems(status, log_state, runs[-1], report)
    for history in runs:
        for e in history.events:
            if e.event_type == EventType.EVENT_TYPE_MARKER_RECORDED:
                m = e.marker_recorded_event_attributes
                if m.marker_name != LOCAL_ACTIVITY_MARKER or "result" not in m.details:
                    continue
                data = json.loads(m.details["data"].payloads[0].data)
                if data.get("activity_type") != APPEND_EVENTS:
                    continue
                (result,) = await client.data_converter.decode(m.details["result"].payloads, [AppendResult])
                for r in result.records:
                    recorded[r.version] = r
            elif e.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED:
                a = e.workflow_execution_update_accepted_event_attributes
                accepted.setdefault(a.accepted_request.meta.update_id, "accepted")
            elif e.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED:
                c = e.workflow_execution_update_completed_event_attributes
                accepted[c.meta.update_id] = c.outcome.WhichOneof("value") or "unknown"
    report.history_events = len(recorded)
    report.commands = sum(1 for v in accepted.values() if v == "success")

    in_log = {r.version: r for r in records}
    for v in sorted(in_log.keys() | recorded.keys()):
        a, b = in_log.get(v), recorded.get(v)
        if b is None:
            problems.append(f"v{v} ({a.event_type}, position {a.position}) is in the log but the workflow never recorded it")
        elif a is None:
            problems.append(f"v{v} ({b.event_type}, position {b.position}) was recorded by the workflow but is missing from the log")
        elif record_hash(a) != b.hash or a.position != b.position:
            # recomputed from the log's columns: a stored hash left in place after an edit proves nothing
            problems.append(f"v{v} ({a.event_type}) differs: the log's content at position {a.position} does not hash to what the workflow recorded at position {b.position}")

    caused: dict[str, int] = {}
    for r in records:
        if r.causation_id and r.causation_id.startswith("update:"):
            caused[r.causation_id.removeprefix("update:")] = caused.get(r.causation_id.removeprefix("update:"), 0) + 1
    for uid, outcome in accepted.items():
        if outcome == "success" and uid not in caused:
            problems.append(f"command {uid} succeeded in the workflow but caused no event in the log")
    for uid in caused:
        if uid not in accepted:
            problems.append(f"the log has events of command {uid}, which the workflow never accepted")
        elif accepted[uid] != "success":
            problems.append(f"the log has events of command {uid}, which the workflow rejected")

    history_steps = _steps([recorded[v] for v in sorted(recorded)])
    if history_steps != report.steps:
        problems.append(f"step transitions differ: log {' → '.join(report.steps)}; history {' → '.join(history_steps)}")
    return report


async def review_ids(client: Client, store: EventStore, task_queue: str) -> list[str]:
    """Every review either side knows of: the log's review streams (not its
    accounts' or campaigns' streams: a campaign's id is its workflow's too, and
    that workflow has no review state to query) and the Review workflows of
    this deployment's task queue in Temporal (one the log never heard of is
    checked too)."""
    with store.engine.connect() as conn:
        ids = set(conn.execute(select(events_t.c.stream_id).where(events_t.c.event_type == "review.started").distinct()).scalars())
    async for w in client.list_workflows(f'WorkflowType = "Review" AND TaskQueue = "{task_queue}"'):
        ids.add(w.id)
    return sorted(ids)


async def cross_check_all(client: Client, store: EventStore, task_queue: str) -> list[CrossCheckReport]:
    reports = []
    for rid in await review_ids(client, store, task_queue):
        try:
            reports.append(await cross_check(client, store, rid))
        except RPCError as e:  # e.g. a stream whose workflow's history is gone (retention)
            reports.append(CrossCheckReport(review_id=rid, problems=[f"Temporal cannot show this review's workflow: {e.message}"]))
    return reports
