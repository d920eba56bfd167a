"""Launching a plan, the part shared by the launch use case (a person names
the plan id the dry run showed) and a Schedule's routine round (the plan of
the moment it fires): store the plan's rows once, append the launch's events
under a causation id the log recognises on a retry, and start the campaign
workflow under the campaign's id (an existing run is used, a closed one is
not started again)."""

from __future__ import annotations

from datetime import datetime, timezone

from temporalio.client import Client
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError

from domain import events as ev
from domain.campaign import CampaignPlan, PlanEntry, launch_events, stream_of
from storage.campaigns import CampaignStore
from storage.eventlog import EventConflict, EventStore
from workflows.campaign_messages import CampaignInput


class LaunchedWithAnotherPlan(Exception):
    pass


def workflow_id_of(campaign_id: str) -> str:
    return f"campaign-{campaign_id}"


async def launch_plan(
    client: Client, store: CampaignStore, events: EventStore, task_queue: str, plan: CampaignPlan, candidates: list[PlanEntry], actor_id: str,
    *, batch_size: int = 200, rounds_per_run: int = 100, count_every_seconds: float = 3600,
) -> bool:
    """Launch ``plan``; True if it had been launched before (nothing new
    started by this call). PlanMismatch / LaunchedWithAnotherPlan when the
    campaign id is taken by another plan."""
    fresh = store.save_plan(plan)
    stream = stream_of(plan.spec.campaign_id)
    records = ev.to_records(stream, 0, launch_events(plan, candidates, datetime.now(timezone.utc), actor_id), causation_id=f"launch:{plan.plan_id}")
    try:
        stored = events.append(stream, 0, records)
    except EventConflict:
        stored = events.read_stream(stream)
        launched = [r for r in stored if r.event_type == "campaign.launched"]
        if not launched or launched[0].payload.get("plan_id") != plan.plan_id:
            raise LaunchedWithAnotherPlan(f"campaign {plan.spec.campaign_id} was launched with another plan") from None
    log_version = max(r.version for r in stored if r.event_type in ("campaign.launched", "campaign.sample_drawn"))
    inp = CampaignInput(campaign_id=plan.spec.campaign_id, planned=plan.total, log_version=log_version, batch_size=batch_size, rounds_per_run=rounds_per_run, count_every_seconds=count_every_seconds)
    try:
        await client.start_workflow(
            "Campaign", inp, id=workflow_id_of(plan.spec.campaign_id), task_queue=task_queue,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING, id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
        )
    except WorkflowAlreadyStartedError:
        return True  # launched and finished before
    return not fresh
