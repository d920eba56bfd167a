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


def page_of(cls: type[P], rows: Sequence, limit: int, key: Callable[[object], str], **fields) -> P:
    """``rows`` fetched with ``limit + 1``: the extra one only says there is more.
    ``fields``: the page's own fields besides ``items`` (what the list is of)."""
    items = list(rows[:limit])
    more = len(rows) > limit
    return cls(items=items, next_cursor=encode_cursor(key(items[-1])) if more and items else None, **fields)


def page_in_order(cls: type[P], items: Sequence, cursor: str | None, limit: int, key: Callable[[object], str], **fields) -> P:
    """A page of a list already in memory and in its own order (a declaration,
    a log's positions, a derivation), which need not be sorted: the cursor
    names the last item's place and key, so a page follows on exactly, and a
    cursor whose item is no longer there (the list changed under it, or it
    came from another list) is bad input rather than a silent skip."""
    after = after_of(cursor)
    start = 0
    if after is not None:
        place, _, last = after.partition("\t")
        if not place.isdigit() or int(place) >= len(items) or key(items[int(place)]) != last:
            raise BadInput("not a cursor of this list (it may have changed): start again without one", field="cursor",
                           message_zh="游标不属于此列表（列表可能已变化），请不带游标重新开始")
        start = int(place) + 1
    chunk = list(items[start:start + limit])
    more = start + len(chunk) < len(items)
    nxt = encode_cursor(f"{start + len(chunk) - 1}\t{key(chunk[-1])}") if more and chunk else None
    return cls(items=chunk, next_cursor=nxt, **fields)
