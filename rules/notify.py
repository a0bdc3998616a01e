"""Delivering the outbox after commit: MQTT (QoS 1, never retained), webhooks, e-mail.

Each channel has its own thread and database connection, so a slow webhook delays neither
MQTT events nor the engine. Rows are leased with a short UPDATE (no transaction is held
while delivering, which would hold back the engine's snapshot xmin), marked sent after
delivery, and retried with exponential backoff when delivery fails.

Webhooks are POSTed as JSON with `X-Bauhof-Topic`, `X-Bauhof-Delivery` (the outbox id, for
de-duplication) and `X-Bauhof-Signature: t=<unix time>,v1=<hex HMAC-SHA256 of "t.body">`
keyed with the webhook's secret; receivers recompute it and reject stale timestamps.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import logging
import socket
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from datetime import UTC, datetime
from typing import Any

import paho.mqtt.client as paho
import psycopg

from bauhof import db, signed_links
from bauhof.mqtt import make_client
from bauhof.settings import MqttTarget
from rules import mail, outbox
from rules.errors import DeliveryError

log = logging.getLogger("bauhof.rules.notify")
WEBHOOK_TIMEOUT_S = 5.0


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The signature header value for a webhook body."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={digest.hexdigest()}"


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A webhook's answer is its status: a redirect is a failure, never followed (issue 13:
    a receiver's redirect made the engine send a signed request to a loopback path)."""

    def redirect_request(  # noqa: PLR0917 - urllib calls it with these six
            self, req: urllib.request.Request, fp: Any, code: int, msg: str,
            headers: Any, newurl: str) -> None:
        """Refuse every redirect."""
        raise urllib.error.HTTPError(req.full_url, code, f"redirect to {newurl[:200]} refused",
                                     headers, fp)


_OPENER = urllib.request.build_opener(_NoRedirects)


def public_destination(url: str) -> None:
    """DeliveryError unless every address the URL's host resolves to is public."""
    host = urllib.parse.urlsplit(url).hostname or ""
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError) as exc:
        raise DeliveryError("webhook", url, f"cannot resolve {host!r}: {exc}") from exc
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])
        if not address.is_global:
            raise DeliveryError("webhook", url, f"{host} resolves to {address}, not a public "
                                "address; set BAUHOF_WEBHOOK_ALLOW_PRIVATE=1 to allow it")


def post_webhook(url: str, secret: str, item: outbox.Item, *,
                 allow_private: bool = False) -> None:
    """POST one event; DeliveryError unless the receiver answers 2xx itself (redirects are
    not followed; private destinations only with `allow_private`)."""
    if not url.startswith(("http://", "https://")):
        raise DeliveryError("webhook", url, "only http:// and https:// URLs are allowed")
    if not allow_private:
        # Checked at delivery, not only when the webhook was registered: DNS can change.
        public_destination(url)
    body = json.dumps(item.payload, separators=(",", ":")).encode()
    request = urllib.request.Request(url, data=body, method="POST", headers={  # noqa: S310
        "Content-Type": "application/json", "X-Bauhof-Topic": item.topic,
        "X-Bauhof-Delivery": str(item.id),
        "X-Bauhof-Signature": sign(secret, int(time.time()), body)})
    try:
        with _OPENER.open(request, timeout=WEBHOOK_TIMEOUT_S) as response:
            status = int(response.status)
    except urllib.error.HTTPError as exc:
        reason = str(exc.reason) if 300 <= exc.code < 400 else f"HTTP {exc.code}"
        raise DeliveryError("webhook", url, reason) from exc
    except (OSError, urllib.error.URLError) as exc:
        raise DeliveryError("webhook", url, str(exc)) from exc
    if not 200 <= status < 300:
        raise DeliveryError("webhook", url, f"HTTP {status}")


class Publisher:
    """Delivers the outbox in background threads until stopped."""

    def __init__(self, url: str, mqtt: MqttTarget | None, smtp: mail.SmtpTarget | None = None,
                 *, ca_file: str | None = None, poll_s: float = 0.5,
                 link_secret: str | None = None, public_url: str = "",
                 webhook_allow_private: bool = False) -> None:
        self.url = url
        # Mails to sponsors carry signed links (bauhof/signed_links.py), made at delivery.
        self.link_secret = link_secret
        # Links in mails (sponsors' actions, a citizen's status page and opt-out) start with
        # the public address of the API.
        self.public_url = public_url.rstrip("/")
        self.webhook_allow_private = webhook_allow_private
        self.mqtt_target = mqtt
        self.smtp = smtp
        self.ca_file = ca_file
        self.poll_s = poll_s
        self.delivered = {"mqtt": 0, "webhook": 0, "email": 0}
        self._stop = threading.Event()
        self._wake = {name: threading.Event() for name in self.delivered}
        self._threads: list[threading.Thread] = []
        self._client: paho.Client | None = None

    def start(self) -> None:
        """Connect to MQTT and start one thread per configured channel."""
        channels = ["webhook"]
        if self.mqtt_target is not None:
            self._client = make_client(self.mqtt_target, ca_file=self.ca_file)
            self._client.connect_async(self.mqtt_target.host, self.mqtt_target.port, 30)
            self._client.loop_start()
            channels.append("mqtt")
        if self.smtp is not None:
            channels.append("email")
        for channel in channels:
            thread = threading.Thread(target=self._loop, args=(channel,), daemon=True,
                                      name=f"bauhof-notify-{channel}")
            thread.start()
            self._threads.append(thread)

    def wake(self) -> None:
        """Something was committed: deliver now rather than at the next poll."""
        for event in self._wake.values():
            event.set()

    def stop(self) -> None:
        """Stop the threads and disconnect."""
        self._stop.set()
        self.wake()
        for thread in self._threads:
            thread.join(timeout=10)
        if self._client is not None:
            self._client.disconnect()
            self._client.loop_stop()

    def _loop(self, channel: str) -> None:
        conn: psycopg.Connection[Any] | None = None
        while not self._stop.is_set():
            try:
                if conn is None or conn.closed:
                    conn = db.connect(self.url, autocommit=True,
                                      application_name=f"bauhof-notify-{channel}")
                if self.deliver(conn, channel):
                    continue
            except (psycopg.Error, db.DatabaseError) as exc:
                log.warning("outbox %s: %s", channel, db.first_line(exc))
                if conn is not None:
                    conn.close()
                conn = None
            self._wake[channel].wait(self.poll_s)
            self._wake[channel].clear()
        if conn is not None:
            conn.close()

    def deliver(self, conn: psycopg.Connection[Any], channel: str) -> int:
        """Deliver one leased batch of a channel; return how many rows were handled."""
        items = outbox.claim(conn, (channel,))
        sent: list[int] = []
        for item in items:
            try:
                self._deliver(conn, item)
                sent.append(item.id)
            except DeliveryError as exc:
                log.info("outbox %s attempt %d: %s", item.id, item.attempts, exc)
                outbox.mark_failed(conn, item, str(exc))
            except psycopg.Error:
                raise
            except Exception as exc:  # one bad event must not stop its channel (issue 13)
                reason = f"cannot deliver the event: {type(exc).__name__}: {exc}"
                log.warning("outbox %s attempt %d: %s", item.id, item.attempts, reason)
                outbox.mark_failed(conn, item, reason)
        outbox.mark_sent(conn, sent)
        self.delivered[channel] += len(sent)
        return len(items)

    def _deliver(self, conn: psycopg.Connection[Any], item: outbox.Item) -> None:
        if item.channel == "mqtt":
            self._publish(item)
        elif item.channel == "webhook":
            row = conn.execute("SELECT url, secret FROM webhooks WHERE id = %s",
                               (item.webhook_id,)).fetchone()
            if row is None:
                raise DeliveryError("webhook", str(item.webhook_id), "webhook was removed")
            post_webhook(str(row[0]), str(row[1]), item,
                         allow_private=self.webhook_allow_private)
        elif item.channel == "email":
            if self.smtp is None:
                raise DeliveryError("email", str(item.payload.get("to")), "no SMTP configured")
            payload = item.payload
            context = dict(payload.get("context", {}))
            actions = signed_links.MAIL_LINKS.get(payload["template"], ())
            if actions and self.link_secret and context.get("sponsor_id"):
                context.update(signed_links.links(
                    self.public_url, self.link_secret, list(actions),
                    str(context["sponsor_id"]), datetime.now(UTC)))
            context["public_url"] = self.public_url
            subject, body = mail.render(payload["template"], payload.get("lang", "de"), context)
            headers = {}
            if "optout_api" in context:
                # RFC 8058 one-click unsubscribe: mail clients POST to this address.
                headers = {"List-Unsubscribe": f"<{self.public_url}{context['optout_api']}>",
                           "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}
            mail.send(self.smtp, payload["to"], subject, body, headers=headers)

    def _publish(self, item: outbox.Item) -> None:
        client = self._client
        if client is None or not client.is_connected():
            raise DeliveryError("mqtt", item.topic, "not connected to the broker")
        body = json.dumps(item.payload, separators=(",", ":"))
        info = client.publish(item.topic, body, qos=1, retain=False)
        try:
            info.wait_for_publish(timeout=5.0)
        except (RuntimeError, ValueError) as exc:
            raise DeliveryError("mqtt", item.topic, str(exc)) from exc
        if not info.is_published():
            raise DeliveryError("mqtt", item.topic, "no PUBACK within 5 s")
