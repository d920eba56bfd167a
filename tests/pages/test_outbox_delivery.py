"""The outbox page says what became of each message by mail, in the reader's
language: delivered (when), not delivered (after how many attempts, why),
waiting to be tried again, or waiting for the relay; with mail off it says
that nothing leaves the machine and shows no delivery line."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from starlette.requests import Request

from app.outbox import OutboxMessage
from pages import i18n
from pages.rendering import render
from pages.routes.outbox import prompt

AT = datetime(2026, 12, 1, 2, 0, tzinfo=timezone.utc)


def _message(i: int, **delivery) -> OutboxMessage:
    return OutboxMessage(id=i, review_id=f"rv-{i}", version=1, recipient_id="P-000368", kind="task_prompt",
                         subject="Please act (investigate)", body="…", created_at=AT, **delivery)


MESSAGES = [
    _message(1, delivered_at=AT + timedelta(minutes=1), attempts=1),
    _message(2, failed_at=AT + timedelta(hours=3), attempts=8, last_error="550 mailbox unavailable"),
    _message(3, attempts=2, last_error="451 try later"),
    _message(4),
]


def _page(locale: str, mail_on: bool) -> str:
    token = i18n.set_locale(locale)
    try:
        request = Request({"type": "http", "method": "GET", "path": "/outbox", "query_string": b"", "headers": [], "state": {}})
        response = render(request, "outbox.html", {"messages": MESSAGES, "prompt": prompt, "may_choose": False, "mail_on": mail_on, "next_cursor": None})
    finally:
        i18n.reset_locale(token)
    return response.body.decode()


@pytest.mark.parametrize(("locale", "words"), [
    ("zh_CN", ["已投递", "未能投递", "共尝试 8 次", "550 mailbox unavailable", "等待重试（已尝试 2 次）", "451 try later", "等待邮件中继发送", "邮件中继还会"]),
    ("en", ["Delivered", "Not delivered", "after 8 attempts", "550 mailbox unavailable", "Waiting to be tried again (2 attempts so far)", "Waiting for the mail relay", "The mail relay also sends"]),
])
def test_each_message_says_what_became_of_it_by_mail(locale, words):
    html = _page(locale, mail_on=True)
    for w in words:
        assert w in html, w
    assert html.count('class="delivery"') == 4


def test_with_mail_off_nothing_is_said_about_delivery_but_that_it_is_off():
    html = _page("en", mail_on=False)
    assert "Mail delivery is off" in html
    assert 'class="delivery"' not in html
