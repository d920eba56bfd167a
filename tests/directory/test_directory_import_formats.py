"""Import what offices actually have (spec §9): Excel workbooks, CSV saved by
Excel on a Chinese system (GB18030/GBK) or as "CSV UTF-8" (with a BOM); rare
characters and repeated names survive; anything else is refused in one line
saying which encodings were tried and how to save the file."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest
from typer.testing import CliRunner

from cli.directory import app
from directory.csv_files import read_csv_dir, read_csv_report, write_csv_dir
from directory.issues import DirectoryImportError
from directory.service import import_path, read_directory_source
from directory.xlsx_file import read_xlsx, write_xlsx
from storage.directory import DirectoryStore

UNITS = [
    ["id", "name", "parent_id", "tier", "kind", "category", "leader_id", "overseen_by", "guided_by", "external"],
    ["U-A", "总局党组", "", 1, "party_group", "other", "P-1", "", "", False],
    ["U-B", "办公厅党支部", "U-A", 4, "branch", "window_service", "P-2", "", "", ""],
]
PEOPLE = [["id", "name"], ["P-1", "王建国"], ["P-2", "𠮷㑇"], ["P-3", "张伟"], ["P-4", "张伟"], ["P-5", "欧阳𠮷"]]
MEMBERS = [["person_id", "unit_id", "role"], ["P-3", "U-B", "member"], ["P-4", "U-B", "member"], ["P-5", "U-B", "leadership"]]


def _csv_text(rows: list[list[object]]) -> str:
    return "".join(",".join("" if c is None else str(c).lower() if isinstance(c, bool) else str(c) for c in r) + "\r\n" for r in rows)


def _write_csv(folder: Path, encoding: str, bom: bool = False) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, rows in (("units.csv", UNITS), ("people.csv", PEOPLE), ("memberships.csv", MEMBERS)):
        data = _csv_text(rows).encode(encoding)
        (folder / name).write_bytes((b"\xef\xbb\xbf" if bom else b"") + data)
    return folder


def _workbook(path: Path, *, units=UNITS, people=PEOPLE, members=MEMBERS, titles=("units", "people", "memberships")) -> Path:
    wb = openpyxl.Workbook()
    notes = wb.active
    notes.title = "说明"
    notes.append(["本表由组织部门维护"])
    for title, rows in zip(titles, (units, people, members)):
        ws = wb.create_sheet(title)
        for r in rows:
            ws.append([None if c == "" else c for c in r])
    wb.save(path)
    return path


def _issues(fn, *args):
    with pytest.raises(DirectoryImportError) as exc:
        fn(*args)
    return exc.value.issues


def _expected_names(d):
    assert {p: d.people[p].name for p in d.people} == dict(PEOPLE[1:])


# ---- CSV encodings ----------------------------------------------------------


@pytest.mark.parametrize("encoding,bom,label", [("utf-8", False, "UTF-8"), ("utf-8", True, "UTF-8 with BOM"), ("gb18030", False, "GB18030")])
def test_csv_in_utf8_or_gb18030_is_read_and_the_encoding_reported(tmp_path, encoding, bom, label):
    d, used = read_csv_report(*(_write_csv(tmp_path, encoding, bom) / n for n in ("units.csv", "people.csv", "memberships.csv")))
    _expected_names(d)
    # memberships.csv holds only ASCII, which is UTF-8 whatever it was saved as
    assert used == {"units.csv": label, "people.csv": label, "memberships.csv": "UTF-8 with BOM" if bom else "UTF-8"}
    assert d.units["U-B"].name == "办公厅党支部" and d.member_of["P-3"] == ["U-B"]


def test_gbk_bytes_are_read_as_gb18030(tmp_path):
    """GBK (what older Excel writes) is a subset of GB18030; it has no 𠮷, so these names are plain."""
    for name, rows in (("units.csv", UNITS), ("people.csv", [["id", "name"], ["P-1", "王建国"], ["P-2", "李秀英"], ["P-3", "张伟"], ["P-4", "张伟"], ["P-5", "欧阳娜"]]),
                       ("memberships.csv", MEMBERS)):
        (tmp_path / name).write_bytes(_csv_text(rows).encode("gbk"))
    got = read_directory_source(tmp_path)
    assert got.read_as == {"units.csv": "GB18030", "people.csv": "GB18030", "memberships.csv": "UTF-8"}
    assert got.directory.people["P-5"].name == "欧阳娜" and got.directory.units["U-A"].name == "总局党组"


def test_each_file_may_have_its_own_encoding(tmp_path):
    _write_csv(tmp_path, "utf-8")
    (tmp_path / "people.csv").write_bytes(_csv_text(PEOPLE).encode("gb18030"))
    d, used = read_csv_report(tmp_path / "units.csv", tmp_path / "people.csv", tmp_path / "memberships.csv")
    assert used["people.csv"] == "GB18030" and used["units.csv"] == "UTF-8"
    _expected_names(d)


@pytest.mark.parametrize("data,words", [
    (b"id,name\nP-1,\xff\xfe\x80\x80\n", ["tried UTF-8", "GB18030", "CSV UTF-8", ".xlsx", "line 2"]),
    ("id,name\nP-1,王建国\n".encode("utf-16"), ["UTF-16", "CSV UTF-8"]),
    ("id,name\nP-1,王建国\n".encode("utf-16-le"), ["UTF-16"]),
    (b"PK\x03\x04\x14\x00\x06\x00rest of a zip", ["Excel workbook", ".xlsx"]),
    ("id,name\nP-1,王建国\n".encode("utf-8") + "P-2,李秀英\n".encode("gb18030"), ["mixes encodings", "line 2 is UTF-8", "line 3"]),
    # "王建" in UTF-8 is also valid GB18030 (as other characters): still refused, not garbled
    ("id,name\nP-1,王建\n".encode("utf-8") + "P-2,李秀英\n".encode("gb18030"), ["mixes encodings", "line 2 is UTF-8", "line 3"]),
    (b"\xef\xbb\xbfid,name\nP-1,\xff\n", ["UTF-8", "line 2"]),
])
def test_a_file_in_no_accepted_encoding_is_one_line(tmp_path, data, words):
    _write_csv(tmp_path, "utf-8")
    (tmp_path / "people.csv").write_bytes(data)
    issues = _issues(read_csv_dir, tmp_path)
    people = [i for i in issues if i.file == "people.csv"]
    assert len(people) == 1 and "\n" not in people[0].message
    for w in words:
        assert w in people[0].message, (w, people[0].message)
    # the references into the unread file are not reported as if it were empty
    assert all(i.file == "people.csv" for i in issues)


def test_gb18030_rows_still_name_line_and_field(tmp_path):
    _write_csv(tmp_path, "gb18030")
    (tmp_path / "units.csv").write_bytes(_csv_text(UNITS + [["U-C", "坏支部", "U-A", 9, "branch", "other", "P-1", "", "", ""]]).encode("gb18030"))
    [issue] = _issues(read_csv_dir, tmp_path)
    assert (issue.file, issue.line, issue.field, issue.sheet) == ("units.csv", 4, "tier", None)


# ---- Excel workbooks ----------------------------------------------------------


def test_a_workbook_is_read_with_numbers_booleans_and_empty_cells(tmp_path):
    d = read_xlsx(_workbook(tmp_path / "org.xlsx"))
    _expected_names(d)
    assert d.units["U-A"].tier == 1 and d.units["U-A"].external is False and d.units["U-B"].parent_id == "U-A"
    assert d.team == {"U-B": ["P-5"]} and sorted(d.members["U-B"]) == ["P-3", "P-4"]
    got = read_directory_source(tmp_path / "org.xlsx")
    assert got.format == "xlsx" and got.read_as == {s: f"org.xlsx, sheet {s}" for s in ("units", "people", "memberships")}


def test_sheet_names_are_matched_without_case_and_rows_may_end_early(tmp_path):
    short = [MEMBERS[0]] + [r for r in MEMBERS[1:]]
    units = [UNITS[0], UNITS[1][:7], UNITS[2][:5] + ["", "P-2"]]  # trailing empty cells are not stored by Excel
    path = _workbook(tmp_path / "org.xlsx", units=units, members=short, titles=("Units", " PEOPLE ", "memberships"))
    d = read_xlsx(path)
    assert d.units["U-B"].leader_id == "P-2" and d.units["U-A"].guided_by is None


def test_a_bad_cell_names_file_sheet_row_and_field(tmp_path):
    units = UNITS + [["U-C", "坏支部", "U-A", 7, "branch", "other", "P-1", "", "", ""], ["U-D", "", "U-A", 4, "branch", "other", "P-1", "", "", ""]]
    issues = _issues(read_xlsx, _workbook(tmp_path / "org.xlsx", units=units))
    assert [(i.file, i.sheet, i.line, i.field) for i in issues] == [("org.xlsx", "units", 4, "tier"), ("org.xlsx", "units", 5, "name")]
    assert str(issues[0]).startswith("org.xlsx, sheet units, row 4: tier: ")


def test_workbook_references_and_duplicates_name_sheet_and_row(tmp_path):
    members = MEMBERS + [["P-9", "U-B", "member"], ["P-3", "U-Z", "member"], ["P-3", "U-B", "boss"]]
    people = PEOPLE + [["P-2", "重复"]]
    issues = {(i.sheet, i.line, i.field, i.message) for i in _issues(read_xlsx, _workbook(tmp_path / "org.xlsx", people=people, members=members))}
    assert ("memberships", 5, "person_id", "unknown person 'P-9'") in issues
    assert ("memberships", 6, "unit_id", "unknown unit 'U-Z'") in issues
    assert ("memberships", 7, "role", "'boss' is not a role; use one of: leadership, member") in issues
    assert ("people", 7, "id", "duplicate person id 'P-2' (first at row 3)") in issues


def test_a_workbook_without_the_sheets_says_which_it_needs(tmp_path):
    issues = _issues(read_xlsx, _workbook(tmp_path / "org.xlsx", titles=("units", "人员", "memberships")))
    assert len(issues) == 1 and "no sheet named people" in issues[0].message and "人员" in issues[0].message


def test_a_workbook_with_a_wrong_header(tmp_path):
    issues = _issues(read_xlsx, _workbook(tmp_path / "org.xlsx", people=[["编号", "name"], ["P-1", "王建国"]]))
    assert any((i.sheet, i.line, i.field) == ("people", 1, "id") and "missing column" in i.message for i in issues)


@pytest.mark.parametrize("name,data,words", [
    ("org.xlsx", "id,name\nP-1,王建国\n".encode(), ["not an Excel workbook", "Excel Workbook (*.xlsx)", "CSV UTF-8"]),
    ("org.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", [".xls", "not read", "Excel Workbook (*.xlsx)"]),
])
def test_a_file_that_is_not_a_workbook_is_one_line(tmp_path, name, data, words):
    (tmp_path / name).write_bytes(data)
    [issue] = _issues(read_xlsx, tmp_path / name)
    assert issue.file == name and "\n" not in issue.message and all(w in issue.message for w in words)


# ---- round trips: rare characters and repeated names survive ------------------


def test_round_trip_through_the_database_and_every_format(tmp_path, engine):
    import_path(engine, _workbook(tmp_path / "org.xlsx"))
    stored = DirectoryStore(engine).load()
    _expected_names(stored)
    write_csv_dir(stored, tmp_path / "csv")
    write_xlsx(stored, tmp_path / "again.xlsx")
    for back in (read_csv_dir(tmp_path / "csv"), read_xlsx(tmp_path / "again.xlsx")):
        assert back.units == stored.units and back.people == stored.people and set(back.memberships) == set(stored.memberships)
    result = import_path(engine, _write_csv(tmp_path / "gb", "gb18030"))
    assert result.unchanged and result.read_as["people.csv"] == "GB18030"


# ---- the command line ----------------------------------------------------------

runner = CliRunner()


def test_cli_imports_a_workbook_and_says_how_it_read_it(tmp_path, sqlite_url):
    result = runner.invoke(app, ["import", str(_workbook(tmp_path / "org.xlsx")), "--db", sqlite_url])
    assert result.exit_code == 0, result.output
    assert "read org.xlsx, sheet units" in result.output and "Imported" in result.output
    assert DirectoryStore.__name__ and "𠮷㑇" in runner.invoke(app, ["explain", "P-2", "--db", sqlite_url]).output


def test_cli_imports_gb18030_csv_and_names_the_encoding(tmp_path, sqlite_url):
    result = runner.invoke(app, ["import", str(_write_csv(tmp_path / "csv", "gb18030")), "--db", sqlite_url])
    assert result.exit_code == 0, result.output
    assert "read units.csv: GB18030" in result.output and "read people.csv: GB18030" in result.output


@pytest.mark.parametrize("case", ["undecodable", "not_a_workbook", "bad_cell", "not_a_format"])
def test_cli_refuses_in_one_line_per_problem_without_a_traceback(tmp_path, sqlite_url, case):
    if case == "undecodable":
        folder = _write_csv(tmp_path / "csv", "utf-8")
        (folder / "people.csv").write_bytes(b"id,name\nP-1,\xff\x80\n")
        target, expect = folder, "people.csv: not readable as text: tried UTF-8"
    elif case == "not_a_workbook":
        target = tmp_path / "org.xlsx"
        target.write_bytes(b"not a zip")
        expect = "org.xlsx: not an Excel workbook"
    elif case == "bad_cell":
        target = _workbook(tmp_path / "org.xlsx", units=UNITS + [["U-C", "[red]x[/red]", "U-A", 9, "branch", "other", "P-1", "", "", ""]])
        expect = "org.xlsx, sheet units, row 4: tier:"
    else:
        target = tmp_path / "org.txt"
        target.write_text("hello", encoding="utf-8")
        expect = "expected a .yaml file, an Excel workbook (.xlsx)"
    result = runner.invoke(app, ["import", str(target), "--db", sqlite_url])
    assert result.exit_code in (1, 2)
    assert "Traceback" not in result.output and result.exception is None or isinstance(result.exception, SystemExit)
    assert any(expect in line for line in result.output.splitlines()), result.output
