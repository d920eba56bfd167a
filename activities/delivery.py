"""The mail relay: delivers the outbox's messages by SMTP, each worker
running one beside its Temporal worker (the transactional outbox's relay).

Why a loop on the worker and not a Temporal activity per message: the
message is already durable — the append wrote it in the transaction that
stored its event — so the relay needs no history of its own to survive a
crash; an activity per message would add its scheduled/started/completed
events to every review's history (the budget of tests/workflows/
test_history_budget.py), carry the recipient's address through the
engine's payloads, and still be only at-least-once (Temporal's
documentation of activities, "Activity Definition: Idempotency", asks for
idempotent activities because a retry after a worker died past the side
effect runs it again). The outbox row is where the state
lives instead: a claim (``storage.outbox``) holds a message for one relay
while it tries it (a lease of ten SMTP timeouts, at least 10 s),
the outcome is written on the row (delivered, or the error and the next
attempt, or given up), and the counters say how many.

Delivery is **at-least-once**, and a duplicate happens in one window only:
the SMTP server accepted the message and the relay died (or lost the
database) before it recorded ``delivered_at``; the claim's lease then runs
out and a relay sends it again, with the same ``Message-ID``
(``<pingyi.outbox.ID@sender-domain>``), which lets a mail system drop the
second copy. Every other failure leaves the message undelivered and due
again after a backoff (doubling from ``PINGYI_MAIL_RETRY_SECONDS``, at most
an hour) until ``PINGYI_MAIL_MAX_ATTEMPTS``; a refused recipient (5xx) and a
person without an address are given up at once. A given-up message stays in
the outbox (and on the outbox page) with its error.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from email.message import EmailMessage
from email.utils import format_datetime

import aiosmtplib
import structlog
from sqlalchemy import Engine

from config.settings import Settings
from activities.metrics import DELIVERIES_FAILED, DELIVERIES_SENT
from storage.outbox import OutboxDeliveries, PendingMail

log = structlog.get_logger("pingyi.activities.delivery")

MAX_BACKOFF = timedelta(hours=1)


class DeliveryRefused(Exception):
    """The server refused this message for good (a 5xx about the recipient
    or the content): trying again cannot help."""


class ServerUnavailable(Exception):
    """The server could not be reached or dropped the connection: the round
    ends (the next one opens a new session)."""


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int
    sender: str
    tls: str = "starttls"  # starttls | tls | none
    user: str | None = None
    password: str | None = None
    timeout: float = 30

    @classmethod
    def from_settings(cls, s: Settings) -> "SmtpConfig":
        assert s.smtp_host and s.smtp_from  # mail_enabled, and the settings refuse a host without a sender
        return cls(host=s.smtp_host, port=s.smtp_port, sender=s.smtp_from, tls=s.smtp_tls, user=s.smtp_user,
                   password=s.smtp_password.get_secret_value() if s.smtp_password else None, timeout=s.smtp_timeout_seconds)


def mail_of(m: PendingMail, sender: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = m.address
    msg["Subject"] = m.subject
    msg["Date"] = format_datetime(datetime.now(timezone.utc))
    # the same id on every attempt, so a copy sent again after a crash is recognisable
    msg["Message-ID"] = f"<pingyi.outbox.{m.id}@{sender.rpartition('@')[2]}>"
    msg["X-Pingyi-Review"] = m.review_id
    msg["X-Pingyi-Kind"] = m.kind
    msg.set_content(m.body)
    return msg


class SmtpSession:
    """One connection for one round of messages."""

    def __init__(self, config: SmtpConfig) -> None:
        self.config = config
        self.client: aiosmtplib.SMTP | None = None

    async def __aenter__(self) -> "SmtpSession":
        c = self.config
        client = aiosmtplib.SMTP(hostname=c.host, port=c.port, timeout=c.timeout, use_tls=c.tls == "tls",
                                 start_tls=True if c.tls == "starttls" else False)
        try:
            await client.connect()
            if c.user:
                await client.login(c.user, c.password or "")
        except (aiosmtplib.SMTPException, OSError) as e:
            client.close()
            raise ServerUnavailable(describe(e)) from e
        self.client = client
        return self

    async def __aexit__(self, *exc) -> None:
        if self.client is None:
            return
        try:
            await self.client.quit()
        except (aiosmtplib.SMTPException, OSError):
            self.client.close()

    async def send(self, msg: EmailMessage) -> None:
        assert self.client is not None
        try:
            await self.client.send_message(msg)
        except aiosmtplib.SMTPRecipientsRefused as e:
            refusal = "; ".join(describe(r) for r in e.recipients)
            if all(r.code >= 500 for r in e.recipients):
                raise DeliveryRefused(refusal) from e
            raise RuntimeError(refusal) from e
        except (aiosmtplib.SMTPRecipientRefused, aiosmtplib.SMTPDataError) as e:
            if e.code >= 500:
                raise DeliveryRefused(describe(e)) from e
            raise
        except (aiosmtplib.SMTPServerDisconnected, aiosmtplib.SMTPTimeoutError, OSError) as e:
            raise ServerUnavailable(describe(e)) from e


def describe(e: BaseException) -> str:
    code = getattr(e, "code", None)
    text = getattr(e, "message", None) or str(e) or type(e).__name__
    return f"{code} {text}" if code else f"{type(e).__name__}: {text}"


@dataclass
class RelayRound:
    """What one round did, by message id."""

    sent: list[int] = field(default_factory=list)
    retrying: list[int] = field(default_factory=list)
    given_up: list[int] = field(default_factory=list)

    @property
    def handled(self) -> int:
        return len(self.sent) + len(self.retrying) + len(self.given_up)


Session = Callable[[], "SmtpSession"]


def lease_for(timeout: float) -> timedelta:
    """How long a claim holds one message: room for a fresh session's every
    command (connect, EHLO, STARTTLS, login, MAIL, RCPT, DATA) to take its
    whole timeout; a relay killed holding it delays that one message by this
    much, no more."""
    return timedelta(seconds=max(10.0, 10 * timeout))


class MailRelay:
    """Holds the outbox store and how to reach the SMTP server; built once per
    worker process. A round claims one message at a time, right before it
    tries it, so a relay that dies holds at most the one it was sending."""

    def __init__(self, store: OutboxDeliveries, session: Session, sender: str, *, max_attempts: int = 8,
                 retry_after: timedelta = timedelta(minutes=1), batch: int = 20, lease: timedelta = timedelta(minutes=5)) -> None:
        self.store, self.session, self.sender = store, session, sender
        self.max_attempts, self.retry_after, self.batch, self.lease = max_attempts, retry_after, batch, lease

    @classmethod
    def from_settings(cls, s: Settings, engine: Engine) -> "MailRelay":
        config = SmtpConfig.from_settings(s)
        return cls(OutboxDeliveries(engine), lambda: SmtpSession(config), config.sender, max_attempts=s.mail_max_attempts,
                   retry_after=timedelta(seconds=s.mail_retry_seconds), lease=lease_for(config.timeout))

    def backoff(self, attempts: int) -> timedelta:
        return min(self.retry_after * (2 ** max(attempts - 1, 0)), MAX_BACKOFF)

    async def run_once(self) -> RelayRound:
        """Up to ``batch`` due messages, each claimed and tried once, over one
        SMTP session opened for the first that has an address. A server that
        cannot be reached or goes away ends the round: the message in hand
        counts a failed attempt, the rest were never claimed."""
        done = RelayRound()
        last = 0  # a round is one pass in id order: a message it failed is not tried again in it
        async with contextlib.AsyncExitStack() as stack:
            smtp: SmtpSession | None = None
            while done.handled < self.batch:
                claimed = await asyncio.to_thread(self.store.claim_due, 1, self.lease, None, last)
                if not claimed:
                    break
                m = claimed[0]
                last = m.id
                if m.address is None:
                    await self._give_up(m, f"no e-mail address for {m.recipient_id} in the directory", done)
                    continue
                try:
                    mail = mail_of(m, self.sender)
                except (ValueError, TypeError) as e:  # a header mail cannot carry (a line break in a subject): never sendable
                    await self._give_up(m, f"cannot be written as mail: {e}", done)
                    continue
                try:
                    if smtp is None:
                        smtp = await stack.enter_async_context(self.session())
                    await smtp.send(mail)
                except DeliveryRefused as e:
                    await self._give_up(m, str(e), done)
                except ServerUnavailable as e:
                    await self._failed(m, str(e), done)
                    break
                except (aiosmtplib.SMTPException, RuntimeError) as e:
                    await self._failed(m, describe(e), done)
                else:
                    await asyncio.to_thread(self.store.delivered, m.id)
                    DELIVERIES_SENT.labels(m.kind).inc()
                    done.sent.append(m.id)
                    log.info("mail_delivered", review_id=m.review_id, message_id=m.id, recipient_id=m.recipient_id, kind=m.kind, attempts=m.attempts)
        return done

    async def _failed(self, m: PendingMail, error: str, done: RelayRound) -> None:
        if m.attempts >= self.max_attempts:
            await self._give_up(m, f"{error} (after {m.attempts} attempts)", done)
            return
        at = datetime.now(timezone.utc) + self.backoff(m.attempts)
        await asyncio.to_thread(self.store.retry_later, m.id, error, at)
        DELIVERIES_FAILED.labels(m.kind, "retry").inc()
        done.retrying.append(m.id)
        log.warning("mail_failed", review_id=m.review_id, message_id=m.id, kind=m.kind, attempts=m.attempts, retry_at=at.isoformat(), error=error)

    async def _give_up(self, m: PendingMail, error: str, done: RelayRound) -> None:
        await asyncio.to_thread(self.store.given_up, m.id, error)
        DELIVERIES_FAILED.labels(m.kind, "given_up").inc()
        done.given_up.append(m.id)
        log.error("mail_given_up", review_id=m.review_id, message_id=m.id, recipient_id=m.recipient_id, kind=m.kind, attempts=m.attempts, error=error)

    async def run(self, stop: asyncio.Event, every: float) -> None:
        """Until ``stop``: a round, then wait ``every`` seconds (a full round
        goes on at once: there is more waiting)."""
        while not stop.is_set():
            try:
                busy = (await self.run_once()).handled >= self.batch
            except Exception as e:  # the database is away: the next round tries again, the worker goes on
                log.warning("mail_relay_round_failed", error=f"{type(e).__name__}: {e}")
                busy = False
            if busy:
                continue
            try:
                await asyncio.wait_for(stop.wait(), every)
            except asyncio.TimeoutError:
                pass


def start_mail_relay(settings: Settings, engine: Engine, stop: asyncio.Event) -> "asyncio.Task[None] | None":
    """The relay as a background task of a worker process, when mail is
    configured (``PINGYI_SMTP_HOST``); None otherwise."""
    if not settings.mail_enabled:
        return None
    relay = MailRelay.from_settings(settings, engine)
    log.info("mail_relay_started", host=settings.smtp_host, port=settings.smtp_port, tls=settings.smtp_tls)
    return asyncio.create_task(relay.run(stop, settings.mail_poll_seconds))


async def stop_mail_relay(task: "asyncio.Task[None] | None", within: float = 5) -> None:
    """After ``stop`` was set: let the round in flight finish for ``within``
    seconds, then cancel it (a message it had handed over but not marked is
    the at-least-once window: sent again, same Message-ID)."""
    if task is None:
        return
    try:
        await asyncio.wait_for(task, within)
    except asyncio.TimeoutError:
        log.warning("mail_relay_cut_short", within_seconds=within)
