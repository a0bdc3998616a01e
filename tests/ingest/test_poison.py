"""Poison messages: none stops ingest; each is dead-lettered with its reason and acknowledged.

Against a real Mosquitto and a real TimescaleDB: the weather bombs of issue 13 (a number of
4,300 digits, 5,000 nested `[`) and their kin on the ChirpStack topics, each followed by a
good uplink that must be stored once.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import paho.mqtt.client as paho
import psycopg

from bauhof.mqtt import connect_properties, make_client
from bauhof.services import Mosquitto
from bauhof.settings import parse_mqtt_url
from tests import factories
from tests.ingest.conftest import RunningWorker, wait_for

Conn = psycopg.Connection[tuple[object, ...]]
Publish = Callable[[str, bytes], None]
SOIL = "a840410000000001"
GOOD = bytes.fromhex("CE2900F107A5099B6E2890")
DIGITS = b'{"time":"2026-12-04T21:00:00+00:00","rain_mm_h":1' + b"0" * 4300 + b"}"
NESTED = b"[" * 5000


def wait_for_value(read: Callable[[], int], expected: int) -> None:
    """Poll a counter of the worker (the writer thread accounts after its commit)."""
    deadline = time.monotonic() + 20
    while read() != expected and time.monotonic() < deadline:
        time.sleep(0.05)
    assert read() == expected


def _object_bomb() -> bytes:
    """An uplink whose decoded `object` nests deeper than a JSON writer goes."""
    body = factories.encode(factories.uplink("a8404100000000ff", GOOD, f_cnt=1))
    nested = b'{"a":' * 600 + b"1" + b"}" * 600
    return body[:-1] + b',"object":' + nested + b"}"


def test_weather_bombs_are_dead_lettered_and_ingest_goes_on(
        conn: Conn, ingest_worker: RunningWorker, publish: Publish) -> None:
    publish("bauhof/weather/herrenberg", DIGITS)
    publish("bauhof/weather/herrenberg", NESTED)
    publish("bauhof/weather/herrenberg", DIGITS)  # the same bomb again: one row, counted twice
    publish(factories.topic(SOIL), factories.encode(factories.uplink(SOIL, GOOD, f_cnt=7)))
    wait_for(conn, "SELECT count(*) FROM raw_uplinks", 1)
    wait_for(conn, "SELECT count(*) FROM dead_letters", 2)
    assert ingest_worker.thread.is_alive()
    reasons = dict(conn.execute(
        "SELECT length(payload), reason FROM dead_letters ORDER BY id").fetchall())
    assert reasons == {
        4350: "invalid JSON: number is infinity when parsed as double: line 1 column 49 (char 48)",
        5000: "invalid JSON: depth limit exceeded: line 1 column 1026 (char 1025)",
    }
    assert conn.execute("SELECT count(*) FROM weather").fetchone() == (0,)
    counters = ingest_worker.worker.counters
    wait_for_value(lambda: counters.received, 4)
    assert (counters.stored, counters.duplicates, counters.dead_lettered) == (1, 0, 3)


def test_an_event_nested_too_deep_to_store_is_dead_lettered(
        conn: Conn, ingest_worker: RunningWorker, publish: Publish) -> None:
    publish(factories.topic("a8404100000000ff"), _object_bomb())
    publish(factories.topic(SOIL), factories.encode(factories.uplink(SOIL, GOOD, f_cnt=8)))
    wait_for(conn, "SELECT count(*) FROM raw_uplinks", 1)
    wait_for(conn, "SELECT count(*) FROM dead_letters", 1)
    assert ingest_worker.thread.is_alive()
    (reason,) = conn.execute("SELECT reason FROM dead_letters").fetchone() or ("",)
    assert reason == "JSON nested 601 levels deep; the limit is 32"


def test_a_dead_lettered_poison_message_is_acknowledged(
        conn: Conn, database_url: str, broker: Mosquitto, publish: Publish) -> None:
    first = RunningWorker(database_url, broker, "poison-ack").start()
    publish("bauhof/weather/herrenberg", NESTED)
    wait_for(conn, "SELECT count(*) FROM dead_letters", 1)
    first.stop()
    # Acknowledged: the persistent session gives the next start nothing before a new probe
    # (a session delivers what it holds, in order, before anything published later).
    received: list[str] = []
    done = threading.Event()

    def on_message(_c: object, _u: object, message: paho.MQTTMessage) -> None:
        received.append(message.topic)
        if message.topic == "bauhof/weather/probe":
            done.set()

    client = make_client(parse_mqtt_url(f"mqtt://127.0.0.1:{broker.port}"), "poison-ack")
    client.on_message = on_message
    client.connect("127.0.0.1", broker.port, clean_start=False,
                   properties=connect_properties(3600, 100))
    client.loop_start()
    try:
        publish("bauhof/weather/probe", b'{"time": "2026-01-01T00:00:00+00:00", "rain_mm_h": 0}')
        assert done.wait(10)
    finally:
        client.disconnect()
        client.loop_stop()
    assert received == ["bauhof/weather/probe"]
