"""Fuzzing every topic ingest subscribes to: whatever arrives, each message becomes exactly one
stored row or one dead letter with a reason, written by the real writer into PostgreSQL, and
the worker's write path never raises."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from bauhof.settings import parse_mqtt_url
from ingest.prepare import Message
from ingest.worker import IngestConfig, IngestWorker
from tests.fixtures.fuzz import json_values
from tests.reliability.corpus.generate import event

Conn = psycopg.Connection[tuple[object, ...]]
APP = "c3f2c4aa-07c8-4d6c-8a86-7ea2d4a31dca"
EUI = "24e124538b223213"
EVENT_TYPES = ["up", "status", "join", "log", "location", "ack", "txack", "integration"]

ANY_JSON = json_values(max_text=20, max_key=8, max_items=3, max_leaves=10)
bombs = st.sampled_from([
    b"[" * 5000, b"{" * 3000, b'{"a":' * 40 + b"1" + b"}" * 40,
    b'{"time":"2026-12-04T21:00:00+00:00","rain_mm_h":1' + b"0" * 4300 + b"}",
    b'{"time":"2026-12-04T21:00:00+00:00","rain_mm_h":1e999}', b"\x00" * 64, b"",
    b'{"time":"\\u0000","rain_mm_h":1}', b"x" * 300_000,
])


def _fill(pattern: str, segments: list[str]) -> str:
    """A concrete topic for a subscription filter: each `+` replaced by the next segment."""
    parts = pattern.split("/")
    filled = [segments.pop(0) if p == "+" else p for p in parts]
    return "/".join(filled)


@st.composite
def messages(draw: st.DrawFn, patterns: list[str]) -> tuple[str, bytes]:
    """A message on one of the subscribed topics: a bomb, bytes, a JSON value, or a valid
    event with one field replaced by any JSON value."""
    pattern = draw(st.sampled_from(patterns))
    segments = [draw(st.sampled_from([APP, EUI, "herrenberg", "x", *EVENT_TYPES]))
                for _ in range(pattern.count("+"))]
    topic = _fill(pattern, segments)
    kind = draw(st.sampled_from(["bomb", "bytes", "json", "field"]))
    if kind == "bomb":
        payload = draw(bombs)
    elif kind == "bytes":
        payload = draw(st.binary(max_size=256))
    elif kind == "json":
        payload = json.dumps(draw(ANY_JSON)).encode()
    else:
        body: dict[str, Any] = event(EUI)
        body[draw(st.sampled_from(sorted(body)))] = draw(ANY_JSON)
        payload = json.dumps(body).encode()
    return topic, payload


@pytest.fixture
def writer_worker(database_url: str) -> Iterator[IngestWorker]:
    """An ingest worker with its database connection, fed directly (no broker needed)."""
    worker = IngestWorker(IngestConfig(database_url=database_url,
                                       mqtt=parse_mqtt_url("mqtt://127.0.0.1:1")))
    worker._writer = worker._connect_db()
    try:
        yield worker
    finally:
        worker._close_db()


def _subscribed(worker: IngestWorker) -> list[str]:
    return worker._topics()


def test_the_fuzzed_topics_are_the_subscribed_ones(writer_worker: IngestWorker) -> None:
    assert _subscribed(writer_worker) == ["application/+/device/+/event/+", "bauhof/weather/+"]


@settings(max_examples=120, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(data=st.data())
@example(data=None)
def test_every_message_on_every_subscribed_topic_is_stored_once_or_dead_lettered(
        writer_worker: IngestWorker, conn: Conn, data: st.DataObject | None) -> None:
    patterns = _subscribed(writer_worker)
    if data is None:
        batch_messages = [("bauhof/weather/herrenberg", b"[" * 5000)]
    else:
        batch_messages = data.draw(st.lists(messages(patterns), min_size=1, max_size=6))
    before = _counts(conn)
    received = [Message(t, p, n + 1, 1, time.monotonic(), 0)
                for n, (t, p) in enumerate(batch_messages)]
    c = writer_worker.counters
    counted = (c.stored, c.duplicates, c.dead_lettered)
    writer_worker._write(received, writer_worker._build(received), writer_worker._epoch)
    after = _counts(conn)
    stored, duplicates, dead = (c.stored - counted[0], c.duplicates - counted[1],
                                c.dead_lettered - counted[2])
    # Every message is accounted for once: stored, a duplicate, or dead-lettered (its dead
    # letter stored now, or already there from an identical message before).
    assert stored + duplicates + dead == len(received)
    assert after[0] - before[0] == stored
    assert 0 <= after[1] - before[1] <= dead
    assert conn.execute("SELECT count(*) FROM dead_letters WHERE reason = ''").fetchone() == (0,)


def _counts(conn: Conn) -> tuple[int, int]:
    stored = conn.execute(
        "SELECT (SELECT count(*) FROM raw_uplinks) + (SELECT count(*) FROM device_status)"
        " + (SELECT count(*) FROM device_events) + (SELECT count(*) FROM weather)").fetchone()
    dead = conn.execute("SELECT count(*) FROM dead_letters").fetchone()
    assert stored is not None and dead is not None
    return int(str(stored[0])), int(str(dead[0]))
