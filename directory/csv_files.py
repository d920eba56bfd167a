"""The directory as three CSV files, the form an HR or party-affairs system
exports most easily, and what Excel writes when an office saves a sheet as CSV:

- ``units.csv``: id, name, parent_id, tier, kind, category, leader_id,
  overseen_by, guided_by, external
- ``people.csv``: id, name
- ``memberships.csv``: person_id, unit_id, role (``leadership`` or ``member``)

A header line, empty cells for "none". The bytes are UTF-8 (with or without
the byte-order mark Excel's "CSV UTF-8" writes) or GB18030, the superset of
GBK that Excel on a Chinese-language system writes as plain "CSV": UTF-8 is
tried first (GB18030 text is almost never valid UTF-8, while the reverse
often decodes to nonsense), and the encoding used is reported. Anything else
is refused in one line naming the encodings tried and how to save the file.
Every row is then checked by ``directory.tables``; every problem is reported
as ``file:line: field: message``.
"""

from __future__ import annotations

import codecs
import csv
import io
from pathlib import Path
from typing import Iterator

from directory.issues import IssueList
from directory.tables import MEMBERSHIP_COLUMNS, PERSON_COLUMNS, UNIT_COLUMNS, TableRows, person_cells, read_tables, unit_cells
from domain.org import Directory

UNITS_FILE, PEOPLE_FILE, MEMBERSHIPS_FILE = "units.csv", "people.csv", "memberships.csv"
__all__ = ["UNITS_FILE", "PEOPLE_FILE", "MEMBERSHIPS_FILE", "UNIT_COLUMNS", "PERSON_COLUMNS", "MEMBERSHIP_COLUMNS",
           "ENCODINGS_TRIED", "HOW_TO_SAVE", "decode_csv", "read_csv", "read_csv_dir", "read_csv_report", "write_csv_dir"]

ENCODINGS_TRIED = "UTF-8 (with or without BOM), GB18030/GBK"
HOW_TO_SAVE = "in Excel or WPS use Save As → \"CSV UTF-8 (Comma delimited)\", or import the Excel workbook (.xlsx) itself"
UTF8, UTF8_BOM, GB18030 = "UTF-8", "UTF-8 with BOM", "GB18030"


class Undecodable(ValueError):
    """Bytes that are neither UTF-8 nor GB18030 text; the message is the one line to show."""


def _line_at(data: bytes, offset: int) -> int:
    return data.count(b"\n", 0, offset) + 1


def decode_csv(data: bytes) -> tuple[str, str]:
    """The text of a CSV file and the name of the encoding it was in."""
    if data.startswith(b"PK\x03\x04"):
        raise Undecodable("this is an Excel workbook (.xlsx) saved under a .csv name, not CSV text; import the .xlsx file itself")
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) or (len(data) >= 4 and data[1::2].count(0) > len(data) // 4):
        raise Undecodable(f"this is UTF-16 text (Excel's \"Unicode Text\"), not CSV; tried {ENCODINGS_TRIED}; {HOW_TO_SAVE}")
    if data.startswith(codecs.BOM_UTF8):
        try:
            return data[len(codecs.BOM_UTF8):].decode("utf-8"), UTF8_BOM
        except UnicodeDecodeError as exc:
            raise Undecodable(f"starts as UTF-8 but line {_line_at(data, exc.start + 3)} is not; {HOW_TO_SAVE}") from None
    try:
        return data.decode("utf-8"), UTF8
    except UnicodeDecodeError as utf8_error:
        bad_line = _line_at(data, utf8_error.start)
        mixed = _utf8_line(data)
        if mixed is not None:
            # GB18030 often decodes UTF-8 bytes too, as the wrong characters: a file edited in two encodings is refused, not garbled
            raise Undecodable(f"mixes encodings: line {mixed} is UTF-8 but line {bad_line} is not; tried {ENCODINGS_TRIED}; {HOW_TO_SAVE}")
        try:
            return data.decode("gb18030"), GB18030
        except UnicodeDecodeError:
            raise Undecodable(f"not readable as text: tried {ENCODINGS_TRIED} (UTF-8 fails at line {bad_line}); {HOW_TO_SAVE}") from None


def _utf8_line(data: bytes) -> int | None:
    """The first line with non-ASCII bytes that is valid UTF-8, if any."""
    for i, line in enumerate(data.split(b"\n"), start=1):
        if line.isascii():
            continue
        try:
            line.decode("utf-8")
        except UnicodeDecodeError:
            continue
        return i
    return None


def _csv_rows(path: Path, issues: IssueList, encodings: dict[str, str]) -> TableRows | None:
    name = path.name
    try:
        data = path.read_bytes()
    except OSError as exc:
        issues.add(name, None, None, f"cannot read: {exc.strerror or exc}")
        return None
    try:
        text, encoding = decode_csv(data)
    except Undecodable as exc:
        issues.add(name, None, None, str(exc))
        return None
    encodings[name] = encoding

    def rows() -> Iterator[tuple[int, list[str]]]:
        reader = csv.reader(io.StringIO(text, newline=""))
        try:
            for cells in reader:
                yield reader.line_num, cells
        except csv.Error as exc:
            issues.add(name, reader.line_num, None, f"not readable as CSV: {exc}")

    return TableRows(name, rows())


def read_csv_report(units: Path, people: Path, memberships: Path) -> tuple[Directory, dict[str, str]]:
    """Validate and read the three files; raises ``DirectoryImportError``
    listing every problem, and returns nothing partial. Also says which
    encoding each file was read in."""
    issues = IssueList()
    encodings: dict[str, str] = {}
    tables = [_csv_rows(p, issues, encodings) for p in (units, people, memberships)]
    return read_tables(*tables, issues), encodings


def read_csv(units: Path, people: Path, memberships: Path) -> Directory:
    return read_csv_report(units, people, memberships)[0]


def read_csv_dir(folder: Path) -> Directory:
    return read_csv(folder / UNITS_FILE, folder / PEOPLE_FILE, folder / MEMBERSHIPS_FILE)


def write_csv_dir(d: Directory, folder: Path) -> None:
    """The three files ``read_csv_dir`` reads back to the same directory (UTF-8)."""
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / UNITS_FILE).open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(UNIT_COLUMNS)
        w.writerows(unit_cells(u) for u in d.units.values())
    with (folder / PEOPLE_FILE).open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(PERSON_COLUMNS)
        w.writerows(person_cells(p) for p in d.people.values())
    with (folder / MEMBERSHIPS_FILE).open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(MEMBERSHIP_COLUMNS)
        w.writerows((m.person_id, m.unit_id, m.role.value) for m in d.memberships)
