"""Typed rejections: every rule failure names the field it is about, so the
CLI, the API and the Temporal update validator can all show the same message."""

from __future__ import annotations


class CommandRejected(ValueError):
    """A command broke a rule of the procedure; nothing was recorded."""

    def __init__(self, field: str, reason: str) -> None:
        self.field = field
        self.reason = reason
        super().__init__(f"{field}: {reason}")

    def as_dict(self) -> dict[str, str]:
        return {"field": self.field, "reason": self.reason}
