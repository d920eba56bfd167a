"""Checking a command without sending it: the same rules (``domain.decide``)
against the review's current state, nothing recorded. The pages ask this
while a reviewer fills in the review form, so an incomplete review is
pointed out before it is submitted."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from pydantic import BaseModel

from app import engine
from app.access import require_read, require_signed_in_person
from app.context import AppContext
from app.principal import Principal
from app.reviews import ENVELOPE, SendCommandInput, _declaration, state_from_log
from domain.commands import parse_command
from domain.errors import CommandRejected
from domain.review import decide


class CheckCommandResult(BaseModel):
    ok: bool
    field: str | None = None
    message: str = ""
    message_zh: str = ""


async def check_command(ctx: AppContext, principal: Principal, inp: SendCommandInput) -> CheckCommandResult:
    person = require_signed_in_person(principal)
    _declaration(inp.kind)
    state = state_from_log(ctx, inp.review_id)
    require_read(ctx.directory, principal, inp.review_id, state)
    body: dict[str, Any] = {**{k: v for k, v in inp.fields.items() if k not in ENVELOPE}, "kind": inp.kind, "actor_id": person, "reason": inp.reason}
    try:
        decide(state, parse_command(body), datetime.now(timezone.utc))
    except CommandRejected as err:
        refused = engine.rejection_error(err)
        return CheckCommandResult(ok=False, field=refused.field, message=refused.message, message_zh=refused.message_zh)
    return CheckCommandResult(ok=True)
