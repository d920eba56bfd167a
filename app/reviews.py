"""Use cases of one review: start it, send it a command, show it, list the
command kinds and fill a command's template. Each takes the acting principal,
checks it against the review's derived roles (:mod:`app.access`), and answers
with a typed result or a typed error (:mod:`app.errors`).

The actor of every command is the principal's person: whatever ``actor_id`` a
body names is overwritten."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from typing import Any, Literal

from pydantic import BaseModel, Field, ValidationError

from app import engine
from app.access import require_read, require_signed_in_person
from app.context import AppContext
from app.cursor import Page, after_of, page_of
from app.errors import BadInput, Conflict, Forbidden
from app.people import require_known_people
from app.principal import Principal
from domain.assignment import Explanation
from domain.commands import COMMANDS, parse_command
from domain.errors import CommandRejected
from domain.events import ReviewSpec, Subject
from domain.local_time import parse_deadline
from domain.procedure import FIVE_STEPS, Role, Step, SubjectKind
from domain.review import ReviewState
from domain.rubric import SubjectLevel, UnitCategory

ENVELOPE = frozenset({"kind", "actor_id", "reason", "supervisor_grant"})


# --------------------------------------------------------------------------
# reading a review's state
# --------------------------------------------------------------------------


def state_from_log(ctx: AppContext, review_id: str) -> ReviewState:
    """The review rebuilt from its stream with the domain's fold: the same
    state the workflow holds (the auditor's cross-check proves it), without a
    round trip to the engine; folded incrementally (app.review_states)."""
    return ctx.review_states.current(review_id)


async def current_state(ctx: AppContext, review_id: str) -> ReviewState:
    """The log's state; for a review whose opening is not recorded yet (just
    started), the workflow's own, waited for a moment. Unknown: NotFound."""
    state = state_from_log(ctx, review_id)
    if state.spec is not None:
        return state
    return await engine.query_state(ctx, review_id, wait_started=10)


# --------------------------------------------------------------------------
# show
# --------------------------------------------------------------------------


class ShowReviewInput(BaseModel):
    review_id: str = Field(min_length=1, max_length=200)


class ReviewView(ReviewState):
    """The review's state as the workflow reports it, with the principal's
    roles on it (``ReviewState``'s fields at the top level, so existing readers
    of ``review show --json`` keep working)."""

    review_id: str
    your_roles: list[str] = Field(default_factory=list)

    @property
    def explanation(self) -> Explanation | None:
        """Why this reviewer, as the directory explained it, the two languages
        apart (the review records them together): a page shows its reader's."""
        return Explanation.of_text(self.spec.explanation) if self.spec and self.spec.explanation else None


async def show_review(ctx: AppContext, principal: Principal, inp: ShowReviewInput) -> ReviewView:
    state = await current_state(ctx, inp.review_id)
    got = require_read(ctx.directory, principal, inp.review_id, state)
    live = await engine.query_state(ctx, inp.review_id)
    return ReviewView(review_id=inp.review_id, your_roles=got.role_names(), **live.model_dump())


# --------------------------------------------------------------------------
# send a command
# --------------------------------------------------------------------------


class SendCommandInput(BaseModel):
    review_id: str = Field(min_length=1, max_length=200)
    kind: str
    reason: str | None = None
    # the command's own fields (an actor_id here is ignored: the principal acts)
    fields: dict[str, Any] = Field(default_factory=dict)


class SendCommandResult(BaseModel):
    review_id: str
    kind: str
    actor_id: str
    step: Step
    version: int
    events: list[str]


def _declaration(kind: str):
    d = COMMANDS.get(kind)
    if d is None or d.by_workflow:
        people = ", ".join(k for k, x in COMMANDS.items() if not x.by_workflow)
        raise BadInput(f"unknown command kind {kind!r}; one of: {people}", field="kind", message_zh=f"未知的命令类型 {kind!r}")
    return d


def _normalise_due(fields: dict[str, Any], ctx: AppContext) -> dict[str, Any]:
    """extend_deadline's ``due_at`` may be a local date (the end of that day in
    the configured zone) or a time; a time without an offset is local."""
    due = fields.get("due_at")
    if isinstance(due, str):
        try:
            fields = {**fields, "due_at": parse_deadline(due, ctx.settings.tz).isoformat()}
        except ValueError as exc:
            raise BadInput(str(exc), field="due_at") from None
    return fields


async def send_command(ctx: AppContext, principal: Principal, inp: SendCommandInput) -> SendCommandResult:
    person = require_signed_in_person(principal)
    declared = _declaration(inp.kind)
    state = await current_state(ctx, inp.review_id)
    got = require_read(ctx.directory, principal, inp.review_id, state)
    if state.finished:
        raise Conflict(f"review {inp.review_id} is {state.step.value}; it takes no more commands", field="review_id",
                       message_zh=f"点评 {inp.review_id} 已{'完成' if state.step is Step.CLOSED else '撤销'}，不再接受命令")
    fields = {k: v for k, v in inp.fields.items() if k not in ENVELOPE}
    if inp.kind == "extend_deadline":
        fields = _normalise_due(fields, ctx)
    body: dict[str, Any] = {**fields, "kind": inp.kind, "actor_id": person, "reason": inp.reason}
    acting_as_supervisor = Role.SUPERVISOR in declared.roles and not (got.roles & declared.roles)
    if acting_as_supervisor:
        if got.scope is None:
            raise Forbidden(f"{person!r} may not {inp.kind.replace('_', ' ')}: only the {' or '.join(sorted(r.value for r in declared.roles))} of this review may",
                            field="actor_id", message_zh="您无权对此点评执行该操作")
        body["supervisor_grant"] = got.scope
    elif not (got.roles & declared.roles):
        raise Forbidden(f"{person!r} may not {inp.kind.replace('_', ' ')}: only the {' or '.join(sorted(r.value for r in declared.roles))} of this review may",
                        field="actor_id", message_zh="您无权对此点评执行该操作")
    try:
        command = parse_command(body)
    except CommandRejected as err:
        raise engine.rejection_error(err) from None
    if inp.kind == "reassign_reviewer":
        require_known_people(ctx, {"reviewer_id": [command.reviewer_id]})  # type: ignore[attr-defined]
    elif inp.kind == "add_co_reviewer":
        require_known_people(ctx, {"co_reviewer_id": [command.co_reviewer_id]})  # type: ignore[attr-defined]
    result = await engine.send(ctx, inp.review_id, command)
    return SendCommandResult(review_id=inp.review_id, kind=inp.kind, actor_id=person, step=result.step, version=result.version, events=result.events)


# --------------------------------------------------------------------------
# start
# --------------------------------------------------------------------------


class ExplicitAssignment(BaseModel):
    """Start without the directory: the facts given by hand."""

    reviewer_id: str
    unit_id: str | None = None
    leader_id: str | None = None
    kind: SubjectKind = SubjectKind.ORGANIZATION
    level: SubjectLevel
    category: UnitCategory = UnitCategory.OTHER
    tier: int = Field(default=4, ge=1, le=4)
    co_reviewer_ids: list[str] = Field(default_factory=list)


class StartReviewInput(BaseModel):
    subject_id: str = Field(min_length=1, max_length=64)
    campaign_id: str | None = None
    review_id: str | None = Field(default=None, min_length=1, max_length=200)
    explicit: ExplicitAssignment | None = None
    # step -> days: the step's duration for this review
    days: dict[str, float] = Field(default_factory=dict)
    # step -> a local date (the end of that day) or a time: the step's deadline
    due: dict[str, str] = Field(default_factory=dict)


class StartReviewResult(BaseModel):
    review_id: str
    subject_id: str
    level: SubjectLevel
    reviewer_id: str
    co_reviewer_ids: list[str]
    first_due_at: datetime
    due: dict[str, datetime] = Field(default_factory=dict)
    explanation: str | None = None


_STEP_NAMES = ", ".join(s.value for s in FIVE_STEPS)


def _deadlines(ctx: AppContext, days: dict[str, float]):
    deadlines = ctx.settings.step_deadlines()
    for step, value in days.items():
        if step not in {s.value for s in FIVE_STEPS}:
            raise BadInput(f"{step!r} is not a step; one of {_STEP_NAMES}", field=f"days.{step}")
        if not value > 0:
            raise BadInput(f"a step lasts more than zero days (got {value})", field=f"days.{step}", message_zh="步骤时长必须大于零")
        deadlines = deadlines.model_copy(update={step: timedelta(days=float(value))})
    return deadlines


def _fixed_dues(ctx: AppContext, due: dict[str, str], now: datetime) -> dict[Step, datetime]:
    out: dict[Step, datetime] = {}
    for step, value in due.items():
        if step not in {s.value for s in FIVE_STEPS}:
            raise BadInput(f"{step!r} is not a step; one of {_STEP_NAMES}", field=f"due.{step}")
        try:
            at = parse_deadline(value, ctx.settings.tz)
        except ValueError as exc:
            raise BadInput(str(exc), field=f"due.{step}") from None
        if at <= now:
            raise BadInput(f"{value} is not in the future", field=f"due.{step}")
        out[Step(step)] = at
    return out


def may_start(ctx: AppContext, principal: Principal, unit_id: str) -> str | None:
    """Starting reviews is the office's and a scoped supervisor's work; returns
    the scope used (None for the office)."""
    person = require_signed_in_person(principal)
    if person in ctx.settings.supervisor_ids:
        return None
    from app.access import covering_scope

    scope = covering_scope(ctx.directory, principal, unit_id)
    if scope is None:
        raise Forbidden(f"{person!r} may not start a review of {unit_id}: only the office or a supervisor of that part of the directory may",
                        field="subject_id", message_zh="只有主管部门或该范围的监督人可以发起点评")
    return scope


async def start_review(ctx: AppContext, principal: Principal, inp: StartReviewInput) -> StartReviewResult:
    from directory.service import review_spec_for
    from domain.review import start as opening
    from domain.rubric import CURRENT_RUBRIC_VERSION, rubric
    from service.reviews import new_review_id

    s = ctx.settings
    campaign = inp.campaign_id or s.default_campaign
    rid = inp.review_id or new_review_id(campaign, inp.subject_id)
    deadlines = _deadlines(ctx, inp.days)
    now = datetime.now(timezone.utc)
    fixed = _fixed_dues(ctx, inp.due, now)
    try:
        if inp.explicit is not None:
            x = inp.explicit
            require_known_people(ctx, {"reviewer_id": [x.reviewer_id], "co_reviewer_ids": x.co_reviewer_ids,
                                       "leader_id": [x.leader_id] if x.leader_id else []})
            points = tuple(p.code for p in rubric().points_for(x.level, x.category))
            spec = ReviewSpec(
                review_id=rid, campaign_id=campaign,
                subject=Subject(kind=x.kind, subject_id=inp.subject_id, unit_id=x.unit_id or inp.subject_id, leader_id=x.leader_id),
                level=x.level, unit_category=x.category, tier=x.tier, reviewer_id=x.reviewer_id, co_reviewer_ids=tuple(x.co_reviewer_ids),
                supervisor_ids=tuple(s.supervisor_ids), rubric_version=CURRENT_RUBRIC_VERSION, rubric_points=points, deadlines=deadlines,
            )
        else:
            spec = review_spec_for(ctx.engine, inp.subject_id, review_id=rid, campaign_id=campaign, supervisor_ids=tuple(s.supervisor_ids), deadlines=deadlines)
        may_start(ctx, principal, spec.subject.unit_id)
        opening(spec, now, first_due_at=fixed.get(Step.INVESTIGATE))  # the checks the workflow runs, before anything starts
    except CommandRejected as err:
        raise engine.rejection_error(err) from None
    except ValidationError as err:
        first = err.errors(include_input=False, include_url=False)[0]
        raise BadInput(first["msg"], field=".".join(str(p) for p in first["loc"]) or "spec") from None
    if ctx.events.stream_version(rid) > 0:
        raise Conflict(f"the review id {rid!r} is in use (the log holds its events): an id names one review forever; choose another or leave --review-id out",
                       field="review_id", message_zh=f"点评编号 {rid!r} 已被使用")
    first_due = fixed.get(Step.INVESTIGATE) or now + deadlines.investigate
    await engine.start(ctx, spec, first_due_at=fixed.get(Step.INVESTIGATE))
    later = {step: at for step, at in fixed.items() if step is not Step.INVESTIGATE}
    if later:
        await engine.query_state(ctx, rid, wait_started=10)
        for step, at in sorted(later.items(), key=lambda kv: FIVE_STEPS.index(kv[0])):
            await send_command(ctx, principal, SendCommandInput(review_id=rid, kind="extend_deadline", reason="deadline fixed when the review was started",
                                                                fields={"step": step.value, "due_at": at.isoformat()}))
    return StartReviewResult(review_id=rid, subject_id=spec.subject.subject_id, level=spec.level, reviewer_id=spec.reviewer_id,
                             co_reviewer_ids=list(spec.co_reviewer_ids), first_due_at=first_due, due={k.value: v for k, v in fixed.items()}, explanation=spec.explanation)


# --------------------------------------------------------------------------
# the command kinds and their templates
# --------------------------------------------------------------------------


class CommandKind(BaseModel):
    kind: str
    roles: list[str]
    steps: list[str] | None  # None: any running step
    reason_required: bool
    summary: str


class CommandKindsResult(BaseModel):
    kinds: list[CommandKind]


async def command_kinds(ctx: AppContext, principal: Principal, inp: BaseModel | None = None) -> CommandKindsResult:
    """Every command a person can send, from the one declaration."""
    return CommandKindsResult(kinds=[
        CommandKind(kind=k, roles=sorted(r.value for r in d.roles), steps=[s.value for s in FIVE_STEPS if s in d.steps] if d.steps is not None else None,
                    reason_required=d.reason_required, summary=d.summary)
        for k, d in COMMANDS.items() if not d.by_workflow
    ])


class TemplateInput(BaseModel):
    kind: str
    review_id: str | None = None


class TemplateResult(BaseModel):
    kind: str
    # "schema": the JSON schema of the fields; "example": filled in for the review
    form: Literal["schema", "example"]
    body: dict[str, Any]


async def command_template(ctx: AppContext, principal: Principal, inp: TemplateInput) -> TemplateResult:
    d = _declaration(inp.kind)
    if inp.review_id is None:
        schema = d.model.model_json_schema()
        for k in ENVELOPE:
            schema.get("properties", {}).pop(k, None)
            if k in schema.get("required", []):
                schema["required"].remove(k)
        return TemplateResult(kind=inp.kind, form="schema", body=schema)
    from service import demo

    state = await current_state(ctx, inp.review_id)
    require_read(ctx.directory, principal, inp.review_id, state)
    spec = state.spec
    examples = {
        "record_findings": lambda: demo.findings(spec),
        "record_opinions": lambda: demo.opinions(spec),
        "submit_review": lambda: demo.review(spec),
        "submit_rectification_plan": lambda: demo.plan(spec, [p.problem_id for p in state.problems], date.today()),
        "report_back": lambda: demo.report_back(spec, [m.measure_id for m in state.measures]),
    }
    if inp.kind not in examples:
        raise BadInput(f"{inp.kind} takes no fields beyond the reason", field="kind")
    return TemplateResult(kind=inp.kind, form="example", body=examples[inp.kind]().model_dump(mode="json", exclude=set(ENVELOPE)))


# --------------------------------------------------------------------------
# list (from the review-summary projection)
# --------------------------------------------------------------------------


class ListReviewsInput(BaseModel):
    campaign_id: str | None = None
    step: Step | None = None  # closed / cancelled: the ended reviews
    reviewer_id: str | None = None
    unit_id: str | None = None
    tier: int | None = Field(default=None, ge=1, le=4)
    overdue: bool | None = None
    limit: int = Field(default=100, ge=1, le=500)
    cursor: str | None = None


class ReviewSummary(BaseModel):
    review_id: str
    campaign_id: str
    subject_id: str
    subject_kind: str
    subject_name: str | None = None
    unit_id: str
    tier: int
    level: str
    reviewer_id: str
    co_reviewer_ids: list[str]
    subject_person_ids: list[str]
    step: str
    due_at: datetime | None
    overdue: bool
    status: Literal["open", "closed", "cancelled"]
    started_at: datetime
    last_event_type: str
    last_event_at: datetime
    version: int


class ReviewPage(Page[ReviewSummary]):
    """By review id."""


async def list_reviews(ctx: AppContext, principal: Principal, inp: ListReviewsInput) -> ReviewPage:
    """The reviews the principal may see, filtered: every review for an
    auditor and the office, otherwise those they have a role on or whose
    subject unit lies in a supervised subtree."""
    import json as _json

    from sqlalchemy import or_, select

    from app.access import subtree_units
    from app.projections.schema import review_people, review_summaries as t

    everything = principal.auditor or (principal.person_id is not None and principal.person_id in ctx.settings.supervisor_ids)
    if not everything and principal.person_id is None:
        if principal.administrator:
            raise Forbidden("administrators manage accounts and grants; review lists need a role", field=None, message_zh="管理员无权查看点评列表")
        require_signed_in_person(principal)
    await ctx.catch_up()
    after = after_of(inp.cursor)
    cols = [c for c in t.c if c.name not in ("state", "last_position")]
    q = select(*cols).order_by(t.c.review_id).limit(inp.limit + 1)
    if not everything:
        mine = select(review_people.c.review_id).where(review_people.c.person_id == principal.person_id)
        visible = [t.c.review_id.in_(mine)]
        if principal.supervisor_scopes:
            visible.append(t.c.unit_id.in_(sorted(subtree_units(ctx.directory, principal.supervisor_scopes))))
        q = q.where(or_(*visible))
    if inp.campaign_id:
        q = q.where(t.c.campaign_id == inp.campaign_id)
    if inp.step is Step.CLOSED or inp.step is Step.CANCELLED:
        q = q.where(t.c.status == inp.step.value)
    elif inp.step is not None:
        q = q.where(t.c.step == inp.step.value, t.c.status == "open")
    if inp.reviewer_id:
        q = q.where(t.c.reviewer_id == inp.reviewer_id)
    if inp.unit_id:
        q = q.where(t.c.unit_id == inp.unit_id)
    if inp.tier is not None:
        q = q.where(t.c.tier == inp.tier)
    if inp.overdue is not None:
        q = q.where(t.c.overdue == inp.overdue)
    if after is not None:
        q = q.where(t.c.review_id > after)
    with ctx.read() as conn:
        rows = [dict(r._mapping) for r in conn.execute(q)]
    for r in rows:
        r["co_reviewer_ids"] = _json.loads(r["co_reviewer_ids"])
        r["subject_person_ids"] = _json.loads(r["subject_person_ids"])
    return page_of(ReviewPage, [ReviewSummary(**r) for r in rows], inp.limit, key=lambda s: s.review_id)
