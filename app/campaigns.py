"""Campaigns: plan (the dry run), launch, status, pause, resume, cancel, and
the auditor's redraw of a random round — the use cases behind
``reviewctl campaign …`` and ``reviewctl audit redraw``.

A launch names the plan id its dry run printed: the plan is recomputed from
the directory as it is now, and only if its hash is the same does anything
start ("what was shown is what starts"). Launching is idempotent at every
step: the plan's rows are written once per campaign id, the launch's events
are appended under a causation id the log recognises on a retry, the campaign
workflow's id is the campaign id (an existing one is used, a closed one is
not started again), and every review's id is the campaign and the subject.

Who may (spec §2: the office of the campaign's leading group plans campaigns,
watches progress and escalates): plan, launch, pause, resume and cancel — a
supervisor whose granted subtree contains the campaign's whole scope (a
whole-organization round: a grant over a top unit), or the office
(``settings.supervisor_ids``, and ``reviewctl`` on the server itself, which
acts as it). The actor of every command is that principal; a supervisor by
grant cancels each review by that grant. An administrator manages accounts
and grants, not rounds of reviews, and is refused unless they are one of the
above too. Status: those, and auditors (they read everything). The ledger:
auditors and the office whole, a supervisor the rows in their subtrees. The
redraw: auditors.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any, Awaitable, Callable

from pydantic import BaseModel, ConfigDict, Field, ValidationError, computed_field
from sqlalchemy import Engine
from temporalio.client import Client, WorkflowUpdateFailedError, WorkflowUpdateRPCTimeoutOrCancelledError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from activities.campaign_contracts import ReviewCounts
from app.access import covering_scope_of, is_office, subtree_units
from app.cursor import Page, page_in_order
from app.projections.campaign_counts import CampaignCounts, campaign_counts
from app.errors import BadInput, Conflict, Forbidden, NotFound, Unavailable, field_and_reason
from app.principal import Principal
from config.settings import Settings
from directory.service import plan_period
from domain import events as ev
from domain.errors import CommandRejected
from domain.coverage import Gap
from domain.campaign import CampaignPlan, CampaignSpec, SampleDrawn, candidates_of, plan_campaign, redraw, stream_of
from storage.directory import DirectoryStore
from storage.campaigns import CampaignStore, PlanMismatch, review_counts
from storage.eventlog import EventStore
from service.campaigns import LaunchedWithAnotherPlan, launch_plan, workflow_id_of
from workflows.campaign_messages import CampaignCommand, CampaignProgress


class Model(BaseModel):
    model_config = ConfigDict(frozen=True)


class LaunchResult(Model):
    campaign_id: str
    plan_id: str
    planned: int
    workflow_id: str
    already_launched: bool


class CampaignStatus(Model):
    campaign_id: str
    plan_id: str
    progress: CampaignProgress | None  # None: its workflow's history is gone (retention)
    counts: ReviewCounts  # the reviews' own events, counted now
    live: CampaignCounts  # the review projection: open by step x tier, the overdue list


class RedrawResult(Model):
    campaign_id: str
    seed: int
    stratify_by: str | None
    candidates: int
    recorded: list[str]
    redrawn: list[str]

    @computed_field  # type: ignore[prop-decorator]
    @property
    def reproduced(self) -> bool:
        return self.recorded == self.redrawn


def campaign_spec(data: dict[str, Any]) -> CampaignSpec:
    """A spec from a person's input; a bad field is a BadInput naming it."""
    try:
        return CampaignSpec.model_validate(data)
    except ValidationError as e:
        raise _bad_input(e) from None


def _bad_input(e: ValidationError) -> BadInput:
    """The first problem, naming its field (a rule across fields names it in
    its message: ``field: reason``)."""
    first = e.errors()[0]
    field, msg = field_and_reason([str(p) for p in first["loc"]], first["msg"])
    return BadInput(msg, field=field)


MAX_STEP_DAYS = 3650


def with_settings_deadlines(spec: CampaignSpec, settings: Settings) -> CampaignSpec:
    """A spec that names no deadlines takes the settings' (as ``reviewctl
    campaign`` does); a step that would take no time, or longer than ten
    years, is refused naming it."""
    if "deadlines" not in spec.model_fields_set:
        spec = spec.model_copy(update={"deadlines": settings.step_deadlines()})
    for step, length in spec.deadlines.model_dump().items():
        if step != "reminder_lead" and not (timedelta(0) < length <= timedelta(days=MAX_STEP_DAYS)):
            raise BadInput(f"a step takes more than no time and at most {MAX_STEP_DAYS} days", field=f"deadlines.{step}", message_zh="步骤时限须大于零且不超过十年")
    lead = spec.deadlines.reminder_lead
    if lead < timedelta(0) or lead > timedelta(days=MAX_STEP_DAYS):
        raise BadInput("the reminder goes out between now and the deadline", field="deadlines.reminder_lead", message_zh="提醒提前量无效")
    return spec


class Campaigns:
    """``client``: a Temporal client to use; ``connect``: how to get one on
    first need (an application context's ``temporal``, which keeps one client
    per process and says Unavailable when the server does not answer)."""

    def __init__(self, settings: Settings, engine: Engine, events: EventStore, client: Client | None = None, *,
                 connect: Callable[[], Awaitable[Client]] | None = None) -> None:
        self.settings, self.engine, self.events, self.client = settings, engine, events, client
        self._connect = connect
        self.store = CampaignStore(engine)
        self.directory = DirectoryStore(engine)

    @classmethod
    def of(cls, ctx) -> "Campaigns":
        """The use cases over an application context: its one engine, event
        store and long-lived Temporal client (connected when first needed)."""
        return cls(ctx.settings, ctx.engine, ctx.events, connect=ctx.temporal)

    # ---- plan and launch --------------------------------------------------------

    def plan(self, principal: Principal, spec: CampaignSpec) -> CampaignPlan:
        """The dry run: counts per tier × level, every gap, and the plan id a
        launch must name."""
        return self._plan(principal, spec)[0]

    def _plan(self, principal: Principal, spec: CampaignSpec):
        self._rights(principal, spec)
        d, assignments, summary = plan_period(self.engine, spec.period)
        try:
            plan = plan_campaign(d, assignments, summary.gaps, spec)
        except CommandRejected as e:
            raise BadInput(e.reason, field=e.field) from None
        return plan, candidates_of(d, assignments, spec)

    async def launch(self, principal: Principal, spec: CampaignSpec, plan_id: str, *, batch_size: int = 200, rounds_per_run: int = 100, count_every_seconds: float = 3600) -> LaunchResult:
        plan, candidates = self._plan(principal, spec)
        if plan.plan_id != plan_id:
            raise Conflict(
                f"the plan is now {plan.plan_id}, not {plan_id}: the directory or the campaign changed since the dry run; run plan again and check it",
                field="plan_id",
                message_zh=f"计划已变为 {plan.plan_id}（不是 {plan_id}）：目录或活动设置在预演后有变化，请重新预演并核对",
            )
        try:
            existed = await launch_plan(
                await self._temporal(), self.store, self.events, self.settings.task_queue, plan, candidates, principal.person_id or "office",
                batch_size=batch_size, rounds_per_run=rounds_per_run, count_every_seconds=count_every_seconds,
            )
        except (PlanMismatch, LaunchedWithAnotherPlan) as e:
            raise Conflict(str(e), field="campaign_id", message_zh=f"活动 {spec.campaign_id} 已按另一计划启动") from None
        except RPCError as e:
            raise Unavailable(f"Temporal did not take the campaign: {e.message}", message_zh="Temporal 未能接受该活动，请稍后重试") from None
        return LaunchResult(campaign_id=spec.campaign_id, plan_id=plan.plan_id, planned=plan.total, workflow_id=workflow_id_of(spec.campaign_id), already_launched=existed)

    # ---- status and commands -------------------------------------------------------

    async def status(self, principal: Principal, campaign_id: str) -> CampaignStatus:
        spec, plan_id, _ = self._launched(principal, campaign_id, reading=True)
        progress: CampaignProgress | None
        try:
            progress = await (await self._temporal()).get_workflow_handle(workflow_id_of(campaign_id)).query("progress", result_type=CampaignProgress)
        except RPCError as e:
            if e.status is not RPCStatusCode.NOT_FOUND:
                raise Unavailable(f"Temporal did not answer: {e.message}") from None
            progress = None
        return CampaignStatus(
            campaign_id=campaign_id, plan_id=plan_id, progress=progress, counts=ReviewCounts(**review_counts(self.engine, campaign_id)), live=campaign_counts(self.engine, campaign_id)
        )

    async def pause(self, principal: Principal, campaign_id: str, reason: str | None = None, actor_id: str | None = None) -> CampaignProgress:
        return await self._command(principal, campaign_id, "pause", reason, actor_id)

    async def resume(self, principal: Principal, campaign_id: str, reason: str | None = None, actor_id: str | None = None) -> CampaignProgress:
        return await self._command(principal, campaign_id, "resume", reason, actor_id)

    async def cancel(self, principal: Principal, campaign_id: str, reason: str, actor_id: str | None = None) -> CampaignProgress:
        """Stops the launching and cancels every review it started, each with
        this reason and actor in its own log. ``actor_id`` (the local CLI
        only) names the supervisor the reviews know; a signed-in person acts
        as themselves."""
        if not (reason or "").strip():
            raise BadInput("a cancellation needs a reason (it is recorded in every review it cancels)", field="reason", message_zh="取消须写明理由（将记入每一项被取消的点评）")
        return await self._command(principal, campaign_id, "cancel", reason, actor_id)

    async def _command(self, principal: Principal, campaign_id: str, name: str, reason: str | None, actor_id: str | None) -> CampaignProgress:
        _, _, grant = self._launched(principal, campaign_id)
        actor = actor_id if (actor_id and principal.via == "cli") else (principal.person_id or (self.settings.supervisor_ids[0] if principal.via == "cli" else None))
        if not actor:
            raise Forbidden("a campaign command needs a person acting", field="actor_id")
        try:
            cmd = CampaignCommand(actor_id=actor, reason=reason, supervisor_grant=grant)
        except ValidationError as e:
            raise _bad_input(e) from None
        handle = (await self._temporal()).get_workflow_handle(workflow_id_of(campaign_id))
        try:
            return await handle.execute_update(name, cmd, result_type=CampaignProgress)
        except WorkflowUpdateFailedError as e:
            cause = e.cause
            if isinstance(cause, ApplicationError) and cause.type == "CommandRejected":
                d = cause.details[0] if cause.details else {}
                raise Conflict(d.get("reason", cause.message), field=d.get("field")) from None
            raise
        except RPCError as e:
            if e.status is RPCStatusCode.NOT_FOUND:
                raise Conflict(f"campaign {campaign_id} has ended: nothing to {name}", field="campaign_id") from None
            raise Unavailable(f"Temporal did not answer: {e.message}") from None
        except WorkflowUpdateRPCTimeoutOrCancelledError:
            raise Unavailable(f"the campaign did not answer the {name} in time: is a worker running?", message_zh="活动未及时响应，请确认 worker 在运行") from None

    # ---- audit -------------------------------------------------------------------

    def redraw(self, principal: Principal, campaign_id: str) -> RedrawResult:
        """The random round's draw rerun from the audit log alone (its recorded
        candidates and seed), next to the subjects the log says were drawn."""
        if not principal.auditor:
            raise Forbidden("only an auditor may redraw a campaign's sample", field="principal", message_zh="只有审计人员可以复核抽样")
        records = self.events.read_stream(stream_of(campaign_id))
        if not records:
            raise NotFound(f"no campaign {campaign_id} in the log", field="campaign_id")
        drawn = [r for r in records if r.event_type == "campaign.sample_drawn"]
        if not drawn:
            raise BadInput(f"campaign {campaign_id} drew no sample (not a random round)", field="campaign_id")
        event = ev.from_record(drawn[0])
        assert isinstance(event, SampleDrawn)
        return RedrawResult(
            campaign_id=campaign_id, seed=event.sample.seed, stratify_by=event.sample.stratify_by, candidates=len(event.candidates), recorded=list(event.drawn), redrawn=redraw(event)
        )

    def ledger(self, principal: Principal, period: str) -> "Ledger":
        """Every subject who must be reviewed in ``period`` (organizations and
        their secretaries each half year; everyone in the year-end round ``-Y``),
        with the latest review the period's campaigns started for it, and for
        each one not covered, why. A subject counts as covered when a review of
        it closed."""
        from domain.campaign import PERIOD, Round
        from storage.campaigns import launched_specs, review_statuses

        if not PERIOD.match(period):
            raise BadInput("expected YYYY-H1, YYYY-H2 or YYYY-Y", field="period", message_zh="应为 YYYY-H1、YYYY-H2 或 YYYY-Y")
        whole = principal.auditor or is_office(self.settings, principal)
        if not (whole or principal.supervisor_scopes):
            raise Forbidden("only a supervisor, an auditor or the office may read the ledger", field="principal", message_zh="只有督导、审计人员或办公室可以查看覆盖台账")
        round_ = Round.YEAR_END if period.endswith("-Y") else Round.HALF_YEARLY
        d, assignments, summary = plan_period(self.engine, period)
        statuses: dict[str, tuple[str, str, Any]] = {}  # subject -> (campaign, review id, status), latest campaign wins
        for spec_, _ in launched_specs(self.engine):
            if spec_.period != period:
                continue
            prefix = f"rv-{spec_.campaign_id}-"
            for stream_id, st in review_statuses(self.engine, spec_.campaign_id).items():
                subject = stream_id[len(prefix):]
                if subject.startswith(("U-", "P-")):
                    statuses[subject] = (spec_.campaign_id, stream_id, st)
        rows: list[LedgerRow] = []
        for a in sorted((a for a in assignments if round_.covers(a.kind)), key=lambda a: a.subject_id):
            got = statuses.get(a.subject_id)
            if got is None:
                rows.append(LedgerRow(subject_id=a.subject_id, kind=a.kind.value, tier=a.tier, unit_id=a.unit_id, reviewer_id=a.reviewer_id, campaign_id=None, review_id=None, state="not started", covered=False, why_not="no assignment"))
                continue
            cid, rid, st = got
            state = st.step if st.step in ("closed", "cancelled") else f"open:{st.step}"
            why = None if st.step == "closed" else ("cancelled" if st.step == "cancelled" else "still open")
            rows.append(LedgerRow(subject_id=a.subject_id, kind=a.kind.value, tier=a.tier, unit_id=a.unit_id, reviewer_id=a.reviewer_id, campaign_id=cid, review_id=rid, state=state, covered=why is None, why_not=why))
        seen = {r.subject_id for r in rows}
        for g in summary.gaps:
            for sid in g.subject_ids:
                if sid in seen:
                    continue
                seen.add(sid)
                unit = sid if sid in d.units else next(iter(d.leads.get(sid, []) + d.teams_of.get(sid, []) + d.member_of.get(sid, [])), "")
                u = d.units.get(unit)
                if round_ is Round.HALF_YEARLY and sid not in d.units:
                    continue  # a member: reviewed in the year-end round only
                rows.append(LedgerRow(subject_id=sid, kind="organization" if sid in d.units else "member", tier=int(u.tier) if u else 0, unit_id=unit, reviewer_id=None, campaign_id=None, review_id=None, state="gap", covered=False, why_not=f"gap: {g.kind.value}"))
        rows.sort(key=lambda r: r.subject_id)
        if not whole:  # a supervisor: the subjects of their subtrees
            mine = subtree_units(self.directory, principal.supervisor_scopes)
            rows = [r for r in rows if r.unit_id in mine]

        def top_unit(unit_id: str) -> str:
            chain = [unit_id, *d.ancestors(unit_id)] if unit_id in d.units else [unit_id]
            return chain[-2] if len(chain) >= 2 else chain[-1]

        by_tier: dict[int, list[int]] = {}
        by_unit: dict[str, list[int]] = {}
        for r in rows:
            for table, key in ((by_tier, r.tier), (by_unit, top_unit(r.unit_id))):
                cell = table.setdefault(key, [0, 0])  # type: ignore[arg-type]
                cell[0] += 1
                cell[1] += r.covered
        return Ledger(
            period=period, round=round_.value, rows=rows,
            by_tier={k: Coverage(required=v[0], covered=v[1]) for k, v in sorted(by_tier.items())},
            by_unit={k: Coverage(required=v[0], covered=v[1]) for k, v in sorted(by_unit.items())},
        )

    def ledger_page(self, principal: Principal, inp: "LedgerInput") -> "LedgerPage":
        """The ledger a page at a time (the API's JSON; the CSV has every row)."""
        led = self.ledger(principal, inp.period)
        rows = led.rows if inp.covered is None else [r for r in led.rows if r.covered is inp.covered]
        total = Coverage(required=len(led.rows), covered=sum(r.covered for r in led.rows))
        return page_in_order(LedgerPage, rows, inp.cursor, inp.limit, key=lambda r: r.subject_id,
                             period=led.period, round=led.round, total=total, by_tier=led.by_tier, by_unit=led.by_unit)

    # ---- helpers ---------------------------------------------------------------------

    def _launched(self, principal: Principal, campaign_id: str, *, reading: bool = False) -> tuple[CampaignSpec, str, str | None]:
        """The launched campaign's spec and plan id, and the grant the
        principal runs it by (None: the office). A principal who may not see
        it is told as much only after it is known to exist."""
        stored = self.store.spec(campaign_id)
        if stored is None:
            raise NotFound(f"no campaign {campaign_id} was launched", field="campaign_id", message_zh=f"没有已启动的活动 {campaign_id}")
        spec, plan_id, _ = stored
        if reading and principal.auditor:
            return spec, plan_id, None
        return spec, plan_id, self._rights(principal, spec)

    def _rights(self, principal: Principal, spec: CampaignSpec) -> str | None:
        return campaign_rights(self.settings, self.directory, principal, spec.scope.unit_id)

    async def _temporal(self) -> Client:
        if self.client is None:
            if self._connect is None:
                raise Unavailable("no Temporal client in this context", message_zh="未连接 Temporal")
            self.client = await self._connect()
        return self.client


def campaign_rights(settings: Settings, directory: DirectoryStore, principal: Principal, unit_id: str | None) -> str | None:
    """Whether the principal may run a round over ``unit_id``'s subtree (None:
    the whole organization): the grant they run it by, or None for the office;
    Forbidden for anyone else (the module's docstring says who)."""
    if is_office(settings, principal):
        return None
    grant = covering_scope_of(directory, principal, unit_id)
    if grant is not None:
        return grant
    if principal.administrator and not principal.supervisor_scopes:
        raise Forbidden("administrators manage accounts and grants; a round of reviews is run by a supervisor over its scope", field="principal",
                        message_zh="管理员负责账户与授权；点评活动由对该范围负有督导职责的人员组织")
    where = f"{unit_id}'s subtree" if unit_id else "the whole organization"
    raise Forbidden(f"only a supervisor over {where}, or the office, may do this", field="principal", message_zh="只有对该范围负有督导职责的人员或办公室可以操作")


# ---- the coverage ledger ----------------------------------------------------------


class LedgerRow(Model):
    subject_id: str
    kind: str
    tier: int
    unit_id: str  # the subject's organization (an organization: itself)
    reviewer_id: str | None
    campaign_id: str | None  # the campaign of its latest review
    review_id: str | None
    state: str  # closed, cancelled, open:<step>, not started, gap
    covered: bool
    why_not: str | None  # no assignment, gap, cancelled, still open


class Coverage(Model):
    required: int
    covered: int

    @computed_field  # type: ignore[prop-decorator]
    @property
    def percent(self) -> float:
        return round(100.0 * self.covered / self.required, 1) if self.required else 100.0


class Ledger(Model):
    period: str
    round: str
    rows: list[LedgerRow]
    by_tier: dict[int, Coverage]
    by_unit: dict[str, Coverage]  # by the subject's top-level unit below the root

    @property
    def not_covered(self) -> list[LedgerRow]:
        return [r for r in self.rows if not r.covered]

    def csv(self) -> str:
        import csv
        import io

        buf = io.StringIO()
        w = csv.writer(buf)
        w.writerow(["subject_id", "kind", "tier", "unit_id", "reviewer_id", "campaign_id", "review_id", "state", "covered", "why_not"])
        for r in self.rows:
            w.writerow([r.subject_id, r.kind, r.tier, r.unit_id, r.reviewer_id or "", r.campaign_id or "", r.review_id or "", r.state, "yes" if r.covered else "no", r.why_not or ""])
        return buf.getvalue()


class LedgerInput(Model):
    period: str = Field(max_length=20)
    covered: bool | None = Field(default=None, description="only the covered subjects (true) or only those not covered (false)")
    cursor: str | None = None
    limit: int = Field(default=100, ge=1, le=1000)


class LedgerPage(Page[LedgerRow]):
    """One page of a period's ledger, by subject id, with the whole ledger's
    coverage (every row counts, whatever the filter)."""

    period: str
    round: str
    total: Coverage
    by_tier: dict[int, Coverage]
    by_unit: dict[str, Coverage]


# ---- the use cases one at a time (ctx, principal, input): what reviewctl and the API call --------


class CampaignPlanView(Model):
    """The dry run as a person reads it: what a launch naming ``plan_id`` would start."""

    spec: CampaignSpec
    plan_id: str
    planned: int
    candidates: int  # subjects in scope before a random draw
    by_tier_level: dict[int, dict[str, int]]
    gaps: list[Gap]  # every gap in scope: subjects nobody would review


class LaunchInput(CampaignSpec):
    plan_id: str = Field(min_length=1, max_length=64, description="the plan_id of the dry run (POST /campaigns/plans) with the same spec")
    batch_size: int = Field(default=200, ge=1, le=2000, description="reviews started per activity")

    def spec(self) -> CampaignSpec:
        """The spec alone, keeping which fields were given (a spec naming no
        deadlines takes the settings')."""
        return CampaignSpec.model_validate(self.model_dump(exclude={"plan_id", "batch_size"}, exclude_unset=True))


class CampaignRef(Model):
    campaign_id: str  # an unknown one is NotFound naming it (the API's path checks its spelling)


class CampaignCommandInput(Model):
    campaign_id: str
    reason: str | None = Field(default=None, max_length=2000)
    # reviewctl on the server only: the supervisor the reviews know (a signed-in person acts as themselves)
    actor_id: str | None = Field(default=None, max_length=64)


class LedgerOf(Model):
    period: str = Field(max_length=20)


async def campaign_plan(ctx, principal: Principal, spec: CampaignSpec) -> CampaignPlanView:
    p = await asyncio.to_thread(Campaigns.of(ctx).plan, principal, with_settings_deadlines(spec, ctx.settings))
    return CampaignPlanView(spec=p.spec, plan_id=p.plan_id, planned=p.total, candidates=p.candidates, by_tier_level=p.by_tier_level, gaps=list(p.gaps))


async def launch_campaign(ctx, principal: Principal, inp: LaunchInput) -> LaunchResult:
    return await Campaigns.of(ctx).launch(principal, with_settings_deadlines(inp.spec(), ctx.settings), inp.plan_id, batch_size=inp.batch_size)


async def campaign_status(ctx, principal: Principal, inp: CampaignRef) -> CampaignStatus:
    return await Campaigns.of(ctx).status(principal, inp.campaign_id)


async def pause_campaign(ctx, principal: Principal, inp: CampaignCommandInput) -> CampaignProgress:
    return await Campaigns.of(ctx).pause(principal, inp.campaign_id, inp.reason, inp.actor_id)


async def resume_campaign(ctx, principal: Principal, inp: CampaignCommandInput) -> CampaignProgress:
    return await Campaigns.of(ctx).resume(principal, inp.campaign_id, inp.reason, inp.actor_id)


async def cancel_campaign(ctx, principal: Principal, inp: CampaignCommandInput) -> CampaignProgress:
    return await Campaigns.of(ctx).cancel(principal, inp.campaign_id, inp.reason or "", inp.actor_id)


async def redraw_campaign(ctx, principal: Principal, inp: CampaignRef) -> RedrawResult:
    return await asyncio.to_thread(Campaigns.of(ctx).redraw, principal, inp.campaign_id)


async def campaign_ledger(ctx, principal: Principal, inp: LedgerOf) -> Ledger:
    """The whole ledger of a period (the API answers it a page at a time)."""
    return await asyncio.to_thread(Campaigns.of(ctx).ledger, principal, inp.period)
