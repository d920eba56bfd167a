"""The history budget: Temporal history events are the scarcest resource of
this stack. An on-time review (the nine commands of ``service.demo``) must stay
at or under 100 history events, and at or under 1.25x the events of a bare
workflow that receives the same updates and sets the same step timers but does
nothing else."""

from __future__ import annotations

import uuid
from datetime import date

from bench.bare_review import BareReview
from conftest import running_worker
from specs import branch_spec
from temporalio.worker import Worker

from domain.procedure import Step
from service.reviews import drive_on_time, history_length, start_review, wait_opened
from workflows.messages import CommandInput


async def test_on_time_review_history_budget(dev_env, log_engine, task_queue):
    client = dev_env.client
    spec = branch_spec()
    async with running_worker(dev_env, log_engine, task_queue):
        handle = await start_review(client, spec, task_queue)
        state, sent = await drive_on_time(client, spec, date.today())
        await handle.result()
    review_events = await history_length(client, spec.review_id)

    bare_queue = f"bare-{uuid.uuid4()}"
    async with Worker(client, task_queue=bare_queue, workflows=[BareReview]):
        bare = await client.start_workflow(BareReview.run, id=f"bare-{uuid.uuid4()}", task_queue=bare_queue)
        await wait_opened(bare)
        for cmd in sent:
            await bare.execute_update("command", CommandInput.of(cmd))
        await bare.result()
    bare_events = len((await bare.fetch_history()).events)

    print(f"history events: review={review_events} bare={bare_events} ratio={review_events / bare_events:.3f} commands={len(sent)}")
    assert state.final_step is Step.CLOSED and len(sent) == 9
    assert review_events <= 100
    assert review_events <= 1.25 * bare_events
