"""Standing roles for the browser tests' people, granted the way ``reviewctl
users grant`` does, and reviews that are already overdue."""

from __future__ import annotations

import time

from app.accounts import CLI_ADMIN, AddAccount, GrantRole
from app.errors import Conflict
from app.reviews import StartReviewInput, start_review
from domain.accounts import StandingRole
from test_reviewer_walk import OFFICE


def grant(live, person_id: str, role: StandingRole, scope: str | None = None) -> None:
    try:
        live.accounts.add_account(CLI_ADMIN, AddAccount(person_id=person_id))
    except Conflict:
        pass
    live.accounts.grant(CLI_ADMIN, GrantRole(person_id=person_id, role=role, scope=scope))


def overdue_review(live, subject_id: str) -> str:
    """A review whose investigation deadline passes a second after it starts."""
    started = live.call(start_review(live.ctx, OFFICE, StartReviewInput(subject_id=subject_id, days={"investigate": 1.5 / 86400})))
    return started.review_id


def wait_overdue(live, review_id: str, timeout: float = 60) -> None:
    from app.reviews import state_from_log

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if state_from_log(live.ctx, review_id).is_overdue():
            return
        time.sleep(0.3)
    raise AssertionError(f"{review_id} did not become overdue")
