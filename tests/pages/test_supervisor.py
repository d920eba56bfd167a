"""A supervisor filters the dashboard to the overdue reviews of one tier and
reassigns one, with a reason; the chart, the table and the drill-down render."""

from __future__ import annotations

import pytest
from browsing import Person
from roles import grant, overdue_review, wait_overdue
from test_reviewer_walk import OFFICE

from app.reviews import ShowReviewInput, show_review
from directory.service import iter_assignments
from domain.accounts import StandingRole

pytestmark = pytest.mark.e2e

SUPERVISOR = "P-000001"


@pytest.mark.parametrize("lang", ["zh-CN", "en-US"])
def test_supervisor_filters_to_overdue_reviews_of_one_tier_and_reassigns_one(browser, live, lang):
    d = live.ctx.directory.load()
    orgs = [a for a in iter_assignments(live.ctx.engine) if a.subject_kind.value == "organization" and a.reviewer_id != SUPERVISOR]
    target = orgs[0]
    root = ([target.unit_id, *d.ancestors(target.unit_id)])[-1]  # the top of the target's own line
    grant(live, SUPERVISOR, StandingRole.SUPERVISOR, root)
    rid = overdue_review(live, target.subject_id)
    wait_overdue(live, rid)
    new_reviewer = next(a.reviewer_id for a in orgs if a.reviewer_id not in (target.reviewer_id, target.leader_id))
    who = Person(browser, live, SUPERVISOR, lang=lang).sign_in()
    page = who.page
    try:
        who.goto("/dashboard")
        assert page.locator("#step-tier-table").is_visible()
        page.wait_for_selector("#step-tier-chart svg")  # ECharts drew the chart from the table's numbers
        who.check("dashboard")
        page.select_option("#f-tier", str(target.tier))
        page.select_option("#f-overdue", "yes")
        with page.expect_navigation():
            page.locator("#filters button[type=submit]").click()
        assert f"tier={target.tier}" in page.url and "overdue=yes" in page.url
        who.check("dashboard-overdue-tier")
        link = page.locator(f'#list ~ div a[href^="/reviews/{rid}"]').first
        link.click()
        page.wait_for_selector("#h-supervise")
        who.check("review-supervise")
        page.fill("#sv-reviewer", new_reviewer)
        with page.expect_navigation():
            page.locator('form[action$="/supervise/reassign_reviewer"] button').click()
        assert page.locator("#err-reason").is_visible(), "a reassignment without a reason is refused beside the reason"
        page.fill("#sv-reviewer", new_reviewer)
        page.fill("#sv-reason-reassign", "原点评人长期外出")
        page.locator('form[action$="/supervise/reassign_reviewer"] button').click()
        page.wait_for_url("**/dashboard?**")
        assert page.locator(".notice").is_visible()
        after = live.call(show_review(live.ctx, OFFICE, ShowReviewInput(review_id=rid)))
        assert after.spec.reviewer_id == new_reviewer
        # drill-down: organization -> unit -> review
        who.goto("/dashboard")
        with page.expect_navigation():
            page.locator("h2:has-text('%s') + div a" % ("下级单位" if lang.startswith("zh") else "Units")).first.click()
        assert "unit=" in page.url
        who.check("dashboard-unit")
    finally:
        who.close()
