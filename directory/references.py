"""Cross-row checks shared by the YAML, CSV and Excel importers: ids unique,
every person a unit or membership names exists, and no row contradicts itself
or its parent (a unit its own parent or guide, a branch with organizations
under it or outside tier 4, a unit ranked above its parent, another
authority's organization inside ours, a leader in charge of their own unit).
What is missing rather than contradictory (an orphan unit, a cycle, a unit
without a leader, a person in two branches, a small branch) is *not* refused
here: those are coverage gaps, imported and then reported by the plan."""

from __future__ import annotations

from typing import Callable, NamedTuple

from directory.issues import IssueList
from domain.org import Membership, Person, Tier, Unit, UnitKind


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
    seen_units_by_id: dict[str, Unit] = {}
    for u, w in units:
        seen_units_by_id.setdefault(u.id, u)
        if u.id in seen_units:
            first = seen_units[u.id]
            report(w, "id", f"duplicate unit id {u.id!r} (first at {first.at()})")
        else:
            seen_units[u.id] = w
        for field in ("leader_id", "overseen_by"):
            pid = getattr(u, field)
            if check_people and pid is not None and pid not in seen_people:
                report(w, field, f"unknown person {pid!r}")
    for u, w in units:
        for field, message in contradictions(u, seen_units_by_id.get(u.parent_id) if u.parent_id else None):
            report(w, field, message)
    seen_m: set[Membership] = set()
    for m, w, person_field, unit_field in memberships:
        if check_people and m.person_id not in seen_people:
            report(w, person_field, f"unknown person {m.person_id!r}")
        if check_units and m.unit_id not in seen_units:
            report(w, unit_field, f"unknown unit {m.unit_id!r}")
        if m in seen_m:
            report(w, person_field, f"{m.person_id} is listed twice as {m.role.value} of {m.unit_id}")
        seen_m.add(m)


def contradictions(u: Unit, parent: Unit | None) -> list[tuple[str, str]]:
    """What a unit's row says against itself or against its parent's row, as
    (field, message) pairs. Kept to facts the procedure defines (spec §3): a
    party branch is the lowest organization and the branches' tier; the tiers
    are layers, so a unit never ranks above the organization that owns it;
    guidance (协助点评) comes from outside the unit's own line; the member in
    charge by division of duties sits in the parent's team, not the unit's lead."""
    out: list[tuple[str, str]] = []
    if u.parent_id == u.id:
        out.append(("parent_id", f"{u.id} names itself as its parent"))
    if u.guided_by is not None:
        if u.guided_by == u.id:
            out.append(("guided_by", f"{u.id} names itself as its guiding organization"))
        elif u.guided_by == u.parent_id:
            out.append(("guided_by", f"{u.guided_by} is {u.id}'s parent, which already reviews it; guidance (协助点评) comes from an organization outside its own line"))
    if u.overseen_by is not None and u.overseen_by == u.leader_id:
        out.append(("overseen_by", f"{u.overseen_by} is {u.id}'s principal leader and cannot also be the parent's member in charge of it (they would review themselves)"))
    if u.kind is UnitKind.BRANCH and u.tier is not Tier.BRANCH:
        out.append(("tier", f"a party branch (kind branch) is in tier {int(Tier.BRANCH)}, not {int(u.tier)}"))
    elif u.tier is Tier.BRANCH and u.kind is not UnitKind.BRANCH:
        out.append(("kind", f"tier {int(Tier.BRANCH)} holds party branches only; {u.id} is a {u.kind.value}"))
    if parent is not None and parent.id != u.id:
        if parent.kind is UnitKind.BRANCH:
            out.append(("parent_id", f"{parent.id} is a party branch, which has no organizations under it"))
        if not parent.external and u.tier < parent.tier:
            out.append(("tier", f"tier {int(u.tier)} is above tier {int(parent.tier)} of its parent {parent.id}"))
        if u.external and not parent.external:
            out.append(("external", f"another authority's organization cannot belong to ours ({parent.id})"))
    return out
