"""The outbox: the messages the notifier wrote (task prompts, reminders,
escalations), newest first. A person reads the messages addressed to them; an
auditor reads every message."""

from __future__ import annotations

from datetime import datetime, timezone

from pydantic import BaseModel, Field, field_validator
from sqlalchemy import select

from app.access import require_signed_in_person
from app.context import AppContext
from app.errors import BadInput, Forbidden
from app.cursor import Page, after_of, page_of
from app.principal import Principal
from storage.schema import outbox as outbox_t


class OutboxInput(BaseModel):
    recipient_id: str | None = None
    review_id: str | None = None
    limit: int = Field(default=50, ge=1, le=500)
    cursor: str | None = None


class OutboxMessage(BaseModel):
    id: int
    review_id: str
    version: int
    recipient_id: str
    kind: str
    subject: str
    body: str
    created_at: datetime
    delivered_at: datetime | None = None  # handed to the SMTP server by the mail relay
    attempts: int = 0  # delivery attempts by mail so far
    failed_at: datetime | None = None  # the relay gave up: ``last_error`` says why
    last_error: str | None = None  # the last attempt's error (with a delivered message: none)

    @field_validator("created_at", "delivered_at", "failed_at")
    @classmethod
    def _utc(cls, v: datetime | None) -> datetime | None:
        """SQLite hands the outbox's times back without their zone; they were
        written in UTC (an instant without an offset is not one, and the API's
        schema promises a date-time)."""
        return v.replace(tzinfo=timezone.utc) if v is not None and v.tzinfo is None else v


class OutboxPage(Page[OutboxMessage]):
    """Newest first."""


async def read_outbox(ctx: AppContext, principal: Principal, inp: OutboxInput) -> OutboxPage:
    recipient = inp.recipient_id
    if not principal.auditor:
        person = require_signed_in_person(principal)
        if recipient is not None and recipient != person:
            raise Forbidden("you read your own messages only", field="recipient_id", message_zh="只能查看发给自己的消息")
        recipient = person
    after = after_of(inp.cursor)
    q = select(outbox_t).order_by(outbox_t.c.id.desc()).limit(inp.limit + 1)
    if recipient:
        q = q.where(outbox_t.c.recipient_id == recipient)
    if inp.review_id:
        q = q.where(outbox_t.c.stream_id == inp.review_id)
    if after is not None:
        if not after.isdigit():
            raise BadInput("not a cursor this list returned", field="cursor", message_zh="无效的分页游标")
        q = q.where(outbox_t.c.id < int(after))
    with ctx.read() as conn:
        rows = [dict(r._mapping) for r in conn.execute(q)]
    messages = [OutboxMessage(review_id=r.pop("stream_id"), **r) for r in rows]
    return page_of(OutboxPage, messages, inp.limit, key=lambda m: str(m.id))
