"""The happy path on the time-skipping server: all five steps, and the log's
fold equals what the workflow reports."""

from __future__ import annotations

from conftest import running_worker
from specs import branch_spec

from domain.events import from_record
from domain.procedure import Step
from domain.review import fold
from service.reviews import drive_on_time, get_state, start_review


async def test_on_time_review_closes(time_env, log_engine, store, task_queue):
    spec = branch_spec()
    async with running_worker(time_env, log_engine, task_queue):
        await start_review(time_env.client, spec, task_queue, visible=False)
        result, sent = await drive_on_time(time_env.client, spec, (await time_env.get_current_time()).date())
        reported = await get_state(time_env.client, spec.review_id)
    assert result.final_step is Step.CLOSED and reported.step is Step.CLOSED
    records = store.read_stream(spec.review_id)
    assert [r.version for r in records] == list(range(1, result.version + 1))
    assert fold(from_record(r) for r in records) == reported
    assert len(sent) == 9
