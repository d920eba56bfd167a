"""The directory as three tables (units, people, memberships), whatever holds
them: three CSV files or three sheets of one Excel workbook. The readers of
each format only turn their bytes into rows of text cells; the checks that a
header names the right columns, that every row validates with the domain's
own pydantic models, and that references resolve live here, once, so a CSV
file and a sheet are refused for the same reasons with the same words.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Iterator

from pydantic import ValidationError

from directory.issues import IssueList
from directory.references import Where, check_references
from domain.org import Directory, Membership, Person, Role, Unit
from domain.strings import NUL_MESSAGE, nul_field

UNIT_COLUMNS = ("id", "name", "parent_id", "tier", "kind", "category", "leader_id", "overseen_by", "guided_by", "external")
PERSON_COLUMNS = ("id", "name", "email")
MEMBERSHIP_COLUMNS = ("person_id", "unit_id", "role")
OPTIONAL = {"parent_id", "leader_id", "overseen_by", "guided_by", "category", "external", "email"}


@dataclass
class TableRows:
    """One table as a format reader delivers it: ``(line, cells)`` pairs, the
    header first. ``line`` is the file's line (CSV) or the sheet's row
    (Excel); ``pad_short`` says that a row may end early (a spreadsheet does
    not store trailing empty cells)."""

    file: str
    rows: Iterable[tuple[int, list[str]]]
    sheet: str | None = None
    pad_short: bool = False


def _records(t: TableRows, columns: tuple[str, ...], issues: IssueList) -> Iterator[tuple[int, dict[str, str]]]:
    def add(line: int | None, field: str | None, message: str) -> None:
        issues.add(t.file, line, field, message, sheet=t.sheet)

    rows = iter(t.rows)
    first = next(rows, None)
    if first is None:
        add(1, None, f"empty; expected a header line: {','.join(columns)}")
        return
    header_line, header = first
    header = [h.strip() for h in header]
    while header and not header[-1]:
        header.pop()  # a spreadsheet's formatted but empty columns
    missing = [c for c in columns if c not in header and c not in OPTIONAL]
    unknown = [h for h in header if h not in columns]
    if missing:
        add(header_line, ",".join(missing), f"missing column(s); the header must name: {','.join(columns)}")
    if unknown:
        add(header_line, ",".join(unknown), f"unknown column(s); allowed: {','.join(columns)}")
    if missing or unknown:
        return
    width = len(header)
    for line, cells in rows:
        if not any(c.strip() for c in cells):
            continue  # blank lines are not rows
        if len(cells) > width and not any(c.strip() for c in cells[width:]):
            cells = cells[:width]
        if len(cells) < width and t.pad_short:
            cells = cells + [""] * (width - len(cells))
        if len(cells) != width:
            add(line, None, f"expected {width} cells, found {len(cells)}")
            continue
        row = dict(zip(header, map(str.strip, cells)))
        field = nul_field(row)
        if field is not None:
            add(line, field, NUL_MESSAGE)
            continue
        yield line, row


def _fields(raw: dict[str, str]) -> dict[str, object]:
    out: dict[str, object] = {}
    for k, v in raw.items():
        if v == "" and k in OPTIONAL:
            continue  # an empty cell means "none" (or the default)
        out[k] = v
    return out


def read_tables(units: TableRows | None, people: TableRows | None, memberships: TableRows | None, issues: IssueList) -> Directory:
    """Validate and read the three tables; raises ``DirectoryImportError``
    listing every problem (with those the format reader already found, e.g. a
    file that cannot be decoded: its table is then ``None``), and returns
    nothing partial."""
    roles = {r.value: r for r in Role}
    unit_rows: list[tuple[Unit, Where]] = []
    person_rows: list[tuple[Person, Where]] = []
    member_rows: list[tuple[Membership, Where, str, str]] = []
    if people is not None:
        for line, raw in _records(people, PERSON_COLUMNS, issues):
            try:
                person_rows.append((Person.model_validate(_fields(raw)), Where(people.file, line, sheet=people.sheet)))
            except ValidationError as err:
                issues.add_validation(people.file, line, err, sheet=people.sheet)
    if units is not None:
        for line, raw in _records(units, UNIT_COLUMNS, issues):
            try:
                unit_rows.append((Unit.model_validate(_fields(raw)), Where(units.file, line, sheet=units.sheet)))
            except ValidationError as err:
                issues.add_validation(units.file, line, err, sheet=units.sheet)
    if memberships is not None:
        for line, raw in _records(memberships, MEMBERSHIP_COLUMNS, issues):
            pid, uid, role = raw["person_id"], raw["unit_id"], raw["role"]
            if not pid or not uid:
                issues.add(memberships.file, line, "person_id" if not pid else "unit_id", "Field required", sheet=memberships.sheet)
                continue
            r = roles.get(role)
            if r is None:
                issues.add(memberships.file, line, "role", f"{role!r} is not a role; use one of: {', '.join(roles)}", sheet=memberships.sheet)
                continue
            member_rows.append((Membership(pid, uid, r), Where(memberships.file, line, sheet=memberships.sheet), "person_id", "unit_id"))
    check_references(unit_rows, person_rows, member_rows, issues, check_people=people is not None, check_units=units is not None)
    issues.raise_if_any()
    return Directory.build((u for u, _ in unit_rows), (p for p, _ in person_rows), (m for m, *_ in member_rows))


def person_cells(p: Person) -> list[str]:
    """A person as the row ``read_tables`` reads back."""
    return [p.id, p.name, p.email or ""]


def unit_cells(u: Unit) -> list[object]:
    """A unit as the row ``read_tables`` reads back (CSV writes these as text)."""
    return [u.id, u.name, u.parent_id or "", int(u.tier), u.kind.value, u.category.value, u.leader_id or "",
            u.overseen_by or "", u.guided_by or "", "true" if u.external else "false"]
