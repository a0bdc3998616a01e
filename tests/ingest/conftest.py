"""Helpers for ingest tests (reliability's use them too): a worker thread against the fixtures'
broker and database, and polling a query."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import psycopg
import pytest

from bauhof.services import Mosquitto
from bauhof.settings import parse_mqtt_url
from ingest.worker import IngestConfig, IngestWorker


class RunningWorker:
    """An ingest worker running in a thread of the test process."""

    def __init__(self, database_url: str, broker: Mosquitto, client_id: str,
                 batch_size: int = 500) -> None:
        self.worker = IngestWorker(IngestConfig(
            database_url=database_url, mqtt=parse_mqtt_url(f"mqtt://127.0.0.1:{broker.port}"),
            client_id=client_id, batch_size=batch_size, batch_seconds=0.05,
            stats_interval_s=3600,
        ))
        self.thread = threading.Thread(target=self.worker.run, daemon=True)

    def start(self) -> RunningWorker:
        """Start and wait for the subscription."""
        self.thread.start()
        if not self.worker._connected.wait(10):
            raise AssertionError("ingest worker did not connect")
        # The SUBACK follows the CONNACK closely; a publish right after is still queued
        # for this persistent session once the subscription exists.
        time.sleep(0.2)
        return self

    def stop(self) -> None:
        """Stop and wait for the thread."""
        self.worker.stop()
        self.thread.join(30)
        assert not self.thread.is_alive()


@pytest.fixture
def ingest_worker(database_url: str, broker: Mosquitto) -> Iterator[RunningWorker]:
    """A started ingest worker."""
    running = RunningWorker(database_url, broker, "test-ingest").start()
    try:
        yield running
    finally:
        if running.thread.is_alive():
            running.stop()


def wait_for(conn: psycopg.Connection[tuple[object, ...]], sql: str, expected: object,
             timeout: float = 30.0) -> None:
    """Poll a query until it returns `expected` (one value) or fail with what it returned."""
    deadline = time.monotonic() + timeout
    value: object = None
    while time.monotonic() < deadline:
        row = conn.execute(sql).fetchone()
        value = row[0] if row else None
        if value == expected:
            return
        time.sleep(0.05)
    raise AssertionError(f"{sql!r} gave {value!r}, expected {expected!r}")
