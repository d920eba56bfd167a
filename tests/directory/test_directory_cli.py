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
    assert [(g["kind"], g["unit_id"]) for g in gaps] == [("no_principal_leader", "U-B"), ("branch_too_small", "U-B")]


CONCURRENT = (
    "people: [{id: P-1, name: 王建国}, {id: P-2, name: 李秀英}, {id: P-3, name: 张伟}, {id: P-4, name: 张伟}, {id: P-5, name: 刘芳}]\n"
    "units:\n"
    "  - {id: U-A, name: 总局党组, tier: 1, kind: party_group, leader_id: P-1}\n"
    "  - {id: U-C, name: 某院党委, parent_id: U-A, tier: 3, kind: party_committee, leader_id: P-2}\n"
    "  - {id: U-B, name: 某院综合党支部, parent_id: U-A, tier: 4, kind: branch, leader_id: P-2, members: [P-3, P-4, P-5]}\n"
)


def test_plan_json_lists_notices_and_rules(sqlite_url, tmp_path):
    """A person leading a committee and a branch beside it (兼任) is a notice
    naming both reviews, in the JSON and the table."""
    (tmp_path / "org.yaml").write_text(CONCURRENT, encoding="utf-8")
    assert runner.invoke(app, ["import", str(tmp_path / "org.yaml"), "--db", sqlite_url]).exit_code == 0
    out = json.loads(runner.invoke(app, ["plan", "--json", "--db", sqlite_url]).output)
    assert out["rules"] == {"min_branch_members": 3}
    assert [(n["kind"], n["person_id"], n["unit_ids"], n["reviewer_ids"]) for n in out["notices"]] == [
        ("concurrent_posts", "P-2", ["U-B", "U-C"], ["P-1", "P-1"])]
    assert "兼任" in out["notices"][0]["message_zh"] and "concurrent posts" in out["notices"][0]["message_en"]
    table = runner.invoke(app, ["plan", "--db", sqlite_url]).output
    assert "concurrent_posts" in table and "Notices to confirm (1)" in table and "No gaps" in table


def test_min_branch_members_is_a_setting(sqlite_url, tmp_path, monkeypatch):
    from config.settings import get_settings

    small = (CONCURRENT.replace("members: [P-3, P-4, P-5]", "members: [P-3]")
             .replace(", {id: P-4, name: 张伟}, {id: P-5, name: 刘芳}", ""))
    (tmp_path / "org.yaml").write_text(small, encoding="utf-8")
    assert runner.invoke(app, ["import", str(tmp_path / "org.yaml"), "--db", sqlite_url]).exit_code == 0
    gaps = json.loads(runner.invoke(app, ["plan", "--json", "--db", sqlite_url]).output)["gaps"]
    assert [(g["kind"], g["unit_id"], g["detail"]) for g in gaps] == [("branch_too_small", "U-B", ["P-2", "P-3"])]
    monkeypatch.setenv("PINGYI_MIN_BRANCH_MEMBERS", "2")
    get_settings.cache_clear()
    try:
        out = json.loads(runner.invoke(app, ["plan", "--json", "--db", sqlite_url]).output)
    finally:
        get_settings.cache_clear()
    assert out["rules"] == {"min_branch_members": 2} and out["gaps"] == []


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
