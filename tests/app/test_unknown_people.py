"""A person id the directory does not know never reaches a review (issue 13,
point 2): starting a review with explicit people (reviewer, co-reviewers,
principal leader given by hand), starting one of an unknown subject, and
adding an unknown co-reviewer to a running review are each refused naming the
id and the field, and nothing is started or recorded. A typo must not make a
reviewer nobody can ever sign in as.

Each refusal is paired with the same call naming known people, which goes
through: the refusal is the unknown id's, not another rule's."""

from __future__ import annotations

import uuid

import pytest
from principals import OFFICE
from temporalio.service import RPCError

from app import engine
from app.errors import BadInput
from app.reviews import ExplicitAssignment, SendCommandInput, StartReviewInput, send_command, start_review, state_from_log
from domain.rubric import SubjectLevel

SUBJECT = "U-AF01-B01"  # a branch under U-AF01, under U-HQ-ORG
REVIEWER, CO_REVIEWER, LEADER = "P-000368", "P-000002", "P-000010"  # people of the example organization


def new_id() -> str:
    return f"rv-who-{uuid.uuid4().hex[:8]}"


def explicit(**kw) -> ExplicitAssignment:
    facts = dict(reviewer_id=REVIEWER, unit_id=SUBJECT, leader_id=LEADER, level=SubjectLevel.B, co_reviewer_ids=[CO_REVIEWER])
    return ExplicitAssignment(**{**facts, **kw})


async def assert_nothing_started(ctx, review_id: str) -> None:
    assert ctx.events.stream_version(review_id) == 0
    with pytest.raises(RPCError):  # Temporal has no such execution either
        await (await ctx.temporal()).get_workflow_handle(review_id).describe()


@pytest.mark.parametrize(("field", "facts"), [
    ("reviewer_id", {"reviewer_id": "P-NOBODY"}),
    ("co_reviewer_ids", {"co_reviewer_ids": [CO_REVIEWER, "P-NOBODY"]}),
    ("leader_id", {"leader_id": "P-NOBODY"}),
])
async def test_an_explicit_start_naming_a_person_the_directory_does_not_know_is_refused_naming_the_id_and_the_field(ctx, field, facts):
    rid = new_id()
    with pytest.raises(BadInput) as info:
        await start_review(ctx, OFFICE, StartReviewInput(subject_id=SUBJECT, review_id=rid, explicit=explicit(**facts)))
    assert info.value.field == field
    assert "'P-NOBODY'" in info.value.message and "not a person in the directory" in info.value.message
    assert "P-NOBODY" in info.value.message_zh
    await assert_nothing_started(ctx, rid)


async def test_an_explicit_start_naming_known_people_starts(ctx):
    """The control of the refusals above: the same facts with every id known."""
    rid = new_id()
    r = await start_review(ctx, OFFICE, StartReviewInput(subject_id=SUBJECT, review_id=rid, explicit=explicit()))
    assert (r.reviewer_id, r.co_reviewer_ids) == (REVIEWER, [CO_REVIEWER])


@pytest.mark.parametrize("subject", ["U-NOWHERE", "P-NOBODY"])
async def test_a_start_of_a_subject_the_directory_does_not_know_is_refused_naming_the_id(ctx, subject):
    rid = new_id()
    with pytest.raises(BadInput) as info:
        await start_review(ctx, OFFICE, StartReviewInput(subject_id=subject, review_id=rid))
    assert info.value.field == "subject_id"
    assert subject in info.value.message and "not in the directory" in info.value.message
    await assert_nothing_started(ctx, rid)


async def test_adding_a_co_reviewer_the_directory_does_not_know_is_refused_naming_the_id(ctx):
    """The running review keeps its people; a known co-reviewer is then added."""
    r = await start_review(ctx, OFFICE, StartReviewInput(subject_id=SUBJECT, review_id=new_id()))
    before = (await engine.query_state(ctx, r.review_id, wait_started=10)).version  # opened
    with pytest.raises(BadInput) as info:
        await send_command(ctx, OFFICE, SendCommandInput(review_id=r.review_id, kind="add_co_reviewer", reason="more hands", fields={"co_reviewer_id": "P-NOBODY"}))
    assert info.value.field == "co_reviewer_id"
    assert "'P-NOBODY'" in info.value.message and "not a person in the directory" in info.value.message
    assert ctx.events.stream_version(r.review_id) == before
    assert "P-NOBODY" not in state_from_log(ctx, r.review_id).spec.co_reviewer_ids

    known = next(p for p in (CO_REVIEWER, LEADER) if p != r.reviewer_id and p not in r.co_reviewer_ids)
    done = await send_command(ctx, OFFICE, SendCommandInput(review_id=r.review_id, kind="add_co_reviewer", reason="more hands", fields={"co_reviewer_id": known}))
    assert done.events and known in state_from_log(ctx, r.review_id).spec.co_reviewer_ids
