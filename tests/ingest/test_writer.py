"""The writer's throttled device health columns and its JSON columns, against a real
TimescaleDB."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest
from psycopg import errors as pg_errors

from ingest.pipeline import Pipeline
from ingest.writer import Batch, Writer
from simulator.recording import Message

Conn = psycopg.Connection[tuple[object, ...]]
DEV = "a840410000000009"
T0 = datetime(2026, 5, 4, 10, 0, tzinfo=UTC)
EXAMPLE = json.loads((Path(__file__).parents[2] / "examples" / "up-object.json").read_bytes())
TOPIC = "application/d029b9ac-7569-59e9-bf61-7f4188042be0/device/a840410000000105/event/up"


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


def test_a_batch_prepared_while_the_one_before_is_refused_registers_its_device(
        conn: Conn, database_url: str) -> None:
    from bauhof.settings import parse_mqtt_url
    from ingest import load
    from ingest.prepare import Message
    from ingest.worker import IngestConfig, IngestWorker

    # An unknown device's first uplink carries a NUL in its name: the database refuses that
    # whole batch. The device's second uplink was already prepared (the pipeline parses the
    # next batch while one is written) when the device was still remembered as registered.
    (dev_eui, _), = load.devices(1, seed=41)
    (t1, p1), (t2, p2) = load.uplinks(2, [(dev_eui, "dragino-lse01")], seed=42)
    p1 = p1.replace(b'"deviceName":"', b'"deviceName":"\\u0000')
    worker = IngestWorker(IngestConfig(database_url=database_url,
                                       mqtt=parse_mqtt_url("mqtt://127.0.0.1:1")))
    worker._writer = worker._connect_db()
    first = [Message(t1, p1, 1, 0, 0.0, 0)]
    second = [Message(t2, p2, 2, 0, 0.0, 0)]
    batch1, batch2 = worker._build(first), worker._build(second)
    assert (len(batch1.new_devices), len(batch2.new_devices)) == (1, 0)
    worker._write(first, batch1, 0)
    worker._write(second, batch2, 0)
    worker._close_db()
    assert conn.execute("SELECT reason FROM dead_letters").fetchall() == [
        ("database refused: PostgreSQL text fields cannot contain NUL (0x00) bytes",)]
    assert conn.execute("SELECT dev_eui, model, registered_by FROM devices").fetchall() == [
        (dev_eui, "dragino-lse01", "ingest")]
    assert conn.execute("SELECT count(*) FROM raw_uplinks").fetchone() == (1,)


def _event(dedup: str, context: str, note: str) -> bytes:
    event = copy.deepcopy(EXAMPLE)
    event["deduplicationId"] = dedup
    event["rxInfo"][0]["context"] = context
    event["object"]["note"] = note
    return json.dumps(event).encode()


def test_a_backslash_before_u0000_is_stored_as_sent_and_a_nul_refused_as_jsonb_refused_it(
        conn: Conn) -> None:
    pipeline = Pipeline("test")
    pipeline.connect(conn)
    # No NUL: the text `\u0000` (a backslash, then u0000), in JSON `\\u0000`.
    text = _event("00000000-0000-4000-8000-000000000001", "\\u0000 is text", "C:\\u0000")
    nul = _event("00000000-0000-4000-8000-000000000002", "CRC\x00OK", "ok")
    assert pipeline.write(pipeline.build([Message(0, TOPIC, text, "json")])).stored == 1
    sent = json.loads(text)
    assert conn.execute("SELECT rx_info, object FROM raw_uplinks").fetchone() == (
        sent["rxInfo"], sent["object"])
    with pytest.raises(pg_errors.UntranslatableCharacter):
        pipeline.write(pipeline.build([Message(0, TOPIC, nul, "json")]))
    assert conn.execute("SELECT count(*) FROM raw_uplinks").fetchone() == (1,)
