"""``send`` tries an update again when the server did not answer in time, but
never when the task sending it was cancelled: the SDK reports both as one
error type, and retrying a cancellation once held a worker's shutdown for
minutes (the campaign's cancel batch kept re-sending updates that no worker
would run)."""

from __future__ import annotations

import asyncio

import pytest
from temporalio.client import WorkflowUpdateRPCTimeoutOrCancelledError
from temporalio.service import RPCError, RPCStatusCode

from domain.commands import CancelReview
from service import reviews
from workflows.messages import CommandResult


class _Handle:
    def __init__(self, failures: list[BaseException], result=None) -> None:
        self.failures, self.result, self.calls = failures, result, 0

    async def execute_update(self, *args, **kwargs):
        self.calls += 1
        if self.failures:
            cause = self.failures.pop(0)
            try:
                raise cause
            except BaseException as e:
                raise WorkflowUpdateRPCTimeoutOrCancelledError() from e
        return self.result


class _Client:
    def __init__(self, handle: _Handle) -> None:
        self.handle = handle

    def get_workflow_handle(self, review_id: str) -> _Handle:
        return self.handle


COMMAND = CancelReview(actor_id="office", reason="replaced")


def test_a_cancelled_sender_is_not_retried():
    handle = _Handle([asyncio.CancelledError()])
    with pytest.raises(asyncio.CancelledError):
        asyncio.run(reviews.send(_Client(handle), "rv-1", COMMAND))
    assert handle.calls == 1


def test_a_server_that_did_not_answer_in_time_is_asked_again():
    done = CommandResult.model_construct()
    handle = _Handle([RPCError("deadline", RPCStatusCode.DEADLINE_EXCEEDED, b"")] * 2, result=done)
    assert asyncio.run(reviews.send(_Client(handle), "rv-1", COMMAND)) is done
    assert handle.calls == 3


def test_asking_again_gives_up_after_the_attempts():
    handle = _Handle([RPCError("deadline", RPCStatusCode.DEADLINE_EXCEEDED, b"")] * reviews.UPDATE_ATTEMPTS)
    with pytest.raises(WorkflowUpdateRPCTimeoutOrCancelledError):
        asyncio.run(reviews.send(_Client(handle), "rv-1", COMMAND))
    assert handle.calls == reviews.UPDATE_ATTEMPTS
