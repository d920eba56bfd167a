"""The directory as one Excel workbook, the form organization departments keep
their rosters in: three sheets named ``units``, ``people`` and
``memberships``, each with the same header and columns as the CSV file of
that name (``directory.csv_files``). Other sheets (notes, a cover page) are
ignored. Numbers and TRUE/FALSE cells are read as the text they show (a tier
typed as 4, ``external`` ticked as TRUE); formulas count by their last
computed value. Problems name the file, the sheet, the row and the field.
"""

from __future__ import annotations

import zipfile
from datetime import date, datetime, time
from pathlib import Path
from typing import Iterator

from directory.issues import IssueList
from directory.tables import MEMBERSHIP_COLUMNS, PERSON_COLUMNS, UNIT_COLUMNS, TableRows, person_cells, read_tables, unit_cells
from domain.org import Directory

SHEETS = ("units", "people", "memberships")
HOW_TO_SAVE = "in Excel or WPS use Save As → \"Excel Workbook (*.xlsx)\", or save each sheet as \"CSV UTF-8\""


def _text(v: object) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    if isinstance(v, (datetime, date, time)):
        return v.isoformat()
    return str(v)


def _open(path: Path, issues: IssueList):
    import openpyxl  # imported here: only an Excel import pays for it
    from openpyxl.utils.exceptions import InvalidFileException

    name = path.name
    if path.suffix.lower() == ".xls":
        issues.add(name, None, None, f"an Excel 97-2003 workbook (.xls) is not read; {HOW_TO_SAVE}")
        return None
    try:
        return openpyxl.load_workbook(path, read_only=True, data_only=True)
    except OSError as exc:
        issues.add(name, None, None, f"cannot read: {exc.strerror or exc}")
    except (zipfile.BadZipFile, InvalidFileException, KeyError, ValueError) as exc:
        issues.add(name, None, None, f"not an Excel workbook (.xlsx) ({exc}); {HOW_TO_SAVE}")
    return None


def read_xlsx_report(path: Path) -> tuple[Directory, dict[str, str]]:
    """Validate and read a workbook; raises ``DirectoryImportError`` naming
    file, sheet, row and field of every problem. Also says which sheet each
    table was read from."""
    issues = IssueList()
    name = path.name
    wb = _open(path, issues)
    if wb is None:
        issues.raise_if_any()
    try:
        by_name = {ws.title.strip().lower(): ws for ws in wb.worksheets}
        missing = [s for s in SHEETS if s not in by_name]
        if missing:
            issues.add(name, None, None, f"no sheet named {', '.join(missing)}; the workbook needs the sheets {', '.join(SHEETS)} "
                                         f"(found: {', '.join(ws.title for ws in wb.worksheets)})")
        tables: list[TableRows | None] = []
        read_from: dict[str, str] = {}
        for sheet in SHEETS:
            ws = by_name.get(sheet)
            if ws is None:
                tables.append(None)
                continue
            read_from[sheet] = f"{name}, sheet {ws.title}"
            tables.append(TableRows(name, _sheet_rows(ws), sheet=ws.title, pad_short=True))
        return read_tables(*tables, issues), read_from
    finally:
        wb.close()


def _sheet_rows(ws) -> Iterator[tuple[int, list[str]]]:
    ws.reset_dimensions()  # some writers record a wrong used range; read what is there
    for row_number, values in enumerate(ws.iter_rows(values_only=True), start=1):
        yield row_number, [_text(v) for v in values]


def read_xlsx(path: Path) -> Directory:
    return read_xlsx_report(path)[0]


def write_xlsx(d: Directory, path: Path) -> None:
    """A workbook ``read_xlsx`` reads back to the same directory (cells as text,
    so ids and names are never reinterpreted as numbers or dates)."""
    import openpyxl

    path.parent.mkdir(parents=True, exist_ok=True)
    wb = openpyxl.Workbook(write_only=True)
    units = wb.create_sheet("units")
    units.append(list(UNIT_COLUMNS))
    for u in d.units.values():
        units.append([str(c) for c in unit_cells(u)])
    people = wb.create_sheet("people")
    people.append(list(PERSON_COLUMNS))
    for p in d.people.values():
        people.append(person_cells(p))
    members = wb.create_sheet("memberships")
    members.append(list(MEMBERSHIP_COLUMNS))
    for m in d.memberships:
        members.append([m.person_id, m.unit_id, m.role.value])
    wb.save(path)
