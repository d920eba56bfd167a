"""Cursor pagination for every list: a page holds ``items`` and ``next_cursor``
(None on the last page). A cursor is opaque to callers: the URL-safe base64 of
the last item's sort key, so a page after it is a keyset query (stable while
rows are added, no OFFSET scan)."""

from __future__ import annotations

import base64
import binascii
from typing import Callable, Generic, Sequence, TypeVar

from pydantic import BaseModel, ConfigDict

from app.errors import BadInput

T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    model_config = ConfigDict(frozen=True)

    items: list[T]
    next_cursor: str | None = None


def encode_cursor(key: str) -> str:
    return base64.urlsafe_b64encode(key.encode()).decode().rstrip("=")


def after_of(cursor: str | None) -> str | None:
    """The sort key a cursor stands for; a cursor we did not make is bad input."""
    if cursor is None or cursor == "":
        return None
    try:
        key = base64.b64decode(cursor + "=" * (-len(cursor) % 4), altchars=b"-_", validate=True).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        key = ""
    if not key or "\x00" in key:
        raise BadInput("not a cursor this API returned", field="cursor", message_zh="无效的分页游标")
    return key


P = TypeVar("P", bound=Page)


def page_of(cls: type[P], rows: Sequence, limit: int, key: Callable[[object], str]) -> P:
    """``rows`` fetched with ``limit + 1``: the extra one only says there is more."""
    items = list(rows[:limit])
    more = len(rows) > limit
    return cls(items=items, next_cursor=encode_cursor(key(items[-1])) if more and items else None)
