"""A reviewer walks one review through all five steps in the browser, in
zh-CN, with the subject doing their part; one submission is rejected and its
error is shown beside the field. Every page gets a screenshot and axe-core."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from browsing import Person

from app.principal import Principal
from app.reviews import ShowReviewInput, StartReviewInput, show_review, start_review
from domain.assignment import Explanation

pytestmark = pytest.mark.e2e

OFFICE = Principal(kind="person", person_id="office", via="cli")
SUBJECT_UNIT = "U-AF01-B01"


def start(live, subject: str = SUBJECT_UNIT, review_id: str | None = None):
    started = live.call(start_review(live.ctx, OFFICE, StartReviewInput(subject_id=subject, review_id=review_id)))
    view = live.call(show_review(live.ctx, OFFICE, ShowReviewInput(review_id=started.review_id)))
    subject_person = view.spec.subject.leader_id or view.spec.subject.subject_id
    return started.review_id, view, subject_person


def fill_investigation(page, codes, *, upload: tuple[str, bytes] | None = None) -> None:
    for i, code in enumerate(codes):
        page.fill(f"#f-f-{code}-summary", f"{code} 通过查阅会议记录和实地走访，了解到该项工作开展情况")
        page.fill(f"#f-f-{code}-reference", f"会议记录 2026-{i + 1:02d} 号")
    if upload:
        name, data = upload
        page.set_input_files(f"#f-f-{codes[0]}-file", files=[{"name": name, "mimeType": "application/pdf", "buffer": data}])


def fill_review(page, codes, *, praise_only_at: str | None = None) -> None:
    page.select_option("#f-method", "individual")
    for code in codes:
        page.fill(f"#f-p-{code}-achievements", f"{code}：按要求组织开展，制度较为健全")
        problem = "无" if code == praise_only_at else f"{code}：学习记录不完整，部分活动流于形式"
        page.fill(f"#f-p-{code}-problems", problem)
        page.fill(f"#f-p-{code}-directions", "建立台账，按月检查落实情况")


def walk(browser, live, lang: str, tag: str) -> None:
    rid, view, subject_id = start(live)
    codes = list(view.spec.rubric_points)
    reviewer = Person(browser, live, view.spec.reviewer_id, lang=lang).sign_in()
    subject = Person(browser, live, subject_id, lang=lang).sign_in()
    page = reviewer.page
    try:
        reviewer.check(f"{tag}-tasks")
        # why me, and why this reviewer: the directory's explanation in the page's language only
        explained = Explanation.of_text(view.spec.explanation)
        mine = explained.en if lang.startswith("en") else explained.zh
        assert "点评" in explained.zh and "点评" not in explained.en and " reviews " in explained.en  # names stay as written
        row = page.locator("tr", has=page.locator(f'a[href="/reviews/{rid}"]'))
        why_me = row.locator("td").nth(3).inner_text()
        assert why_me.strip() == mine
        # the review is on the reviewer's list, with a link to it
        page.locator(f'a[href="/reviews/{rid}"]').first.click()
        page.wait_for_selector("#why-reviewer")
        assert page.locator("#why-reviewer").inner_text().strip() == mine
        reviewer.check(f"{tag}-1-investigate")

        # step 1: findings for every point, one with an uploaded file; then close
        fill_investigation(page, codes, upload=("检查记录.pdf", b"%PDF-1.4\n% evidence for the browser test\n"))
        with page.expect_navigation():
            page.locator('form[action$="/findings"] button[type=submit]').click()
        assert page.locator("a[href*='/evidence/']").count() == 1, "the uploaded file is listed with its hash"
        page.locator('form[action$="/do/close_investigation"] button').click()
        page.wait_for_selector("#h-opinions")
        reviewer.check(f"{tag}-2-opinions")

        # step 2: one opinion, then close
        page.select_option("#f-channel", "symposium")
        page.select_option("#f-respondent_group", "members")
        page.fill("#f-respondents", "12")
        page.fill("#f-summary", "党员普遍认为班子团结，但联系群众不够")
        with page.expect_navigation():
            page.locator('form[action$="/opinions"] button[type=submit]').click()
        page.locator('form[action$="/do/close_opinion_solicitation"] button').click()
        page.wait_for_selector("#review-form")
        reviewer.check(f"{tag}-3-review")

        # step 3: a praise-only problem is refused beside its field; fixed, accepted
        fill_review(page, codes, praise_only_at=codes[0])
        with page.expect_navigation():
            page.locator("#review-form button[type=submit]").click()
        error = page.locator(f"#err-p-{codes[0]}-problems")
        assert error.is_visible(), "the refusal is shown beside the problems field"
        assert page.locator(f"#f-p-{codes[0]}-problems").get_attribute("aria-invalid") == "true"
        reviewer.check(f"{tag}-3-review-rejected")
        page.fill(f"#f-p-{codes[0]}-problems", f"{codes[0]}：学习记录不完整，部分活动流于形式")
        page.locator("#review-form button[type=submit]").click()
        page.wait_for_selector("#h-notify")
        reviewer.check(f"{tag}-4-notify")

        # step 4: circulation
        page.fill("#f-scope", "本支部全体党员")
        page.fill("#f-means", "支部党员大会通报")
        page.locator('form[action$="/circulation"] button[type=submit]').click()
        page.wait_for_selector("#h-rectify")
        reviewer.check(f"{tag}-5-rectify-waiting")

        # step 5: the subject's plan (a measure for every problem), accepted; report-back; evaluated
        sp = subject.page
        subject.goto(f"/reviews/{rid}")
        subject.check(f"{tag}-5-subject-plan")
        due = (date.today() + timedelta(days=20)).isoformat()
        problems = sp.locator("#plan-form fieldset")
        for i in range(problems.count()):
            pid = problems.nth(i).get_attribute("id").removeprefix("measure-")
            sp.fill(f"#f-m-{pid}-action", "建立学习台账，每月检查")
            sp.fill(f"#f-m-{pid}-due_date", due)
            sp.fill(f"#f-m-{pid}-evidence", "学习台账和检查记录")
        with sp.expect_navigation():
            sp.locator("#plan-form button[type=submit]").click()
        assert sp.locator("#plan-form").count() == 0
        reviewer.goto(f"/reviews/{rid}")
        reviewer.check(f"{tag}-5-plan-decision")
        with page.expect_navigation():
            page.locator('form[action$="/plan-decision"] button[value=accept]').click()
        subject.goto(f"/reviews/{rid}")
        for sel in sp.locator("#progress-form select").all():
            sel.select_option("done")
        sp.fill("#f-summary", "各项整改措施均已落实")
        subject.check(f"{tag}-5-subject-report")
        with sp.expect_navigation():
            sp.locator('#progress-form button[value=report_back]').click()
        reviewer.goto(f"/reviews/{rid}")
        page.select_option("#f-outcome", "satisfactory")
        page.fill("#f-comments", "整改到位")
        with page.expect_navigation():
            page.locator('form[action$="/evaluation"] button[type=submit]').click()
        reviewer.check(f"{tag}-closed")
        closed = live.call(show_review(live.ctx, OFFICE, ShowReviewInput(review_id=rid)))
        assert closed.step == "closed"
        assert any(ev.reference.startswith("sha256:") for f in closed.findings for ev in f.evidence)
    finally:
        reviewer.close()
        subject.close()


def test_a_reviewer_walks_one_review_through_all_five_steps_in_chinese(browser, live):
    walk(browser, live, "zh-CN", "walk")


def test_the_same_walk_in_english(browser, live):
    walk(browser, live, "en-US", "walk")
