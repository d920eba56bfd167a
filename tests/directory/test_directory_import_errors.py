"""Bad input is refused whole, with the file, line and field of every
problem — one test per kind of bad input, in both formats."""

from __future__ import annotations

from pathlib import Path

import pytest

from directory.csv_files import read_csv_dir, write_csv_dir
from directory.issues import DirectoryImportError
from directory.yaml_file import read_yaml, write_yaml
from domain.org import Directory, Membership, Person, Role, Tier, Unit, UnitKind

UNITS = "id,name,parent_id,tier,kind,category,leader_id,overseen_by,guided_by,external\n"
GOOD_UNITS = UNITS + "U-A,总局党组,,1,party_group,other,P-1,,,false\nU-B,办公厅党支部,U-A,4,branch,window_service,P-2,,,\n"
GOOD_PEOPLE = "id,name\nP-1,王建国\nP-2,李秀英\nP-3,张伟\n"
GOOD_MEMBERS = "person_id,unit_id,role\nP-3,U-B,member\n"


def _csv(tmp_path: Path, units=GOOD_UNITS, people=GOOD_PEOPLE, members=GOOD_MEMBERS) -> Path:
    for name, text in (("units.csv", units), ("people.csv", people), ("memberships.csv", members)):
        if text is not None:
            (tmp_path / name).write_text(text, encoding="utf-8")
    return tmp_path


def _issues(fn, *args) -> list[tuple[str, int | None, str | None, str]]:
    with pytest.raises(DirectoryImportError) as exc:
        fn(*args)
    return [(i.file, i.line, i.field, i.message) for i in exc.value.issues]


def test_good_csv_files_are_read(tmp_path):
    d = read_csv_dir(_csv(tmp_path))
    assert set(d.units) == {"U-A", "U-B"} and d.people["P-1"].name == "王建国"
    assert d.units["U-B"].tier is Tier.BRANCH and d.units["U-B"].external is False
    assert d.member_of == {"P-3": ["U-B"]}


def test_a_spreadsheet_byte_order_mark_is_accepted(tmp_path):
    (tmp_path / "people.csv").write_bytes("\ufeff".encode() + GOOD_PEOPLE.encode())
    _csv(tmp_path, people=None)
    assert "P-1" in read_csv_dir(tmp_path).people


@pytest.mark.parametrize("row,field,words", [
    ("U-C,坏,U-A,7,branch,other,P-1,,,", "tier", "Input should be"),
    ("U-C,坏,U-A,4,club,other,P-1,,,", "kind", "Input should be"),
    ("U-C,坏,U-A,4,branch,police,P-1,,,", "category", "Input should be"),
    ("张三支部,坏,U-A,4,branch,other,P-1,,,", "id", "pattern"),
    ("U-C,,U-A,4,branch,other,P-1,,,", "name", "at least 1"),
    ("U-C,坏,U-A,4,branch,other,P-1,,,maybe", "external", "boolean"),
    ("U-C,坏,U-A,4,branch,other,王建国,,,", "leader_id", "pattern"),
])
def test_a_bad_unit_cell_names_file_line_and_field(tmp_path, row, field, words):
    issues = _issues(read_csv_dir, _csv(tmp_path, units=GOOD_UNITS + row + "\n"))
    assert len(issues) == 1
    file, line, f, message = issues[0]
    assert (file, line, f) == ("units.csv", 4, field) and words in message


def test_unknown_references_are_refused(tmp_path):
    issues = _issues(read_csv_dir, _csv(tmp_path, units=GOOD_UNITS + "U-C,新支部,U-A,4,branch,other,P-9,P-8,,\n",
                                         members=GOOD_MEMBERS + "P-7,U-B,member\nP-3,U-Z,member\n"))
    assert ("units.csv", 4, "leader_id", "unknown person 'P-9'") in issues
    assert ("units.csv", 4, "overseen_by", "unknown person 'P-8'") in issues
    assert ("memberships.csv", 3, "person_id", "unknown person 'P-7'") in issues
    assert ("memberships.csv", 4, "unit_id", "unknown unit 'U-Z'") in issues


def test_duplicates_are_refused(tmp_path):
    issues = _issues(read_csv_dir, _csv(tmp_path, units=GOOD_UNITS + "U-A,又一个,,1,party_group,other,P-1,,,\n",
                                         people=GOOD_PEOPLE + "P-2,重名\n", members=GOOD_MEMBERS + "P-3,U-B,member\n"))
    assert ("units.csv", 4, "id", "duplicate unit id 'U-A' (first at line 2)") in issues
    assert ("people.csv", 5, "id", "duplicate person id 'P-2' (first at line 3)") in issues
    assert any(i[:3] == ("memberships.csv", 3, "person_id") and "listed twice" in i[3] for i in issues)


def test_bad_role_and_missing_cells(tmp_path):
    issues = _issues(read_csv_dir, _csv(tmp_path, members=GOOD_MEMBERS + "P-2,U-B,boss\nP-2,U-B\n,U-B,member\n"))
    assert ("memberships.csv", 3, "role", "'boss' is not a role; use one of: leadership, member") in issues
    assert ("memberships.csv", 4, None, "expected 3 cells, found 2") in issues
    assert ("memberships.csv", 5, "person_id", "Field required") in issues


def test_missing_and_unknown_columns(tmp_path):
    issues = _issues(read_csv_dir, _csv(tmp_path, people="id,full_name\nP-1,王建国\n"))
    assert any(i[:3] == ("people.csv", 1, "name") and "missing column" in i[3] for i in issues)
    assert any(i[:3] == ("people.csv", 1, "full_name") and "unknown column" in i[3] for i in issues)


def test_missing_empty_and_undecodable_files(tmp_path):
    _csv(tmp_path, members=None)
    assert any(i[0] == "memberships.csv" and "cannot read" in i[3] for i in _issues(read_csv_dir, tmp_path))
    (tmp_path / "memberships.csv").write_text("", encoding="utf-8")
    assert ("memberships.csv", 1, None) in [i[:3] for i in _issues(read_csv_dir, tmp_path)]
    (tmp_path / "memberships.csv").write_bytes(GOOD_MEMBERS.encode() + b"P-1,U-A,\xff\xfe\x80\n")
    [issue] = _issues(read_csv_dir, tmp_path)
    assert issue[:3] == ("memberships.csv", None, None)
    assert "UTF-8" in issue[3] and "GB18030" in issue[3] and "CSV UTF-8" in issue[3] and ".xlsx" in issue[3]


def test_every_problem_is_reported_at_once(tmp_path):
    bad = "".join(f"U-X{i},坏,U-A,9,branch,other,,,,\n" for i in range(5))
    assert len(_issues(read_csv_dir, _csv(tmp_path, units=GOOD_UNITS + bad))) == 5


def test_coverage_problems_are_not_import_errors(tmp_path):
    """An orphan, a cycle or a missing leader imports fine and shows up in the plan's gaps."""
    units = GOOD_UNITS + "U-C,孤立支部,U-NOWHERE,4,branch,other,,,,\nU-D,甲,U-E,3,party_committee,other,P-1,,,\nU-E,乙,U-D,3,party_committee,other,P-2,,,\n"
    d = read_csv_dir(_csv(tmp_path, units=units))
    assert {"U-C", "U-D", "U-E"} <= set(d.units)


# ---- YAML -----------------------------------------------------------------

GOOD_YAML = """\
format: 1
people:
  - {id: P-1, name: 王建国}
  - {id: P-2, name: 李秀英}
  - {id: P-3, name: 张伟}
units:
  - id: U-A
    name: 总局党组
    tier: 1
    kind: party_group
    leader_id: P-1
  - id: U-B
    name: 办公厅党支部
    parent_id: U-A
    tier: 4
    kind: branch
    category: window_service
    leader_id: P-2
    members: [P-3]
"""


def _yaml(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "org.yaml"
    p.write_text(text, encoding="utf-8")
    return p


def test_good_yaml_reads(tmp_path):
    d = read_yaml(_yaml(tmp_path, GOOD_YAML))
    assert d.member_of == {"P-3": ["U-B"]} and d.units["U-B"].leader_id == "P-2"


@pytest.mark.parametrize("old,new,line,field", [
    ("    tier: 4\n", "    tier: four\n", 15, "units.1.tier"),
    ("    kind: branch\n", "    kind: club\n", 16, "units.1.kind"),
    ("  - {id: P-3, name: 张伟}\n", "  - {id: 张伟, name: 张伟}\n", 5, "people.2.id"),
    ("    leader_id: P-2\n", "    leader: P-2\n", 18, "units.1.leader"),
    ("format: 1\n", "format: 2\n", 1, "format"),
])
def test_a_bad_yaml_field_names_its_line(tmp_path, old, new, line, field):
    issues = _issues(read_yaml, _yaml(tmp_path, GOOD_YAML.replace(old, new)))
    assert [(i[0], i[1], i[2]) for i in issues] == [("org.yaml", line, field)]


def test_yaml_references_name_their_line(tmp_path):
    text = GOOD_YAML.replace("    members: [P-3]\n", "    members: [P-3, P-9]\n    leadership:\n      - P-8\n")
    issues = _issues(read_yaml, _yaml(tmp_path, text))
    assert ("org.yaml", 19, "units.1.members.1", "unknown person 'P-9'") in issues
    assert ("org.yaml", 21, "units.1.leadership.0", "unknown person 'P-8'") in issues


def test_yaml_syntax_error_names_its_line(tmp_path):
    issues = _issues(read_yaml, _yaml(tmp_path, GOOD_YAML.replace("    tier: 4\n", "    tier: [4\n")))
    assert issues[0][0] == "org.yaml" and issues[0][1] is not None and "not valid YAML" in issues[0][3]


def test_yaml_that_is_not_a_mapping(tmp_path):
    assert _issues(read_yaml, _yaml(tmp_path, "- just\n- a list\n"))[0][:2] == ("org.yaml", 1)


def test_export_then_import_is_the_same_directory(tmp_path):
    d = Directory.build(
        [Unit(id="U-A", name="总局党组", tier=Tier.HEADQUARTERS, kind=UnitKind.PARTY_GROUP, leader_id="P-1"),
         Unit(id="U-X", name="外部党委", tier=Tier.HEADQUARTERS, kind=UnitKind.PARTY_COMMITTEE, leader_id="P-2", external=True),
         Unit(id="U-B", name="某局党组", parent_id="U-X", guided_by="U-A", tier=Tier.LOCAL_BUREAU, kind=UnitKind.PARTY_GROUP, leader_id="P-3")],
        [Person(id=f"P-{i}", name=n) for i, n in enumerate(["王", "李", "张", "刘"], start=1)],
        [Membership("P-4", "U-B", Role.LEADERSHIP)],
    )
    write_yaml(d, tmp_path / "d.yaml")
    write_csv_dir(d, tmp_path / "csv")
    for back in (read_yaml(tmp_path / "d.yaml"), read_csv_dir(tmp_path / "csv")):
        assert back.units == d.units and back.people == d.people and set(back.memberships) == set(d.memberships)


def test_a_nul_character_is_refused_naming_file_line_and_field(tmp_path):
    """PostgreSQL's text cannot hold U+0000 (SQLite can): refused at import on
    every engine, so the embedded default never accepts what production can't."""
    issues = _issues(read_csv_dir, _csv(tmp_path, people=GOOD_PEOPLE + "P-4,赵\x00六\n"))
    assert [(i[0], i[1], i[2]) for i in issues] == [("people.csv", 5, "name")] and "U+0000" in issues[0][3]
    issues = _issues(read_yaml, _yaml(tmp_path, GOOD_YAML.replace("name: 办公厅党支部", 'name: "办公厅\\0党支部"')))
    assert [(i[0], i[1], i[2]) for i in issues] == [("org.yaml", 13, "units.1.name")] and "U+0000" in issues[0][3]


# ---- rows that contradict themselves or their parent are refused -------------

CONTRADICTIONS = [
    ("U-C,自指,U-C,4,branch,other,P-1,,,", "parent_id", "names itself as its parent"),
    ("U-C,自导,U-A,4,branch,other,P-1,,U-C,", "guided_by", "names itself as its guiding organization"),
    ("U-C,上级指导,U-A,4,branch,other,P-1,,U-A,", "guided_by", "outside its own line"),
    ("U-C,自管,U-A,4,branch,other,P-3,P-3,,", "overseen_by", "would review themselves"),
    ("U-C,错层支部,U-A,3,branch,other,P-1,,,", "tier", "a party branch (kind branch) is in tier 4, not 3"),
    ("U-C,错类,U-A,4,party_committee,other,P-1,,,", "kind", "tier 4 holds party branches only"),
    ("U-C,支部下组织,U-B,4,branch,other,P-1,,,", "parent_id", "U-B is a party branch"),
    ("U-C,倒挂,U-D,1,party_committee,other,P-1,,,", "tier", "tier 1 is above tier 3 of its parent U-D"),
    ("U-C,外部,U-A,1,party_committee,other,P-1,,,true", "external", "cannot belong to ours"),
]


@pytest.mark.parametrize("row,field,words", CONTRADICTIONS)
def test_a_contradicting_unit_row_names_file_line_and_field(tmp_path, row, field, words):
    units = GOOD_UNITS + "U-D,某院党委,U-A,3,party_committee,other,P-2,,,\n" + row + "\n"
    issues = _issues(read_csv_dir, _csv(tmp_path, units=units))
    assert [(i[0], i[1], i[2]) for i in issues] == [("units.csv", 5, field)], issues
    assert words in issues[0][3]


def test_a_contradiction_names_its_yaml_line_and_its_sheet_row(tmp_path):
    text = GOOD_YAML.replace("    tier: 4\n    kind: branch\n", "    tier: 3\n    kind: branch\n")
    issues = _issues(read_yaml, _yaml(tmp_path, text))
    assert [(i[0], i[1], i[2]) for i in issues] == [("org.yaml", 15, "units.1.tier")]
    import openpyxl

    from directory.xlsx_file import read_xlsx

    wb = openpyxl.Workbook()
    wb.active.title = "units"
    for line in GOOD_UNITS.splitlines():
        wb["units"].append(line.split(","))
    wb["units"].append("U-C,外部,U-B,4,branch,other,P-1,,,".split(","))
    for title, text in (("people", GOOD_PEOPLE), ("memberships", GOOD_MEMBERS)):
        ws = wb.create_sheet(title)
        for line in text.splitlines():
            ws.append(line.split(","))
    wb.save(tmp_path / "org.xlsx")
    with pytest.raises(DirectoryImportError) as exc:
        read_xlsx(tmp_path / "org.xlsx")
    assert [(i.file, i.sheet, i.line, i.field) for i in exc.value.issues] == [("org.xlsx", "units", 4, "parent_id")]


def test_an_email_column_is_optional_and_read_in_every_format(tmp_path):
    people = "id,name,email\nP-1,王建国,wang@example.org\nP-2,李秀英,\nP-3,张伟, zhang@example.org \n"
    d = read_csv_dir(_csv(tmp_path, people=people))
    assert {p: d.people[p].email for p in d.people} == {"P-1": "wang@example.org", "P-2": None, "P-3": "zhang@example.org"}
    (tmp_path / "without").mkdir()
    assert read_csv_dir(_csv(tmp_path / "without")).people["P-1"].email is None  # the header without the column
    y = read_yaml(_yaml(tmp_path, GOOD_YAML.replace("  - {id: P-1, name: 王建国}\n", "  - {id: P-1, name: 王建国, email: wang@example.org}\n")))
    assert y.people["P-1"].email == "wang@example.org" and y.people["P-2"].email is None
    write_csv_dir(d, tmp_path / "out")
    write_yaml(d, tmp_path / "out.yaml")
    for back in (read_csv_dir(tmp_path / "out"), read_yaml(tmp_path / "out.yaml")):
        assert back.people == d.people


@pytest.mark.parametrize("email", ["wang", "wang@", "wang@example", "Wang Jianguo <wang@example.org>", "a@b.org,c@d.org", "wang @example.org"])
def test_a_bad_email_names_file_line_and_field(tmp_path, email):
    people = f'id,name,email\nP-1,王建国,wang@example.org\nP-2,李秀英,\nP-3,张伟,\nP-4,刘洋,"{email}"\n'
    [(file, line, field, message)] = _issues(read_csv_dir, _csv(tmp_path, people=people))
    assert (file, line, field) == ("people.csv", 5, "email") and "is not an e-mail address" in message
    text = GOOD_YAML.replace("  - {id: P-3, name: 张伟}\n", f"  - {{id: P-3, name: 张伟}}\n  - {{id: P-4, name: 刘洋, email: '{email}'}}\n")
    assert [(i[0], i[1], i[2]) for i in _issues(read_yaml, _yaml(tmp_path, text))] == [("org.yaml", 6, "people.3.email")]
