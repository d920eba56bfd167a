"""Person ids a use case is about to write into a review must name people the
directory knows: a typo must not make a reviewer nobody can ever sign in as."""

from __future__ import annotations

from app.context import AppContext
from app.errors import BadInput


def unknown_person_ids(ctx: AppContext, ids: list[str]) -> list[str]:
    from directory.service import unknown_people

    return unknown_people(ctx.engine, [i for i in ids if i])


def require_known_people(ctx: AppContext, by_field: dict[str, list[str]]) -> None:
    """Refuse, naming the field and the id, the first person id the directory does not know."""
    for field, ids in by_field.items():
        missing = unknown_person_ids(ctx, list(ids))
        if missing:
            raise BadInput(f"{missing[0]!r} is not a person in the directory ('reviewctl directory show' lists them)", field=field,
                           message_zh=f"目录中没有人员 {missing[0]!r}")
