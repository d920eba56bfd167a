"""Simulated actors for ``reviewctl demo``, the benchmark and the tests: the
minimal command sequence of an on-time review, written down once.

An on-time review takes exactly these nine commands, each before its step's
reminder:
  1. reviewer  record_findings          (every rubric point, with evidence)
  2. reviewer  close_investigation      → step solicit_opinions
  3. reviewer  close_opinion_solicitation → step review
  4. reviewer  submit_review            (every point; at least one problem) → step notify
  5. reviewer  confirm_circulation      → step rectify
  6. subject   submit_rectification_plan (a measure for every problem)
  7. reviewer  accept_rectification_plan
  8. subject   report_back              (every measure)
  9. reviewer  evaluate_report_back     satisfactory → closed
"""

from __future__ import annotations

from datetime import date, timedelta

from domain import commands as c
from domain.events import EvidenceRef, GatheredOpinion, MeasureProgress, ReviewSpec
from domain.procedure import Step
from domain.review import ReviewState, subject_person_ids
from domain.rubric import rubric


def subject_actor(spec: ReviewSpec) -> str:
    return sorted(subject_person_ids(spec))[0]


def findings(spec: ReviewSpec) -> c.RecordFindings:
    rb = rubric(spec.rubric_version)
    return c.RecordFindings(
        actor_id=spec.reviewer_id,
        findings=[
            c.FindingInput(
                point_code=code,
                summary=f"调研了解: {rb.point(code).text_zh}",
                evidence=[EvidenceRef(kind="site_visit", reference=f"现场检查记录 {code}"), EvidenceRef(kind="documents", reference=f"台账资料 {code}")],
            )
            for code in spec.rubric_points
        ],
    )


def opinions(spec: ReviewSpec) -> c.RecordOpinions:
    return c.RecordOpinions(
        actor_id=spec.reviewer_id,
        opinions=[GatheredOpinion(channel="symposium", respondent_group="members", summary="座谈会: 党员群众认为服务意识有提高, 学习制度落实不够经常", respondents=12)],
    )


def review(spec: ReviewSpec) -> c.SubmitReview:
    rb = rubric(spec.rubric_version)
    points = []
    for i, code in enumerate(spec.rubric_points):
        text = rb.point(code).text_zh
        points.append(
            c.PointAssessmentInput(
                code=code,
                achievements=f"{text}: 工作扎实, 有明显成效",
                problems=[f"{text}方面制度执行不够经常, 台账记录不完整"] if i == 0 else [],
                directions=f"{text}: 建立长效机制, 加强督促检查",
            )
        )
    return c.SubmitReview(actor_id=spec.reviewer_id, method="individual", points=points, summary="总体较好, 存在薄弱环节")


def plan(spec: ReviewSpec, problem_ids: list[str], today: date) -> c.SubmitRectificationPlan:
    return c.SubmitRectificationPlan(
        actor_id=subject_actor(spec),
        measures=[c.MeasureInput(problem_ids=[pid], action="制定学习和台账制度并按月检查", owner_id=subject_actor(spec), due_date=today + timedelta(days=20),
                               expected_evidence="修订后的学习制度和台账") for pid in problem_ids],
    )


def report_back(spec: ReviewSpec, measure_ids: list[str]) -> c.ReportBack:
    return c.ReportBack(
        actor_id=subject_actor(spec),
        summary="整改措施已全部落实, 向上级党组织报告",
        results=[MeasureProgress(measure_id=m, status="done", note="已完成") for m in measure_ids],
    )


def on_time_commands(spec: ReviewSpec, today: date) -> list[c.Command]:
    """The nine commands above, computed up front: the review numbers problems
    P1… in the order the review names them and measures M1… in plan order, so
    the actors need not ask the review for its state between commands."""
    r = spec.reviewer_id
    submitted = review(spec)
    problem_ids = [f"P{i + 1}" for i in range(sum(len(p.problems) for p in submitted.points))]
    proposed = plan(spec, problem_ids, today)
    measure_ids = [f"M{i + 1}" for i in range(len(proposed.measures))]
    return [
        findings(spec),
        c.CloseInvestigation(actor_id=r),
        c.CloseOpinionSolicitation(actor_id=r),
        submitted,
        c.ConfirmCirculation(actor_id=r, scope="本单位全体党员", means="支部党员大会通报"),
        proposed,
        c.AcceptRectificationPlan(actor_id=r),
        report_back(spec, measure_ids),
        c.EvaluateReportBack(actor_id=r, outcome="satisfactory", comments="整改到位"),
    ]


def next_command(state: ReviewState, today: date) -> c.Command | None:
    """What the simulated actors do next in an on-time review, read off the
    review's state (the nine commands above, in order); None once it is closed."""
    spec = state.spec
    if spec is None or state.finished:
        return None
    r = spec.reviewer_id
    match state.step:
        case Step.INVESTIGATE:
            covered = {f.point_code for f in state.findings}
            return c.CloseInvestigation(actor_id=r) if covered >= set(spec.rubric_points) else findings(spec)
        case Step.SOLICIT_OPINIONS:
            return c.CloseOpinionSolicitation(actor_id=r)
        case Step.REVIEW:
            return review(spec)
        case Step.NOTIFY:
            return c.ConfirmCirculation(actor_id=r, scope="本单位全体党员", means="支部党员大会通报")
        case Step.RECTIFY if state.plan_status in ("awaiting", "returned"):
            return plan(spec, [p.problem_id for p in state.problems], today)
        case Step.RECTIFY if state.plan_status == "submitted":
            return c.AcceptRectificationPlan(actor_id=r)
        case Step.RECTIFY if state.report_back is None:
            return report_back(spec, [m.measure_id for m in state.measures])
        case Step.RECTIFY:
            return c.EvaluateReportBack(actor_id=r, outcome="satisfactory", comments="整改到位")
    return None
