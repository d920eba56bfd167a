"""The random trees of ``org_trees`` written in every form an office may hand
in (CSV in UTF-8 or GB18030, an Excel workbook, YAML) and read back: the same
directory, the same plan, every name (rare characters, repeats) intact. The
readers do file I/O, so this sits beside the assignment properties it reuses
rather than in them."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from directory.csv_files import read_csv_report, write_csv_dir
from directory.xlsx_file import read_xlsx, write_xlsx
from directory.yaml_file import read_yaml, write_yaml
from domain.coverage import plan
from org_trees import Tree, org_trees


def _read_back(tree: Tree, form: str):
    d = tree.directory()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        if form == "xlsx":
            write_xlsx(d, folder / "org.xlsx")
            return read_xlsx(folder / "org.xlsx"), None
        if form == "yaml":
            write_yaml(d, folder / "org.yaml")
            return read_yaml(folder / "org.yaml"), None
        write_csv_dir(d, folder)
        if form == "csv-gb18030":
            for name in ("units.csv", "people.csv", "memberships.csv"):
                f = folder / name
                f.write_bytes(f.read_bytes().decode("utf-8").encode("gb18030"))
        return read_csv_report(folder / "units.csv", folder / "people.csv", folder / "memberships.csv")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(org_trees(), st.sampled_from(["csv-utf8", "csv-gb18030", "xlsx", "yaml"]))
def test_every_form_reads_back_the_same_directory_and_plan(tree: Tree, form: str):
    d = tree.directory()
    back, encodings = _read_back(tree, form)
    assert back.units == d.units and back.people == d.people and set(back.memberships) == set(d.memberships)
    if form == "csv-gb18030" and any(not p.name.isascii() for p in d.people.values()):
        assert encodings["people.csv"] == "GB18030"
    _, before = plan(d)
    _, after = plan(back)
    assert after == before
