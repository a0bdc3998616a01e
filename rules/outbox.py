"""The outbox: events and mails written in the same transaction as the change they report.

Delivery happens after commit (rules/notify.py, rules/mail.py), with retries, so a slow
webhook or mail server never holds up the engine and a crash never loses an event.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from rules.actions import Mail

CHANNEL = "bauhof_outbox"
TOPIC_ROOT = "bauhof"
MAX_ATTEMPTS = 10
# Claimed rows are invisible to other deliverers for this long (a crashed one's come back).
LEASE = timedelta(seconds=60)

# MQTT topic filter (relative to bauhof/) → a POSIX regular expression, in SQL.
_WEBHOOKS = (
    "INSERT INTO outbox (channel, topic, webhook_id, payload) "
    "SELECT 'webhook', %s, w.id, %s FROM webhooks w WHERE w.active AND EXISTS ("
    "SELECT 1 FROM unnest(w.topics) f "
    "WHERE %s ~ ('^' || replace(replace(f, '+', '[^/]+'), '#', '.*') || '$'))"
)


def topic(category: str, entity_id: int, event: str) -> str:
    """`bauhof/workorders/<id>/<event>` or `bauhof/defects/<id>/<event>`."""
    return f"{TOPIC_ROOT}/{category}/{entity_id}/{event}"


def publish(conn: psycopg.Connection[Any], category: str, entity_id: int, event: str,
            payload: dict[str, Any]) -> None:
    """Queue an event for MQTT and for every active webhook whose filter matches."""
    full = topic(category, entity_id, event)
    relative = full.removeprefix(f"{TOPIC_ROOT}/")
    body = Jsonb(payload)
    conn.execute(
        "INSERT INTO outbox (channel, topic, payload) VALUES ('mqtt', %s, %s)", (full, body))
    conn.execute(_WEBHOOKS, (full, body, relative))
    conn.execute("SELECT pg_notify(%s, '')", (CHANNEL,))


def queue_mail(conn: psycopg.Connection[Any], mail: Mail, ref: dict[str, Any]) -> None:
    """Queue an e-mail from a template; `ref` says which order or defect it is about."""
    conn.execute(
        "INSERT INTO outbox (channel, topic, payload) VALUES ('email', %s, %s)",
        (mail.template, Jsonb({"to": mail.to, "template": mail.template, "lang": mail.lang,
                               "context": mail.context, "ref": ref})),
    )
    conn.execute("SELECT pg_notify(%s, '')", (CHANNEL,))


@dataclass(frozen=True, slots=True)
class Item:
    """One claimed outbox row."""

    id: int
    channel: str
    topic: str
    webhook_id: int | None
    payload: dict[str, Any]
    attempts: int


def claim(conn: psycopg.Connection[Any], channels: tuple[str, ...], limit: int = 100) -> (
    list[Item]
):
    """Lease due rows of these channels (a short autocommit statement, no long lock)."""
    rows = conn.execute(
        "UPDATE outbox SET attempts = attempts + 1, next_attempt_at = now() + %s "
        "WHERE id IN (SELECT id FROM outbox WHERE status = 'pending' "
        "AND next_attempt_at <= now() AND channel = ANY(%s) "
        "ORDER BY id LIMIT %s FOR UPDATE SKIP LOCKED) "
        "RETURNING id, channel, topic, webhook_id, payload, attempts",
        (LEASE, list(channels), limit),
    ).fetchall()
    return sorted((Item(*row) for row in rows), key=lambda i: i.id)


def mark_sent(conn: psycopg.Connection[Any], ids: list[int]) -> None:
    """Record delivery."""
    if ids:
        conn.execute("UPDATE outbox SET status = 'sent', sent_at = now(), last_error = NULL "
                     "WHERE id = ANY(%s)", (ids,))


def backoff(attempts: int) -> timedelta:
    """Wait before the next attempt: 5 s, 10 s, 20 s, … at most an hour."""
    return timedelta(seconds=min(5 * 2 ** max(attempts - 1, 0), 3600))


def mark_failed(conn: psycopg.Connection[Any], item: Item, error: str,
                now: datetime | None = None) -> None:
    """Schedule a retry with backoff, or give up after MAX_ATTEMPTS."""
    now = now or datetime.now(UTC)
    final = item.attempts >= MAX_ATTEMPTS
    conn.execute(
        "UPDATE outbox SET status = %s, next_attempt_at = %s, last_error = %s WHERE id = %s",
        ("failed" if final else "pending", now + backoff(item.attempts), error[:500], item.id),
    )
