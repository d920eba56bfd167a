"""``reviewctl review``: start a review, send it any command, show it, list
reviews by their search attributes. Commands are the domain's own (JSON for the
structured ones: ``reviewctl review template KIND`` prints a starting point)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from cli.common import act, fail, out, settings
from domain.local_time import local_text
from domain.procedure import Step, SubjectKind
from domain.rubric import SubjectLevel, UnitCategory

app = typer.Typer(help="Start reviews, send commands, show and list them.", no_args_is_help=True)


def _pairs(option: str, items: list[str] | None) -> dict[str, str]:
    got: dict[str, str] = {}
    for item in items or []:
        step, sep, value = item.partition("=")
        if not sep or not value:
            raise typer.BadParameter(f"{option} {item!r}: write STEP=VALUE, e.g. {option} investigate=10")
        got[step.strip()] = value.strip()
    return got


def _days(items: list[str] | None) -> dict[str, float]:
    out: dict[str, float] = {}
    for step, value in _pairs("--days", items).items():
        try:
            out[step] = float(value)
        except ValueError:
            raise typer.BadParameter(f"--days {step}={value}: {value!r} is not a number of days") from None
    return out


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
    due: Annotated[Optional[list[str]], typer.Option("--due", help="fix a step's deadline: a local date (the end of that day) or time, e.g. --due investigate=2026-12-10")] = None,
    actor: Annotated[Optional[str], typer.Option(help="who starts it (development; default: the office)")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Start a review. By default the directory fills reviewer, co-reviewer,
    level, category and rubric points; --reviewer starts it with explicit facts."""
    from app.reviews import ExplicitAssignment, StartReviewInput, start_review

    s = settings()
    explicit = None
    if reviewer:
        if level is None:
            fail(2, "rejected", "level: explicit mode needs --level (A, B or C)")
        explicit = ExplicitAssignment(reviewer_id=reviewer, unit_id=unit, leader_id=leader, kind=kind, level=level, category=category, tier=tier, co_reviewer_ids=co_reviewer or [])
    inp = StartReviewInput(subject_id=subject, campaign_id=campaign, review_id=review_id, explicit=explicit, days=_days(days), due=_pairs("--due", due))
    result = act(start_review, inp, s, actor=actor, default_actor=s.supervisor_ids[0] if s.supervisor_ids else None)
    if as_json:
        print(result.model_dump_json(indent=2))
        return
    out.print(f"started [bold]{escape(result.review_id)}[/bold]: {escape(result.subject_id)} ({result.level.value}) reviewed by {escape(result.reviewer_id)}; "
              f"first step due {local_text(result.first_due_at, s.tz)}")
    if result.explanation:
        out.print(result.explanation, markup=False)


def _read_fields(data: str | None, file: Path | None) -> dict:
    """The command's fields from --data or --file: one line for every way the
    input can be wrong (unreadable, not UTF-8, empty, not JSON, not an object)."""
    if file is not None:
        where = "stdin" if str(file) == "-" else str(file)
        try:
            raw = sys.stdin.buffer.read() if str(file) == "-" else file.read_bytes()
        except OSError as e:
            fail(2, "cannot read", f"--file {where}: {e.strerror or e}")
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as e:
            fail(2, "invalid", f"--file {where}: not UTF-8 text (byte {e.start}); save the file as UTF-8")
        source = f"--file {where}"
    elif data is not None:
        text, source = data, "--data"
    else:
        return {}
    if not text.strip():
        fail(2, "invalid", f"{source}: empty; give the command's fields as a JSON object ('reviewctl review template KIND' prints one)")
    try:
        fields = json.loads(text)
    except json.JSONDecodeError as e:
        fail(2, "invalid", f"{source}: not JSON (line {e.lineno}, column {e.colno}: {e.msg})")
    if not isinstance(fields, dict):
        fail(2, "invalid", f"{source}: the command's fields must be a JSON object")
    return fields


@app.command()
def do(
    review_id: str,
    kind: Annotated[str, typer.Argument(help="command kind; 'reviewctl review kinds' lists them")],
    actor: Annotated[Optional[str], typer.Option(help="id of the person acting (development only)")] = None,
    reason: Annotated[Optional[str], typer.Option(help="why (required for returns, reassignments, extensions, cancels)")] = None,
    data: Annotated[Optional[str], typer.Option(help="the command's fields as JSON")] = None,
    file: Annotated[Optional[Path], typer.Option(help="the command's fields in a JSON file ('-' for stdin)")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Send one command to a review as ACTOR."""
    from app.reviews import SendCommandInput, send_command

    s = settings()
    fields = _read_fields(data, file)
    inp = SendCommandInput(review_id=review_id, kind=kind, reason=reason, fields=fields)
    result = act(send_command, inp, s, actor=actor, needs_person="--actor: name the person acting (development), e.g. --actor P-000368")
    if as_json:
        print(result.model_dump_json(indent=2))
        return
    out.print(f"[green]accepted[/green] {escape(review_id)}: {', '.join(result.events)} → step {result.step.value} (version {result.version})")


@app.command()
def template(
    kind: str,
    review: Annotated[Optional[str], typer.Option(help="fill the fields in for this review (its rubric points, problems, measures)")] = None,
    actor: Annotated[Optional[str], typer.Option(help="as whom (development; default: the auditor's view)")] = None,
) -> None:
    """Print the JSON fields of a command kind, to edit and pass with --file.
    With --review, a filled-in example for that review; otherwise the schema."""
    from app.reviews import TemplateInput, command_template

    s = settings()
    result = act(command_template, TemplateInput(kind=kind, review_id=review), s, actor=actor, reads_nothing=review is None)
    print(json.dumps(result.body, ensure_ascii=False, indent=2))


@app.command()
def kinds(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Every command a person can send: who may send it, in which step."""
    from app.reviews import command_kinds

    s = settings()
    result = act(command_kinds, None, s, reads_nothing=True)
    if as_json:
        print(result.model_dump_json(indent=2))
        return
    t = Table("kind", "who", "step", "reason")
    for k in result.kinds:
        t.add_row(k.kind, ", ".join(k.roles), ", ".join(k.steps) if k.steps else "any", "required" if k.reason_required else "")
    out.print(t)


@app.command()
def show(
    review_id: str,
    as_json: Annotated[bool, typer.Option("--json")] = False,
    actor: Annotated[Optional[str], typer.Option(help="as whom (development; default: the auditor's view)")] = None,
) -> None:
    """The review's current state, as the workflow reports it."""
    from app.reviews import ShowReviewInput, show_review

    s = settings()
    state = act(show_review, ShowReviewInput(review_id=review_id), s, actor=actor)
    if as_json:
        print(state.model_dump_json(indent=2))
        return
    tz = s.tz
    spec = state.spec
    t = Table(show_header=False)
    t.add_row("review", Text(review_id))
    if spec:
        t.add_row("subject", Text(f"{spec.subject.subject_id} ({spec.subject.kind.value}, level {spec.level.value}, {spec.unit_category.value}, tier {spec.tier})"))
        t.add_row("reviewer", Text(spec.reviewer_id + (f" (co: {', '.join(spec.co_reviewer_ids)})" if spec.co_reviewer_ids else "")))
    step = Text(state.step.value if state.step else "-")
    if state.is_overdue():
        step.append("  OVERDUE", style="red")
    t.add_row("step", step)
    due = state.current_due()
    t.add_row("due", local_text(due, tz) if due and not state.finished else "-")
    t.add_row("findings", str(len(state.findings)))
    t.add_row("opinions", str(len(state.opinions)))
    t.add_row("problems", Text("; ".join(f"{p.problem_id} [{p.point_code}] {p.text}" for p in state.problems) or "-"))
    t.add_row("plan", f"v{state.plan_version} {state.plan_status}" if state.plan_status else "-")
    if state.cancel_reason:
        t.add_row("cancelled", Text(state.cancel_reason))
    t.add_row("events", str(state.version))
    if state.your_roles:
        t.add_row("you", ", ".join(state.your_roles))
    out.print(t)


@app.command("list")
def list_reviews(
    campaign: Annotated[Optional[str], typer.Option()] = None,
    step: Annotated[Optional[Step], typer.Option(help="closed / cancelled = the ended reviews")] = None,
    reviewer: Annotated[Optional[str], typer.Option()] = None,
    unit: Annotated[Optional[str], typer.Option(help="subject unit id")] = None,
    tier: Annotated[Optional[int], typer.Option(min=1, max=4)] = None,
    overdue: Annotated[Optional[bool], typer.Option("--overdue/--on-time")] = None,
    limit: Annotated[int, typer.Option(min=1, max=500)] = 100,
    cursor: Annotated[Optional[str], typer.Option(help="the next page: the cursor the previous page printed")] = None,
    actor: Annotated[Optional[str], typer.Option(help="as whom (development; default: the auditor's view, every review)")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Reviews from the review-summary read model (kept from the event log);
    the same filters work in the Temporal Web UI (the query is printed)."""
    from app.reviews import ListReviewsInput, list_reviews as use

    s = settings()
    inp = ListReviewsInput(campaign_id=campaign, step=step, reviewer_id=reviewer, unit_id=unit, tier=tier, overdue=overdue, limit=limit, cursor=cursor)
    page = act(use, inp, s, actor=actor)
    if as_json:
        print(page.model_dump_json(indent=2))
        return
    t = Table("review", "campaign", "step", "reviewer", "unit", "tier", f"deadline ({s.timezone})", "overdue")
    for r in page.items:
        shown = r.status if r.status != "open" else r.step
        t.add_row(Text(r.review_id), Text(r.campaign_id), shown, Text(r.reviewer_id), Text(r.unit_id), str(r.tier), local_text(r.due_at, s.tz), "yes" if r.overdue else "")
    out.print(t)
    out.print(f"{len(page.items)} reviews · Web UI filter: {visibility_query(campaign=campaign, step=step, reviewer=reviewer, unit=unit, tier=tier, overdue=overdue)}", markup=False)
    if page.next_cursor:
        out.print(f"more: --cursor {page.next_cursor}", markup=False)


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
    """A Temporal visibility query over the review search attributes (the Web
    UI's filter for what ``review list`` shows from the read model)."""
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


@app.command()
def tasks(
    actor: Annotated[Optional[str], typer.Option(help="whose task list (development: the person acting)")] = None,
    person: Annotated[Optional[str], typer.Option(help="another person's list (auditors)")] = None,
    limit: Annotated[int, typer.Option(min=1, max=500)] = 50,
    cursor: Annotated[Optional[str], typer.Option(help="the next page: the cursor the previous page printed")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """What you must do now: each review waiting on you, for whom, by when, why you."""
    from app.tasks import InboxInput, task_inbox

    s = settings()
    page = act(task_inbox, InboxInput(person_id=person, limit=limit, cursor=cursor), s, actor=actor,
               needs_person=None if person else "--actor: whose task list (development), e.g. --actor P-000368")
    if as_json:
        print(page.model_dump_json(indent=2))
        return
    t = Table("review", "for", "step", "as", f"due ({s.timezone})", "do", "why", title=f"tasks of {escape(page.person_id)}")
    for k in page.items:
        due = Text(local_text(k.due_at, s.tz))
        if k.overdue:
            due.append(" OVERDUE", style="red")
        t.add_row(Text(k.review_id), Text(k.subject_id), k.step, k.role, due, ", ".join(k.actions), Text(k.why))
    out.print(t)
    if page.next_cursor:
        out.print(f"more: --cursor {page.next_cursor}", markup=False)
