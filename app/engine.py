"""The application layer's calls to the engine (Temporal), each turning what
can go wrong into a typed :mod:`app.errors` error: a review id the server does
not know is NotFound, an id in use Conflict, a server that does not answer
Unavailable, a command the domain refused BadInput / Conflict / Forbidden by
its rejection code. ``service.reviews`` stays the Temporal-facing module (the
worker tests and the benchmarks use it too); this wraps it for people."""

from __future__ import annotations

import asyncio
from contextlib import asynccontextmanager
from typing import AsyncIterator

from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError, WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from app.context import AppContext, unavailable
from app.errors import AppError, BadInput, Conflict, Forbidden, NotFound
from domain.commands import Command
from domain.errors import CommandRejected
from domain.events import ReviewSpec
from domain.review import ReviewState
from service import reviews as client_calls
from workflows.messages import CommandResult

_UNREACHABLE = (RPCStatusCode.UNAVAILABLE, RPCStatusCode.DEADLINE_EXCEEDED, RPCStatusCode.CANCELLED)


def rejection_error(err: CommandRejected) -> AppError:
    """The domain's rejection as the application's typed error, by its code."""
    if err.code == "not_allowed":
        return Forbidden(err.reason, field=err.field)
    if err.code in ("wrong_step", "ended", "not_started"):
        return Conflict(err.reason, field=err.field)
    return BadInput(err.reason, field=err.field)


def _event_conflict(err: BaseException) -> bool:
    cause: BaseException | None = err
    while cause is not None:
        if isinstance(cause, ApplicationError) and cause.type == "EventConflict":
            return True
        cause = getattr(cause, "cause", None) or cause.__cause__
    return False


@asynccontextmanager
async def engine_call(ctx: AppContext, review_id: str) -> AsyncIterator[None]:
    try:
        yield
    except AppError:
        raise
    except CommandRejected as err:
        raise rejection_error(err) from None
    except WorkflowAlreadyStartedError:
        raise Conflict(f"the review id {review_id!r} is in use (by a running or an ended review): an id names one review forever; choose another or leave --review-id out",
                       field="review_id", message_zh=f"点评编号 {review_id!r} 已被使用") from None
    except WorkflowUpdateFailedError as err:
        rejected = client_calls.rejection_of(err)
        if rejected is not None:
            raise rejection_error(rejected) from None
        if _event_conflict(err):
            raise Conflict("the review changed while this command was recorded (stale version); read it again and resend", field="version",
                           message_zh="点评已被他人更新，请刷新后重试") from None
        raise Conflict(f"the review did not take the command: {err.cause or err}", field="kind") from None
    except RPCError as err:
        if err.status is RPCStatusCode.NOT_FOUND:
            if "completed" in (err.message or "").lower() or "closed" in (err.message or "").lower():
                raise Conflict(f"review {review_id!r} has ended; it takes no more commands", field="review_id", message_zh="点评已结束") from None
            raise NotFound(f"no review {review_id!r}; 'reviewctl review list' shows the reviews you may see", field="review_id",
                           message_zh=f"没有点评 {review_id!r}") from None
        if err.status in _UNREACHABLE:
            raise unavailable(ctx.settings, err) from None
        raise
    except (RuntimeError, OSError, asyncio.TimeoutError) as err:
        if isinstance(err, asyncio.TimeoutError) or "connect" in str(err).lower() or "transport" in str(err).lower():
            raise unavailable(ctx.settings, err) from None
        raise


async def start(ctx: AppContext, spec: ReviewSpec, first_due_at=None) -> None:
    client = await ctx.temporal()
    async with engine_call(ctx, spec.review_id):
        await client_calls.start_review(client, spec, ctx.settings.task_queue, first_due_at=first_due_at, timezone_name=ctx.settings.timezone)


async def send(ctx: AppContext, review_id: str, command: Command) -> CommandResult:
    client = await ctx.temporal()
    async with engine_call(ctx, review_id):
        return await client_calls.send(client, review_id, command)


def still_opening(review_id: str, waited: float) -> Conflict:
    """A review Temporal has started whose opening events are not recorded
    yet: the server answered, so this is not "cannot reach Temporal"; what
    holds it is the worker (busy with a campaign's launch, or not running)."""
    return Conflict(f"review {review_id!r} is started but has not recorded its opening within {waited:g} s (the worker is busy, or no worker is running); "
                    "try again in a moment ('reviewctl status' says whether the worker is up)", field="review_id",
                    message_zh=f"点评 {review_id!r} 已启动，但 {waited:g} 秒内尚未记录开启事件（工作进程繁忙或未运行），请稍后重试")


async def query_state(ctx: AppContext, review_id: str, *, wait_started: float = 0) -> ReviewState:
    """The workflow's own state. ``wait_started``: seconds to wait for a review
    that was just started to record its opening events (then Conflict, naming
    the review: a slow opening is not an unreachable server)."""
    client = await ctx.temporal()
    async with engine_call(ctx, review_id):
        if not wait_started:
            return await client_calls.get_state(client, review_id, wait_started=False)
        try:
            return await asyncio.wait_for(client_calls.get_state(client, review_id, wait_started=True), wait_started)
        except asyncio.TimeoutError:
            raise still_opening(review_id, wait_started) from None
