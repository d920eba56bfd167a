"""Checks shared by the workflow tests: what a stored stream must look like,
what the outbox holds, polling the workflow until its state says so, and
what cross-check reports of a review ended behind the log's back.

Import as ``from stream_checks import ...`` from a test in ``tests/workflows``
(pytest's prepend import mode puts the test's folder on ``sys.path``)."""

from __future__ import annotations

import asyncio
import time
from typing import Callable

from sqlalchemy import Engine, select
from temporalio.client import Client

from domain.events import EventRecord, from_record
from domain.review import ReviewState, fold
from service.crosscheck import cross_check, cross_check_all
from service.reviews import get_state
from storage.canonical import GENESIS_HASH, record_hash
from storage.eventlog import EventStore
from storage.schema import outbox


def assert_stream_intact(records: list[EventRecord]) -> None:
    """Versions 1..N with no gap and no duplicate; each event chained to the one
    before it (prev_hash of k == hash of k-1, the first to the genesis hash);
    every stored hash is the hash of the stored event."""
    versions = [r.version for r in records]
    assert versions == list(range(1, len(records) + 1)), f"versions are not 1..N: {versions}"
    for prev, rec in zip([None, *records], records):
        expected_prev = GENESIS_HASH if prev is None else prev.hash
        assert rec.prev_hash == expected_prev, f"v{rec.version}: prev_hash {rec.prev_hash} does not link to {expected_prev}"
        assert rec.hash == record_hash(rec), f"v{rec.version}: stored hash is not the hash of the stored event"


def folded(store: EventStore, review_id: str) -> ReviewState:
    """The auditor's view: the state rebuilt from the log alone."""
    return fold(from_record(r) for r in store.read_stream(review_id))


def event_types(store: EventStore, review_id: str) -> list[str]:
    return [r.event_type for r in store.read_stream(review_id)]


def outbox_rows(engine: Engine, review_id: str) -> list[dict]:
    with engine.connect() as conn:
        rows = conn.execute(select(outbox).where(outbox.c.stream_id == review_id).order_by(outbox.c.id)).all()
    return [dict(r._mapping) for r in rows]


async def wait_for_state(client: Client, review_id: str, predicate: Callable[[ReviewState], bool], *, timeout: float = 15.0, what: str = "") -> ReviewState:
    """Poll the workflow's query until ``predicate`` holds (a timer that fired is
    processed by the worker a moment after the server's clock passed it)."""
    deadline = time.monotonic() + timeout
    state = await get_state(client, review_id)
    while not predicate(state):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or 'the state'}; last state: step={state.step} version={state.version} reminded={state.reminded} overdue={state.overdue}")
        await asyncio.sleep(0.05)
        state = await get_state(client, review_id)
    return state


async def the_one_problem(client: Client, store: EventStore, rid: str, task_queue: str, status: str) -> str:
    """Cross-check the review alone and in the check of all: both must report
    the execution's ``status`` against a log still at step investigate, with
    one and the same problem, which is returned for its words to be read."""
    report = await cross_check(client, store, rid)
    everything = await cross_check_all(client, store, task_queue)
    assert report.status == status and report.log_step == "investigate"
    assert not report.ok
    [problem] = report.problems
    assert "still at step investigate" in problem
    assert [r.problems for r in everything if r.review_id == rid] == [report.problems]
    return problem

