"""The fast MQTT reader's private paho names are checked at start; without them ingest falls
back to paho's public API and still stores and acknowledges every message once."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from bauhof import mqttsocket
from bauhof.mqtt import make_client
from bauhof.services import Mosquitto
from bauhof.settings import parse_mqtt_url
from tests import factories
from tests.ingest.conftest import RunningWorker, wait_for

Conn = psycopg.Connection[tuple[object, ...]]
SOIL = "a840410000000001"
T0 = datetime(2026, 5, 4, 10, 0, tzinfo=UTC)
PAYLOAD = bytes.fromhex("CE2900F107A5099B6E2890")


def test_the_pinned_paho_has_every_internal_the_fast_path_needs() -> None:
    assert mqttsocket.missing_internals() == []
    client = make_client(parse_mqtt_url("mqtt://127.0.0.1:1"), "x", buffered=True)
    assert type(client) is mqttsocket.BufferedClient


def test_a_paho_without_them_falls_back_to_the_public_api_and_says_so(
        monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, conn: Conn,
        database_url: str, broker: Mosquitto,
        publish: Callable[[str, bytes], None]) -> None:
    monkeypatch.setattr(mqttsocket, "PAHO_INTERNALS",
                        (*mqttsocket.PAHO_INTERNALS, "_gone_in_a_later_release"))
    with caplog.at_level(logging.WARNING, logger="bauhof.mqttsocket"):
        client = make_client(parse_mqtt_url("mqtt://127.0.0.1:1"), "x", buffered=True)
    assert type(client) is mqttsocket.RawClient
    assert [r.getMessage() for r in caplog.records] == [
        "paho-mqtt 2.2.0 lacks _gone_in_a_later_release, which the "
        "fast MQTT reader needs: falling back to plain paho (slower; pin the version in "
        "pyproject.toml)"]

    conn.execute("INSERT INTO devices (dev_eui, model, kind) VALUES (%s, 'dragino-lse01', "
                 "'soil')", (SOIL,))
    first = RunningWorker(database_url, broker, "fallback-test").start()
    assert type(first.worker._client) is mqttsocket.RawClient
    for i in range(40):
        publish(factories.topic(SOIL), factories.encode(factories.uplink(
            SOIL, PAYLOAD, f_cnt=i, time=T0 + timedelta(minutes=i),
            dedup=str(uuid.UUID(int=i + 1)))))
    wait_for(conn, "SELECT count(*) FROM raw_uplinks", 40)
    first.stop()
    assert (first.worker.counters.received, first.worker.counters.stored) == (40, 40)
    # Every message was acknowledged: the resumed session receives only the new one.
    second = RunningWorker(database_url, broker, "fallback-test").start()
    publish(factories.topic(SOIL), factories.encode(factories.uplink(
        SOIL, PAYLOAD, f_cnt=99, time=T0 - timedelta(days=1))))
    wait_for(conn, "SELECT count(*) FROM raw_uplinks", 41)
    second.stop()
    assert (second.worker.counters.received, second.worker.counters.duplicates) == (1, 0)
    assert conn.execute("SELECT count(*) FROM readings").fetchone() == (41,)
