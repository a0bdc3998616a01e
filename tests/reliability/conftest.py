"""Helpers for reliability tests: an ingest worker in a thread, and a QoS 1 publisher."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import psycopg
import pytest

from bauhof.services import Mosquitto
from tests.ingest.conftest import RunningWorker, wait_for

Conn = psycopg.Connection[tuple[object, ...]]
Publish = Callable[[str, bytes], None]
__all__ = ["Conn", "Publish", "ThreadWorker", "wait_for"]


class ThreadWorker(RunningWorker):
    """`IngestWorker` in a thread of the test process, in batches of 200."""

    def __init__(self, database_url: str, broker: Mosquitto, client_id: str) -> None:
        super().__init__(database_url, broker, client_id, batch_size=200)

    def start_probed(self, conn: Conn, publish: Publish) -> ThreadWorker:
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


@pytest.fixture
def worker(database_url: str, broker: Mosquitto, conn: Conn,
           publish: Publish) -> Iterator[ThreadWorker]:
    """A started ingest worker in a thread."""
    running = ThreadWorker(database_url, broker, "reliability-ingest").start_probed(conn, publish)
    try:
        yield running
    finally:
        if running.thread.is_alive():
            running.stop()
