"""Signed, expiring links in sponsors' e-mails: sponsors act without an account.

A token is `<payload>.<signature>`, both base64url without padding: the payload is compact
JSON `{"a": action, "s": subject, "e": expiry (unix seconds)}` (the subject is the
sponsorship for `confirm`, the sponsor's `sponsors` row for every other action), the
signature the HMAC-SHA256 of the payload's text under the link secret (BAUHOF_LINK_SECRET).
Anyone with the mail can use its links until they expire; nothing else can be forged.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import quote

from bauhof.errors import InputError

# What a link may do, and how long it stays valid.
ACTIONS: dict[str, timedelta] = {
    "confirm": timedelta(hours=72),
    "watered": timedelta(days=14),
    "cannot": timedelta(days=14),
    "end": timedelta(days=365),
    "stop_mail": timedelta(days=365),
}


# The links the rules engine's mails to sponsors carry (placeholders `$link_<action>`).
MAIL_LINKS: dict[str, tuple[str, ...]] = {
    "watering_request": ("watered", "cannot", "stop_mail"),
    "watering_reminder": ("watered", "cannot", "stop_mail"),
    "watering_request_balance": ("watered", "cannot", "stop_mail"),
}


class LinkError(InputError):
    """A link that is malformed, forged, expired or for another action; `reason` says which."""


@dataclass(frozen=True, slots=True)
class Link:
    """What a verified link allows."""

    action: str
    subject: str
    expires: datetime


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(secret: str, payload: str) -> str:
    return _b64(hmac.new(secret.encode(), payload.encode(), hashlib.sha256).digest())


def sign(secret: str, action: str, subject: str, now: datetime) -> str:
    """A token for one action on one subject, valid for the action's lifetime from now."""
    if action not in ACTIONS:
        raise ValueError(f"unknown link action {action!r}")
    expires = int((now + ACTIONS[action]).timestamp())
    payload = _b64(json.dumps({"a": action, "s": subject, "e": expires},
                              separators=(",", ":")).encode())
    return f"{payload}.{_mac(secret, payload)}"


def verify(secret: str, token: str, now: datetime) -> Link:
    """The link a token carries; LinkError when it is malformed, forged or expired."""
    payload, dot, signature = token.partition(".")
    if not dot or not payload or not signature or len(token) > 400:
        raise LinkError("the link is incomplete: open it from the e-mail again")
    if not hmac.compare_digest(_mac(secret, payload), signature):
        raise LinkError("the link is not valid: open it from the e-mail again")
    try:
        data = json.loads(_unb64(payload))
        action, subject, expires = str(data["a"]), str(data["s"]), int(data["e"])
    except (binascii.Error, ValueError, KeyError, TypeError) as exc:
        raise LinkError("the link is not valid: open it from the e-mail again") from exc
    if action not in ACTIONS:
        raise LinkError("the link is not valid: open it from the e-mail again")
    at = datetime.fromtimestamp(expires, now.tzinfo)
    if now >= at:
        raise LinkError("the link has expired")
    return Link(action, subject, at)


def url(base_url: str, secret: str, action: str, subject: str, now: datetime) -> str:
    """The portal address that carries out an action (the page asks before it acts)."""
    token = sign(secret, action, subject, now)
    return f"{base_url.rstrip('/')}/portal/act.html?t={quote(token)}"


def links(base_url: str, secret: str, actions: list[str], subject: str,
          now: datetime) -> dict[str, str]:
    """Template placeholders `link_<action>` for a mail's actions."""
    return {f"link_{a}": url(base_url, secret, a, subject, now) for a in actions}
