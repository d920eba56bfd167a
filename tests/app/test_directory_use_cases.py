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
