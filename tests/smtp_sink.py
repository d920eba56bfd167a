"""A real SMTP server for tests (aiosmtpd in a thread), shared by the mail
relay's tests and the two-worker end-to-end test."""

from __future__ import annotations

from contextlib import contextmanager
from email import message_from_bytes, policy

from aiosmtpd.controller import Controller
from ports import free_port


class Mailbox:
    """An aiosmtpd handler: keeps what it accepts; answers 451 to the next
    ``busy`` messages and 550 to the addresses in ``unknown``."""

    def __init__(self) -> None:
        self.received: list = []
        self.busy = 0
        self.unknown: set[str] = set()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802 (aiosmtpd's name)
        if address in self.unknown:
            return "550 5.1.1 no such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        if self.busy > 0:
            self.busy -= 1
            return "451 4.3.0 mailbox busy, try again later"
        msg = message_from_bytes(envelope.content, policy=policy.default)
        self.received.append((envelope.rcpt_tos, msg))
        return "250 OK"


@contextmanager
def smtp_sink(port: int = 0, tls_context=None):
    """A Mailbox behind aiosmtpd on 127.0.0.1 (a free port unless given); its
    ``port`` attribute says where. With ``tls_context`` it offers STARTTLS and
    refuses mail before it."""
    box = Mailbox()
    tls = {"tls_context": tls_context, "require_starttls": True} if tls_context else {}
    controller = Controller(box, hostname="127.0.0.1", port=port or free_port(), **tls)
    controller.start()
    box.port = controller.port
    try:
        yield box
    finally:
        controller.stop()
