"""Helpers for reliability tests: an ingest worker in a thread, and a QoS 1 publisher."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator

import psycopg
import pytest

from bauhof.services import Mosquitto
from bauhof.settings import parse_mqtt_url
from ingest.worker import IngestConfig, IngestWorker

Conn = psycopg.Connection[tuple[object, ...]]
Publish = Callable[[str, bytes], None]


class ThreadWorker:
    """`IngestWorker` in a thread of the test process; its exceptions fail the test."""

    def __init__(self, database_url: str, broker: Mosquitto, client_id: str) -> None:
        self.worker = IngestWorker(IngestConfig(
            database_url=database_url, mqtt=parse_mqtt_url(f"mqtt://127.0.0.1:{broker.port}"),
            client_id=client_id, batch_size=200, batch_seconds=0.05, stats_interval_s=3600,
        ))
        self.thread = threading.Thread(target=self.worker.run, daemon=True)

    def start(self, conn: Conn, publish: Publish) -> ThreadWorker:
        """Start, and wait until a weather probe is stored (the subscription is in place)."""
        self.thread.start()
        deadline = time.monotonic() + 20
        hour = 0
        while conn.execute("SELECT count(*) FROM weather WHERE station = 'probe'"
                           ).fetchone() == (0,):
            assert self.thread.is_alive(), "the ingest worker died while starting"
            assert time.monotonic() < deadline, "the ingest worker stored no probe"
            publish("bauhof/weather/probe",
                    b'{"time": "2000-01-01T%02d:00:00+00:00", "rain_mm_h": 0}' % (hour % 24))
            hour += 1
            time.sleep(0.1)
        conn.execute("DELETE FROM weather WHERE station = 'probe'")
        return self

    def stop(self) -> None:
        """Stop and wait for the thread."""
        self.worker.stop()
        self.thread.join(30)
        assert not self.thread.is_alive()


@pytest.fixture
def worker(database_url: str, broker: Mosquitto, conn: Conn,
           publish: Publish) -> Iterator[ThreadWorker]:
    """A started ingest worker in a thread."""
    running = ThreadWorker(database_url, broker, "reliability-ingest").start(conn, publish)
    try:
        yield running
    finally:
        if running.thread.is_alive():
            running.stop()


def wait_for(conn: Conn, sql: str, expected: object, timeout: float = 30.0) -> None:
    """Poll a query until its one value is `expected`; fail with what it returned."""
    deadline = time.monotonic() + timeout
    value: object = None
    while time.monotonic() < deadline:
        row = conn.execute(sql).fetchone()
        value = row[0] if row else None
        if value == expected:
            return
        time.sleep(0.05)
    raise AssertionError(f"{sql!r} gave {value!r}, expected {expected!r}")
