"""E-mail through a real local SMTP server (aiosmtpd): sponsors and citizens, de and en."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from bauhof.services import free_port
from rules import defects, mail, orders
from rules.notify import Publisher
from tests.fixtures.mailsink import Inbox, body, smtp_sink
from tests.rules import factory as f
from tests.rules.conftest import MakeEngine


@pytest.fixture
def smtp() -> Iterator[tuple[mail.SmtpTarget, Inbox]]:
    with smtp_sink() as sink:
        yield sink


def test_sponsor_is_asked_in_german_and_thanked(
        conn: psycopg.Connection[Any], database_url: str, make_engine: MakeEngine,
        smtp: tuple[mail.SmtpTarget, Inbox]) -> None:
    target, inbox = smtp
    f.sponsor(conn)
    f.area(conn, "ga1", dev=1, sponsor_id="sp1")
    engine = make_engine()
    for h in range(7):
        f.ingest(conn, [f.soil(1, h, 15.0)])
        engine.step()
    publisher = Publisher(database_url, None, target)
    assert publisher.deliver(conn, "email") == 1
    (request,) = inbox.messages
    assert (request["To"], request["From"], request["Subject"]) == (
        "pat@example.org", "bauhof@town.example", "Bitte gießen: Area ga1 ist trocken")
    assert "seit 2026-06-01 00:00 bei 15 %" in body(request)
    (order,) = orders.list_orders(conn)
    assert (order.status, order.assignee) == ("assigned", "sponsor:sp1")
    for h in (10, 12):
        f.ingest(conn, [f.soil(1, h, 33.0)])
        engine.step()
    assert publisher.deliver(conn, "email") == 1
    thanks = inbox.messages[1]
    assert thanks["Subject"] == "Danke! Area ga1 hat wieder genug Wasser"
    done = orders.get(conn, order.id)
    assert (done.status, done.resolved_by) == ("resolved", "sponsor:sp1")


def test_citizen_is_told_in_english_when_fixed(
        conn: psycopg.Connection[Any], database_url: str,
        smtp: tuple[mail.SmtpTarget, Inbox]) -> None:
    target, inbox = smtp
    f.bin_(conn)
    conn.execute("UPDATE bins SET name = 'Marktplatz 3' WHERE id = 'b1'")
    report = defects.report(conn, subject_type="bin", subject_id="b1",
                            description="lid broken", email="anna@example.org", lang="en")
    orders.transition(conn, report.order_id, "done", "crew-2")
    assert Publisher(database_url, None, target).deliver(conn, "email") == 1
    (message,) = inbox.messages
    # The place in words, no internal defect, order or bin id; Date and Message-ID set.
    assert message["Subject"] == "Your report has been dealt with (Marktplatz 3)"
    assert 'thank you for your report "lid broken" (Marktplatz 3).' in body(message)
    assert str(report.defect_id) not in body(message) + message["Subject"]
    assert message["Date"] is not None
    assert message["Message-ID"].endswith("@town.example>")


def test_unreachable_smtp_is_retried(conn: psycopg.Connection[Any], database_url: str) -> None:
    f.bin_(conn)
    report = defects.report(conn, subject_type="bin", subject_id="b1",
                            description="x", email="anna@example.org")
    orders.transition(conn, report.order_id, "done", "crew-2")
    dead = mail.parse_smtp_url(f"smtp://127.0.0.1:{free_port()}")
    assert Publisher(database_url, None, dead).deliver(conn, "email") == 1
    assert conn.execute("SELECT status, attempts FROM outbox WHERE channel = 'email'"
                        ).fetchall() == [("pending", 1)]


def test_every_template_renders_in_both_languages() -> None:
    context = {"sponsor": "S", "area": "A", "moisture": "12", "since": "x", "grace_h": "48",
               "defect_id": 1, "description": "d", "subject": "bin b1", "name": "N",
               "planting": "", "reason": "r", "result": "ok", "note": "",
               "litres": "480 l (12 l/m²)", "deficit": "12",
               **{f"link_{a}": "https://x/" for a in ("confirm", "watered", "cannot", "end",
                                                      "stop_mail")},
               "place": "Marktplatz 3", "request_id": 5, "service": "S", "step": "s",
               "status_path": "/s", "optout_path": "/o", "public_url": "https://bauhof.example"}
    citizen = [f"citizen_{step}" for step in ("received", "merged", "taken_on",
                                               "in_progress", "done", "closed")]
    for template in ("watering_request", "watering_reminder", "watering_thanks",
                     "defect_fixed", "sponsorship_confirm", "sponsorship_received",
                     "sponsorship_approved", "sponsorship_declined", "sponsorship_ended",
                     "sponsorship_inspection", "watering_request_balance", *citizen):
        for lang in ("de", "en"):
            subject, body = mail.render(template, lang, context)
            assert "$" not in subject + body


def test_one_bad_event_neither_stops_the_outbox_nor_holds_back_the_others(
        conn: psycopg.Connection[Any], database_url: str,
        smtp: tuple[mail.SmtpTarget, Inbox]) -> None:
    target, inbox = smtp
    from psycopg.types.json import Jsonb
    good = {"to": "anna@example.org", "template": "defect_fixed", "lang": "en",
            "context": {"description": "x", "id": 1}, "ref": {}}
    for payload in ({"template": "defect_fixed"}, {**good, "template": "no_such_template"},
                    good):
        conn.execute("INSERT INTO outbox (channel, topic, payload) VALUES ('email', 't', %s)",
                     (Jsonb(payload),))
    assert Publisher(database_url, None, target).deliver(conn, "email") == 3
    assert [m["To"] for m in inbox.messages] == ["anna@example.org"]
    assert conn.execute("SELECT status, attempts, last_error FROM outbox ORDER BY id"
                        ).fetchall() == [
        ("pending", 1, "cannot deliver the event: KeyError: 'to'"),
        ("pending", 1, "cannot deliver the event: RulesError: no mail template "
                       "no_such_template.en.txt in rules/templates/"),
        ("sent", 1, None)]
