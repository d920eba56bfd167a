"""Typed rejections: every rule failure names the field it is about, so the
CLI, the API and the Temporal update validator can all show the same message.

``code`` tells the kinds of rejection apart for whoever maps them (the
application layer turns a bad input into 422, a command that came at the wrong
time into 409, a person without the role into 403) without matching text."""

from __future__ import annotations

from typing import Literal

RejectionCode = Literal["invalid", "wrong_step", "ended", "not_started", "not_allowed"]


class CommandRejected(ValueError):
    """A command broke a rule of the procedure; nothing was recorded.

    codes: ``invalid`` (the command itself is wrong: a field, a rule of
    content); ``wrong_step`` (right command, wrong moment: another step, or the
    plan/report is not in the state the command needs); ``ended`` (the review
    is closed or cancelled); ``not_started``; ``not_allowed`` (the actor does not
    hold a role that may send it)."""

    def __init__(self, field: str, reason: str, code: RejectionCode = "invalid") -> None:
        self.field = field
        self.reason = reason
        self.code = code
        super().__init__(f"{field}: {reason}")

    def as_dict(self) -> dict[str, str]:
        return {"field": self.field, "reason": self.reason, "code": self.code}
