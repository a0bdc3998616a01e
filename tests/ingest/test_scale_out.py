"""Three ingest workers on one MQTT 5 shared subscription: all stored once, work shared."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import psycopg

from bauhof.services import Mosquitto
from ingest import load
from ingest.rawpublish import publish_all
from tests.ingest.conftest import wait_for

EVENTS = 6000
WORKERS = 3


def test_three_workers_share_the_stream(conn: psycopg.Connection[tuple[object, ...]],
                                        database_url: str, broker: Mosquitto) -> None:
    env = {**os.environ, "BAUHOF_DATABASE_URL": database_url,
           "BAUHOF_MQTT_URL": f"mqtt://127.0.0.1:{broker.port}"}
    workers = [
        subprocess.Popen([sys.executable, "-m", "shell", "ingest", "--share", "bauhof",
                          "--client-id", f"ingest-{n}", "--batch-size", "200"],
                         env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for n in range(WORKERS)
    ]
    try:
        deadline = time.monotonic() + 30
        while conn.execute("SELECT count(*) FROM pg_stat_activity"
                           " WHERE application_name = 'bauhof-ingest'").fetchone() != (WORKERS,):
            assert time.monotonic() < deadline, "the workers did not connect"
            time.sleep(0.05)
        time.sleep(1.0)  # each MQTT subscription follows its database connection
        result = publish_all("127.0.0.1", broker.port,
                             list(load.uplinks(EVENTS, load.devices(100), seed=3)))
        assert (result.sent, result.acked) == (EVENTS, EVENTS)
        wait_for(conn, "SELECT count(*) FROM raw_uplinks", EVENTS, timeout=120)
    finally:
        for worker in workers:
            worker.send_signal(signal.SIGTERM)
        codes = [worker.wait(30) for worker in workers]
    assert codes == [0] * WORKERS
    assert conn.execute(
        "SELECT count(DISTINCT deduplication_id), count(*) FROM readings").fetchone() == (
        EVENTS, EVENTS)
    shares = dict(conn.execute("SELECT worker, received FROM ingest_stats").fetchall())
    assert sorted(shares) == [f"ingest-{n}@{os.uname().nodename}" for n in range(WORKERS)]
    assert sum(int(str(v)) for v in shares.values()) == EVENTS
    assert all(int(str(v)) > 0 for v in shares.values()), shares
