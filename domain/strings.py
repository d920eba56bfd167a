"""Text the event log and the directory can hold on every engine.

PostgreSQL's ``text`` refuses U+0000 (SQLite takes it), so a NUL in a
command's reason, an actor id or a directory name would be accepted on the
embedded default and then fail every append on production: the review's
activity would retry forever. Input is checked for it at the boundaries
instead (command parsing, directory import), where the error can name the
field."""

from __future__ import annotations

from typing import Any

NUL_MESSAGE = "contains the NUL character (U+0000), which cannot be stored"


def nul_field(value: Any) -> str | None:
    """The dotted path (``findings.0.summary``) of the first string, key or
    value, holding U+0000 in a JSON-shaped value; ``""`` when the value is
    such a string itself; None when there is none."""
    path = nul_path(value)
    return None if path is None else ".".join(str(p) for p in path)


def nul_path(value: Any, path: tuple = ()) -> tuple | None:
    """:func:`nul_field` as keys and list indexes, for callers that locate it
    further (the YAML reader finds its line)."""
    if isinstance(value, str):
        return path if "\x00" in value else None
    if isinstance(value, dict):
        for key, item in value.items():
            here = (*path, key)
            if isinstance(key, str) and "\x00" in key:
                return here
            found = nul_path(item, here)
            if found is not None:
                return found
    elif isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            found = nul_path(item, (*path, i))
            if found is not None:
                return found
    return None
