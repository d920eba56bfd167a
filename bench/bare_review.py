"""The yardsticks for the history budget and the throughput benchmark: a
workflow that receives the same updates as a review and sets the same
one-timer-per-step, but does nothing else (no event log, no search
attributes), and the same plus one no-op local activity per command, the floor
of a design that appends each command's events in a local activity."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from temporalio import activity, workflow

from workflows.messages import CommandInput

STEP_ENDING = frozenset({"close_investigation", "close_opinion_solicitation", "submit_review", "confirm_circulation", "evaluate_report_back"})


@workflow.defn(name="BareReview", sandboxed=False)
class BareReview:
    def __init__(self) -> None:
        self.steps_done = 0

    @workflow.run
    async def run(self) -> None:
        for i in range(5):
            try:
                await workflow.wait_condition(lambda: self.steps_done > i, timeout=timedelta(days=4))
            except asyncio.TimeoutError:
                pass

    @workflow.update(name="command")
    async def command(self, inp: CommandInput) -> None:
        if inp.command["kind"] in STEP_ENDING:
            self.steps_done += 1

    @command.validator
    def _validate(self, inp: CommandInput) -> None:
        pass


NOOP_ACTIVITY = "bench.noop"


@activity.defn(name=NOOP_ACTIVITY)
async def noop(command_kind: str) -> str:
    """Does nothing: what remains of a local activity when its work is free."""
    return command_kind


@workflow.defn(name="BareReviewWithLocalActivity", sandboxed=False)
class BareReviewWithLocalActivity(BareReview):
    """The floor of our design: the bare workflow plus one local activity per
    command (where the review appends its events)."""

    @workflow.run
    async def run(self) -> None:
        await super().run()

    @workflow.update(name="command")
    async def command(self, inp: CommandInput) -> None:
        await workflow.execute_local_activity(NOOP_ACTIVITY, inp.command["kind"], result_type=str, start_to_close_timeout=timedelta(seconds=30))
        if inp.command["kind"] in STEP_ENDING:
            self.steps_done += 1

    @command.validator
    def _validate(self, inp: CommandInput) -> None:
        pass
