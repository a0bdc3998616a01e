"""The weather's age and sources (GET /api/v1/weather/status, /ready) and each green area's
water balance beside its measured moisture, with the data's attribution."""

from __future__ import annotations

import json
import math
from datetime import timedelta
from typing import Any

import psycopg
from fastapi.testclient import TestClient

from ingest.weather import feed
from ingest.weather.sources import Answer, Hour, parse_brightsky
from rules import ruleset, water_balance
from rules.engine import RulesEngine
from tests.api import town
from tests.api.conftest import Tokens
from tests.ingest.weather.server import answer
from tests.ingest.weather.test_feed import BRIGHTSKY_AT
from tests.rules import factory as f

DWD = "Datenbasis: Deutscher Wetterdienst (via Bright Sky)"


def test_weather_status_says_how_old_the_weather_is_and_where_it_comes_from(
        client: TestClient, tokens: Tokens, conn: psycopg.Connection[Any]) -> None:
    empty = client.get("/api/v1/weather/status", headers=tokens.crew)
    assert empty.status_code == 200
    assert empty.json() == {"newest_observed_at": None, "age_h": None, "forecast_until": None,
                            "max_age_h": 3.0, "stale": True, "feeds": [], "attribution": []}
    feed.store(conn, parse_brightsky(json.loads(answer("brightsky.json")), BRIGHTSKY_AT),
               BRIGHTSKY_AT)
    failed_at = BRIGHTSKY_AT + timedelta(hours=1)
    feed.record_failure(conn, "open-meteo", "open-meteo: HTTP 503 'busy'", failed_at)
    status = client.get("/api/v1/weather/status", headers=tokens.crew).json()
    row = conn.execute("SELECT now()").fetchone()
    assert row is not None
    newest_end = BRIGHTSKY_AT.replace(minute=0)
    expected_age = (row[0] - newest_end).total_seconds() / 3600
    assert status["newest_observed_at"] == "2026-07-08T12:00:00+00:00"
    assert abs(status["age_h"] - expected_age) <= 0.011
    assert (status["forecast_until"], status["stale"]) == ("2026-07-09T12:00:00+00:00", True)
    assert status["feeds"] == [
        {"source": "brightsky", "station": "dwd:10738", "station_name": "Stuttgart-Echterdingen",
         "attribution": DWD, "last_attempt_at": "2026-07-08T12:10:00+00:00",
         "last_success_at": "2026-07-08T12:10:00+00:00", "last_error": None, "failures": 0,
         "newest_observed_at": "2026-07-08T12:00:00+00:00"},
        {"source": "open-meteo", "station": None, "station_name": None,
         "attribution": "Weather data by Open-Meteo.com, CC BY 4.0 (https://open-meteo.com/)",
         "last_attempt_at": "2026-07-08T13:10:00+00:00", "last_success_at": None,
         "last_error": "open-meteo: HTTP 503 'busy'", "failures": 1,
         "newest_observed_at": None}]
    assert status["attribution"] == [DWD]
    ready = client.get("/ready", headers=tokens.planner).json()
    assert abs(ready["weather_age_h"] - expected_age) <= 0.011
    # Like the schema version, only for planners and administrators.
    assert client.get("/ready").json() == {"status": "ok", "database": "ok"}
    assert client.get("/api/v1/weather/status").status_code == 401


def test_a_green_area_shows_its_water_balance_beside_the_measured_moisture(
        client: TestClient, tokens: Tokens, conn: psycopg.Connection[Any],
        database_url: str) -> None:
    town.build(conn)
    conn.execute("UPDATE green_areas SET radius_m = 3 WHERE id = 'ga1'")
    # Ten hot, dry days before the readings, as Bright Sky would report them.
    hours = tuple(Hour(f.at(h), "dwd:10738", "observed", 0.0,
                       20.0 + 8.0 * math.cos(2 * math.pi * (h % 24 - 15) / 24), None, None,
                       None) for h in range(-240, 24))
    feed.store(conn, Answer("brightsky", "dwd:10738", "Stuttgart-Echterdingen", 48.69, 9.22,
                            hours), f.at(24))
    f.ingest(conn, [f.soil(1, h, 30.0) for h in range(24)])
    engine = RulesEngine(database_url, ruleset.load(), wall=lambda: f.at(24 * 365))
    try:
        engine.catch_up()
    finally:
        engine.close()
    b = water_balance.balance(water_balance.load_hours(conn, f.at(23)), 48.593, "flowers", [],
                              f.at(23))
    size = water_balance.dose(b.deficit_mm, "flowers", math.pi * 9, None)
    area = client.get("/api/v1/green-areas/ga1", headers=tokens.crew).json()
    assert (area["moisture_pct"], area["moisture_at"]) == (30.0, "2026-06-01T23:00:00+00:00")
    assert area["water_balance"] == {
        "as_of": "2026-06-01T23:00:00+00:00", "rain_7d_mm": 0.0, "et_7d_mm": b.et_mm,
        "watered_7d_mm": 0.0, "deficit_mm": b.deficit_mm, "capacity_mm": 33.0,
        "trigger_mm": 16.5, "needs_water": True, "et0_source": "hargreaves",
        "litres": size.litres, "litres_per_m2": b.deficit_mm, "litres_per_tree": None,
        "attribution": [DWD]}
    # Flowers hold 22 % of 150 mm; ten dry days at about 5 mm a day leave them well short.
    assert b.deficit_mm > 16.5
