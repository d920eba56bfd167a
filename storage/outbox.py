"""The mail relay's side of the outbox: claim the messages due for an
attempt, record each attempt's outcome.

A claim is one conditional UPDATE per message (``next_attempt_at`` pushed a
lease into the future, ``attempts`` + 1) that only succeeds while the message
is still undelivered, not given up and due: two relays (two workers) racing
for a message both run it, and the database lets exactly one of them change
the row — PostgreSQL re-checks the condition on the row the winner
committed, SQLite has one writer. ``next_attempt_at`` is both the lease and
the backoff: a relay that dies holding a message leaves it due again when
the lease runs out, and a failed attempt moves it to the retry time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from sqlalchemy import Engine, and_, or_, select, update

from storage.directory import people_t
from storage.schema import outbox

MAX_ERROR_CHARS = 1000


@dataclass(frozen=True, slots=True)
class PendingMail:
    """One claimed message with the recipient's address (None: the directory
    has none for them, or they are not a person of it)."""

    id: int
    review_id: str
    recipient_id: str
    kind: str
    subject: str
    body: str
    attempts: int  # this one included
    address: str | None


def _pending(now: datetime):
    c = outbox.c
    return and_(c.delivered_at.is_(None), c.failed_at.is_(None), or_(c.next_attempt_at.is_(None), c.next_attempt_at <= now))


class OutboxDeliveries:
    """Claims and outcomes on one engine, either backend."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def claim_due(self, limit: int, lease: timedelta, now: datetime | None = None, after: int = 0) -> list[PendingMail]:
        """Up to ``limit`` messages due now, oldest first (past id ``after``),
        each held for ``lease`` by this caller alone."""
        now = now or datetime.now(timezone.utc)
        c = outbox.c
        with self.engine.begin() as conn:
            ids = [r[0] for r in conn.execute(select(c.id).where(_pending(now), c.id > after).order_by(c.id).limit(limit))]
            claimed = [i for i in ids if conn.execute(
                update(outbox).where(c.id == i, _pending(now)).values(next_attempt_at=now + lease, attempts=c.attempts + 1)).rowcount == 1]
        if not claimed:
            return []
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(c.id, c.stream_id, c.recipient_id, c.kind, c.subject, c.body, c.attempts, people_t.c.email)
                .select_from(outbox.outerjoin(people_t, people_t.c.id == c.recipient_id))
                .where(c.id.in_(claimed)).order_by(c.id)).all()
        return [PendingMail(id=r[0], review_id=r[1], recipient_id=r[2], kind=r[3], subject=r[4], body=r[5], attempts=r[6], address=r[7]) for r in rows]

    def delivered(self, message_id: int, at: datetime | None = None) -> None:
        with self.engine.begin() as conn:
            conn.execute(update(outbox).where(outbox.c.id == message_id, outbox.c.delivered_at.is_(None))
                         .values(delivered_at=at or datetime.now(timezone.utc), next_attempt_at=None, last_error=None))

    def retry_later(self, message_id: int, error: str, at: datetime) -> None:
        """The attempt failed for a reason that may pass: try again at ``at``."""
        with self.engine.begin() as conn:
            conn.execute(update(outbox).where(outbox.c.id == message_id, outbox.c.delivered_at.is_(None))
                         .values(next_attempt_at=at, last_error=error[:MAX_ERROR_CHARS]))

    def given_up(self, message_id: int, error: str, at: datetime | None = None) -> None:
        """No more attempts: the message stays in the outbox, marked failed with why."""
        with self.engine.begin() as conn:
            conn.execute(update(outbox).where(outbox.c.id == message_id, outbox.c.delivered_at.is_(None))
                         .values(failed_at=at or datetime.now(timezone.utc), next_attempt_at=None, last_error=error[:MAX_ERROR_CHARS]))
