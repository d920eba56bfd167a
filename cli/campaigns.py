"""``reviewctl campaign``: plan a round (the dry run prints its plan id),
launch exactly that plan, watch it, pause, resume or cancel it, read a
period's ledger, keep the routine rounds' schedules. Run on the server itself
it acts as the office (the local administrator), like ``reviewctl users``;
with ``--api URL --token TOKEN`` the token's person acts through the API.

Each command calls one use case of :mod:`app.campaigns` or
:mod:`app.round_schedules` through :func:`cli.common.act` and prints its
typed result the same way in both modes, or its typed error (one line naming
the field, and its exit code)."""

from __future__ import annotations

import time
from typing import Annotated, Any, Callable, Optional, TypeVar

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from cli.common import Session, err, out, report, settings

app = typer.Typer(help="Campaigns: plan a round over a scope, launch it, follow, pause, resume, cancel.", no_args_is_help=True)
T = TypeVar("T")
_sleep = time.sleep  # between polls (a test counts the polls through it)
CLI_PRINCIPAL_ID = "office"

JsonOpt = Annotated[bool, typer.Option("--json", help="machine-readable output")]


def _principal():
    from app.principal import Principal

    return Principal(kind="person", person_id=settings().supervisor_ids[0] if settings().supervisor_ids else CLI_PRINCIPAL_ID, administrator=True, auditor=True, via="cli")


class _Here:
    """This server's database, opened (and migrated) once per command and only
    when the command runs here (a watch polls with one engine)."""

    def __init__(self) -> None:
        self.engine = None

    def __call__(self):
        if self.engine is None:
            from cli.common import log_engine
            from storage.migrate import upgrade

            self.engine = log_engine()
            upgrade(self.engine)
        return self.engine


def _act(use: Callable[..., Any], inp: Any, *, session=None, actor: str | None = None) -> Any:
    """One use case: through the API with the token in remote mode, else here
    as the office (in production too: reviewctl on the server is the office's);
    ``session`` (``cli.common.Session``) keeps one connection for a command that polls."""
    from cli.common import act

    return act(use, inp, settings(), server_tool=True, as_principal=_principal(), engine=None if session else _Here(), session=session, actor=actor)


def _do(fn: Callable[[], T]) -> T:
    """A person's input made typed: a bad field is one line naming it (exit 2)."""
    from pydantic import ValidationError

    from app.errors import AppError

    try:
        return fn()
    except AppError as e:
        report(e)
    except ValidationError as e:
        for item in e.errors():
            err.print(f"[red]invalid[/red] {'.'.join(str(p) for p in item['loc']) or '(input)'}: {item['msg']}")
        raise typer.Exit(2) from None


def _spec(campaign_id: str, period: str, round_: str, method: str, unit: Optional[str], levels: str, theme: str, size: Optional[int], fraction: Optional[float], stratify: Optional[str], seed: Optional[int], days: list[str]):
    from app.campaigns import campaign_spec

    deadlines = settings().step_deadlines().model_dump()
    for item in days:
        step, _, n = item.partition("=")
        if step not in deadlines or step == "reminder_lead" or not n.isdigit() or int(n) < 1:
            err.print(f"[red]invalid[/red] --days: {item!r} (expected STEP=N with N >= 1 days, STEP one of investigate, solicit_opinions, review, notify, rectify)")
            raise typer.Exit(2)
        deadlines[step] = f"P{int(n)}D"
    sample = None
    if size is not None or fraction is not None:
        sample = {"size": size, "fraction": fraction, "stratify_by": stratify, "seed": seed if seed is not None else time.time_ns() % (2**63)}
    data = {
        "campaign_id": campaign_id, "period": period, "round": round_, "method": method, "theme": theme, "deadlines": deadlines, "sample": sample,
        "scope": {"unit_id": unit, "levels": [x.strip().upper() for x in levels.split(",") if x.strip()]},
    }
    return _do(lambda: campaign_spec(data))


CampaignArg = Annotated[str, typer.Argument(help="campaign id: lower-case letters, digits and '-'")]
PeriodOpt = Annotated[str, typer.Option("--period", help="YYYY-H1, YYYY-H2 or YYYY-Y")]
RoundOpt = Annotated[str, typer.Option("--round", help="half_yearly (organizations and their secretaries) or year_end (everyone)")]
MethodOpt = Annotated[str, typer.Option("--method", help="concentrated, individual, on_site, random, thematic")]
UnitOpt = Annotated[Optional[str], typer.Option("--unit", help="scope: this unit's subtree (default: the whole organization)")]
LevelsOpt = Annotated[str, typer.Option("--levels", help="subject levels, e.g. A,B,C")]
ThemeOpt = Annotated[str, typer.Option("--theme", help="the theme of a thematic round")]
SizeOpt = Annotated[Optional[int], typer.Option("--sample-size", help="random round: how many subjects")]
FractionOpt = Annotated[Optional[float], typer.Option("--sample-fraction", help="random round: which share of the subjects (0-1]")]
StratifyOpt = Annotated[Optional[str], typer.Option("--stratify-by", help="random round: tier or category")]
SeedOpt = Annotated[Optional[int], typer.Option("--seed", help="random round: the seed (recorded in the audit log; default: drawn now)")]
DaysOpt = Annotated[Optional[list[str]], typer.Option("--days", help="a step's duration, STEP=N days (repeatable)")]


@app.command()
def plan(
    campaign_id: CampaignArg, period: PeriodOpt, round_: RoundOpt = "year_end", method: MethodOpt = "concentrated", unit: UnitOpt = None, levels: LevelsOpt = "A,B,C",
    theme: ThemeOpt = "", sample_size: SizeOpt = None, sample_fraction: FractionOpt = None, stratify_by: StratifyOpt = None, seed: SeedOpt = None, days: DaysOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """The dry run: counts per tier × level and every gap in scope, and the
    plan id that ``campaign launch`` needs (with the same options)."""
    from domain.coverage import tier_label

    from app.campaigns import campaign_plan

    spec = _spec(campaign_id, period, round_, method, unit, levels, theme, sample_size, sample_fraction, stratify_by, seed, days or [])
    p = _act(campaign_plan, spec)
    if as_json:
        print(p.model_dump_json())
        return
    table = Table(title=f"campaign {campaign_id} · {period} · {spec.round.value} · {spec.method.value}")
    table.add_column("tier")
    for lv in ("A", "B", "C"):
        table.add_column(lv, justify="right")
    for tier, row in sorted(p.by_tier_level.items()):
        if any(row.values()):
            table.add_row(tier_label(tier), *(str(row.get(lv, 0)) for lv in ("A", "B", "C")))
    out.print(table)
    out.print(f"{p.planned} reviews" + (f" drawn from {p.candidates} (seed {spec.sample.seed})" if spec.sample else ""))
    for g in p.gaps:
        out.print(f"[yellow]gap[/yellow] {g.kind.value}: {g.message_en}")
    out.print(f"plan id [bold]{p.plan_id}[/bold]  (launch with --plan-id {p.plan_id}{f' --seed {spec.sample.seed}' if spec.sample and seed is None else ''})")


@app.command()
def launch(
    campaign_id: CampaignArg, period: PeriodOpt, plan_id: Annotated[str, typer.Option("--plan-id", help="the plan id the dry run printed")],
    round_: RoundOpt = "year_end", method: MethodOpt = "concentrated", unit: UnitOpt = None, levels: LevelsOpt = "A,B,C",
    theme: ThemeOpt = "", sample_size: SizeOpt = None, sample_fraction: FractionOpt = None, stratify_by: StratifyOpt = None, seed: SeedOpt = None, days: DaysOpt = None,
    batch_size: Annotated[int, typer.Option("--batch-size", min=1, max=2000, help="reviews started per activity")] = 200,
    wait: Annotated[bool, typer.Option("--wait/--no-wait", help="show a progress bar until every review is started")] = True,
) -> None:
    """Launch exactly the plan the dry run showed (same options, its plan id).
    Safe to repeat: no review is ever started twice."""
    if (sample_size is not None or sample_fraction is not None) and seed is None:
        err.print("[red]invalid[/red] --seed: a random launch must name the seed its plan was drawn with")
        raise typer.Exit(2)
    from app.campaigns import LaunchInput, launch_campaign

    spec = _spec(campaign_id, period, round_, method, unit, levels, theme, sample_size, sample_fraction, stratify_by, seed, days or [])
    inp = _do(lambda: LaunchInput.model_validate({**spec.model_dump(exclude_unset=True), "plan_id": plan_id, "batch_size": batch_size}))
    with Session(_Here()) as here:
        res = _act(launch_campaign, inp, session=here)  # through the API: one call that answers once the campaign's workflow runs
        out.print(f"campaign {res.campaign_id}: plan {res.plan_id}, {res.planned} reviews{' (already launched: resumed watching)' if res.already_launched else ''}")
        if wait:
            _show_launching(campaign_id, res.planned, here)


def _show_launching(campaign_id: str, planned: int, here) -> None:
    from app.campaigns import CampaignRef, campaign_status

    with Progress(TextColumn("starting reviews"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=out) as bar:
        task = bar.add_task("start", total=planned)
        while True:
            st = _act(campaign_status, CampaignRef(campaign_id=campaign_id), session=here)
            started = st.progress.started if st.progress else st.counts.started
            bar.update(task, completed=started)
            if started >= planned or (st.progress and st.progress.state in ("paused", "cancelled", "cancelling")):
                break
            _sleep(0.5)


def _print_status(st) -> None:
    p, c = st.progress, st.counts
    state = p.state if p else "(workflow history gone)"
    out.print(f"campaign {st.campaign_id} · plan {st.plan_id} · {state}")
    if p:
        out.print(f"planned {p.planned} · started {p.started}" + (" · paused" if p.paused else "") + (f" · cancelled by {p.cancelled_by}: {p.cancel_reason} ({p.reviews_cancelled} reviews cancelled)" if p.cancelled else ""))
    steps = ", ".join(f"{k} {v}" for k, v in sorted(c.by_step.items())) or "none open"
    out.print(f"reviews: {c.started} started · open by step: {steps} · completed {c.completed} · overdue {c.overdue} · cancelled {c.cancelled}")
    live = st.live
    if live.by_step_tier:
        tiers = sorted({t for row in live.by_step_tier.values() for t in row})
        table = Table(title="open reviews by step x tier (projection)")
        table.add_column("step")
        for t in tiers:
            table.add_column(f"tier {t}", justify="right")
        for step, row in sorted(live.by_step_tier.items()):
            table.add_row(step, *(str(row.get(t, 0)) for t in tiers))
        out.print(table)
    for rid in live.overdue_reviews:
        out.print(f"[yellow]overdue[/yellow] {rid}")


@app.command()
def status(
    campaign_id: CampaignArg,
    watch: Annotated[bool, typer.Option("--watch", help="refresh until Ctrl-C")] = False,
    every: Annotated[float, typer.Option("--every", min=0.2, help="seconds between refreshes with --watch")] = 2.0,
    as_json: JsonOpt = False,
) -> None:
    """Planned, started, open reviews per step, completed, overdue, cancelled
    (with --watch: asked again every few seconds, through the API too)."""
    from app.campaigns import CampaignRef

    ref = _do(lambda: CampaignRef(campaign_id=campaign_id))
    try:
        with Session(_Here()) as here:
            _watch_status(ref, here, watch, every, as_json)
    except KeyboardInterrupt:
        pass


def _watch_status(ref, here, watch: bool, every: float, as_json: bool) -> None:
    from app.campaigns import campaign_status

    while True:
        st = _act(campaign_status, ref, session=here)
        if as_json:
            print(st.model_dump_json())
        else:
            if watch:
                out.clear()
            _print_status(st)
        if not watch:
            return
        _sleep(every)


def _command(name: str, campaign_id: str, reason: Optional[str], actor: Optional[str]) -> None:
    from app import campaigns

    use = {"pause": campaigns.pause_campaign, "resume": campaigns.resume_campaign, "cancel": campaigns.cancel_campaign}[name]
    inp = _do(lambda: campaigns.CampaignCommandInput(campaign_id=campaign_id, reason=reason, actor_id=actor))
    p = _act(use, inp, actor=actor)
    out.print(f"campaign {campaign_id}: {name} recorded · {p.started}/{p.planned} started" + (" · paused" if p.paused else "") + (" · cancelling its reviews" if p.cancelled else ""))


ReasonOpt = Annotated[Optional[str], typer.Option("--reason", help="why (recorded in the audit log)")]
ActorOpt = Annotated[Optional[str], typer.Option("--actor", help="the supervisor acting here (default: the first configured supervisor; with --api the token's person acts)")]


@app.command()
def pause(campaign_id: CampaignArg, reason: ReasonOpt = None, actor: ActorOpt = None) -> None:
    """Hold the launching between batches (reviews already started go on)."""
    _command("pause", campaign_id, reason, actor)


@app.command()
def resume(campaign_id: CampaignArg, reason: ReasonOpt = None, actor: ActorOpt = None) -> None:
    """Go on launching where the pause held it."""
    _command("resume", campaign_id, reason, actor)


@app.command()
def cancel(campaign_id: CampaignArg, reason: Annotated[str, typer.Option("--reason", help="why (recorded in every review it cancels)")], actor: ActorOpt = None) -> None:
    """Stop launching and cancel every review the campaign started."""
    _command("cancel", campaign_id, reason, actor)


@app.command()
def ledger(
    period: Annotated[str, typer.Argument(help="YYYY-H1, YYYY-H2 (organizations and their secretaries) or YYYY-Y (everyone)")],
    csv_path: Annotated[Optional[str], typer.Option("--csv", help="write every subject's row to this CSV file")] = None,
    show: Annotated[int, typer.Option("--show", min=0, help="list at most this many subjects not covered")] = 50,
    as_json: JsonOpt = False,
) -> None:
    """The coverage ledger of a period: who must be reviewed, their latest
    review, and those not covered and why; coverage % per tier and unit."""
    from app.campaigns import LedgerOf, campaign_ledger
    from domain.coverage import tier_label

    led = _act(campaign_ledger, _do(lambda: LedgerOf(period=period)))
    if csv_path:
        with open(csv_path, "w", encoding="utf-8", newline="") as f:
            f.write(led.csv())
    if as_json:
        print(led.model_dump_json())
        return
    covered = sum(1 for r in led.rows if r.covered)
    out.print(f"{period} ({led.round}): {covered} of {len(led.rows)} subjects covered")
    table = Table(title="coverage by tier")
    for col in ("tier", "required", "covered", "%"):
        table.add_column(col, justify="right" if col != "tier" else "left")
    for tier, c in led.by_tier.items():
        table.add_row(tier_label(tier), str(c.required), str(c.covered), f"{c.percent:.1f}")
    out.print(table)
    units = Table(title="coverage by unit")
    for col in ("unit", "required", "covered", "%"):
        units.add_column(col, justify="right" if col != "unit" else "left")
    for unit, c in led.by_unit.items():
        units.add_row(unit, str(c.required), str(c.covered), f"{c.percent:.1f}")
    out.print(units)
    missing = led.not_covered
    for r in missing[:show]:
        out.print(f"{r.subject_id}  {r.why_not}  {r.state}{'  ' + r.review_id if r.review_id else ''}")
    if len(missing) > show:
        out.print(f"… and {len(missing) - show} more (--csv FILE for all)")
    if csv_path:
        out.print(f"wrote {csv_path}")


schedule_app = typer.Typer(help="Routine rounds on a calendar (Temporal Schedules): create, list, pause, resume, trigger, delete.", no_args_is_help=True)
app.add_typer(schedule_app, name="schedule")
PrefixArg = Annotated[str, typer.Argument(help="the schedule's name; its campaigns are <name>-<period>")]


def _print_schedule(v) -> None:
    nxt = ", ".join(t.isoformat(timespec="minutes") for t in v.next_fires) or "—"
    out.print(f"{v.prefix}: {v.round} over {v.unit_id or 'the whole organization'} · cron {' | '.join(v.cron)} (UTC) · {'paused' if v.paused else 'active'} · next {nxt}" + (f" · {v.note}" if v.note else ""))


@schedule_app.command("create")
def schedule_create(
    prefix: PrefixArg,
    round_: Annotated[str, typer.Option("--round", help="half_yearly (1 Jan, 1 Jul) or year_end (7 Dec)")],
    unit: UnitOpt = None,
    levels: LevelsOpt = "A,B,C",
    method: MethodOpt = "concentrated",
    cron: Annotated[Optional[str], typer.Option("--cron", help="override the calendar: minute hour day month weekday, UTC")] = None,
    note: Annotated[str, typer.Option("--note")] = "",
) -> None:
    """A schedule that plans and launches the round of each period it fires in."""
    from app.round_schedules import ScheduleRequest, create_schedule

    req = _do(lambda: ScheduleRequest(prefix=prefix, round=round_, unit_id=unit, levels=tuple(x.strip().upper() for x in levels.split(",") if x.strip()), method=method, cron=cron, note=note))
    _print_schedule(_act(create_schedule, req))


@schedule_app.command("list")
def schedule_list(as_json: JsonOpt = False) -> None:
    from app.round_schedules import list_schedules

    views = _act(list_schedules, None).schedules
    if as_json:
        print("[" + ",".join(v.model_dump_json() for v in views) + "]")
        return
    for v in views:
        _print_schedule(v)
    if not views:
        out.print("no round schedules")


@schedule_app.command("pause")
def schedule_pause(prefix: PrefixArg, note: Annotated[Optional[str], typer.Option("--note")] = None) -> None:
    from app.round_schedules import ScheduleNote, pause_schedule

    _print_schedule(_act(pause_schedule, _do(lambda: ScheduleNote(prefix=prefix, note=note))))


@schedule_app.command("resume")
def schedule_resume(prefix: PrefixArg, note: Annotated[Optional[str], typer.Option("--note")] = None) -> None:
    from app.round_schedules import ScheduleNote, resume_schedule

    _print_schedule(_act(resume_schedule, _do(lambda: ScheduleNote(prefix=prefix, note=note))))


@schedule_app.command("trigger")
def schedule_trigger(prefix: PrefixArg) -> None:
    """Fire now: plan and launch the current period's round (once per period)."""
    from app.round_schedules import ScheduleRef, trigger_schedule

    _print_schedule(_act(trigger_schedule, _do(lambda: ScheduleRef(prefix=prefix))))


@schedule_app.command("delete")
def schedule_delete(prefix: PrefixArg) -> None:
    """Remove the schedule (campaigns it launched go on)."""
    from app.round_schedules import ScheduleRef, delete_schedule

    _act(delete_schedule, _do(lambda: ScheduleRef(prefix=prefix)))
    out.print(f"schedule {prefix} deleted")
