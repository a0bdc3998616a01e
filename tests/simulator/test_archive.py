"""`replay --from-db`: raw uplinks rebuilt into `up` events, in time order."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest

from bauhof.chirpstack.events import UplinkEvent, parse_event
from shell.main import main
from simulator import archive
from simulator.clock import to_us
from simulator.recording import read

APP = "c3f2c4aa-07c8-4d6c-8a86-7ea2d4a31dca"
RX = [{"gatewayId": "0016c001ffa10001", "rssi": -91, "snr": 7.25, "channel": 2}]


def _insert(conn: psycopg.Connection[tuple[object, ...]]) -> None:
    conn.execute("INSERT INTO devices (dev_eui, model, kind, name) VALUES "
                 "('a840410000000001', 'dragino-lse01', 'soil', 'Sonde Beet')")
    rows = [
        ("2026-06-01T10:00:00.5+00:00", "a840410000000001", "00000000-0000-4000-8000-000000000002",
         7, 2, bytes.fromhex("CE2900F107A5099B6E2890"), 5, 868100000, -91, 7.25,
         json.dumps(RX), None),
        ("2026-06-01T09:00:00+00:00", "24e1240000000002", "00000000-0000-4000-8000-000000000001",
         3, 85, bytes.fromhex("01755C03824408040001"), 3, 867300000, -80, 9.5, None,
         json.dumps({"distance": 2116})),
    ]
    for (time, dev, dedup, f_cnt, f_port, payload, dr, freq, rssi, snr, rx, obj) in rows:
        conn.execute(
            "INSERT INTO raw_uplinks (time, dev_eui, deduplication_id, application_id, f_cnt, "
            "f_port, payload, dr, frequency, rssi, snr, gateway_count, rx_info, object) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, 1, %s, %s)",
            (time, dev, dedup, APP, f_cnt, f_port, payload, dr, freq, rssi, snr, rx, obj))


def test_rows_come_back_as_up_events_in_time_order(
    conn: psycopg.Connection[tuple[object, ...]], database_url: str,
) -> None:
    _insert(conn)
    messages = list(archive.from_database(database_url))
    assert [m.topic for m in messages] == [
        f"application/{APP}/device/24e1240000000002/event/up",
        f"application/{APP}/device/a840410000000001/event/up"]
    assert [m.time_us for m in messages] == [
        to_us(datetime(2026, 6, 1, 9, tzinfo=UTC)),
        to_us(datetime(2026, 6, 1, 10, 0, 0, 500000, tzinfo=UTC))]
    unknown, known = (json.loads(m.payload) for m in messages)
    # No stored rxInfo: one entry from the stored rssi/snr.
    assert unknown["rxInfo"] == [{"rssi": -80, "snr": 9.5, "gwTime":
                                  "2026-06-01T09:00:00.000000+00:00", "crcStatus": "CRC_OK"}]
    assert unknown["object"] == {"distance": 2116}
    assert known["rxInfo"] == RX
    assert known["deviceInfo"]["deviceName"] == "Sonde Beet"
    assert known["deviceInfo"]["deviceProfileName"] == "dragino-lse01"
    assert (known["fCnt"], known["fPort"], known["dr"]) == (7, 2, 5)
    assert known["txInfo"] == {"frequency": 868100000, "modulation": {"lora": {
        "bandwidth": 125000, "codeRate": "CR_4_5", "spreadingFactor": 7}}}
    assert base64.b64decode(known["data"]) == bytes.fromhex("CE2900F107A5099B6E2890")
    for message in messages:
        parsed = parse_event(message.topic, message.payload)
        assert isinstance(parsed, UplinkEvent)
    since = datetime(2026, 6, 1, 9, 30, tzinfo=UTC)
    assert len(list(archive.from_database(database_url, since=since))) == 1
    assert len(list(archive.from_database(database_url, until=since))) == 1


def test_replay_from_db_saves_a_recording(
    conn: psycopg.Connection[tuple[object, ...]], database_url: str, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    _insert(conn)
    monkeypatch.chdir(tmp_path)
    assert main(["replay", "--from-db", database_url, "--save", "day.jsonl", "--quiet"]) == 0
    assert "saved 2 messages to day.jsonl" in capsys.readouterr().out
    assert [m.format for m in read(tmp_path / "day.jsonl")] == ["json", "json"]
