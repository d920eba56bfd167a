"""The principals the use-case tests act as."""

from __future__ import annotations

from app.principal import Principal

OFFICE = Principal(kind="person", person_id="office", via="cli")


def person(pid: str, **kw) -> Principal:
    return Principal(kind="person", person_id=pid, via="cli", **kw)
