"""The writer's throttled device health columns, against a real TimescaleDB."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import psycopg

from ingest.writer import Batch, Writer

Conn = psycopg.Connection[tuple[object, ...]]
DEV = "a840410000000009"
T0 = datetime(2026, 5, 4, 10, 0, tzinfo=UTC)


def _seen(time: datetime, battery_v: float | None, rssi: int | None) -> Batch:
    batch = Batch()
    batch.see(DEV, time, battery_v=battery_v, rssi=rssi)
    return batch


def _health(conn: Conn) -> tuple[object, ...] | None:
    return conn.execute("SELECT first_seen, last_seen, last_battery_v, last_rssi FROM devices"
                        " WHERE dev_eui = %s", (DEV,)).fetchone()


def test_health_columns_go_out_at_most_once_per_interval_and_nothing_is_dropped(
        conn: Conn) -> None:
    conn.execute("INSERT INTO devices (dev_eui, model, kind) VALUES (%s, 'dragino-lse01',"
                 " 'soil')", (DEV,))
    writer = Writer(conn, "test", devices_every_s=3600)
    writer.setup()
    writer.write(_seen(T0, 3.6, -80))  # the first batch goes out at once
    assert _health(conn) == (T0, T0, 3.6, -80)

    writer.write(_seen(T0 + timedelta(hours=1), 3.5, None))
    writer.write(_seen(T0 - timedelta(hours=1), 3.9, -70))  # late: only first_seen moves
    writer.flush_devices()  # not due yet
    assert _health(conn) == (T0, T0, 3.6, -80)
    assert sorted(writer.pending_seen) == [DEV]

    # A new connection's writer takes over what is pending and writes it when told.
    successor = Writer(conn, "test", devices_every_s=3600, pending_seen=writer.pending_seen)
    successor.flush_devices(force=True)
    assert _health(conn) == (T0 - timedelta(hours=1), T0 + timedelta(hours=1), 3.5, -80)
    assert successor.pending_seen == {}


def test_without_an_interval_every_batch_updates_the_devices(conn: Conn) -> None:
    conn.execute("INSERT INTO devices (dev_eui, model, kind) VALUES (%s, 'dragino-lse01',"
                 " 'soil')", (DEV,))
    writer = Writer(conn, "test")
    writer.setup()
    writer.write(_seen(T0, 3.6, -80))
    writer.write(_seen(T0 + timedelta(hours=1), 3.5, -90))
    assert _health(conn) == (T0, T0 + timedelta(hours=1), 3.5, -90)
    assert writer.pending_seen == {}
