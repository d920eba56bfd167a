"""Review specs for workflow tests (explicit subject and reviewer, as a review
is started before the directory fills them)."""

from __future__ import annotations

import uuid
from datetime import timedelta

from domain.events import ReviewSpec, Subject
from domain.procedure import StepDeadlines, SubjectKind
from domain.rubric import CURRENT_RUBRIC_VERSION, SubjectLevel, UnitCategory, rubric

DAYS = StepDeadlines(
    investigate=timedelta(days=5), solicit_opinions=timedelta(days=5), review=timedelta(days=3), notify=timedelta(days=2), rectify=timedelta(days=30), reminder_lead=timedelta(days=1)
)


def branch_spec(**overrides) -> ReviewSpec:
    level, category = SubjectLevel.B, UnitCategory.WINDOW_SERVICE
    fields = dict(
        review_id=f"rv-test-{uuid.uuid4().hex[:10]}",
        campaign_id="2026H2",
        subject=Subject(kind=SubjectKind.ORGANIZATION, subject_id="U-BR-01", unit_id="U-BR-01", leader_id="P-SEC-01"),
        level=level,
        unit_category=category,
        tier=4,
        reviewer_id="P-REV-01",
        supervisor_ids=("P-OFFICE",),
        rubric_version=CURRENT_RUBRIC_VERSION,
        rubric_points=tuple(p.code for p in rubric().points_for(level, category)),
        deadlines=DAYS,
    )
    fields.update(overrides)
    return ReviewSpec(**fields)
