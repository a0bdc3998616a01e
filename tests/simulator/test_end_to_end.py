"""End to end: two simulated days of the default town through `bauhof ingest` into TimescaleDB,
checked against the ground truth, then rebuilt from the database with `replay --from-db`."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from bauhof.services import Mosquitto
from simulator import archive, scenario, truth
from simulator.bench import wait_for_rows
from simulator.recording import read
from simulator.session import Simulation
from tests.simulator.conftest import ingest_process, target

READING_COLUMNS = ("battery_v", "battery_pct", "temperature_c", "soil_moisture_pct",
                   "soil_temperature_c", "soil_conductivity_us_cm", "distance_mm", "tilted",
                   "latitude", "longitude", "alarm", "motion", "roll_deg", "pitch_deg")


@pytest.fixture
def ingest(database_url: str, broker: Mosquitto, tmp_path: Path) -> Iterator[None]:
    """`bauhof ingest` as a process against the fixtures' broker and database, with the
    default town's assets loaded first (ingest reads the devices table when it starts)."""
    with ingest_process(database_url, broker, tmp_path):
        yield


@pytest.mark.slow
def test_two_days_of_the_default_town_are_stored_once_and_decoded_exactly(
    database_url: str, broker: Mosquitto, ingest: None, tmp_path: Path,
    herrenberg: scenario.Scenario,
) -> None:
    run = Simulation(herrenberg, seed=1, start=herrenberg.simulation.start, days=2.0,
                     record=tmp_path / "rec.jsonl", truth=tmp_path / "truth.jsonl")
    stats = run.execute(target(broker), speed=None, progress=False)
    entries = list(truth.read(tmp_path / "truth.jsonl"))
    sent = {e["deduplication_id"]: e for e in entries if e["kind"] == "uplink"}
    statuses = sum(1 for m in read(tmp_path / "rec.jsonl") if m.topic.endswith("/event/status"))
    assert len(sent) == run.summary["uplinks"] > 40_000
    assert stats.published == len(sent) + statuses + 48

    with psycopg.connect(database_url, autocommit=True) as conn:
        assert wait_for_rows(conn, len(sent), 240) == len(sent)
        rows = conn.execute(
            "SELECT deduplication_id::text, dev_eui, f_cnt, f_port, gateway_count "
            "FROM raw_uplinks").fetchall()
        assert len(rows) == len(sent)
        assert {r[0]: r[1:] for r in rows} == {
            d: (e["dev_eui"], e["f_cnt"], e["f_port"], e["gateways"]) for d, e in sent.items()}
        stored: dict[str, dict[str, Any]] = {}
        for row in conn.execute(
            f"SELECT deduplication_id::text, asset_type, asset_id, {', '.join(READING_COLUMNS)} "
            "FROM readings"
        ):
            values = {c: v for c, v in zip(READING_COLUMNS, row[3:], strict=True)
                      if v is not None}
            stored[row[0]] = {"asset": f"{row[1]}/{row[2]}", "readings": values}
        assert stored == {d: {"asset": e["asset"], "readings": e["readings"]}
                          for d, e in sent.items()}
        counts = conn.execute(
            "SELECT (SELECT count(*) FROM weather WHERE station = 'herrenberg'),"
            " (SELECT count(*) FROM device_status), (SELECT count(*) FROM dead_letters)"
        ).fetchone()
        assert counts == (48, statuses, 0)

    rebuilt = list(archive.from_database(database_url))
    assert len(rebuilt) == len(sent)
    assert [m.time_us for m in rebuilt] == sorted(m.time_us for m in rebuilt)
    recorded = {json.loads(m.payload)["deduplicationId"]: json.loads(m.payload)
                for m in read(tmp_path / "rec.jsonl") if m.topic.endswith("/event/up")}
    for message in rebuilt:
        event = json.loads(message.payload)
        original = recorded[event["deduplicationId"]]
        assert message.topic == (f"application/{original['deviceInfo']['applicationId']}"
                                 f"/device/{original['deviceInfo']['devEui']}/event/up")
        assert base64.b64decode(event["data"]) == base64.b64decode(original["data"])
        assert (event["time"], event["fCnt"], event["fPort"], event["dr"], event["rxInfo"],
                event["txInfo"]) == (original["time"], original["fCnt"], original["fPort"],
                                     original["dr"], original["rxInfo"], original["txInfo"])
