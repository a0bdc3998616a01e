"""Ingest through a read-only database: it waits and retries instead of dying (a crash
loop under a restart policy), acknowledges nothing, and stores everything once writable."""

from __future__ import annotations

import time

import psycopg

from bauhof.services import Mosquitto, Postgres
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


def test_new_devices_of_a_refused_batch_are_still_registered(
        conn: Conn, broker: Mosquitto, publish: Publish, worker: ThreadWorker) -> None:
    # Two devices ingest has never seen; one message's device name holds a NUL, which
    # PostgreSQL text cannot store, so the database refuses the whole batch.
    (good_eui, good_model), (bad_eui, _) = load.devices(2, seed=31)
    good = list(load.uplinks(1, [(good_eui, good_model)], seed=32))
    (bad_topic, bad_payload), = load.uplinks(1, [(bad_eui, "dragino-lse01")], seed=33)
    bad_payload = bad_payload.replace(b'"deviceName":"', b'"deviceName":"\\u0000')
    worker.stop()  # queue both at the broker, so that they arrive in one batch
    for topic, payload in [*good, (bad_topic, bad_payload)]:
        publish(topic, payload)
    again = ThreadWorker(worker.worker.config.database_url, broker,
                         worker.worker.config.client_id)
    again.thread.start()
    try:
        wait_for(conn, "SELECT count(*) FROM dead_letters", 1)
        wait_for(conn, "SELECT count(*) FROM raw_uplinks", 1)
    finally:
        again.stop()
    assert conn.execute("SELECT reason FROM dead_letters").fetchone() == (
        "database refused: PostgreSQL text fields cannot contain NUL (0x00) bytes",)
    # The valid message's device was registered by ingest although its first batch failed.
    assert conn.execute("SELECT dev_eui, model, registered_by FROM devices").fetchall() == [
        (good_eui, good_model, "ingest")]
