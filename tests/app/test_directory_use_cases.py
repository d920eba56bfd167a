"""Directory use cases: explain and plan, for any signed-in principal, with the
CLI printing the same result as --json."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from principals import person

from app.context import AppContext
from app.directory import ExplainInput, PlanInput, explain_subject, plan
from app.errors import NotFound, NotSignedIn
from app.principal import ANONYMOUS
from config.settings import Settings


@pytest.fixture
def ctx(app_engine, tmp_path):
    return AppContext(Settings(database_url=str(app_engine.url), data_dir=Path(tmp_path)), engine=app_engine)


def test_explain_names_the_reviewer_and_why(ctx):
    got = asyncio.run(explain_subject(ctx, person("P-000001"), ExplainInput(subject_id="U-AF01-B01")))
    assert got.id == "U-AF01-B01" and got.reviewed_by and got.reviewed_by[0].why_zh and got.reviewed_by[0].why_en
    reviewer = got.reviewed_by[0].reviewer_id
    theirs = asyncio.run(explain_subject(ctx, person("P-000001"), ExplainInput(subject_id=reviewer)))
    assert "U-AF01-B01" in {r.subject_id for r in theirs.reviews} and theirs.reviews_total >= 1
    with pytest.raises(NotFound):
        asyncio.run(explain_subject(ctx, person("P-000001"), ExplainInput(subject_id="P-NOBODY")))
    with pytest.raises(NotSignedIn):
        asyncio.run(explain_subject(ctx, ANONYMOUS, ExplainInput(subject_id="U-AF01-B01")))


def test_plan_counts_every_assignment(ctx):
    summary = asyncio.run(plan(ctx, person("P-000001"), PlanInput(period="2026H2")))
    assert summary.total == sum(sum(v.values()) for v in summary.by_tier_level.values()) > 0


def test_show_unit_is_the_tree_to_the_depth_asked(ctx):
    from app.directory import UnitTreeInput, unit_tree

    d = ctx.directory.load()
    top = "U-CIQ-GD"
    shallow = asyncio.run(unit_tree(ctx, person("P-000001"), UnitTreeInput(unit_id=top, depth=0)))
    assert shallow.root.children == [] and shallow.root.more_below == len(d.children[top]) > 0
    assert shallow.parent is not None and shallow.parent.id == d.units[top].parent_id
    got = asyncio.run(unit_tree(ctx, person("P-000001"), UnitTreeInput(unit_id=top, depth=1, people=True)))
    assert [c.id for c in got.root.children] == d.children[top] and got.root.more_below == 0
    first = got.root.children[0]
    assert first.name == d.units[first.id].name and [p.id for p in first.members] == d.members.get(first.id, []) and first.member_count == len(first.members)
    assert first.leader_id == d.units[first.id].leader_id and first.leader_name == d.name_of(first.leader_id)
    without_people = asyncio.run(unit_tree(ctx, person("P-000001"), UnitTreeInput(unit_id=top, depth=1)))
    assert without_people.root.children[0].members == [] and without_people.root.children[0].member_count == first.member_count
    with pytest.raises(NotFound) as info:
        asyncio.run(unit_tree(ctx, person("P-000001"), UnitTreeInput(unit_id="U-NOWHERE")))
    assert info.value.field == "unit_id"
    with pytest.raises(NotSignedIn):
        asyncio.run(unit_tree(ctx, ANONYMOUS, UnitTreeInput(unit_id=top)))


def test_import_is_the_administrator_s_and_refused_whole_with_every_problem(ctx, tmp_path):
    from app.accounts import CLI_ADMIN
    from app.directory import ImportInput, ImportRefused, import_directory
    from app.errors import BadInput, Forbidden

    bad = tmp_path / "org.yaml"
    bad.write_text("units:\n  - id: U-1\n    tier: 9\n", encoding="utf-8")
    before = ctx.directory.load()
    with pytest.raises(Forbidden):
        asyncio.run(import_directory(ctx, person("P-000001", auditor=True), ImportInput(path=bad)))
    with pytest.raises(ImportRefused) as info:
        asyncio.run(import_directory(ctx, CLI_ADMIN, ImportInput(path=bad)))
    assert info.value.exit_code == 1 and info.value.field == "path" and "3 problems" in info.value.message
    assert any("units.0.tier" in line for line in info.value.details) and all(line.startswith("org.yaml") for line in info.value.details)
    with pytest.raises(BadInput):
        asyncio.run(import_directory(ctx, CLI_ADMIN, ImportInput(path=tmp_path / "org.txt")))
    assert len(ctx.directory.load().units) == len(before.units)  # nothing written
    good = tmp_path / "small.yaml"
    good.write_text(
        "units:\n  - {id: U-T, name: Top, kind: party_committee, tier: 1, category: other, leader_id: P-T1}\n"
        "people:\n  - {id: P-T1, name: Leader}\n", encoding="utf-8")
    seen = []
    got = asyncio.run(import_directory(ctx, CLI_ADMIN, ImportInput(path=good), progress=lambda done, total: seen.append((done, total))))
    assert got.format == "yaml" and got.result.units == 1 and got.result.people == 1 and seen
    assert set(ctx.directory.load().units) == {"U-T"}
