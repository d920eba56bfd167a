"""The review workflow: one subject, one reviewer, five steps.

All rules live in ``domain.review.decide``; this file adds only what a durable
engine adds: waiting, time and persistence. Every human command is an update
whose validator runs the same ``decide`` as its handler, so a bad command is
rejected before it reaches the history. Time becomes events the same way
(reminder sent, deadline passed), and the state is only ever the fold of the
events the log stored.

Temporal itself can end a run behind Pingyi's back. A cancellation (the Web
UI's "Request Cancellation") reaches the run loop as ``CancelledError``: the
review records it through the same decide/append path, then ends cancelled.
A termination cannot be seen from inside; ``audit cross-check`` reports it.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.contracts import APPEND_EVENTS, AppendInput, AppendResult, OutboxEntry
    from domain import events as ev
    from domain.commands import WORKFLOW_COMMANDS, RecordEngineCancellation, parse_command
    from domain.errors import CommandRejected
    from domain.local_time import DEFAULT_TZ, zone
    from domain.notifications import notifications_for
    from domain.procedure import FIVE_STEPS, Step
    from domain.review import ReviewState, Wakeup, decide, evolve, next_wakeup, start
    from workflows import search_attributes as sa
    from workflows.messages import CommandInput, CommandResult, ReviewInput, ReviewResult


APPEND_OPTIONS = dict(
    start_to_close_timeout=timedelta(seconds=30),
    retry_policy=RetryPolicy(initial_interval=timedelta(milliseconds=200), maximum_interval=timedelta(seconds=10), non_retryable_error_types=["EventConflict"]),
)
PERSON_COMMANDS_ONLY = WORKFLOW_COMMANDS  # kinds only the workflow issues, declared once in domain.commands.COMMANDS

REVISION = 2
"""The command sequence new reviews are started under (``ReviewInput.revision``);
a review keeps its revision for life, so a saved history replays the commands
it was recorded with. 2: the step search attribute is upserted at close too.
Carried in the input rather than a ``workflow.patched`` marker, which would
cost every review one more history event."""
ENGINE_CANCEL_PATCH = "record-engine-cancellation"
ENGINE_ACTOR = "temporal"  # the workflow cannot see who asked Temporal; cross-check reads the identity from the history


def _rejected(err: CommandRejected) -> ApplicationError:
    return ApplicationError(str(err), err.as_dict(), type="CommandRejected", non_retryable=True)


@workflow.defn(name="Review")
class ReviewWorkflow:
    @workflow.init
    def __init__(self, inp: ReviewInput) -> None:
        self._state = inp.resumed_state or ReviewState()
        self._lock = asyncio.Lock()  # one writer at a time: decide → append → evolve
        self._visible = inp.visible
        self._revision = inp.revision
        self._timezone = inp.timezone  # the zone people read the notification texts in
        self._tz = zone(inp.timezone) if inp.timezone else DEFAULT_TZ
        self._validated: tuple[str, ReviewState, object, list[ev.DomainEvent]] | None = None  # see _decided_in_validation

    # ---- the procedure -----------------------------------------------------

    @workflow.run
    async def run(self, inp: ReviewInput) -> ReviewResult:
        try:
            if inp.resumed_state is None:
                try:
                    opening = start(inp.spec, workflow.now(), first_due_at=inp.first_due_at)
                except CommandRejected as err:  # a spec the client should have refused: fail, never retry
                    raise _rejected(err) from None
                await asyncio.shield(self._locked_record(opening, f"start:{workflow.info().run_id}"))
            for step in FIVE_STEPS:  # investigate → solicit opinions → review → notify → rectify
                await self._until_done(step)
                if self._state.finished:
                    break
            await workflow.wait_condition(workflow.all_handlers_finished)
        except asyncio.CancelledError:
            # histories cancelled before this change ended here, with no event
            if not workflow.patched(ENGINE_CANCEL_PATCH):
                raise
            recorded = await self._cancelled_through_temporal()
            await workflow.wait_condition(workflow.all_handlers_finished)
            if recorded:
                raise
        return ReviewResult(review_id=inp.spec.review_id, final_step=self._state.step, version=self._state.version)

    async def _cancelled_through_temporal(self) -> bool:
        """Record that Temporal cancelled the review (True: the run then ends
        cancelled); False if the review had already ended by itself (its own
        end stands, and the run completes as it would have)."""
        async with self._lock:  # a command or timer being recorded finishes first
            if self._state.spec is None:
                return True  # cancelled before the review opened: no log stream exists
            if self._state.finished:
                return False
            told = (workflow.cancellation_reason() or "").replace("\x00", "").strip()[:1500] or None
            try:
                events = decide(self._state, RecordEngineCancellation(actor_id=ENGINE_ACTOR, reason=told), workflow.now())
            except CommandRejected as err:
                workflow.logger.warning("engine cancellation refused: %s", err, extra={"review_id": self._state.spec.review_id, "step": str(self._state.step)})
                return True
            await self._record(events, causation="engine:cancel")
            return True

    async def _locked_record(self, events: list[ev.DomainEvent], causation: str) -> None:
        """Run from the run loop under ``asyncio.shield``: a cancellation arriving
        mid-append must not abandon an append the log may already hold."""
        async with self._lock:
            await self._record(events, causation=causation)

    async def _until_done(self, step: Step) -> None:
        """Wait while the review is at ``step``: one timer at a time, first to the
        reminder, then to the deadline; an overdue step keeps waiting."""
        while self._state.step is step:
            if workflow.info().is_continue_as_new_suggested() and workflow.all_handlers_finished():
                workflow.continue_as_new(ReviewInput(spec=self._state.spec, resumed_state=self._state, visible=self._visible, revision=self._revision, timezone=self._timezone))
            wake = next_wakeup(self._state)
            changed = self._watch(step, wake)
            if wake is None:
                await workflow.wait_condition(changed)
                continue
            delay = (wake.at - workflow.now()).total_seconds()
            if delay > 0:
                try:
                    await workflow.wait_condition(changed, timeout=delay, timeout_summary=f"{step.value}:{wake.command.kind}")
                    continue
                except asyncio.TimeoutError:
                    pass
            if not await asyncio.shield(self._fire(step, wake)):
                await workflow.wait_condition(changed)

    async def _fire(self, step: Step, wake: Wakeup) -> bool:
        """Turn a timer into events (under ``asyncio.shield``, see
        :meth:`_locked_record`); False if the rules refused it."""
        async with self._lock:
            if next_wakeup(self._state) != wake:  # a command moved the review meanwhile
                return True
            try:
                events = decide(self._state, wake.command, workflow.now())
            except CommandRejected as err:  # never let a rule error retry the task forever
                workflow.logger.warning("timer command refused: %s", err, extra={"review_id": self._state.spec.review_id, "step": step.value})
                return False
            await self._record(events, causation=f"timer:{step.value}:{wake.command.kind}:{self._state.version}")
            return True

    def _watch(self, step: Step, wake: Wakeup | None):
        """True once the step ended or its timer target moved (deadline extended,
        reminder sent): the only reasons to cancel the running timer. The SDK
        checks every condition on every activation; the state is replaced, never
        mutated, so an unchanged state object needs no new ``next_wakeup``."""
        seen = self._state

        def changed() -> bool:
            nonlocal seen
            if self._state is seen:
                return False
            seen = self._state
            return self._state.step is not step or next_wakeup(self._state) != wake

        return changed

    # ---- commands from people ------------------------------------------------

    @workflow.update(name="command")
    async def command(self, inp: CommandInput) -> CommandResult:
        await workflow.wait_condition(lambda: self._state.spec is not None)  # arrived with the start
        async with self._lock:
            info = workflow.current_update_info()
            events = self._decided_in_validation(info.id if info else None)
            if events is None:
                try:
                    events = decide(self._state, parse_command(inp.command), workflow.now())
                except CommandRejected as err:  # the state moved between validation and now
                    raise _rejected(err) from None
            await self._record(events, causation=f"update:{info.id}" if info else None)
        return CommandResult(review_id=self._state.spec.review_id, step=self._state.step, version=self._state.version, events=[e.event_type for e in events])

    @command.validator
    def _validate(self, inp: CommandInput) -> None:
        try:
            command = parse_command(inp.command)
            if command.kind in PERSON_COMMANDS_ONLY:  # type: ignore[attr-defined]
                raise CommandRejected("kind", f"{command.kind} is issued by the review's clock, not by a person")  # type: ignore[attr-defined]
            if self._state.spec is None:
                return  # the review's opening events are being recorded; the handler decides once they are
            events = decide(self._state, command, workflow.now())
        except CommandRejected as err:
            raise _rejected(err) from None
        info = workflow.current_update_info()
        if info is not None:
            self._validated = (info.id, self._state, workflow.now(), events)

    def _decided_in_validation(self, update_id: str | None) -> list[ev.DomainEvent] | None:
        """The events the validator decided for this update, if the handler
        runs on the very state and at the very time it decided them (the same
        activation, nothing recorded in between): deciding is pure, so they are
        what deciding again would give, and a command costs one decide, not
        two. A replay runs no validator and decides in the handler: the same
        events either way."""
        got, self._validated = self._validated, None
        if got is not None and got[0] == update_id and got[1] is self._state and got[2] == workflow.now():
            return got[3]
        return None

    @workflow.query(name="state")
    def state(self) -> ReviewState:
        return self._state

    # ---- the one write path ----------------------------------------------------

    async def _record(self, events: list[ev.DomainEvent], causation: str | None) -> None:
        """Append one command's events (and the messages they cause) in one local
        activity, then fold what the log stored — on a retry after a crash the
        log's copy wins, so workflow state and log can never drift."""
        review_id = (self._state.spec or events[0].spec).review_id  # type: ignore[attr-defined]
        records = ev.to_records(review_id, self._state.version, events, causation)
        outbox, preview = [], self._state
        for e in events:
            preview = evolve(preview, e)
            outbox += [OutboxEntry(version=preview.version, notification=n) for n in notifications_for(preview, e, self._tz)]
        result: AppendResult = await workflow.execute_local_activity(
            APPEND_EVENTS, AppendInput(stream_id=review_id, step=self._state.step or Step.INVESTIGATE, expected_version=self._state.version, records=records, outbox=outbox), result_type=AppendResult, **APPEND_OPTIONS
        )
        before = self._state
        for r in result.records:
            self._state = evolve(self._state, ev.from_record(r))
        workflow.logger.info("recorded %s", ",".join(r.event_type for r in result.records), extra={"review_id": review_id, "step": str(self._state.step), "version": self._state.version})
        if self._visible:
            self._upsert_search_attributes(before)

    def _upsert_search_attributes(self, before: ReviewState) -> None:
        s = self._state
        updates = []
        if s.step != before.step:
            updates.append(sa.STEP.value_set(s.step.value))
        if s.spec.reviewer_id != (before.spec.reviewer_id if before.spec else None):
            updates.append(sa.REVIEWER.value_set(s.spec.reviewer_id))
        due, was_due = s.current_due(), before.current_due()
        if due is not None and (was_due is None or sa.deadline_value(due) != sa.deadline_value(was_due)):
            updates.append(sa.DEADLINE.value_set(sa.deadline_value(due)))
        if s.is_overdue() != before.is_overdue():
            updates.append(sa.OVERDUE.value_set(s.is_overdue()))
        if before.spec is None:  # first run: the client set these at start; keep only what differs
            current = workflow.info().typed_search_attributes
            updates = [u for u in updates if current.get(u.key) != u.value]
            for key, value in ((sa.CAMPAIGN, s.spec.campaign_id), (sa.SUBJECT_UNIT, s.spec.subject.unit_id), (sa.TIER, s.spec.tier), (sa.OVERDUE, False)):
                if current.get(key) != value:
                    updates.append(key.value_set(value))
        if updates and not s.finished:
            workflow.upsert_search_attributes(updates)
        elif updates and (s.step is Step.CANCELLED or self._revision >= 2):
            # an ended review shows how it ended (closed / cancelled); its last deadline stays as it was
            workflow.upsert_search_attributes([u for u in updates if u.key == sa.STEP])
