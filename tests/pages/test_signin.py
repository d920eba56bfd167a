"""Signing in from the browser: the development sign-in, the password form
(a wrong password is refused with the reason on the page), signing out."""

from __future__ import annotations

import pytest
from browsing import Person

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("lang", ["zh-CN", "en-US"])
def test_sign_in_page_in_both_languages_and_at_375px(browser, live, lang):
    who = Person(browser, live, "P-000368", lang=lang, width=375)
    try:
        who.goto("/signin")
        title = who.page.locator("h1").inner_text()
        assert title == ("登录" if lang.startswith("zh") else "Sign in")
        assert who.page.locator("html").get_attribute("lang") == ("zh-CN" if lang.startswith("zh") else "en")
        who.check("signin")
        who.fits(375)
    finally:
        who.close()


def test_a_wrong_password_is_refused_on_the_page_and_the_dev_sign_in_works(browser, live):
    who = Person(browser, live, "P-000368")
    try:
        page = who.page
        page.goto("/tasks")
        assert "/signin" in page.url, "a page that needs a person sends the browser to sign in"
        page.fill("#f-person_id", "P-000368")
        page.fill("#f-password", "not-the-password")
        with page.expect_navigation():
            page.locator('form[action="/signin"] button[type=submit]').click()
        assert page.locator(".error").count() >= 1
        who.check("signin-refused")
        who.sign_in()
        assert page.locator(".who").inner_text() == "P-000368"
        page.locator('form[action="/signout"] button').click()
        page.wait_for_url("**/signin")
    finally:
        who.close()


def test_language_switch_is_remembered(browser, live):
    who = Person(browser, live, "P-000368", lang="zh-CN")
    try:
        who.goto("/signin")
        who.page.select_option("#lang-select", "en")
        with who.page.expect_navigation():
            who.page.locator('form[action="/lang"] button').click()
        assert who.page.locator("h1").inner_text() == "Sign in"
        who.goto("/signin")
        assert who.page.locator("h1").inner_text() == "Sign in"
    finally:
        who.close()
