"""An auditor searches, opens a review's timeline (actor, role, reason,
step, local time of every event), picks a time and sees the state as of then,
verifies the review and the whole log, and downloads an export; the outbox
page shows what each person was told."""

from __future__ import annotations

import io
import time
import zipfile

from zoneinfo import ZoneInfo

import pytest
from browsing import Person
from roles import grant
from test_reviewer_walk import start

from app.principal import Principal
from app.reviews import SendCommandInput, send_command
from domain.accounts import StandingRole
from service import demo
from storage.timeline import timeline

pytestmark = pytest.mark.e2e

AUDITOR = "P-000002"
SHANGHAI = ZoneInfo("Asia/Shanghai")


def investigated(live):
    rid, view, _subject = start(live, subject="U-AF01-B03")
    reviewer = Principal(kind="person", person_id=view.spec.reviewer_id, via="cli")
    time.sleep(1.2)  # a clear second between the opening and the findings, to pick a time between them
    for kind, fields in (("record_findings", demo.findings(view.spec).model_dump(mode="json", include={"findings"})), ("close_investigation", {})):
        live.call(send_command(live.ctx, reviewer, SendCommandInput(review_id=rid, kind=kind, fields=fields)))
    return rid, view


@pytest.mark.parametrize("lang", ["zh-CN", "en-US"])
def test_auditor_opens_a_timeline_picks_a_time_and_sees_the_state_then(browser, live, lang):
    grant(live, AUDITOR, StandingRole.AUDITOR)
    rid, view = investigated(live)
    opened = timeline(live.ctx.events, rid)[0].occurred_at
    who = Person(browser, live, AUDITOR, lang=lang).sign_in()
    page = who.page
    zh = lang.startswith("zh")
    try:
        who.goto("/audit")
        page.fill("#f-q", rid)
        with page.expect_navigation():
            page.locator('form[role=search] button').click()
        who.check("audit-search")
        page.locator(f'a[href="/audit/reviews/{rid}"]').click()
        page.wait_for_selector("#timeline")
        rows = page.locator("#timeline tbody tr")
        assert rows.count() >= 5
        first = rows.first.inner_text()
        assert opened.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M:%S") in first, "times are local (Asia/Shanghai)"
        assert ("系统" if zh else "System") in page.locator("#timeline").inner_text()
        assert view.spec.reviewer_id in page.locator("#timeline").inner_text()
        who.check("audit-timeline")
        # now the review is at step 2; as of its opening second it was investigating
        page.fill("#f-as_of", opened.astimezone(SHANGHAI).strftime("%Y-%m-%dT%H:%M:%S"))
        page.locator('form[action^="/audit/reviews/"] button').click()
        page.wait_for_selector("#state-then")
        assert page.locator("#state-then-step").inner_text() == ("开展调查研究" if zh else "Investigate")
        who.check("audit-state-then")
        page.locator(f'a[href="/audit/verify?review={rid}"]').click()
        page.wait_for_selector("#verify-result")
        assert page.locator("#verify-result").get_attribute("class") == "notice"
        who.check("audit-verify-review")
        who.goto("/audit/verify")
        assert page.locator("#verify-result").get_attribute("class") == "notice"
        who.check("audit-verify-log")
        got = page.request.get(f"/audit/export?review={rid}&format=jsonl")
        assert got.status == 200 and got.headers["content-type"] == "application/zip"
        names = zipfile.ZipFile(io.BytesIO(got.body())).namelist()
        assert any(n.endswith(".jsonl") for n in names) and any(n.endswith(".manifest.json") for n in names)
    finally:
        who.close()


def test_outbox_page_shows_what_the_reviewer_was_told(browser, live):
    rid, view, _subject = start(live, subject="U-AF01-B04")
    for lang in ("zh-CN", "en-US"):
        who = Person(browser, live, view.spec.reviewer_id, lang=lang).sign_in()
        try:
            who.goto("/outbox")
            text = who.page.locator("main").inner_text()
            assert rid in text
            assert ("请处理点评" if lang.startswith("zh") else "Please act on review") in text
            who.check("outbox")
        finally:
            who.close()


def test_a_person_without_the_auditor_role_is_refused_the_audit_pages(browser, live):
    who = Person(browser, live, "P-000368").sign_in()
    try:
        response = who.page.goto("/audit")
        assert response.status == 403
        who.check("audit-refused")
    finally:
        who.close()



