"""Replay the saved histories (``histories/*.json``, recorded by
``record_histories.py``) through today's ``Review`` workflow: any
nondeterminism — a command the code no longer issues, or issues in another
order — fails CI before a deployed worker meets it on a running review.

The local activity (the event-log append) does not run on replay: its marker
in the history holds the stored records the workflow folds.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer, UnsandboxedWorkflowRunner

import workflows.review
from service.temporal import data_converter
from workflows.review import ReviewWorkflow

HISTORIES = sorted((Path(__file__).resolve().parent / "histories").glob("*.json"))


def load(path: Path) -> WorkflowHistory:
    """The file's name is the workflow id."""
    return WorkflowHistory.from_json(path.stem, path.read_text(encoding="utf-8"))


def test_the_saved_histories_cover_every_kind_of_turn():
    """The fixtures still hold what they are meant to exercise."""
    assert len(HISTORIES) >= 4, [p.name for p in HISTORIES]
    kinds: set[int] = set()
    for path in HISTORIES:
        history = load(path)
        kinds |= {e.event_type for e in history.events}
        ended = EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED if "cancelled" in path.stem and "engine" in path.stem else EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED
        assert history.events[-1].event_type == ended, path.name
    for wanted in (
        EventType.EVENT_TYPE_MARKER_RECORDED,  # the local activity's result
        EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED,
        EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED,
        EventType.EVENT_TYPE_TIMER_FIRED,  # a reminder, a deadline
        EventType.EVENT_TYPE_TIMER_CANCELED,  # a step ended / a deadline extended
        EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES,
        EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CANCEL_REQUESTED,  # cancelled in Temporal, recorded by the review
    ):
        assert wanted in kinds, EventType.Name(wanted)


@pytest.mark.parametrize("path", HISTORIES, ids=[p.stem for p in HISTORIES])
async def test_saved_history_replays_without_nondeterminism(path):
    replayer = Replayer(workflows=[ReviewWorkflow], data_converter=data_converter())
    result = await replayer.replay_workflow(load(path), raise_on_replay_failure=False)
    assert result.replay_failure is None, f"{path.name}: {result.replay_failure!r}"


async def test_all_saved_histories_replay_together():
    """One replayer over all of them, as a deployment check would run it."""

    async def histories():
        for p in HISTORIES:
            yield load(p)

    replayer = Replayer(workflows=[ReviewWorkflow], data_converter=data_converter())
    results = await replayer.replay_workflows(histories(), raise_on_replay_failure=False)
    assert results.replay_failures == {}


async def test_a_changed_workflow_fails_the_replay(monkeypatch):
    """The replay can fail: a workflow that no longer sets the step timers
    (``next_wakeup`` always None) does not match a history that has them."""
    monkeypatch.setattr(workflows.review, "next_wakeup", lambda state: None)
    replayer = Replayer(workflows=[ReviewWorkflow], data_converter=data_converter(), workflow_runner=UnsandboxedWorkflowRunner())
    [path] = [p for p in HISTORIES if p.stem == "rv-replay-late"]
    result = await replayer.replay_workflow(load(path), raise_on_replay_failure=False)
    assert result.replay_failure is not None
    assert "nondetermin" in str(result.replay_failure).lower()


def test_history_files_are_plain_temporal_json():
    for path in HISTORIES:
        doc = json.loads(path.read_text(encoding="utf-8"))
        assert doc["events"][0]["eventType"] == "EVENT_TYPE_WORKFLOW_EXECUTION_STARTED"
        assert doc["events"][0]["workflowExecutionStartedEventAttributes"]["workflowType"]["name"] == "Review"


async def test_the_engine_cancellation_is_guarded_by_its_patch(monkeypatch):
    """A review cancelled in Temporal before the review recorded such
    cancellations ended with no local activity; replayed without the
    ``workflow.patched`` guard, today's code would append one (nondeterminism)."""
    [path] = [p for p in HISTORIES if p.stem == "rv-replay-engine-cancelled-before-r2"]
    monkeypatch.setattr(workflows.review.workflow, "patched", lambda patch_id: True)
    replayer = Replayer(workflows=[ReviewWorkflow], data_converter=data_converter(), workflow_runner=UnsandboxedWorkflowRunner())
    result = await replayer.replay_workflow(load(path), raise_on_replay_failure=False)
    assert result.replay_failure is not None
