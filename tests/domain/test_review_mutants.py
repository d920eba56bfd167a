"""Tests written to kill the mutants ``mutmut`` found surviving in
domain/review.py (docs/mutation.md): each pins one behaviour no other test
looked at closely enough."""

from __future__ import annotations

import pytest

from domain import commands as c
from domain import events as e
from domain.errors import CommandRejected
from domain.procedure import Role, Step
from domain.review import ENGINE_CANCEL_REASON, ReviewState, decide
from domain.rubric import SubjectLevel, UnitCategory
from review_builders import SUBJECT_LEADER, add_co_reviewer_cmd, drive_to, make_spec, reassign_cmd


def _run():
    return drive_to(Step.SOLICIT_OPINIONS, make_spec(SubjectLevel.A, UnitCategory.LAW_ENFORCEMENT))


def test_the_subject_as_new_reviewer_is_refused_saying_why():
    run = _run()
    with pytest.raises(CommandRejected) as info:
        decide(run.state, reassign_cmd(SUBJECT_LEADER), run.now)
    assert (info.value.field, info.value.reason) == ("reviewer_id", "nobody reviews themselves: the new reviewer is the subject")


def test_the_subject_as_co_reviewer_is_refused_saying_why():
    run = _run()
    with pytest.raises(CommandRejected) as info:
        decide(run.state, add_co_reviewer_cmd(SUBJECT_LEADER), run.now)
    assert (info.value.field, info.value.reason) == ("co_reviewer_id", "nobody reviews themselves: the co-reviewer is the subject")


@pytest.mark.parametrize("told,recorded", [
    ("requested in the Web UI", f"{ENGINE_CANCEL_REASON}: requested in the Web UI"),
    ("  padded  ", f"{ENGINE_CANCEL_REASON}: padded"),
    ("", ENGINE_CANCEL_REASON),
    (None, ENGINE_CANCEL_REASON),
])
def test_a_cancellation_through_the_engine_records_what_the_engine_was_told(told, recorded):
    run = _run()
    evs = decide(run.state, c.RecordEngineCancellation(actor_id="temporal", reason=told), run.now)
    assert len(evs) == 1 and isinstance(evs[0], e.ReviewCancelled)
    assert evs[0].reason == recorded and evs[0].actor_id == "temporal" and evs[0].actor_role is Role.ENGINE


def test_a_review_not_started_has_no_current_deadline():
    assert ReviewState().current_due() is None
    run = _run()
    assert run.state.current_due() == run.state.due[Step.SOLICIT_OPINIONS]
