"""Cross-row checks shared by the YAML and CSV importers: ids unique, every
person a unit or membership names exists. Structural problems (an orphan unit,
a cycle, a unit without a leader, a person in two branches) are *not* refused
here: they are coverage gaps, imported and then reported by the plan."""

from __future__ import annotations

from typing import Callable, NamedTuple

from directory.issues import IssueList
from domain.org import Membership, Person, Unit


class Where(NamedTuple):
    """Where a row came from, so a cross-row problem can point at it."""

    file: str
    line: int | None
    prefix: str = ""  # field path prefix for nested formats (``units.3.``)
    sheet: str | None = None  # the workbook's sheet, for Excel

    def at(self) -> str:
        if self.line is None:
            return self.prefix.rstrip(".") or "an earlier row"
        return f"row {self.line}" if self.sheet else f"line {self.line}"


def check_references(
    units: list[tuple[Unit, Where]],
    people: list[tuple[Person, Where]],
    memberships: list[tuple[Membership, Where, str, str]],
    issues: IssueList,
    where_of: Callable[[Where, str], tuple[str, int | None, str]] | None = None,
    *,
    check_people: bool = True,
    check_units: bool = True,
) -> None:
    """``memberships`` items carry the field names that hold the person and the
    unit (they differ between formats). ``where_of`` refines the line of a
    field when the format knows it (YAML nodes). ``check_people`` /
    ``check_units`` are off when that table could not be read at all: its
    problem is already reported, and every reference into it is not another."""

    def report(w: Where, field: str, message: str) -> None:
        if where_of is not None:
            file, line, name = where_of(w, field)
        else:
            file, line, name = w.file, w.line, w.prefix + field
        issues.add(file, line, name, message, sheet=w.sheet)

    seen_people: dict[str, Where] = {}
    for p, w in people:
        if p.id in seen_people:
            first = seen_people[p.id]
            report(w, "id", f"duplicate person id {p.id!r} (first at {first.at()})")
        else:
            seen_people[p.id] = w
    seen_units: dict[str, Where] = {}
    for u, w in units:
        if u.id in seen_units:
            first = seen_units[u.id]
            report(w, "id", f"duplicate unit id {u.id!r} (first at {first.at()})")
        else:
            seen_units[u.id] = w
        for field in ("leader_id", "overseen_by"):
            pid = getattr(u, field)
            if check_people and pid is not None and pid not in seen_people:
                report(w, field, f"unknown person {pid!r}")
    seen_m: set[Membership] = set()
    for m, w, person_field, unit_field in memberships:
        if check_people and m.person_id not in seen_people:
            report(w, person_field, f"unknown person {m.person_id!r}")
        if check_units and m.unit_id not in seen_units:
            report(w, unit_field, f"unknown unit {m.unit_id!r}")
        if m in seen_m:
            report(w, person_field, f"{m.person_id} is listed twice as {m.role.value} of {m.unit_id}")
        seen_m.add(m)
