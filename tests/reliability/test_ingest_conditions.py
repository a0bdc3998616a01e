"""Ingest through a read-only database: it waits and retries instead of dying (a crash
loop under a restart policy), acknowledges nothing, and stores everything once writable."""

from __future__ import annotations

import time

import psycopg

from bauhof.services import Postgres
from ingest import load
from tests.reliability.conftest import Conn, Publish, ThreadWorker, wait_for

EVENTS = 40


def test_read_only_database_on_reconnect_is_waited_out(
        pg_cluster: Postgres, database_url: str, conn: Conn, publish: Publish,
        worker: ThreadWorker) -> None:
    dbname = database_url.rsplit("/", 1)[1]
    with psycopg.connect(pg_cluster.url("postgres"), autocommit=True) as admin:
        admin.execute(f'ALTER DATABASE "{dbname}" SET default_transaction_read_only = on')
        # Ingest's next connection is a read-only session: it cannot create its staging tables.
        admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                      " WHERE datname = %s AND application_name = 'bauhof-ingest'", (dbname,))
        for topic, payload in load.uplinks(EVENTS, load.devices(5), seed=11):
            publish(topic, payload)
        time.sleep(2.5)  # the read-only spell: ingest reconnects and is refused meanwhile
        assert worker.thread.is_alive()
        assert conn.execute("SELECT count(*) FROM raw_uplinks").fetchone() == (0,)
        admin.execute(f'ALTER DATABASE "{dbname}" RESET default_transaction_read_only')
    wait_for(conn, "SELECT count(*) FROM raw_uplinks", EVENTS)
    worker.stop()
    assert conn.execute("SELECT count(DISTINCT deduplication_id), count(*) FROM readings"
                        ).fetchone() == (EVENTS, EVENTS)
