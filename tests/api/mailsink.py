"""A local SMTP server (aiosmtpd) that keeps what it receives, for the mail tests."""

from __future__ import annotations

import email
from collections.abc import Iterator
from contextlib import contextmanager
from email.message import EmailMessage
from email.policy import default
from typing import Any

from aiosmtpd.controller import Controller

from bauhof.services import free_port
from rules import mail


class Inbox:
    """What the SMTP sink received (the envelope's recipients in X-Envelope-To)."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:
        """Keep the message."""
        message = email.message_from_bytes(envelope.content, policy=default)
        assert isinstance(message, EmailMessage)
        message["X-Envelope-To"] = ",".join(envelope.rcpt_tos)
        self.messages.append(message)
        return "250 OK"


@contextmanager
def smtp_sink() -> Iterator[tuple[mail.SmtpTarget, Inbox]]:
    """A running SMTP server on a free port and the target that sends to it."""
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield mail.parse_smtp_url(f"smtp://127.0.0.1:{port}?from=bauhof@town.example"), inbox
    finally:
        controller.stop()


def body(message: EmailMessage) -> str:
    """The plain-text body."""
    part = message.get_body(("plain",))
    assert part is not None
    return str(part.get_content())
