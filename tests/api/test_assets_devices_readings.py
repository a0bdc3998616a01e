"""Devices, assets and bucketed readings."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient

from tests.api import town
from tests.api.conftest import Tokens
from tests.rules import factory as f


@pytest.fixture
def readings(conn: psycopg.Connection[Any], tokens: Tokens) -> None:
    """The town with a day of hourly soil readings, bin fills and two positions."""
    town.build(conn)
    f.ingest(conn, [f.soil(1, h, 30.0 - h) for h in range(24)])
    f.ingest(conn, [f.fill(2, h, 10.0 * h, rssi=-90, snr=5.0) for h in range(6)])
    f.ingest(conn, [f.position(3, 1, 48.6, 8.8), f.position(3, 2, 48.61, 8.81)])
    conn.execute("UPDATE devices SET last_seen = now(), last_battery_pct = 90 "
                 "WHERE dev_eui = %s", (f.eui(2),))
    conn.execute("INSERT INTO rule_state (rule, subject_type, subject_id, state) VALUES "
                 "('bins', 'bin', 'b1', %s)",
                 ('{"points": [[1780272000, 10], [1780275600, 20], [1780279200, 30], '
                  '[1780282800, 40]]}',))


def test_devices_list_filter_and_health(client: TestClient, tokens: Tokens,
                                        readings: None) -> None:
    listed = client.get("/api/v1/devices", headers=tokens.planner).json()
    assert [(d["dev_eui"], d["kind"], d["silent"]) for d in listed["items"]] == [
        (f.eui(1), "soil", True), (f.eui(2), "bin", False), (f.eui(3), "tracker", True),
        (f.eui(4), "bin", True)]
    bins = client.get("/api/v1/devices?kind=bin&silent=false", headers=tokens.planner).json()
    assert [(d["dev_eui"], d["battery_pct"]) for d in bins["items"]] == [(f.eui(2), 90.0)]
    page = client.get("/api/v1/devices?limit=3", headers=tokens.planner).json()
    rest = client.get(f"/api/v1/devices?cursor={page['next_cursor']}",
                      headers=tokens.planner).json()
    assert [d["dev_eui"] for d in rest["items"]] == [f.eui(4)]


def test_one_device_with_recent_readings_and_uplinks(client: TestClient, tokens: Tokens,
                                                     readings: None) -> None:
    device = client.get(f"/api/v1/devices/{f.eui(2)}?recent=2", headers=tokens.admin).json()
    assert [r["time"] for r in device["readings"]] == ["2026-06-01T05:00:00+00:00",
                                                       "2026-06-01T04:00:00+00:00"]
    assert device["readings"][0]["values"] == {"battery_pct": 90.0, "distance_mm": 550.0}
    assert [(u["rssi"], u["snr"], u["payload_hex"]) for u in device["uplinks"]] == [
        (-90, 5.0, ""), (-90, 5.0, "")]
    assert client.get("/api/v1/devices/00000000000000ff",
                      headers=tokens.admin).status_code == 404
    assert client.get("/api/v1/devices/XYZ", headers=tokens.admin).status_code == 422


def test_admin_mounts_a_device(client: TestClient, tokens: Tokens, readings: None) -> None:
    changed = client.patch(f"/api/v1/devices/{f.eui(4)}", headers=tokens.admin,
                           json={"name": "Sensor Markt", "asset_type": "bin",
                                 "asset_id": "b1", "expected_interval_s": 600})
    assert changed.status_code == 200
    assert {k: changed.json()[k] for k in ("name", "asset_type", "asset_id",
                                           "expected_interval_s")} == {
        "name": "Sensor Markt", "asset_type": "bin", "asset_id": "b1",
        "expected_interval_s": 600}
    for body, field in (({"asset_type": "bin"}, "asset_id"), ({"model": "acme-1"}, "model"),
                        ({"asset_type": "bin", "asset_id": "b9"}, "asset_id"),
                        ({"expected_interval_s": 0}, "expected_interval_s")):
        bad = client.patch(f"/api/v1/devices/{f.eui(4)}", headers=tokens.admin, json=body)
        assert bad.status_code == 422
        assert bad.json()["errors"][0]["field"] == field


def test_green_areas_show_sponsors_to_admins_only(client: TestClient, tokens: Tokens,
                                                  readings: None) -> None:
    for who, sponsor in ((tokens.admin, {
            "id": "sp1", "name": "Pat Paten", "email": "pat@example.org",
            "phone": "+49 7032 1234", "period_start": "2026-01-01",
            "period_end": "2026-12-31"}), (tokens.planner, None), (tokens.crew, None)):
        area = client.get("/api/v1/green-areas/ga1", headers=who).json()
        assert (area["sponsored"], area["sponsor"]) == (True, sponsor)
        assert (area["moisture_pct"], area["moisture_at"]) == (7.0,
                                                               "2026-06-01T23:00:00+00:00")
        listed = client.get("/api/v1/green-areas", headers=who).text
        assert ("pat@example.org" in listed) == (who is tokens.admin)


def test_bins_with_fill_and_forecast(client: TestClient, tokens: Tokens,
                                     readings: None) -> None:
    bins = client.get("/api/v1/bins", headers=tokens.crew).json()["items"]
    assert [(b["id"], b["fill_pct"], b["fill_at"]) for b in bins] == [
        ("b1", 50.0, "2026-06-01T05:00:00+00:00"), ("b2", None, None)]
    assert bins[0]["forecast"] == {"full_at": "2026-06-01T09:00:00+00:00",
                                   "fill_in_24h_pct": 100.0}
    assert bins[1]["forecast"] == {"full_at": None, "fill_in_24h_pct": None}
    assert client.get("/api/v1/bins/b9", headers=tokens.crew).status_code == 404


def test_vehicles_with_last_position(client: TestClient, tokens: Tokens,
                                     readings: None) -> None:
    vehicle = client.get("/api/v1/vehicles/v1", headers=tokens.crew).json()
    assert vehicle == {"id": "v1", "name": "Truck v1", "plate": None, "kind": "truck",
                       "capacity_l": None, "position": {
                           "latitude": 48.61, "longitude": 8.81,
                           "time": "2026-06-01T02:00:00+00:00"}}
    assert [v["id"] for v in client.get("/api/v1/vehicles",
                                        headers=tokens.crew).json()["items"]] == ["v1"]


def test_readings_bucketed_in_the_database(client: TestClient, tokens: Tokens,
                                           readings: None) -> None:
    series = client.get(
        f"/api/v1/devices/{f.eui(1)}/readings?from=2026-06-01T00:00:00Z"
        "&to=2026-06-02T00:00:00%2B00:00&bucket=6h&names=soil_moisture_pct,battery_v",
        headers=tokens.planner).json()
    assert (series["bucket_s"], series["names"], series["start"]) == (
        21600, ["soil_moisture_pct", "battery_v"], "2026-06-01T00:00:00+00:00")
    assert [(p["time"], p["count"], p["avg"]["soil_moisture_pct"],
             p["min"]["soil_moisture_pct"], p["max"]["soil_moisture_pct"])
            for p in series["points"]] == [
        ("2026-06-01T00:00:00+00:00", 6, 27.5, 25.0, 30.0),
        ("2026-06-01T06:00:00+00:00", 6, 21.5, 19.0, 24.0),
        ("2026-06-01T12:00:00+00:00", 6, 15.5, 13.0, 18.0),
        ("2026-06-01T18:00:00+00:00", 6, 9.5, 7.0, 12.0)]
    chosen = client.get(f"/api/v1/devices/{f.eui(1)}/readings?from=2026-05-01T00:00:00Z"
                        "&to=2026-06-02T00:00:00Z&points=40", headers=tokens.planner).json()
    assert chosen["bucket_s"] == 86400
    assert chosen["names"] == ["battery_v", "soil_moisture_pct", "soil_temperature_c"]


def test_asset_readings_include_bin_fill(client: TestClient, tokens: Tokens,
                                         readings: None) -> None:
    series = client.get("/api/v1/assets/bin/b1/readings?from=2026-06-01T00:00:00Z"
                        "&to=2026-06-01T06:00:00Z&bucket=3h&names=fill_pct",
                        headers=tokens.crew).json()
    assert [(p["count"], p["avg"]["fill_pct"], p["max"]["fill_pct"])
            for p in series["points"]] == [(3, 10.0, 20.0), (3, 40.0, 50.0)]
    assert client.get("/api/v1/assets/bin/b9/readings",
                      headers=tokens.crew).status_code == 404


@pytest.mark.parametrize(("query", "field", "message"), [
    ("from=2026-06-02T00:00:00Z&to=2026-06-01T00:00:00Z", "from", "must be before 'to'"),
    ("from=2026-06-01T00:00:00", "from", "Input should have timezone info"),
    ("bucket=5parsecs", "bucket",
     "'5parsecs' is not a width like 300s, 15min, 1h, 1d or 1w"),
    ("from=2026-01-01T00:00:00Z&to=2026-06-01T00:00:00Z&bucket=60s", "bucket",
     "60s gives more than 20000 buckets over this range; choose a wider bucket or a shorter "
     "range"),
    ("names=soil_moisture_pct,colour", "names",
     "unknown reading names ['colour']; choose from battery_v, battery_pct, temperature_c, "
     "soil_moisture_pct, soil_temperature_c, soil_conductivity_us_cm, distance_mm, latitude, "
     "longitude, altitude_m, hdop, roll_deg, pitch_deg"),
    ("points=3", "points", "Input should be greater than or equal to 10"),
])
def test_bad_ranges_are_422_naming_the_field(client: TestClient, tokens: Tokens,
                                             readings: None, query: str, field: str,
                                             message: str) -> None:
    response = client.get(f"/api/v1/devices/{f.eui(1)}/readings?{query}",
                          headers=tokens.planner)
    assert response.status_code == 422
    assert response.json()["errors"] == [{"field": field, "location": "query",
                                          "message": message}]
