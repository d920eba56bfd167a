"""A routine round as a Temporal Schedule starts it (half-yearly for
organizations and their secretaries, year-end for everyone, spec §7): plan
the period the moment it fires falls in, and launch that plan. The launch is
idempotent on the campaign id ``<prefix>-<period>``, so a schedule that fires
twice in one period (a trigger, a catch-up after downtime) launches once."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from activities.campaign_contracts import LAUNCH_ROUND, LaunchRoundInput, LaunchRoundResult, RoundInput


@workflow.defn(name="RoutineRound")
class RoutineRoundWorkflow:
    @workflow.run
    async def run(self, inp: RoundInput) -> LaunchRoundResult:
        return await workflow.execute_activity(
            LAUNCH_ROUND,
            LaunchRoundInput(**inp.model_dump(), fired_at=workflow.now().isoformat()),
            result_type=LaunchRoundResult,
            start_to_close_timeout=timedelta(minutes=30),
            retry_policy=RetryPolicy(initial_interval=timedelta(seconds=2), maximum_interval=timedelta(minutes=2), non_retryable_error_types=["CommandRejected"]),
        )
