"""Typed errors of the use cases. Each carries a stable ``code``, the field it is
about (or None), a message in English and in Chinese, and the HTTP status the
API maps it to; the CLI prints the same fields as one line and exits non-zero.
One shape for every adapter, so a person reads the same reason everywhere."""

from __future__ import annotations

from typing import ClassVar


class AppError(Exception):
    status: ClassVar[int] = 400
    code: ClassVar[str] = "error"
    exit_code: ClassVar[int] = 2

    def __init__(self, message: str, *, field: str | None = None, message_zh: str | None = None) -> None:
        self.message = message
        self.field = field
        self.message_zh = message_zh or message
        super().__init__(f"{field}: {message}" if field else message)

    def as_dict(self) -> dict[str, str | None]:
        return {"code": self.code, "field": self.field, "message": self.message, "message_zh": self.message_zh}


class BadInput(AppError):
    """The input is malformed or breaks a rule of the procedure; nothing was recorded."""

    status = 422
    code = "bad_input"


class NotSignedIn(AppError):
    status = 401
    code = "not_signed_in"


class Forbidden(AppError):
    """The principal may not do this (or, for a supervisor outside their scope,
    may not even know the review exists: use NotFound then)."""

    status = 403
    code = "forbidden"


class NotFound(AppError):
    status = 404
    code = "not_found"


class Conflict(AppError):
    """Wrong step, a review that has ended, a stale version, an id in use."""

    status = 409
    code = "conflict"


class Unavailable(AppError):
    """The engine (Temporal) or a database does not answer; try again later."""

    status = 503
    code = "unavailable"
    exit_code = 3


class TooManyAttempts(AppError):
    """Sign-in refused for a while: too many failures for this account or from
    this address (the limit and window are settings)."""

    status = 429
    code = "too_many_attempts"


def database_unavailable(exc: BaseException) -> Unavailable:
    """A database that does not answer, or is not set up yet (no tables)."""
    text = str(getattr(exc, "orig", None) or exc).splitlines()[0]
    if "no such table" in text or "does not exist" in text:
        return Unavailable(f"the database is not set up yet ({text}): start Pingyi once ('make run') or run 'reviewctl setup'",
                           message_zh="数据库尚未初始化：请先运行 make run 或 reviewctl setup")
    return Unavailable(f"the database does not answer: {text}", message_zh="数据库无法访问")


def field_and_reason(loc: list[str], msg: str) -> tuple[str | None, str]:
    """The field a validation error is about, and why. A rule across fields
    (a model validator) has no location of its own, so it names its field at
    the head of its message (``sample: a random round needs a sample``): that
    head becomes the field."""
    msg = msg.removeprefix("Value error, ")
    head, sep, rest = msg.partition(": ")
    if sep and head and " " not in head and "." not in head:
        loc, msg = [*loc, head], rest
    return ".".join(loc) or None, msg


KNOWN: dict[str, type[AppError]] = {cls.code: cls for cls in (BadInput, NotSignedIn, Forbidden, NotFound, Conflict, Unavailable, TooManyAttempts)}


class OtherError(AppError):
    """An error the API answered with a code this side has no class for (the
    HTTP layer's own, e.g. ``method_not_allowed``): kept with its code and status."""

    def __init__(self, code: str, status: int, message: str, *, field: str | None = None, message_zh: str | None = None) -> None:
        super().__init__(message, field=field, message_zh=message_zh)
        self.code = code  # type: ignore[misc]
        self.status = status  # type: ignore[misc]


def error_from_body(status: int, body: object) -> AppError | None:
    """The typed error an API answer of the one error shape
    (``{"error": {"code", "field", "message", "message_zh"}}``) stands for, so
    a remote adapter raises what the use case raised; None if the body is not
    of that shape."""
    if not isinstance(body, dict) or not isinstance(body.get("error"), dict):
        return None
    e = body["error"]
    code, message = e.get("code"), e.get("message")
    if not isinstance(code, str) or not isinstance(message, str):
        return None
    field = e.get("field") if isinstance(e.get("field"), str) else None
    zh = e.get("message_zh") if isinstance(e.get("message_zh"), str) else None
    if field and message.startswith(f"{field}: "):  # a request validation error names its field in the message too
        message = message[len(field) + 2:]
    cls = KNOWN.get(code)
    if cls is not None and cls.status == status:
        return cls(message, field=field, message_zh=zh)
    return OtherError(code, status, message, field=field, message_zh=zh)
