"""`kill -9` of the ingest process in the middle of a stream loses and duplicates nothing."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time

import psycopg

from bauhof.services import Mosquitto
from ingest import load
from ingest.rawpublish import PublishResult, publish_all
from tests.ingest.conftest import wait_for

EVENTS = 6000


def _start_ingest(database_url: str, broker: Mosquitto) -> subprocess.Popen[bytes]:
    env = {**os.environ, "BAUHOF_DATABASE_URL": database_url,
           "BAUHOF_MQTT_URL": f"mqtt://127.0.0.1:{broker.port}"}
    return subprocess.Popen(
        [sys.executable, "-m", "shell", "ingest", "--client-id", "crash-test",
         "--batch-size", "300"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )


def _wait_connected(conn: psycopg.Connection[tuple[object, ...]],
                    proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while conn.execute("SELECT count(*) FROM pg_stat_activity"
                       " WHERE application_name = 'bauhof-ingest'").fetchone() != (1,):
        assert proc.poll() is None, "bauhof ingest exited"
        assert time.monotonic() < deadline, "bauhof ingest did not connect"
        time.sleep(0.05)
    time.sleep(0.5)  # the MQTT session follows the database connection


def test_kill_9_mid_stream_then_restart_loses_and_duplicates_nothing(
        conn: psycopg.Connection[tuple[object, ...]], database_url: str,
        broker: Mosquitto) -> None:
    fleet = load.devices(50)
    messages = list(load.uplinks(EVENTS, fleet, seed=7))
    proc = _start_ingest(database_url, broker)
    _wait_connected(conn, proc)
    results: list[PublishResult] = []
    publisher = threading.Thread(
        target=lambda: results.append(publish_all("127.0.0.1", broker.port, messages,
                                                  window=200)))
    publisher.start()
    deadline = time.monotonic() + 60
    while conn.execute("SELECT count(*) FROM raw_uplinks").fetchone()[0] < EVENTS // 4:  # type: ignore[index]
        assert time.monotonic() < deadline
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait(10)
    killed_at = conn.execute("SELECT count(*) FROM raw_uplinks").fetchone()[0]  # type: ignore[index]
    assert 0 < killed_at < EVENTS
    publisher.join(120)
    assert results and (results[0].sent, results[0].acked) == (EVENTS, EVENTS)

    restarted = _start_ingest(database_url, broker)
    try:
        wait_for(conn, "SELECT count(*) FROM raw_uplinks", EVENTS, timeout=120)
        wait_for(conn, "SELECT count(*) FROM readings", EVENTS, timeout=30)
    finally:
        restarted.send_signal(signal.SIGTERM)
        assert restarted.wait(30) == 0
    distinct = conn.execute(
        "SELECT count(DISTINCT deduplication_id), count(*) FROM raw_uplinks").fetchone()
    assert distinct == (EVENTS, EVENTS)
    assert conn.execute("SELECT count(*) FROM dead_letters").fetchone() == (0,)
