"""Scale-out: three `bauhof ingest` on one MQTT shared subscription, two `bauhof rules` shards.

Against a real Mosquitto and TimescaleDB, a stream of bin uplinks (with redeliveries and
broken messages mixed in) must be stored once each, nothing lost, and raise exactly the
expected work orders, none twice. The workers' own /metrics pages, scraped over HTTP, must
account for every message and every order.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import zlib
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest

from bauhof import codecs
from bauhof.services import Mosquitto, free_port
from ingest.rawpublish import publish_all
from tests.factories import encode, topic, uplink
from tests.ingest.conftest import wait_for
from tests.prometheus import Samples, scrape, value
from tests.rules import factory as f

INGEST, RULES = 3, 2
BINS = 60
READINGS = 50  # per bin, below the threshold
FULL = range(0, 30)  # bins that cross the threshold...
EMPTIED = range(0, 12)  # ...and of those, the ones emptied afterwards
REPEATS = 200  # events published a second time (same deduplication id)
BROKEN = 7


def _event(n: int, when: datetime, fill_pct: float, f_cnt: int) -> tuple[str, bytes]:
    dev = f.eui(1000 + n)
    fport, payload = codecs.encode(f.BIN, {"battery_pct": 90, "tilted": False,
                                           "distance_mm": round(f.fill_distance(fill_pct))})
    return topic(dev), encode(uplink(dev, payload, f_port=fport, f_cnt=f_cnt, time=when,
                                     profile=f.BIN))


class Stack:
    """The worker processes and their metrics ports."""

    def __init__(self, database_url: str, broker: Mosquitto) -> None:
        self.env = {**os.environ, "BAUHOF_DATABASE_URL": database_url,
                    "BAUHOF_MQTT_URL": f"mqtt://127.0.0.1:{broker.port}"}
        self.ingest_ports = [free_port() for _ in range(INGEST)]
        self.rules_ports = [free_port() for _ in range(RULES)]
        self.procs: list[subprocess.Popen[bytes]] = []
        self.codes: list[int] | None = None

    def start(self) -> None:
        """Start every worker."""
        for n, port in enumerate(self.ingest_ports):
            self._spawn("ingest", "--share", "bauhof", "--client-id", f"ingest-{n}",
                        "--batch-size", "200", "--metrics-port", str(port))
        for n, port in enumerate(self.rules_ports):
            self._spawn("rules", "--shard", f"{n}/{RULES}", "--metrics-port", str(port))

    def _spawn(self, *args: str) -> None:
        self.procs.append(subprocess.Popen(
            [sys.executable, "-m", "shell", *args], env=self.env,
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE))

    def stop(self) -> list[int]:
        """SIGTERM every worker (once); their exit codes."""
        if self.codes is not None:
            return self.codes
        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        errors = [proc.communicate(timeout=60)[1].decode()[-2000:] for proc in self.procs]
        self.codes = [proc.returncode for proc in self.procs]
        assert self.codes == [0] * len(self.procs), errors
        return self.codes

    def ingest_metrics(self) -> list[Samples]:
        """Each ingest worker's metrics."""
        return [scrape(f"http://127.0.0.1:{p}/metrics") for p in self.ingest_ports]

    def rules_metrics(self) -> list[Samples]:
        """Each rules worker's metrics."""
        return [scrape(f"http://127.0.0.1:{p}/metrics") for p in self.rules_ports]


@pytest.fixture
def stack(database_url: str, broker: Mosquitto,
          conn: psycopg.Connection[Any]) -> Iterator[Stack]:
    """The town's bins, then three ingest and two rules workers, connected and subscribed."""
    for n in range(BINS):
        f.bin_(conn, f"b{n}", dev=1000 + n)
    running = Stack(database_url, broker)
    running.start()
    try:
        wait_for(conn, "SELECT count(*) FROM pg_stat_activity "
                       "WHERE application_name = 'bauhof-ingest'", INGEST, timeout=60)
        wait_for(conn, "SELECT count(*) FROM pg_stat_activity "
                       "WHERE application_name LIKE 'bauhof-rules-listen-%'", RULES, timeout=60)
        # Each ingest worker subscribes right after connecting to the database: a stream
        # published at once could find only some members of the shared subscription.
        time.sleep(1.0)
        yield running
    finally:
        running.stop()


def _publish(broker: Mosquitto, messages: list[tuple[str, bytes]]) -> None:
    result = publish_all("127.0.0.1", broker.port, messages)
    assert (result.sent, result.acked) == (len(messages), len(messages))


def _shard(n: int) -> int:
    # The split the rules engine documents: crc32 of "asset_type:asset_id", modulo shards.
    return zlib.crc32(f"bin:b{n}".encode()) % RULES


def test_three_ingest_two_rules_workers(stack: Stack, broker: Mosquitto,
                                        conn: psycopg.Connection[Any]) -> None:
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
    # Phase 1: every bin reports 20 % now and then; interleaved as a town's uplinks are.
    below = [_event(n, start + timedelta(seconds=30 * i), 20.0, i + 1)
             for i in range(READINGS) for n in range(BINS)]
    broken = [(topic(f.eui(1000 + n)), b'{"deduplicationId": "%d", oops' % n)
              for n in range(BROKEN)]
    _publish(broker, below + below[:REPEATS] + broken)
    unique = len(below)
    wait_for(conn, "SELECT count(*) FROM raw_uplinks", unique, timeout=120)
    wait_for(conn, "SELECT count(*) FROM dead_letters", BROKEN)
    # Phase 2: some bins cross the threshold (95 %); phase 3: some of those are emptied.
    full = [_event(n, start + timedelta(minutes=40), 95.0, READINGS + 1) for n in FULL]
    _publish(broker, full)
    wait_for(conn, "SELECT count(*) FROM work_orders", len(FULL), timeout=60)
    emptied = [_event(n, start + timedelta(minutes=50), 5.0, READINGS + 2) for n in EMPTIED]
    _publish(broker, emptied)
    wait_for(conn, "SELECT count(*) FROM work_orders WHERE status = 'resolved'", len(EMPTIED),
             timeout=60)
    unique += len(full) + len(emptied)
    wait_for(conn, "SELECT count(*) FROM raw_uplinks", unique)
    wait_for(conn, "SELECT count(*) FROM ingest_batches b WHERE b.xid >= "
                   "(SELECT min(next_xid) FROM rules_cursor WHERE shards = 2)", 0)

    # Nothing lost, nothing stored twice.
    published = {e[1] for e in below + full + emptied}
    assert len(published) == unique
    assert conn.execute("SELECT count(*), count(DISTINCT deduplication_id) FROM raw_uplinks"
                        ).fetchone() == (unique, unique)
    assert conn.execute("SELECT count(*), count(DISTINCT deduplication_id) FROM readings"
                        ).fetchone() == (unique, unique)
    # Exactly the expected orders: one per bin that crossed, resolved where it was emptied.
    assert sorted(
        (o[1], o[2], o[3], o[4]) for o in f.orders(conn)) == sorted(
        ("empty_bin", "resolved" if n in EMPTIED else "open", f"b{n}", "bins.full")
        for n in FULL)

    expected = {"received": unique + REPEATS + BROKEN, "stored": unique,
                "duplicates": REPEATS, "dead_lettered": BROKEN}
    ingest = _eventually(stack.ingest_metrics, _totals, expected)
    assert _totals(ingest) == expected
    # The shared subscription gave every worker a part of the stream.
    assert all(value(s, "bauhof_ingest_events_received_total") > 0 for s in ingest)
    assert [value(s, "bauhof_ingest_commit_latency_seconds_count") for s in ingest] == [
        value(s, "bauhof_ingest_events_received_total") for s in ingest]

    # Per shard: orders opened, resolved, latencies observed, readings read. Every shard
    # reads every batch and evaluates only its own subjects.
    opened = [sum(1 for n in FULL if _shard(n) == k) for k in range(RULES)]
    resolved = [sum(1 for n in EMPTIED if _shard(n) == k) for k in range(RULES)]
    want = [(o, r, o, unique) for o, r in zip(opened, resolved, strict=True)]
    rules = _eventually(stack.rules_metrics, _rules_figures, want)
    assert _rules_figures(rules) == want

    assert stack.stop() == [0] * (INGEST + RULES)
    # Two workers took turns on no bin: every order's history has one "opened".
    assert conn.execute("SELECT count(*) FROM order_history WHERE event = 'opened'"
                        ).fetchone() == (len(FULL),)


def _totals(samples: list[Samples]) -> dict[str, float]:
    return {name: sum(value(s, f"bauhof_ingest_events_{name}_total") for s in samples)
            for name in ("received", "stored", "duplicates", "dead_lettered")}


def _rules_figures(samples: list[Samples]) -> list[tuple[float, ...]]:
    return [tuple(value(s, name) for name in (
        "bauhof_rules_orders_opened_total", "bauhof_rules_orders_resolved_total",
        "bauhof_rules_order_latency_seconds_count", "bauhof_rules_readings_total"))
        for s in samples]


def _eventually(scrape_all: Callable[[], list[Samples]],
                figures: Callable[[list[Samples]], Any], expected: Any) -> list[Samples]:
    """Scrape until the figures are as expected (workers count just after they commit)."""
    deadline = time.monotonic() + 20
    while True:
        samples = scrape_all()
        if figures(samples) == expected or time.monotonic() > deadline:
            return samples
        time.sleep(0.1)
