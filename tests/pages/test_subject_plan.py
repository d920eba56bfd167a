"""A subject submits a rectification plan that misses a problem, sees the
error beside that problem, fixes it, and the plan goes to the reviewer with
each measure's expected evidence in a field of its own."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from browsing import Person
from test_reviewer_walk import OFFICE, start

from app.reviews import SendCommandInput, ShowReviewInput, send_command, show_review
from app.principal import Principal
from service import demo

pytestmark = pytest.mark.e2e


def to_rectify(live, rid, view) -> None:
    """Steps 1-4 done by the reviewer through the application layer (the walk test does them in the browser)."""
    reviewer = Principal(kind="person", person_id=view.spec.reviewer_id, via="cli")
    spec = view.spec
    review = demo.review(spec).model_dump(mode="json", include={"method", "points", "summary"})
    for point in review["points"][:3]:  # problems at three points, so a plan can miss one
        point["problems"] = point["problems"] or [f"{point['code']} 方面台账记录不完整，检查不够经常"]
    for kind, fields in (
        ("record_findings", demo.findings(spec).model_dump(mode="json", include={"findings"})),
        ("close_investigation", {}),
        ("close_opinion_solicitation", {}),
        ("submit_review", review),
        ("confirm_circulation", {"scope": "全体党员", "means": "党员大会"}),
    ):
        live.call(send_command(live.ctx, reviewer, SendCommandInput(review_id=rid, kind=kind, fields=fields)))


@pytest.mark.parametrize("lang", ["zh-CN", "en-US"])
def test_a_plan_missing_a_problem_is_refused_beside_it_then_fixed(browser, live, lang):
    rid, view, subject_id = start(live, subject="U-AF01-B02")
    to_rectify(live, rid, view)
    problems = live.call(show_review(live.ctx, OFFICE, ShowReviewInput(review_id=rid))).problems
    assert len(problems) >= 2
    who = Person(browser, live, subject_id, lang=lang).sign_in()
    page = who.page
    try:
        who.goto("/tasks")
        assert page.locator(f'a[href="/reviews/{rid}"]').count() == 1, "the plan is on the subject's task list"
        who.goto("/mine")
        who.check("subject-mine")
        page.locator(f'a[href="/reviews/{rid}"]').click()
        page.wait_for_selector("#plan-form")
        due = (date.today() + timedelta(days=14)).isoformat()
        left_out = problems[-1].problem_id
        for prob in problems:
            if prob.problem_id == left_out:
                continue
            page.fill(f"#f-m-{prob.problem_id}-action", "修订制度并组织学习")
            page.fill(f"#f-m-{prob.problem_id}-due_date", due)
            page.fill(f"#f-m-{prob.problem_id}-evidence", "修订后的制度文本")
        with page.expect_navigation():
            page.locator("#plan-form button[type=submit]").click()
        beside = page.locator(f"#measure-{left_out} .field-error")
        assert beside.is_visible(), "the problem without a measure is marked where it is"
        assert left_out in page.locator("#plan-form .error").first.inner_text()
        # what was typed is still there
        assert page.locator(f"#f-m-{problems[0].problem_id}-action").input_value() == "修订制度并组织学习"
        who.check("subject-plan-refused")
        page.fill(f"#f-m-{left_out}-action", "开展专项整治")  # no expected evidence: the field is optional
        page.fill(f"#f-m-{left_out}-due_date", due)
        with page.expect_navigation():
            page.locator("#plan-form button[type=submit]").click()
        assert page.locator("#plan-form").count() == 0
        # the expected evidence is a field of the measure: shown in its own column, not inside the action
        shown = page.locator("td.expected-evidence").all_inner_texts()
        assert shown.count("修订后的制度文本") == len(problems) - 1 and shown.count("—") == 1
        who.check("subject-plan-submitted")
        after = live.call(show_review(live.ctx, OFFICE, ShowReviewInput(review_id=rid)))
        assert after.plan_status == "submitted" and len(after.measures) == len(problems)
        by_problem = {ms.problem_ids[0]: ms for ms in after.measures}
        assert by_problem[left_out].expected_evidence == "" and by_problem[left_out].action == "开展专项整治"
        assert {by_problem[p.problem_id].expected_evidence for p in problems if p.problem_id != left_out} == {"修订后的制度文本"}
        assert all(ms.action in ("修订制度并组织学习", "开展专项整治") for ms in after.measures)
    finally:
        who.close()
