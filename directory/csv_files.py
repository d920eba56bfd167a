"""The directory as three CSV files, the form an HR or party-affairs system
exports most easily:

- ``units.csv``: id, name, parent_id, tier, kind, category, leader_id,
  overseen_by, guided_by, external
- ``people.csv``: id, name
- ``memberships.csv``: person_id, unit_id, role (``leadership`` or ``member``)

UTF-8 (a spreadsheet's byte-order mark is accepted), a header line, empty cells
for "none". Every row is validated with the domain's own pydantic models, and
every problem is reported as ``file:line: field: message``.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Iterator

from pydantic import ValidationError

from directory.issues import IssueList
from directory.references import Where, check_references
from domain.org import Directory, Membership, Person, Role, Unit
from domain.strings import NUL_MESSAGE, nul_field

UNITS_FILE, PEOPLE_FILE, MEMBERSHIPS_FILE = "units.csv", "people.csv", "memberships.csv"
UNIT_COLUMNS = ("id", "name", "parent_id", "tier", "kind", "category", "leader_id", "overseen_by", "guided_by", "external")
PERSON_COLUMNS = ("id", "name")
MEMBERSHIP_COLUMNS = ("person_id", "unit_id", "role")
_OPTIONAL = {"parent_id", "leader_id", "overseen_by", "guided_by", "category", "external"}


def _rows(path: Path, columns: tuple[str, ...], issues: IssueList) -> Iterator[tuple[int, dict[str, str]]]:
    name = path.name
    try:
        fh = path.open(newline="", encoding="utf-8-sig")
    except OSError as exc:
        issues.add(name, None, None, f"cannot read: {exc.strerror or exc}")
        return
    with fh:
        reader = csv.reader(fh)
        try:
            header = next(reader)
        except StopIteration:
            issues.add(name, 1, None, f"empty file; expected a header line: {','.join(columns)}")
            return
        except (csv.Error, UnicodeDecodeError) as exc:
            issues.add(name, 1, None, f"not readable as UTF-8 CSV: {exc}")
            return
        header = [h.strip() for h in header]
        missing = [c for c in columns if c not in header and c not in _OPTIONAL]
        unknown = [h for h in header if h not in columns]
        if missing:
            issues.add(name, 1, ",".join(missing), f"missing column(s); the header must name: {','.join(columns)}")
        if unknown:
            issues.add(name, 1, ",".join(unknown), f"unknown column(s); allowed: {','.join(columns)}")
        if missing or unknown:
            return
        width = len(header)
        try:
            for cells in reader:
                if not cells:
                    continue  # blank lines are not rows
                if len(cells) != width:
                    issues.add(name, reader.line_num, None, f"expected {width} cells, found {len(cells)}")
                    continue
                row = dict(zip(header, map(str.strip, cells)))
                field = nul_field(row)
                if field is not None:
                    issues.add(name, reader.line_num, field, NUL_MESSAGE)
                    continue
                yield reader.line_num, row
        except (csv.Error, UnicodeDecodeError) as exc:
            issues.add(name, reader.line_num, None, f"not readable as UTF-8 CSV: {exc}")


def _unit_fields(raw: dict[str, str]) -> dict[str, object]:
    out: dict[str, object] = {}
    for k, v in raw.items():
        if v == "" and k in _OPTIONAL:
            continue  # an empty cell means "none" (or the default)
        out[k] = v
    return out


def read_csv(units: Path, people: Path, memberships: Path) -> Directory:
    """Validate and read the three files; raises ``DirectoryImportError``
    listing every problem, and returns nothing partial."""
    issues = IssueList()
    roles = {r.value: r for r in Role}
    memberships_name = memberships.name
    unit_rows: list[tuple[Unit, Where]] = []
    person_rows: list[tuple[Person, Where]] = []
    member_rows: list[tuple[Membership, Where, str, str]] = []
    for line, raw in _rows(people, PERSON_COLUMNS, issues):
        try:
            person_rows.append((Person.model_validate(raw), Where(people.name, line)))
        except ValidationError as err:
            issues.add_validation(people.name, line, err)
    for line, raw in _rows(units, UNIT_COLUMNS, issues):
        try:
            unit_rows.append((Unit.model_validate(_unit_fields(raw)), Where(units.name, line)))
        except ValidationError as err:
            issues.add_validation(units.name, line, err)
    for line, raw in _rows(memberships, MEMBERSHIP_COLUMNS, issues):
        pid, uid, role = raw["person_id"], raw["unit_id"], raw["role"]
        if not pid or not uid:
            issues.add(memberships_name, line, "person_id" if not pid else "unit_id", "Field required")
            continue
        r = roles.get(role)
        if r is None:
            issues.add(memberships_name, line, "role", f"{role!r} is not a role; use one of: {', '.join(roles)}")
            continue
        member_rows.append((Membership(pid, uid, r), Where(memberships_name, line), "person_id", "unit_id"))
    check_references(unit_rows, person_rows, member_rows, issues)
    issues.raise_if_any()
    return Directory.build((u for u, _ in unit_rows), (p for p, _ in person_rows), (m for m, *_ in member_rows))


def read_csv_dir(folder: Path) -> Directory:
    return read_csv(folder / UNITS_FILE, folder / PEOPLE_FILE, folder / MEMBERSHIPS_FILE)


def write_csv_dir(d: Directory, folder: Path) -> None:
    """The three files ``read_csv_dir`` reads back to the same directory."""
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / UNITS_FILE).open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(UNIT_COLUMNS)
        for u in d.units.values():
            w.writerow([u.id, u.name, u.parent_id or "", int(u.tier), u.kind.value, u.category.value, u.leader_id or "",
                        u.overseen_by or "", u.guided_by or "", "true" if u.external else "false"])
    with (folder / PEOPLE_FILE).open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(PERSON_COLUMNS)
        w.writerows((p.id, p.name) for p in d.people.values())
    with (folder / MEMBERSHIPS_FILE).open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(MEMBERSHIP_COLUMNS)
        w.writerows((m.person_id, m.unit_id, m.role.value) for m in d.memberships)
