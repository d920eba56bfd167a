"""The review use cases as a person meets them: who may see and do what (roles
derived from the review, a supervisor's scope from the directory), the actor
always the principal, and every engine failure a typed error."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import text
from principals import OFFICE, person

from app import engine
from app.errors import BadInput, Conflict, Forbidden, NotFound
from app.reviews import (
    SendCommandInput, ShowReviewInput, StartReviewInput, TemplateInput, command_kinds, command_template, send_command, show_review, start_review, state_from_log,
)
from domain.commands import COMMANDS
from domain.procedure import Step

SUBJECT = "U-AF01-B01"  # a branch under U-AF01, under U-HQ-ORG


async def started(ctx, **kw):
    rid = f"rv-app-{uuid.uuid4().hex[:8]}"
    result = await start_review(ctx, OFFICE, StartReviewInput(subject_id=SUBJECT, review_id=rid, **kw))
    return result


async def test_reviewer_sees_and_acts_and_the_actor_is_the_principal(ctx):
    r = await started(ctx)
    reviewer = person(r.reviewer_id)
    view = await show_review(ctx, reviewer, ShowReviewInput(review_id=r.review_id))
    assert view.step.value == "investigate" and "reviewer" in view.your_roles
    with pytest.raises(BadInput) as info:  # the investigation has no findings yet
        await send_command(ctx, reviewer, SendCommandInput(review_id=r.review_id, kind="close_investigation", fields={"actor_id": "P-SOMEONE-ELSE"}))
    assert info.value.field == "findings"
    with pytest.raises(Conflict) as info:  # the right command at the wrong step
        await send_command(ctx, reviewer, SendCommandInput(review_id=r.review_id, kind="close_opinion_solicitation"))
    assert info.value.field == "kind" and "investigate" in info.value.message
    body = (await command_template(ctx, reviewer, TemplateInput(kind="record_findings", review_id=r.review_id))).body
    body["actor_id"] = "P-000001"  # a body naming another actor is overwritten
    done = await send_command(ctx, reviewer, SendCommandInput(review_id=r.review_id, kind="record_findings", fields=body))
    assert done.actor_id == r.reviewer_id and done.events == ["review.findings_recorded"]
    stored = ctx.events.read_stream(r.review_id)
    assert stored[-1].actor_id == r.reviewer_id


async def test_people_without_a_role_and_supervisors_out_of_scope_get_not_found(ctx):
    r = await started(ctx)
    for stranger in (person("P-000001"), person("P-000002", supervisor_scopes=("U-CNCA",))):
        with pytest.raises(NotFound):
            await show_review(ctx, stranger, ShowReviewInput(review_id=r.review_id))
        with pytest.raises(NotFound):
            await send_command(ctx, stranger, SendCommandInput(review_id=r.review_id, kind="cancel_review", reason="x"))
    with pytest.raises(Forbidden):
        await show_review(ctx, person("P-000003", administrator=True), ShowReviewInput(review_id=r.review_id))
    auditor = await show_review(ctx, person("P-000004", auditor=True), ShowReviewInput(review_id=r.review_id))
    assert auditor.your_roles == ["auditor"]
    with pytest.raises(Forbidden):  # reads everything, changes nothing
        await send_command(ctx, person("P-000004", auditor=True), SendCommandInput(review_id=r.review_id, kind="cancel_review", reason="x"))


async def test_a_scoped_supervisor_acts_as_supervisor_and_an_ended_review_takes_nothing(ctx):
    r = await started(ctx)
    boss = person("P-000010", supervisor_scopes=("U-HQ-ORG",))
    view = await show_review(ctx, boss, ShowReviewInput(review_id=r.review_id))
    assert view.your_roles == ["supervisor"]
    with pytest.raises(BadInput) as info:
        await send_command(ctx, boss, SendCommandInput(review_id=r.review_id, kind="cancel_review"))
    assert info.value.field == "reason"
    done = await send_command(ctx, boss, SendCommandInput(review_id=r.review_id, kind="cancel_review", reason="[red]x[/red] merged units"))
    assert done.step.value == "cancelled"
    last = ctx.events.read_stream(r.review_id)[-1]
    assert (last.actor_id, last.actor_role, last.reason) == ("P-000010", "supervisor", "[red]x[/red] merged units")
    with pytest.raises(Conflict):
        await send_command(ctx, person(r.reviewer_id), SendCommandInput(review_id=r.review_id, kind="close_investigation"))
    with pytest.raises(Conflict):  # an id names one review forever
        await start_review(ctx, OFFICE, StartReviewInput(subject_id=SUBJECT, review_id=r.review_id))
    # and Temporal itself refuses a new run of the closed review's id (REJECT_DUPLICATE)
    spec = state_from_log(ctx, r.review_id).spec
    with pytest.raises(Conflict, match="in use"):
        await engine.start(ctx, spec)


async def test_unknown_ids_kinds_and_people_are_named(ctx):
    with pytest.raises(NotFound):
        await show_review(ctx, OFFICE, ShowReviewInput(review_id="rv-none"))
    with pytest.raises(NotFound):
        await send_command(ctx, OFFICE, SendCommandInput(review_id="rv-none", kind="cancel_review", reason="x"))
    r = await started(ctx)
    with pytest.raises(BadInput) as info:
        await send_command(ctx, OFFICE, SendCommandInput(review_id=r.review_id, kind="send_reminder"))
    assert info.value.field == "kind"
    with pytest.raises(BadInput) as info:
        await send_command(ctx, OFFICE, SendCommandInput(review_id=r.review_id, kind="reassign_reviewer", reason="moved", fields={"reviewer_id": "P-NOBODY"}))
    assert (info.value.field, "P-NOBODY" in info.value.message) == ("reviewer_id", True)
    with pytest.raises(BadInput) as info:
        await started(ctx, days={"investigate": 0})
    assert info.value.field == "days.investigate"
    with pytest.raises(Forbidden):
        await start_review(ctx, person("P-000001"), StartReviewInput(subject_id=SUBJECT))


async def test_command_kinds_come_from_the_one_declaration(ctx):
    kinds = (await command_kinds(ctx, OFFICE)).kinds
    assert [k.kind for k in kinds] == [k for k, d in COMMANDS.items() if not d.by_workflow]
    assert {k.kind for k in kinds if k.reason_required} == {"return_rectification_plan", "reassign_reviewer", "add_co_reviewer", "extend_deadline", "cancel_review"}


async def test_deadlines_given_as_local_dates_end_that_local_day(ctx):
    from datetime import date, timedelta

    from domain.local_time import end_of_local_day

    tz = ctx.settings.tz
    first, later = date.today() + timedelta(days=20), date.today() + timedelta(days=40)
    r = await started(ctx, due={"investigate": first.isoformat(), "review": later.isoformat()})
    assert r.first_due_at == end_of_local_day(first, tz)
    state = state_from_log(ctx, r.review_id)
    assert state.due[Step.INVESTIGATE] == end_of_local_day(first, tz)  # 15:59:59 UTC in Shanghai, not midnight UTC
    assert state.due[Step.INVESTIGATE].hour == 15 and state.due[Step.REVIEW] == end_of_local_day(later, tz)
    extended = date.today() + timedelta(days=25)
    await send_command(ctx, OFFICE, SendCommandInput(review_id=r.review_id, kind="extend_deadline", reason="holiday",
                                                     fields={"step": "investigate", "due_at": extended.isoformat()}))
    assert state_from_log(ctx, r.review_id).due[Step.INVESTIGATE] == end_of_local_day(extended, tz)
    with pytest.raises(BadInput) as info:
        await send_command(ctx, OFFICE, SendCommandInput(review_id=r.review_id, kind="extend_deadline", reason="x", fields={"step": "investigate", "due_at": "soon"}))
    assert info.value.field == "due_at"
    with pytest.raises(BadInput) as info:
        await started(ctx, due={"investigate": "2020-01-01"})
    assert info.value.field == "due.investigate"
    with ctx.read() as conn:
        prompt = conn.execute(text("select subject, body from outbox where stream_id = :r"), {"r": r.review_id}).all()
    assert any(f"{first.isoformat()} 23:59 CST" in body for _, body in prompt), prompt


async def test_a_review_no_worker_has_opened_yet_is_named_as_still_opening_not_as_an_unreachable_server(app_env, app_engine, tmp_path):
    """The server answers, the review is started, but nothing has recorded its
    opening (here: no worker polls its queue): a person asking for it is told
    that, in one line naming the review, never "cannot reach Temporal"."""
    from app.context import AppContext
    from config.settings import Settings

    idle = AppContext(Settings(database_url=str(app_engine.url), task_queue=f"tq-idle-{uuid.uuid4()}", data_dir=tmp_path), engine=app_engine, client=app_env.client)
    rid = f"rv-unopened-{uuid.uuid4().hex[:6]}"
    await start_review(idle, OFFICE, StartReviewInput(subject_id="U-AF01-B01", review_id=rid))
    with pytest.raises(Conflict) as err:
        await engine.query_state(idle, rid, wait_started=1.5)
    assert err.value.field == "review_id" and rid in str(err.value) and "has not recorded its opening within 1.5 s" in str(err.value)
    assert "reach" not in str(err.value) and "未记录开启事件" in err.value.message_zh
    await app_env.client.get_workflow_handle(rid).terminate("test over")
