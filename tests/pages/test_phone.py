"""The pages read on a phone: at 375 px nothing needs a sideways scroll, and
axe-core finds nothing serious there either."""

from __future__ import annotations

import pytest
from browsing import Person
from test_reviewer_walk import start

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("lang", ["zh-CN", "en-US"])
def test_task_list_and_review_page_fit_375px(browser, live, lang):
    rid, view, subject_id = start(live, subject="U-AF01-B03")
    reviewer = Person(browser, live, view.spec.reviewer_id, lang=lang, width=375).sign_in()
    subject = Person(browser, live, subject_id, lang=lang, width=375).sign_in()
    try:
        for who, path, name in ((reviewer, "/tasks", "phone-tasks"), (reviewer, f"/reviews/{rid}", "phone-review"), (subject, "/mine", "phone-mine")):
            who.goto(path)
            who.fits(375)
            who.check(name)
    finally:
        reviewer.close()
        subject.close()
