"""The watering rule through the engine with a fetched weather feed in the database: a
forecast of rain holds the order (amount times probability), a silent probe's area is watered
by its water balance, and the balance is stored for the API and dashboards."""

from __future__ import annotations

import math
from typing import Any

import psycopg

from ingest.weather import feed
from ingest.weather.sources import Answer, Hour
from rules import orders, water_balance
from tests.rules import factory as f
from tests.rules.conftest import MakeEngine


def store_weather(conn: psycopg.Connection[Any], hours: list[Hour]) -> None:
    """Weather rows as `bauhof weather fetch` stores them (Bright Sky, station dwd:10738)."""
    feed.store(conn, Answer("brightsky", "dwd:10738", "Stuttgart-Echterdingen", 48.69, 9.22,
                            tuple(hours)), f.at(0))


def dry_hours(first: int, last: int) -> list[Hour]:
    """Observed, rainless, hot days (12-28 °C) without ET0: Hargreaves applies."""
    return [Hour(f.at(h), "dwd:10738", "observed", 0.0,
                 20.0 + 8.0 * math.cos(2 * math.pi * (h % 24 - 15) / 24), None, None, None)
            for h in range(first, last)]


def forecast(first: int, last: int, rain: dict[int, float], probability: float) -> list[Hour]:
    return [Hour(f.at(h), "dwd:10738", "forecast", rain.get(h, 0.0), 18.0,
                 probability if h in rain else 5.0, None, f.at(6)) for h in range(first, last)]


def held_reason(conn: psycopg.Connection[Any], area: str) -> Any:
    row = conn.execute("SELECT state->>'held' FROM rule_state WHERE rule = 'watering' "
                       "AND subject_id = %s", (area,)).fetchone()
    return None if row is None else row[0]


def test_a_likely_forecast_of_rain_holds_the_watering_order(
        conn: psycopg.Connection[Any], make_engine: MakeEngine) -> None:
    f.area(conn, "ga1", dev=1, plant_type="lawn")
    # 4 x 2 mm forecast at 80 %: 6.4 mm expected in the next 24 hours (threshold 5 mm).
    store_weather(conn, dry_hours(0, 7) + forecast(7, 40, {12: 2, 13: 2, 14: 2, 15: 2}, 80))
    engine = make_engine()
    f.ingest(conn, [f.soil(1, h, 14.0) for h in range(8)])
    engine.step()
    assert f.orders(conn, "watering") == []
    assert held_reason(conn, "ga1") == "6.4 mm rain forecast in 24 h"


def test_an_unlikely_forecast_of_the_same_rain_does_not_hold_it(
        conn: psycopg.Connection[Any], make_engine: MakeEngine) -> None:
    f.area(conn, "ga1", dev=1, plant_type="lawn")
    conn.execute("UPDATE green_areas SET radius_m = 5 WHERE id = 'ga1'")
    # The same 8 mm at 20 %: 1.6 mm expected.
    store_weather(conn, dry_hours(0, 7) + forecast(7, 40, {12: 2, 13: 2, 14: 2, 15: 2}, 20))
    engine = make_engine()
    f.ingest(conn, [f.soil(1, h, 14.0) for h in range(8)])
    engine.step()
    (order,) = orders.list_orders(conn)
    assert (order.kind, order.opened_at, order.params["litres"],
            order.params["litres_per_m2"]) == ("watering", f.at(6), 1410, 18.0)
    # 18 l/m² on a circle of 5 m radius (78.5 m²), to the nearest 10 l.
    assert order.title.endswith("; give 1410 l (18 l/m²)")
    assert held_reason(conn, "ga1") is None


def test_a_silent_probes_area_is_still_watered_by_its_balance(
        conn: psycopg.Connection[Any], make_engine: MakeEngine) -> None:
    f.area(conn, "ga1", dev=1, plant_type="lawn")
    f.area(conn, "ga2", dev=2, plant_type="lawn", lat=52.001)
    conn.execute("UPDATE green_areas SET radius_m = 4")
    store_weather(conn, dry_hours(0, 24 * 6))
    engine = make_engine()
    # ga1's probe reports wet soil for two hours, then falls silent; ga2's probe keeps
    # reporting wet soil (a watered bed), which also moves the event-time clock on.
    f.ingest(conn, [f.soil(1, h, 30.0) for h in range(2)]
             + [f.soil(2, h, 30.0) for h in range(24 * 6)])
    engine.catch_up()
    found = orders.list_orders(conn)
    # The silent probe has its own maintenance order (sensor health).
    assert sorted((o.kind, o.subject_id, o.rule) for o in found) == [
        ("sensor_maintenance", f.eui(1), "health.silent"), ("watering", "ga1", "watering.dry")]
    (order,) = [o for o in found if o.kind == "watering"]
    assert (order.kind, order.subject_id, order.params["source"]) == (
        "watering", "ga1", "water_balance")
    # Opened at the first hour the balance (from the stored weather alone) reached the
    # trigger of a lawn, 11 mm of its 22 mm.
    hours = water_balance.load_hours(conn, order.opened_at)
    at_open = water_balance.balance(hours, 52.0, "lawn", [], order.opened_at)
    before = water_balance.balance(hours, 52.0, "lawn", [], order.opened_at
                                   - (f.at(1) - f.at(0)))
    assert before.deficit_mm < 11.0 <= at_open.deficit_mm
    assert order.params["deficit_mm"] == at_open.deficit_mm
    m2 = math.pi * 4 ** 2
    assert order.params["litres"] == round(at_open.deficit_mm * m2 / 10) * 10
    assert order.title == (f"Water Area ga1: no soil reading for "
                           f"{(order.opened_at - f.at(1)).total_seconds() / 3600:.0f} h, water "
                           f"balance {at_open.deficit_mm:g} mm short; give "
                           f"{order.params['litres']} l ({at_open.deficit_mm:g} l/m²)")
    stored = conn.execute("SELECT area_id, deficit_mm, needs_water, et0_source FROM "
                          "water_balance ORDER BY area_id").fetchall()
    # The stored balance is the newest hour's; ga2 is just as dry by the weather, but its
    # probe reports and decides.
    assert [(r[0], r[2], r[3]) for r in stored] == [("ga1", True, "hargreaves"),
                                                    ("ga2", True, "hargreaves")]


def test_weather_at_reads_fetched_rows_observation_first_forecast_by_its_probability(
        conn: psycopg.Connection[Any]) -> None:
    from datetime import timedelta

    from rules.assets import Weather, weather_at

    store_weather(conn, dry_hours(0, 3) + forecast(3, 30, {3: 0.5, 10: 4.0, 40: 9.0}, 40))
    three = timedelta(hours=3)
    # The observed hour 2, and 4 mm at 40 % ahead (hours 3-26): 0.2 + 1.6 mm expected.
    assert weather_at(conn, f.at(2.5), three) == Weather(f.at(2), 0.0, 1.8)
    # Hour 3 is known only from its forecast: 0.5 mm at 40 % rains 0.2 mm/h.
    assert weather_at(conn, f.at(3.5), three) == Weather(f.at(3), 0.2, 1.6)
    # Its observation replaces the forecast: 1 mm fell.
    store_weather(conn, [Hour(f.at(3), "dwd:10738", "observed", 1.0, 17.0, None, None, None)])
    assert weather_at(conn, f.at(3.5), three) == Weather(f.at(3), 1.0, 1.6)
    # Nothing at most 3 hours old: no weather, no hold.
    assert weather_at(conn, f.at(40), three) is None


def test_the_snapshot_answers_what_the_queries_answer(conn: psycopg.Connection[Any]) -> None:
    """The step's snapshot looks weather up from the rows it loaded, as the SQL does."""
    from datetime import timedelta

    from rules.assets import Weather, weather_at
    from rules.snapshot import AHEAD, load_weather

    store_weather(conn, dry_hours(0, 200))
    store_weather(conn, forecast(150, 230, {160: 0.5, 170: 4.0}, 40))
    store_weather(conn, [Hour(f.at(160), "dwd:10738", "observed", 1.0, 17.0, None, None, None)])
    conn.execute("INSERT INTO weather (time, station, rain_mm_h, forecast_rain_mm_24h) "
                 "VALUES (%s, 'town', 0.3, 2.0), (%s, 'park', 0.7, NULL)",
                 (f.at(190), f.at(190)))
    week = timedelta(days=water_balance.WINDOW_DAYS)
    window = load_weather(conn, f.at(0) - week - timedelta(hours=3), f.at(240) + AHEAD)
    three = timedelta(hours=3)
    looked_up = 0
    for half_hours in range(0, 480):
        at = f.at(half_hours / 2)
        assert window.at(at, three) == weather_at(conn, at, three)
        assert window.hours(at) == water_balance.load_hours(conn, at)
        looked_up += window.at(at, three) is not None
    # Up to 3 hours after the last forecast hour (229), 8 hours of half hours without.
    assert looked_up == 480 - 16
    # A station publishing on MQTT wins: its newest hour, the wettest of its stations.
    assert window.at(f.at(190.5), three) == Weather(f.at(190), 0.7, 2.0)
