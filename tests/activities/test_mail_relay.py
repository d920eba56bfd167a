"""The mail relay against a real SMTP server (aiosmtpd on a free port), on
SQLite and PostgreSQL: messages the append wrote are delivered once each,
with the recipient's directory address and a stable Message-ID; a server
that answers 451 is counted as failed and tried again after a backoff until
it takes the message, or until the attempts run out; a refused recipient, a
person without an address and a server that is not there are recorded with
their error; STARTTLS (the default) verifies the server's certificate;
two relays never hold the same message; the worker's /metrics lists the
counts."""

from __future__ import annotations

import asyncio
import ipaddress
import ssl
import urllib.request
from datetime import UTC, datetime, timedelta

import pytest
from ports import free_port
from smtp_sink import smtp_sink
from sqlalchemy import select

from activities.delivery import MailRelay, SmtpConfig, SmtpSession, start_mail_relay, stop_mail_relay
from config.settings import Settings
from domain.events import EventRecord
from domain.org import Directory, Person, Tier, Unit, UnitKind
from service import telemetry
from storage.directory import DirectoryStore
from storage.eventlog import EventStore, OutboxMessage
from storage.outbox import OutboxDeliveries
from storage.schema import outbox

SENDER = "pingyi@example.org"


@pytest.fixture
def smtp():
    with smtp_sink() as box:
        yield box


@pytest.fixture
def store(engine):
    people = [Person(id="P-1", name="王建国", email="wang@example.org"), Person(id="P-2", name="李秀英", email="li@example.org"),
              Person(id="P-3", name="张伟")]
    DirectoryStore(engine).replace(Directory.build([Unit(id="U-A", name="总局党组", tier=Tier.HEADQUARTERS, kind=UnitKind.PARTY_GROUP, leader_id="P-1")], people), source="test")
    return EventStore(engine)


def append(store: EventStore, stream: str, messages: list[tuple[str, str]]) -> None:
    """One event with its messages (recipient, kind), through the real append."""
    record = EventRecord(stream_id=stream, version=1, event_type="test.noted", schema_version=1, occurred_at=datetime(2026, 12, 1, tzinfo=UTC), payload={})
    store.append(stream, 0, [record], [OutboxMessage(version=1, recipient_id=r, kind=k, subject=f"[{stream}] 提醒 {k}", body=f"Review {stream}: {k} for {r}.") for r, k in messages])


def relay(engine, port: int, **kw) -> MailRelay:
    config = SmtpConfig(host="127.0.0.1", port=port, sender=SENDER, tls="none", timeout=10)
    return MailRelay(OutboxDeliveries(engine), lambda: SmtpSession(config), SENDER, **kw)


def rows(engine) -> dict[tuple[str, str], dict]:
    with engine.connect() as conn:
        return {(r.recipient_id, r.kind): r._asdict() for r in conn.execute(select(outbox))}


def sent(kind: str) -> float:
    return telemetry.REGISTRY.get_sample_value("pingyi_deliveries_sent_total", {"kind": kind}) or 0.0


def failed(kind: str, outcome: str) -> float:
    return telemetry.REGISTRY.get_sample_value("pingyi_deliveries_failed_total", {"kind": kind, "outcome": outcome}) or 0.0


async def test_each_message_is_delivered_once_to_the_directory_address(engine, store, smtp):
    append(store, "rv-mail-1", [("P-1", "task_prompt"), ("P-2", "reminder")])
    before = sent("task_prompt"), sent("reminder")
    r = relay(engine, smtp.port)
    first = await r.run_once()
    assert len(first.sent) == 2 and not first.retrying and not first.given_up
    assert (await r.run_once()).sent == []  # delivered is delivered: nothing goes twice
    got = {tuple(to): msg for to, msg in smtp.received}
    assert set(got) == {("wang@example.org",), ("li@example.org",)} and len(smtp.received) == 2
    msg = got[("li@example.org",)]
    assert msg["From"] == SENDER and msg["Subject"] == "[rv-mail-1] 提醒 reminder" and msg["X-Pingyi-Review"] == "rv-mail-1"
    assert msg.get_content().strip() == "Review rv-mail-1: reminder for P-2."
    state = rows(engine)
    assert msg["Message-ID"] == f"<pingyi.outbox.{state[('P-2', 'reminder')]['id']}@example.org>"
    for row in state.values():
        assert row["delivered_at"] is not None and row["attempts"] == 1 and row["failed_at"] is None and row["last_error"] is None
    assert (sent("task_prompt") - before[0], sent("reminder") - before[1]) == (1, 1)


async def test_a_busy_server_is_counted_as_failed_and_retried_with_backoff(engine, store, smtp):
    append(store, "rv-mail-2", [("P-1", "overdue")])
    smtp.busy = 2
    before = failed("overdue", "retry"), sent("overdue")
    r = relay(engine, smtp.port, retry_after=timedelta(seconds=30))
    t0 = datetime.now(UTC)
    first = await r.run_once()
    assert first.retrying and not first.sent
    row = rows(engine)[("P-1", "overdue")]
    assert row["delivered_at"] is None and row["failed_at"] is None and row["attempts"] == 1 and "451" in row["last_error"]
    due = row["next_attempt_at"].replace(tzinfo=UTC)
    assert t0 + timedelta(seconds=29) <= due <= datetime.now(UTC) + timedelta(seconds=31)
    assert (await r.run_once()).retrying == []  # not due yet: waiting out its backoff
    assert r.backoff(1) == timedelta(seconds=30) and r.backoff(2) == timedelta(seconds=60) and r.backoff(20) == timedelta(hours=1)

    fast = relay(engine, smtp.port, retry_after=timedelta(0))
    OutboxDeliveries(engine).retry_later(row["id"], row["last_error"], datetime.now(UTC))  # the backoff has passed
    assert (await fast.run_once()).retrying  # 451 again
    assert (await fast.run_once()).sent == [row["id"]]  # the server takes it now
    row = rows(engine)[("P-1", "overdue")]
    assert row["delivered_at"] is not None and row["attempts"] == 3 and row["last_error"] is None
    assert (failed("overdue", "retry") - before[0], sent("overdue") - before[1]) == (2, 1)
    assert len(smtp.received) == 1


async def test_attempts_run_out_and_the_message_is_recorded_as_failed(engine, store, smtp):
    append(store, "rv-mail-3", [("P-2", "plan_returned")])
    smtp.busy = 99
    before = failed("plan_returned", "given_up")
    r = relay(engine, smtp.port, retry_after=timedelta(0), max_attempts=3)
    outcomes = [await r.run_once() for _ in range(4)]
    assert [bool(o.retrying) for o in outcomes] == [True, True, False, False] and outcomes[2].given_up and not outcomes[3].given_up
    row = rows(engine)[("P-2", "plan_returned")]
    assert row["failed_at"] is not None and row["delivered_at"] is None and row["attempts"] == 3
    assert "451" in row["last_error"] and "after 3 attempts" in row["last_error"]
    assert failed("plan_returned", "given_up") - before == 1 and smtp.received == []


async def test_a_refused_recipient_and_a_person_without_an_address_are_given_up_at_once(engine, store, smtp):
    append(store, "rv-mail-4", [("P-1", "cancelled"), ("P-3", "cancelled"), ("office", "cancelled"), ("P-2", "cancelled")])
    smtp.unknown = {"wang@example.org"}
    before = failed("cancelled", "given_up")
    done = await relay(engine, smtp.port).run_once()
    assert len(done.given_up) == 3 and len(done.sent) == 1
    state = rows(engine)
    assert "550" in state[("P-1", "cancelled")]["last_error"] and state[("P-1", "cancelled")]["failed_at"] is not None
    assert state[("P-3", "cancelled")]["last_error"] == "no e-mail address for P-3 in the directory"
    assert state[("office", "cancelled")]["last_error"] == "no e-mail address for office in the directory"
    assert state[("P-2", "cancelled")]["delivered_at"] is not None
    assert failed("cancelled", "given_up") - before == 3
    assert (await relay(engine, smtp.port).run_once()).given_up == []  # a given-up message is not tried again


async def test_a_server_that_is_not_there_fails_the_attempt_and_loses_nothing(engine, store):
    """The round ends at the first message: the others were never claimed, so
    they are not held and their attempts are not spent."""
    append(store, "rv-mail-5", [("P-1", "task_prompt"), ("P-2", "task_prompt")])
    r = relay(engine, free_port())
    first = await r.run_once()
    assert len(first.retrying) == 1 and first.handled == 1
    state = rows(engine)
    assert (state[("P-1", "task_prompt")]["attempts"], state[("P-2", "task_prompt")]["attempts"]) == (1, 0)
    assert "ConnectionRefused" in state[("P-1", "task_prompt")]["last_error"] or "connect" in state[("P-1", "task_prompt")]["last_error"].lower()
    assert (await r.run_once()).retrying == [state[("P-2", "task_prompt")]["id"]]  # the next round: the next message
    for row in rows(engine).values():
        assert row["delivered_at"] is None and row["failed_at"] is None and row["attempts"] == 1 and row["last_error"]


def test_two_relays_never_hold_the_same_message(engine, store):
    append(store, "rv-mail-6", [("P-1", "reminder"), ("P-2", "reminder"), ("P-3", "reminder")])
    a, b = OutboxDeliveries(engine), OutboxDeliveries(engine)
    lease = timedelta(minutes=5)
    held = a.claim_due(2, lease)
    rest = b.claim_due(10, lease)
    assert len(held) == 2 and len(rest) == 1 and not {m.id for m in held} & {m.id for m in rest}
    assert b.claim_due(10, lease) == []  # everything is held
    later = datetime.now(UTC) + lease + timedelta(seconds=1)  # a relay died holding them: its lease runs out
    again = b.claim_due(10, lease, now=later)
    assert sorted(m.id for m in again) == sorted(m.id for m in held + rest) and {m.attempts for m in again} == {2}
    assert {m.recipient_id: m.address for m in again} == {"P-1": "wang@example.org", "P-2": "li@example.org", "P-3": None}


async def test_the_worker_relay_runs_from_settings_and_metrics_list_the_counts(engine, store, smtp, tmp_path):
    append(store, "rv-mail-7", [("P-1", "reminder"), ("P-2", "review_delivered"), ("P-3", "reminder")])
    settings = Settings(_env_file=None, data_dir=tmp_path, smtp_host="127.0.0.1", smtp_port=smtp.port, smtp_tls="none", smtp_from=SENDER, mail_poll_seconds=0.05)
    stop = asyncio.Event()
    task = start_mail_relay(settings, engine, stop)
    assert task is not None and start_mail_relay(Settings(_env_file=None, data_dir=tmp_path), engine, stop) is None  # no host: no relay
    for _ in range(200):
        if len(smtp.received) == 2:
            break
        await asyncio.sleep(0.05)
    stop.set()
    await stop_mail_relay(task)
    assert len(smtp.received) == 2

    probes = telemetry.Probes()
    server = telemetry.serve_probes(f"127.0.0.1:{free_port()}", probes)
    try:
        body = await asyncio.to_thread(lambda: urllib.request.urlopen(f"http://127.0.0.1:{server.server_address[1]}/metrics", timeout=5).read().decode())
    finally:
        server.shutdown()
    lines = {line.rsplit(" ", 1)[0]: float(line.rsplit(" ", 1)[1]) for line in body.splitlines() if line and not line.startswith("#")}
    assert lines['pingyi_deliveries_sent_total{kind="reminder"}'] >= 1 and lines['pingyi_deliveries_sent_total{kind="review_delivered"}'] >= 1
    assert lines['pingyi_deliveries_failed_total{kind="reminder",outcome="given_up"}'] >= 1  # P-3 has no address
    assert "pingyi_reminders_sent_total" in lines


@pytest.mark.parametrize("values,words", [
    ({"smtp_host": "mail.example.org"}, "PINGYI_SMTP_FROM must be set"),
    ({"smtp_host": "mail.example.org", "smtp_from": "Pingyi <pingyi@example.org>"}, "smtp_from"),
    ({"smtp_host": "mail.example.org", "smtp_from": SENDER, "smtp_password": "pw"}, "PINGYI_SMTP_PASSWORD needs PINGYI_SMTP_USER"),
    ({"smtp_host": "mail.example.org", "smtp_from": SENDER, "smtp_user": "u", "smtp_password": "pw", "smtp_tls": "none", "environment": "production"}, "PINGYI_SMTP_TLS cannot be none"),
    ({"smtp_tls": "ssl"}, "smtp_tls"),
])
def test_mail_settings_refuse_what_cannot_work_naming_the_setting(values, words):
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match=words):
        Settings(_env_file=None, **values)


def test_mail_is_off_by_default_and_an_empty_variable_is_unset(monkeypatch):
    assert not Settings(_env_file=None).mail_enabled
    for name in ("PINGYI_SMTP_HOST", "PINGYI_SMTP_USER", "PINGYI_SMTP_PASSWORD", "PINGYI_SMTP_FROM"):
        monkeypatch.setenv(name, "")  # what compose passes for an unset optional variable
    s = Settings(_env_file=None)
    assert not s.mail_enabled and s.smtp_user is None and s.smtp_password is None


async def test_a_message_mail_cannot_carry_is_given_up_and_the_rest_delivered(engine, store, smtp):
    record = EventRecord(stream_id="rv-mail-8", version=1, event_type="test.noted", schema_version=1, occurred_at=datetime(2026, 12, 1, tzinfo=UTC), payload={})
    store.append("rv-mail-8", 0, [record], [OutboxMessage(version=1, recipient_id="P-1", kind="plan_returned", subject="退回\r\nBcc: someone@example.org", body="b"),
                                          OutboxMessage(version=1, recipient_id="P-2", kind="plan_returned", subject="退回", body="b")])
    done = await relay(engine, smtp.port).run_once()
    assert len(done.given_up) == 1 and len(done.sent) == 1
    assert rows(engine)[("P-1", "plan_returned")]["last_error"].startswith("cannot be written as mail")
    assert [to for to, _ in smtp.received] == [["li@example.org"]]


def _self_signed(tmp_path):
    """A certificate for 127.0.0.1, and a server context holding it."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.now(UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(minutes=1)).not_valid_after(now + timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(cert_file, key_file)
    return cert_file, server


async def test_starttls_the_default_is_used_and_a_server_that_requires_it_refuses_plain_text(engine, store, tmp_path, monkeypatch):
    cert_file, server_context = _self_signed(tmp_path)
    monkeypatch.setenv("SSL_CERT_FILE", str(cert_file))  # the relay verifies the server's certificate against this CA
    append(store, "rv-mail-9", [("P-1", "task_prompt")])
    with smtp_sink(tls_context=server_context) as box:
        plain = MailRelay(OutboxDeliveries(engine), lambda: SmtpSession(SmtpConfig(host="127.0.0.1", port=box.port, sender=SENDER, tls="none")), SENDER, retry_after=timedelta(0))
        assert (await plain.run_once()).retrying  # 530: STARTTLS first
        assert "530" in rows(engine)[("P-1", "task_prompt")]["last_error"]
        default = SmtpConfig.from_settings(Settings(_env_file=None, data_dir=tmp_path, smtp_host="127.0.0.1", smtp_port=box.port, smtp_from=SENDER))
        assert default.tls == "starttls"
        secured = MailRelay(OutboxDeliveries(engine), lambda: SmtpSession(default), SENDER)
        assert len((await secured.run_once()).sent) == 1 and len(box.received) == 1
