"""E-mail to sponsors and citizens through SMTP, from templates in German and English.

Templates live in rules/templates/<name>.<lang>.txt: the first line is `Subject: …`, then a
blank line and the body; `$name` placeholders are filled from the mail's context.
"""

from __future__ import annotations

import re
import smtplib
import ssl
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from importlib import resources
from string import Template
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from rules.errors import DeliveryError, RulesError

LANGUAGES = ("de", "en")
# RFC 5322 addr-spec in its dot-atom form: no quoted local parts, no domain literals, no
# display names or lists; the domain has at least two labels and a letter TLD.
_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
ADDR_SPEC = re.compile(rf"{_ATEXT}(?:\.{_ATEXT})*@(?:{_LABEL}\.)+[A-Za-z]{{2,63}}")


def is_addr_spec(value: str) -> bool:
    """One plain e-mail address (RFC 5322 addr-spec, dot-atom form) and nothing else."""
    return len(value) <= 254 and len(value.partition("@")[0]) <= 64 and \
        ADDR_SPEC.fullmatch(value) is not None


@dataclass(frozen=True, slots=True)
class SmtpTarget:
    """Where to send mail and as whom."""

    host: str
    port: int
    sender: str
    tls: bool = False
    starttls: bool = False
    username: str | None = None
    password: str | None = None


def parse_smtp_url(url: str) -> SmtpTarget:
    """`smtp://[user:pass@]host[:port][?from=addr&starttls=1]`, or `smtps://` for TLS."""
    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise RulesError(f"SMTP URL {url!r}: expected smtp://host:port or smtps://host:port")
    query = parse_qs(parts.query)
    tls = parts.scheme == "smtps"
    return SmtpTarget(
        host=parts.hostname, port=parts.port or (465 if tls else 25),
        sender=query.get("from", ["bauhof@localhost"])[0], tls=tls,
        starttls=query.get("starttls", ["0"])[0] in ("1", "true", "yes"),
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
    )


def render(template: str, lang: str, context: dict[str, Any]) -> tuple[str, str]:
    """Subject and body of a template in a language (German when the language is unknown)."""
    lang = lang if lang in LANGUAGES else "de"
    name = f"{template}.{lang}.txt"
    try:
        text = resources.files("rules").joinpath("templates", name).read_text("utf-8")
    except FileNotFoundError as exc:
        raise RulesError(f"no mail template {name} in rules/templates/") from exc
    filled = Template(text).safe_substitute({k: str(v) for k, v in context.items()})
    # A mail sent without signed links (no link secret configured) leaves their lines out.
    filled = "\n".join(line for line in filled.split("\n") if "$link_" not in line)
    head, _, body = filled.partition("\n\n")
    if not head.startswith("Subject: "):
        raise RulesError(f"mail template {name} must start with a 'Subject: ' line")
    return head.removeprefix("Subject: ").strip(), body.strip() + "\n"


def send(target: SmtpTarget, to: str, subject: str, body: str, timeout: float = 10.0, *,
         headers: dict[str, str] | None = None) -> None:
    """Send one plain-text mail; DeliveryError when the server refuses or is unreachable."""
    if not is_addr_spec(to):
        # Never a list or a display name: one stored before addresses were checked would
        # otherwise reach every recipient it names.
        raise DeliveryError("email", to, "not one e-mail address; not sent")
    message = EmailMessage()
    message["From"] = target.sender
    message["To"] = to
    message["Subject"] = subject
    # RFC 5322 wants both; without them some servers add their own and spam filters frown.
    message["Date"] = format_datetime(datetime.now(UTC))
    message["Message-ID"] = make_msgid(domain=target.sender.rpartition("@")[2] or "localhost")
    for name, value in (headers or {}).items():
        message[name] = value
    message.set_content(body)
    try:
        client: smtplib.SMTP = (
            smtplib.SMTP_SSL(target.host, target.port, timeout=timeout,
                             context=ssl.create_default_context())
            if target.tls else smtplib.SMTP(target.host, target.port, timeout=timeout))
        with client:
            if target.starttls:
                client.starttls(context=ssl.create_default_context())
            if target.username:
                client.login(target.username, target.password or "")
            client.send_message(message)
    except (OSError, smtplib.SMTPException) as exc:
        raise DeliveryError("email", to, str(exc) or type(exc).__name__) from exc
