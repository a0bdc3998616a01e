"""The ingest worker against a real Mosquitto and a real TimescaleDB."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import psycopg

from bauhof import codecs
from tests import factories
from tests.ingest.conftest import RunningWorker, wait_for

Conn = psycopg.Connection[tuple[object, ...]]
Publish = Callable[[str, bytes], None]
SOIL = "a840410000000001"
BIN = "a840410000000002"
T0 = datetime(2026, 5, 4, 10, 0, tzinfo=UTC)


def _register(conn: Conn) -> None:
    conn.execute(
        "INSERT INTO bins (id, latitude, longitude, volume_l, empty_distance_mm,"
        " full_distance_mm) VALUES ('bin-1', 48.59, 8.87, 240, 1000, 100)"
    )
    conn.execute(
        "INSERT INTO devices (dev_eui, model, kind, asset_type, asset_id) VALUES"
        " (%s, 'dragino-lse01', 'soil', NULL, NULL),"
        " (%s, 'dragino-ldds75', 'bin', 'bin', 'bin-1')",
        (SOIL, BIN),
    )


def test_json_uplink_is_stored_raw_and_decoded(conn: Conn, ingest_worker: RunningWorker,
                                               publish: Publish) -> None:
    _register(conn)
    ingest_worker.worker._directory.refresh(conn, force=True)
    dedup = "11111111-2222-4333-8444-555555555555"
    payload = bytes.fromhex("CE2900F107A5099B6E2890")
    publish(factories.topic(SOIL), factories.encode(
        factories.uplink(SOIL, payload, f_cnt=12, time=T0, dedup=dedup, gateways=2)))
    wait_for(conn, "SELECT count(*) FROM readings", 1)
    raw = conn.execute(
        "SELECT time, dev_eui, deduplication_id::text, f_cnt, f_port, payload, rssi, snr,"
        " gateway_count, frequency, dr FROM raw_uplinks").fetchall()
    assert raw == [(T0, SOIL, dedup, 12, 2, payload, -80, 7.5, 2, 867300000, 5)]
    reading = conn.execute(
        "SELECT model, battery_v, temperature_c, soil_moisture_pct, soil_temperature_c,"
        " soil_conductivity_us_cm, distance_mm FROM readings").fetchone()
    assert reading == ("dragino-lse01", 3.625, 24.1, 19.57, 24.59, 28200.0, None)
    device = conn.execute(
        "SELECT first_seen, last_seen, last_battery_v, last_rssi, last_snr FROM devices"
        " WHERE dev_eui = %s", (SOIL,)).fetchone()
    assert device == (T0, T0, 3.625, -80, 7.5)
    batches = conn.execute("SELECT readings, min_time, max_time FROM ingest_batches").fetchall()
    assert batches == [(1, T0, T0)]


def test_protobuf_uplink_is_stored_with_the_bin_asset(conn: Conn, ingest_worker: RunningWorker,
                                                      publish: Publish) -> None:
    _register(conn)
    ingest_worker.worker._directory.refresh(conn, force=True)
    fport, payload = codecs.encode("dragino-ldds75",
                                   {"battery_v": 3.387, "distance_mm": 550, "temperature_c": 4.5})
    body = factories.uplink(BIN, payload, f_port=fport, time=T0)
    publish(factories.topic(BIN), factories.protobuf_uplink(body))
    wait_for(conn, "SELECT count(*) FROM readings", 1)
    row = conn.execute(
        "SELECT asset_type, asset_id, battery_v, distance_mm, temperature_c FROM readings"
    ).fetchone()
    assert row == ("bin", "bin-1", 3.387, 550.0, 4.5)
    fill = conn.execute("SELECT bin_id, fill_pct FROM bin_fill").fetchone()
    assert fill == ("bin-1", 50.0)


def test_redelivered_message_is_stored_once(conn: Conn, ingest_worker: RunningWorker,
                                            publish: Publish) -> None:
    _register(conn)
    ingest_worker.worker._directory.refresh(conn, force=True)
    message = factories.encode(factories.uplink(SOIL, bytes.fromhex("CE2900F107A5099B6E2890"),
                                                 time=T0))
    publish(factories.topic(SOIL), message)
    wait_for(conn, "SELECT count(*) FROM readings", 1)
    publish(factories.topic(SOIL), message)
    # A marker behind the duplicate shows the duplicate has been handled.
    publish(factories.topic(SOIL), factories.encode(
        factories.uplink(SOIL, bytes.fromhex("CE2900F107A5099B6E2890"),
                         time=T0 + timedelta(minutes=20))))
    wait_for(conn, "SELECT count(*) FROM readings", 2)
    assert conn.execute("SELECT count(*) FROM raw_uplinks").fetchone() == (2,)
    ingest_worker.stop()
    counters = ingest_worker.worker.counters
    assert (counters.received, counters.stored, counters.duplicates) == (3, 2, 1)


def test_unknown_device_is_registered_as_other_and_its_data_kept(
        conn: Conn, ingest_worker: RunningWorker, publish: Publish) -> None:
    stranger = "0011223344556677"
    publish(factories.topic(stranger), factories.encode(
        factories.uplink(stranger, b"\xde\xad", f_port=5, time=T0)))
    wait_for(conn, "SELECT count(*) FROM raw_uplinks", 1)
    assert conn.execute(
        "SELECT kind, model, registered_by FROM devices WHERE dev_eui = %s", (stranger,)
    ).fetchone() == ("other", None, "ingest")
    assert conn.execute("SELECT payload FROM raw_uplinks").fetchone() == (b"\xde\xad",)
    assert conn.execute("SELECT count(*) FROM readings").fetchone() == (0,)


def test_model_from_profile_name_and_object_from_chirpstack(
        conn: Conn, ingest_worker: RunningWorker, publish: Publish) -> None:
    by_profile = "0011223344556601"
    decoded_by_chirpstack = "0011223344556602"
    fport, payload = codecs.encode("milesight-em310-udl",
                                   {"battery_pct": 92, "distance_mm": 2116, "tilted": True})
    publish(factories.topic(by_profile), factories.encode(factories.uplink(
        by_profile, payload, f_port=fport, time=T0, profile="milesight-em310-udl")))
    publish(factories.topic(decoded_by_chirpstack), factories.encode(factories.uplink(
        decoded_by_chirpstack, b"\x09\x14", time=T0,
        obj={"temperature": 23.24, "humidity": 48.8, "status": "ok"})))
    wait_for(conn, "SELECT count(*) FROM readings", 2)
    rows = conn.execute(
        "SELECT dev_eui, model, battery_pct, distance_mm, tilted, temperature_c, extra"
        " FROM readings ORDER BY dev_eui").fetchall()
    assert rows == [
        (by_profile, "milesight-em310-udl", 92.0, 2116.0, True, None, None),
        (decoded_by_chirpstack, None, None, None, None, 23.24, {"humidity": 48.8}),
    ]
    assert conn.execute(
        "SELECT kind, model FROM devices WHERE dev_eui = %s", (by_profile,)
    ).fetchone() == ("bin", "milesight-em310-udl")


def test_bad_input_is_dead_lettered_while_valid_messages_flow(
        conn: Conn, ingest_worker: RunningWorker, publish: Publish) -> None:
    _register(conn)
    ingest_worker.worker._directory.refresh(conn, force=True)
    good = bytes.fromhex("CE2900F107A5099B6E2890")
    absurd_fport, absurd = codecs.encode("dragino-ldds75", {"battery_v": 3.3,
                                                            "distance_mm": 30000})
    bad: list[tuple[str, bytes, str]] = [
        ("application/x/device/nothex/event/up", b"{}",
         "topic 'application/x/device/nothex/event/up' is not application/<app>/device/"
         "<devEui>/event/<type>"),
        (factories.topic(SOIL), b'{"deduplicationId": "x", ', "invalid JSON: "),
        (factories.topic(SOIL), b"\x0a\xff\xff\xff",
         "payload is neither JSON nor a valid up Protobuf message"),
        (factories.topic(SOIL), factories.encode(factories.uplink(SOIL, good, f_port=42)),
         "decode error: dragino-lse01 fPort 42: unknown fPort"),
        (factories.topic(SOIL), factories.encode(factories.uplink(SOIL, good[:5])),
         "decode error: dragino-lse01 fPort 2: "),
        (factories.topic(BIN), factories.encode(factories.uplink(BIN, absurd,
                                                                 f_port=absurd_fport)),
         "implausible readings: distance_mm 30000"),
        (factories.topic(BIN), factories.encode(factories.uplink(SOIL, good)),
         "deviceInfo.devEui a840410000000001 does not match the topic's a840410000000002"),
        ("bauhof/weather/herrenberg", b'{"time": "2026-05-04T10:00:00+00:00"}',
         "weather message needs rain_mm_h"),
    ]
    for i, (topic, payload, _) in enumerate(bad):
        publish(topic, payload)
        publish(factories.topic(SOIL), factories.encode(
            factories.uplink(SOIL, good, f_cnt=i, time=T0 + timedelta(minutes=i))))
    wait_for(conn, "SELECT count(*) FROM dead_letters", len(bad))
    wait_for(conn, "SELECT count(*) FROM readings", len(bad))
    reasons = [r[0] for r in conn.execute("SELECT reason FROM dead_letters ORDER BY id")]
    for (_, _, expected), reason in zip(bad, reasons, strict=True):
        assert reason.startswith(expected), (reason, expected)
    stored = conn.execute("SELECT topic, payload FROM dead_letters ORDER BY id").fetchall()
    assert stored == [(t, p) for t, p, _ in bad]


def test_weather_observations_are_stored(conn: Conn, ingest_worker: RunningWorker,
                                         publish: Publish) -> None:
    publish("bauhof/weather/herrenberg",
            b'{"time": "2026-05-04T10:00:00+00:00", "rain_mm_h": 1.5, "temperature_c": 14.0,'
            b' "forecast_rain_mm_24h": 6.0}')
    wait_for(conn, "SELECT count(*) FROM weather", 1)
    assert conn.execute(
        "SELECT time, station, rain_mm_h, temperature_c, forecast_rain_mm_24h FROM weather"
    ).fetchone() == (T0, "herrenberg", 1.5, 14.0, 6.0)


def test_readings_are_announced_with_notify_after_commit(
        conn: Conn, database_url: str, ingest_worker: RunningWorker, publish: Publish) -> None:
    _register(conn)
    ingest_worker.worker._directory.refresh(conn, force=True)
    with psycopg.connect(database_url, autocommit=True) as listener:
        listener.execute("LISTEN bauhof_readings")
        publish(factories.topic(SOIL), factories.encode(
            factories.uplink(SOIL, bytes.fromhex("CE2900F107A5099B6E2890"), time=T0)))
        notice = next(listener.notifies(timeout=20))
    batch_xid = conn.execute("SELECT xid::text FROM ingest_batches").fetchone()
    assert batch_xid == (notice.payload,)
    reading_xid = conn.execute("SELECT ingest_xid::text FROM readings").fetchone()
    assert reading_xid == (notice.payload,)


def test_sigterm_style_stop_flushes_and_acknowledges(conn: Conn, database_url: str,
                                                     broker: object, publish: Publish) -> None:
    from bauhof.services import Mosquitto

    assert isinstance(broker, Mosquitto)
    _register(conn)
    first = RunningWorker(database_url, broker, "flush-test").start()
    for i in range(50):
        publish(factories.topic(SOIL), factories.encode(factories.uplink(
            SOIL, bytes.fromhex("CE2900F107A5099B6E2890"), f_cnt=i,
            time=T0 + timedelta(minutes=i), dedup=str(uuid.UUID(int=i + 1)))))
    wait_for(conn, "SELECT count(*) FROM raw_uplinks", 50)
    first.stop()
    # Everything was acknowledged: the same session, resumed, receives nothing again.
    second = RunningWorker(database_url, broker, "flush-test").start()
    publish(factories.topic(SOIL), factories.encode(factories.uplink(
        SOIL, bytes.fromhex("CE2900F107A5099B6E2890"), f_cnt=99, time=T0 - timedelta(days=1))))
    wait_for(conn, "SELECT count(*) FROM raw_uplinks", 51)
    second.stop()
    assert (second.worker.counters.received, second.worker.counters.duplicates) == (1, 0)
