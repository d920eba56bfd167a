"""``reviewctl directory``: plan as a table and as JSON, import errors with
file and line, show and explain."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from cli.directory import app
from directory.example import build_example
from domain.coverage import plan

runner = CliRunner()


def test_plan_json_of_the_example(sqlite_url):
    assert runner.invoke(app, ["example", "--db", sqlite_url]).exit_code == 0
    result = runner.invoke(app, ["plan", "--json", "--period", "2026H2", "--db", sqlite_url])
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    _, expected = plan(build_example(), period="2026H2")
    assert out["total"] == expected.total > 0
    assert out["by_tier_level"] == {str(k): v for k, v in expected.by_tier_level.items()}
    assert out["gaps"] == []


def test_plan_table_shows_gaps(sqlite_url, tmp_path):
    (tmp_path / "org.yaml").write_text(
        "people: [{id: P-1, name: 王建国}, {id: P-2, name: 李秀英}]\n"
        "units:\n"
        "  - {id: U-A, name: 总局党组, tier: 1, kind: party_group, leader_id: P-1}\n"
        "  - {id: U-B, name: 办公厅党支部, parent_id: U-A, tier: 4, kind: branch, members: [P-2]}\n", encoding="utf-8")
    assert runner.invoke(app, ["import", str(tmp_path / "org.yaml"), "--db", sqlite_url]).exit_code == 0
    result = runner.invoke(app, ["plan", "--db", sqlite_url])
    assert result.exit_code == 0 and "no_principal_leader" in result.output and "U-B" in result.output
    gaps = json.loads(runner.invoke(app, ["plan", "--json", "--db", sqlite_url]).output)["gaps"]
    assert [(g["kind"], g["unit_id"]) for g in gaps] == [("no_principal_leader", "U-B")]


def test_import_refused_names_file_and_line(sqlite_url, tmp_path):
    (tmp_path / "org.yaml").write_text("people: []\nunits:\n  - {id: U-A, name: 甲, tier: 9, kind: branch}\n", encoding="utf-8")
    result = runner.invoke(app, ["import", str(tmp_path / "org.yaml"), "--db", sqlite_url])
    assert result.exit_code == 1
    assert "org.yaml" in result.output and "units.0.tier" in result.output and "3" in result.output


def test_show_and_explain(sqlite_url):
    runner.invoke(app, ["example", "--db", sqlite_url])
    d = build_example()
    shown = runner.invoke(app, ["show", "U-CIQ-GD", "--depth", "1", "--db", sqlite_url])
    assert shown.exit_code == 0 and d.units["U-CIQ-GD"].name in shown.output and "U-CIQ-GD-D01" in shown.output
    overseer = d.units["U-CIQ-GD-D01"].overseen_by
    explained = runner.invoke(app, ["explain", overseer, "--db", sqlite_url])
    assert explained.exit_code == 0 and "U-CIQ-GD-D01" in explained.output and "reviewed by" in explained.output
