"""Publishing after commit: MQTT (QoS 1, not retained) and signed webhooks with retries."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

import paho.mqtt.client as paho
import psycopg
import pytest

from bauhof.assignee import Assignee
from bauhof.services import Mosquitto
from bauhof.settings import MqttTarget
from rules import orders
from rules.actions import Open
from rules.notify import Publisher
from tests.fixtures.mqtt import subscribed
from tests.rules import factory as f

SECRET = "s3cret-s3cret-s3cret"


def _open_bin_order(conn: psycopg.Connection[Any]) -> int:
    f.bin_(conn)
    with conn.transaction():
        oid, _ = orders.apply_open(conn, Open(
            rule="bins.full", kind="empty_bin", subject_type="bin", subject_id="b1",
            at=f.at(1), title="Empty bin b1", value=85.0), "rules")
    return oid


def test_events_reach_mqtt_with_qos1_not_retained(conn: psycopg.Connection[Any],
                                                   database_url: str,
                                                   broker: Mosquitto) -> None:
    target = MqttTarget("127.0.0.1", broker.port, False, None, None)
    received: list[paho.MQTTMessage] = []
    got_all = threading.Event()

    def on_message(message: paho.MQTTMessage) -> None:
        received.append(message)
        if len(received) == 2:
            got_all.set()

    with subscribed(broker, "bauhof/#", on_message):
        publisher = Publisher(database_url, target, poll_s=0.05)
        publisher.start()
        try:
            oid = _open_bin_order(conn)
            orders.transition(conn, oid, "assigned", "dispatcher", assignee=Assignee.crew("crew-1"))
            publisher.wake()
            assert got_all.wait(10)
        finally:
            publisher.stop()
    assert [(m.topic, m.qos, m.retain) for m in received] == [
        (f"bauhof/workorders/{oid}/opened", 1, False),
        (f"bauhof/workorders/{oid}/assigned", 1, False)]
    body = json.loads(received[1].payload)
    assert (body["event"], body["actor"], body["order"]["status"], body["order"]["assignee"]) \
        == ("assigned", "dispatcher", "assigned", "crew:crew-1")
    pending = conn.execute("SELECT count(*) FROM outbox WHERE status <> 'sent'").fetchone()
    assert pending == (0,)


class _Hook(BaseHTTPRequestHandler):
    answers: ClassVar[list[int]] = []
    seen: ClassVar[list[tuple[dict[str, str], bytes]]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).seen.append((dict(self.headers), body))
        answer = type(self).answers.pop(0)
        self.send_response(answer)
        if answer in (301, 302, 303, 307, 308):
            self.send_header("Location", "/latest/meta-data/")
        self.end_headers()

    def do_GET(self) -> None:
        type(self).seen.append((dict(self.headers), b"GET " + self.path.encode()))
        self.send_response(200)
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        return


@pytest.fixture
def hook_server() -> Iterator[tuple[str, type[_Hook]]]:
    handler = type("Hook", (_Hook,), {"answers": [], "seen": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hook", handler
    server.shutdown()
    server.server_close()


def test_webhook_is_signed_and_retried_with_backoff(
        conn: psycopg.Connection[Any], database_url: str,
        hook_server: tuple[str, type[_Hook]]) -> None:
    url, hook = hook_server
    hook.answers = [500, 200]
    conn.execute("INSERT INTO webhooks (url, secret, topics) VALUES "
                 "(%s, %s, ARRAY['workorders/+/opened'])", (url, SECRET))
    oid = _open_bin_order(conn)
    orders.transition(conn, oid, "cancelled", "dispatcher")  # not in the filter
    # The receiver is on loopback: allowed explicitly, as an operator would.
    publisher = Publisher(database_url, None, webhook_allow_private=True)
    assert publisher.deliver(conn, "webhook") == 1
    row = conn.execute("SELECT status, attempts, last_error, "
                       "round(extract(epoch FROM next_attempt_at - now())) FROM outbox "
                       "WHERE channel = 'webhook'").fetchone()
    assert row == ("pending", 1, f"webhook delivery to {url} failed: HTTP 500", 5)
    assert publisher.deliver(conn, "webhook") == 0  # backing off
    conn.execute("UPDATE outbox SET next_attempt_at = now() WHERE channel = 'webhook'")
    assert publisher.deliver(conn, "webhook") == 1
    assert conn.execute("SELECT status, attempts FROM outbox WHERE channel = 'webhook'"
                        ).fetchall() == [("sent", 2)]
    headers, body = hook.seen[-1]
    t, v1 = (part.split("=", 1)[1] for part in headers["X-Bauhof-Signature"].split(","))
    expected = hmac.new(SECRET.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    assert v1 == expected
    assert headers["X-Bauhof-Topic"] == f"bauhof/workorders/{oid}/opened"
    assert json.loads(body)["order"]["id"] == oid


@pytest.mark.parametrize("code", [302, 307])
def test_a_redirecting_webhook_is_not_followed(
        conn: psycopg.Connection[Any], database_url: str,
        hook_server: tuple[str, type[_Hook]], code: int) -> None:
    url, hook = hook_server
    hook.answers = [code]
    conn.execute("INSERT INTO webhooks (url, secret, topics) VALUES "
                 "(%s, %s, ARRAY['workorders/+/opened'])", (url, SECRET))
    _open_bin_order(conn)
    assert Publisher(database_url, None, webhook_allow_private=True).deliver(
        conn, "webhook") == 1
    # One POST, and nothing sent to where the redirect pointed.
    assert [body[:4] for _, body in hook.seen] == [b'{"at']
    location = url.rsplit("/", 1)[0] + "/latest/meta-data/"
    assert conn.execute("SELECT status, last_error FROM outbox WHERE channel = 'webhook'"
                        ).fetchall() == [
        ("pending", f"webhook delivery to {url} failed: redirect to {location} refused")]


def test_a_loopback_webhook_is_refused_by_default(
        conn: psycopg.Connection[Any], database_url: str,
        hook_server: tuple[str, type[_Hook]]) -> None:
    url, hook = hook_server
    hook.answers = [200]
    conn.execute("INSERT INTO webhooks (url, secret, topics) VALUES "
                 "(%s, %s, ARRAY['workorders/+/opened'])", (url, SECRET))
    _open_bin_order(conn)
    assert Publisher(database_url, None).deliver(conn, "webhook") == 1
    assert hook.seen == []
    assert conn.execute("SELECT status, last_error FROM outbox WHERE channel = 'webhook'"
                        ).fetchall() == [
        ("pending", f"webhook delivery to {url} failed: 127.0.0.1 resolves to 127.0.0.1, not "
                    "a public address; set BAUHOF_WEBHOOK_ALLOW_PRIVATE=1 to allow it")]


def test_a_webhook_receiver_that_never_answers_times_out(
        conn: psycopg.Connection[Any], database_url: str) -> None:
    import socket

    silent = socket.create_server(("127.0.0.1", 0))  # accepts, never answers
    url = f"http://127.0.0.1:{silent.getsockname()[1]}/hook"
    try:
        conn.execute("INSERT INTO webhooks (url, secret, topics) VALUES "
                     "(%s, %s, ARRAY['workorders/+/opened'])", (url, SECRET))
        _open_bin_order(conn)
        assert Publisher(database_url, None, webhook_allow_private=True).deliver(
            conn, "webhook") == 1
    finally:
        silent.close()
    assert conn.execute("SELECT status, last_error FROM outbox WHERE channel = 'webhook'"
                        ).fetchall() == [("pending", f"webhook delivery to {url} failed: "
                                                     "timed out")]
