"""``reviewctl review``: start a review, send it any command, show it, list
reviews by their search attributes. Commands are the domain's own (JSON for the
structured ones: ``reviewctl review template KIND`` prints a starting point)."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.table import Table

from cli.common import err, log_engine, out, run, settings
from domain.commands import HUMAN_COMMANDS, parse_command
from domain.errors import CommandRejected
from domain.procedure import Step, SubjectKind
from domain.review import ALLOWED, ReviewState
from domain.rubric import SubjectLevel, UnitCategory

app = typer.Typer(help="Start reviews, send commands, show and list them.", no_args_is_help=True)


@app.command()
def start(
    subject: Annotated[str, typer.Option(help="unit id (organization + its principal leader) or person id (member)")],
    campaign: Annotated[Optional[str], typer.Option(help="campaign id (default from settings)")] = None,
    review_id: Annotated[Optional[str], typer.Option(help="default: generated from campaign and subject")] = None,
    reviewer: Annotated[Optional[str], typer.Option(help="explicit reviewer: skip the directory")] = None,
    unit: Annotated[Optional[str], typer.Option(help="explicit mode: the subject's unit")] = None,
    leader: Annotated[Optional[str], typer.Option(help="explicit mode: the organization's principal leader")] = None,
    kind: Annotated[SubjectKind, typer.Option(help="explicit mode")] = SubjectKind.ORGANIZATION,
    level: Annotated[Optional[SubjectLevel], typer.Option(help="explicit mode")] = None,
    category: Annotated[UnitCategory, typer.Option(help="explicit mode")] = UnitCategory.OTHER,
    tier: Annotated[int, typer.Option(min=1, max=4, help="explicit mode")] = 4,
    co_reviewer: Annotated[Optional[list[str]], typer.Option(help="explicit mode; repeatable")] = None,
    days: Annotated[Optional[list[str]], typer.Option("--days", help="override a step's duration, e.g. --days rectify=45")] = None,
) -> None:
    """Start a review. By default the directory fills reviewer, co-reviewer,
    level, category and rubric points; --reviewer starts it with explicit facts."""
    s = settings()
    from directory.service import review_spec_for
    from domain.events import ReviewSpec, Subject
    from domain.rubric import CURRENT_RUBRIC_VERSION, rubric
    from service.reviews import new_review_id, start_review
    from service.temporal import connect

    campaign = campaign or s.default_campaign
    rid = review_id or new_review_id(campaign, subject)
    deadlines = s.step_deadlines()
    for item in days or []:
        step, _, value = item.partition("=")
        if step not in deadlines.model_fields or step == "reminder_lead":
            raise typer.BadParameter(f"--days {item!r}: step must be one of investigate, solicit_opinions, review, notify, rectify")
        try:
            deadlines = deadlines.model_copy(update={step: timedelta(days=float(value))})
        except ValueError:
            raise typer.BadParameter(f"--days {item!r}: {value!r} is not a number of days") from None
    try:
        if reviewer:
            if level is None:
                raise CommandRejected("level", "explicit mode needs --level (A, B or C)")
            points = tuple(p.code for p in rubric().points_for(level, category))
            spec = ReviewSpec(
                review_id=rid, campaign_id=campaign,
                subject=Subject(kind=kind, subject_id=subject, unit_id=unit or subject, leader_id=leader),
                level=level, unit_category=category, tier=tier, reviewer_id=reviewer, co_reviewer_ids=tuple(co_reviewer or ()),
                supervisor_ids=tuple(s.supervisor_ids), rubric_version=CURRENT_RUBRIC_VERSION, rubric_points=points, deadlines=deadlines,
            )
        else:
            spec = review_spec_for(log_engine(), subject, review_id=rid, campaign_id=campaign, supervisor_ids=tuple(s.supervisor_ids), deadlines=deadlines)
    except CommandRejected as e:
        err.print(f"[red]rejected[/red] {e.field}: {e.reason}")
        raise typer.Exit(2) from None

    async def _go():
        from domain.review import start as opening  # the same checks the workflow runs

        from datetime import datetime, timezone

        opening(spec, datetime.now(timezone.utc))
        await start_review(await connect(s), spec, s.task_queue)

    run(_go())
    out.print(f"started [bold]{rid}[/bold]: {spec.subject.subject_id} ({spec.level.value}) reviewed by {spec.reviewer_id}")
    if spec.explanation:
        out.print(spec.explanation)


@app.command()
def do(
    review_id: str,
    kind: Annotated[str, typer.Argument(help="command kind; 'reviewctl review kinds' lists them")],
    actor: Annotated[str, typer.Option(help="id of the person acting")],
    reason: Annotated[Optional[str], typer.Option(help="why (required for returns, reassignments, extensions, cancels)")] = None,
    data: Annotated[Optional[str], typer.Option(help="the command's fields as JSON")] = None,
    file: Annotated[Optional[Path], typer.Option(help="the command's fields in a JSON file ('-' for stdin)")] = None,
) -> None:
    """Send one command to a review as ACTOR."""
    s = settings()
    from service.reviews import send
    from service.temporal import connect

    if kind not in HUMAN_COMMANDS:
        raise typer.BadParameter(f"unknown kind {kind!r}; one of: {', '.join(HUMAN_COMMANDS)}")
    fields: dict = {}
    try:
        if file is not None:
            fields = json.loads(typer.get_text_stream("stdin").read() if str(file) == "-" else file.read_text(encoding="utf-8"))
        elif data:
            fields = json.loads(data)
    except (OSError, json.JSONDecodeError) as e:
        raise typer.BadParameter(f"command fields: {e}") from None
    if not isinstance(fields, dict):
        raise typer.BadParameter("command fields must be a JSON object")
    command = run(_validate({**fields, "kind": kind, "actor_id": actor, "reason": reason}))

    async def _go():
        return await send(await connect(s), review_id, command)

    result = run(_go())
    out.print(f"[green]accepted[/green] {review_id}: {', '.join(result.events)} → step {result.step.value} (version {result.version})")


async def _validate(fields: dict):
    return parse_command(fields)


@app.command()
def template(
    kind: str,
    review: Annotated[Optional[str], typer.Option(help="fill the fields in for this review (its rubric points, problems, measures)")] = None,
) -> None:
    """Print the JSON fields of a command kind, to edit and pass with --file.
    With --review, a filled-in example for that review; otherwise the schema."""
    if kind not in HUMAN_COMMANDS:
        raise typer.BadParameter(f"unknown kind {kind!r}; one of: {', '.join(HUMAN_COMMANDS)}")
    envelope = {"kind", "actor_id", "reason"}
    if review is None:
        schema = HUMAN_COMMANDS[kind].model_json_schema()
        for k in envelope:
            schema.get("properties", {}).pop(k, None)
            if k in schema.get("required", []):
                schema["required"].remove(k)
        out.print_json(json.dumps(schema, ensure_ascii=False))
        return
    s = settings()
    from service import demo
    from service.reviews import get_state
    from service.temporal import connect

    async def _go() -> ReviewState:
        return await get_state(await connect(s), review, wait_started=False)

    state = run(_go())
    if state.spec is None:
        raise typer.BadParameter(f"review {review!r} has not started")
    examples = {
        "record_findings": lambda: demo.findings(state.spec),
        "record_opinions": lambda: demo.opinions(state.spec),
        "submit_review": lambda: demo.review(state.spec),
        "submit_rectification_plan": lambda: demo.plan(state.spec, [p.problem_id for p in state.problems], date.today()),
        "report_back": lambda: demo.report_back(state.spec, [m.measure_id for m in state.measures]),
    }
    if kind not in examples:
        raise typer.BadParameter(f"{kind} takes no fields beyond --actor and --reason")
    print(json.dumps(examples[kind]().model_dump(mode="json", exclude=envelope), ensure_ascii=False, indent=2))


@app.command()
def kinds() -> None:
    """Every command a person can send: who may send it, in which step."""
    t = Table("kind", "who", "step")
    for kind in HUMAN_COMMANDS:
        roles, steps = ALLOWED[kind]
        t.add_row(kind, ", ".join(sorted(r.value for r in roles)), ", ".join(s.value for s in steps) if steps else "any")
    out.print(t)


@app.command()
def show(review_id: str, as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """The review's current state, as the workflow reports it."""
    s = settings()
    from service.reviews import get_state
    from service.temporal import connect

    async def _go() -> ReviewState:
        return await get_state(await connect(s), review_id, wait_started=False)

    state = run(_go())
    if as_json:
        print(state.model_dump_json(indent=2))
        return
    spec = state.spec
    t = Table(show_header=False)
    t.add_row("review", review_id)
    if spec:
        t.add_row("subject", f"{spec.subject.subject_id} ({spec.subject.kind.value}, level {spec.level.value}, {spec.unit_category.value}, tier {spec.tier})")
        t.add_row("reviewer", spec.reviewer_id + (f" (co: {', '.join(spec.co_reviewer_ids)})" if spec.co_reviewer_ids else ""))
    t.add_row("step", f"{state.step.value if state.step else '-'}{'  [red]OVERDUE[/red]' if state.is_overdue() else ''}")
    due = state.current_due()
    t.add_row("due", due.isoformat() if due and not state.finished else "-")
    t.add_row("findings", str(len(state.findings)))
    t.add_row("opinions", str(len(state.opinions)))
    t.add_row("problems", "; ".join(f"{p.problem_id} [{p.point_code}] {p.text}" for p in state.problems) or "-")
    t.add_row("plan", f"v{state.plan_version} {state.plan_status}" if state.plan_status else "-")
    t.add_row("events", str(state.version))
    out.print(t)


@app.command("list")
def list_reviews(
    campaign: Annotated[Optional[str], typer.Option()] = None,
    step: Annotated[Optional[Step], typer.Option(help="closed = completed reviews")] = None,
    reviewer: Annotated[Optional[str], typer.Option()] = None,
    unit: Annotated[Optional[str], typer.Option(help="subject unit id")] = None,
    tier: Annotated[Optional[int], typer.Option(min=1, max=4)] = None,
    overdue: Annotated[Optional[bool], typer.Option("--overdue/--on-time")] = None,
    limit: Annotated[int, typer.Option(min=1)] = 100,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Reviews filtered by their search attributes (the same filters work in the Web UI)."""
    s = settings()
    from service.temporal import connect
    from workflows import search_attributes as sa

    query = visibility_query(campaign=campaign, step=step, reviewer=reviewer, unit=unit, tier=tier, overdue=overdue)

    async def _go():
        client = await connect(s)
        rows = []
        async for wf in client.list_workflows(query, limit=limit):
            attrs = wf.typed_search_attributes
            st = listed_step(attrs.get(sa.STEP), wf.status.name if wf.status else None)
            due = attrs.get(sa.DEADLINE)
            rows.append({"review_id": wf.id, "campaign": attrs.get(sa.CAMPAIGN), "step": st, "reviewer": attrs.get(sa.REVIEWER),
                         "unit": attrs.get(sa.SUBJECT_UNIT), "tier": attrs.get(sa.TIER), "deadline": due.isoformat() if due else None, "overdue": attrs.get(sa.OVERDUE)})
        return rows

    rows = run(_go())
    if as_json:
        print(json.dumps(rows, ensure_ascii=False))
        return
    t = Table("review", "campaign", "step", "reviewer", "unit", "tier", "deadline", "overdue")
    for r in rows:
        t.add_row(r["review_id"], r["campaign"] or "", r["step"] or "", r["reviewer"] or "", r["unit"] or "", str(r["tier"] or ""), (r["deadline"] or "")[:16], "yes" if r["overdue"] else "")
    out.print(t)
    out.print(f"{len(rows)} reviews · query: {query}")


def listed_step(step_attribute: str | None, status: str | None) -> str | None:
    """What the list shows as a review's step: how the review itself says it
    ended (closed / cancelled, also when Temporal cancelled it), else an ended
    execution's status: a review closed before its workflow indexed "closed"
    is closed; one ended in Temporal without a word in its log says so."""
    if step_attribute in (Step.CLOSED.value, Step.CANCELLED.value) or status in (None, "RUNNING"):
        return step_attribute
    if status == "COMPLETED":
        return Step.CLOSED.value
    return f"{status.lower()} in Temporal"


def visibility_query(*, campaign=None, step=None, reviewer=None, unit=None, tier=None, overdue=None) -> str:
    """A Temporal visibility query over the review search attributes."""
    from workflows import search_attributes as sa

    def quoted(v: str) -> str:
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'

    parts = ['WorkflowType = "Review"']
    if campaign:
        parts.append(f"{sa.CAMPAIGN.name} = {quoted(campaign)}")
    if step is Step.CLOSED:  # (before reviews indexed "closed", a completed one kept its last step)
        parts.append(f'({sa.STEP.name} = {quoted(step.value)} OR (ExecutionStatus = "Completed" AND {sa.STEP.name} != {quoted(Step.CANCELLED.value)}))')
    elif step is Step.CANCELLED:
        parts.append(f"{sa.STEP.name} = {quoted(step.value)}")
    elif step is not None:
        parts.append(f'{sa.STEP.name} = {quoted(step.value)} AND ExecutionStatus = "Running"')
    if reviewer:
        parts.append(f"{sa.REVIEWER.name} = {quoted(reviewer)}")
    if unit:
        parts.append(f"{sa.SUBJECT_UNIT.name} = {quoted(unit)}")
    if tier is not None:
        parts.append(f"{sa.TIER.name} = {int(tier)}")
    if overdue is not None:
        parts.append(f"{sa.OVERDUE.name} = {'true' if overdue else 'false'}")
    return " AND ".join(parts)
