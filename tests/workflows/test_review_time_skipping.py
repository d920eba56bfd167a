"""Every deadline path on the time-skipping test server."""

from __future__ import annotations


from conftest import running_worker
from specs import branch_spec

from domain.procedure import Step
from service.reviews import drive_on_time, start_review


async def test_on_time_review_closes(time_env, log_engine, store, task_queue):
    spec = branch_spec()
    async with running_worker(time_env, log_engine, task_queue):
        handle = await start_review(time_env.client, spec, task_queue, visible=False)
        state, _ = await drive_on_time(time_env.client, spec, (await time_env.get_current_time()).date())
        result = await handle.result()
    assert state.step is Step.CLOSED
    assert result.final_step is Step.CLOSED
    versions = [r.version for r in store.read_stream(spec.review_id)]
    assert versions == list(range(1, state.version + 1))
