"""The planner's preview through the API: warnings for a day that is not a working day, a
day in the past, stale data, silent bins and forecasts over 100 %; drafts that do not pile
up; settings history and restore; a bin's curve. The data ends shortly before the real
clock (or, for stale data, days before it), because the warnings are about *now*."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
from fastapi.testclient import TestClient

from planning import selection
from planning import settings as planning_settings
from tests.planning.conftest import DEPOT
from tests.planning.factory import add_bin, add_fills_at, add_vehicle, hourly
from tests.planning.test_api import token


def village(conn: psycopg.Connection[Any], end: datetime) -> dict[str, str]:
    """Four bins with a day of hourly readings up to `end`, two trucks; a planner's header.
    bin-1 85 % (over its threshold), bin-2 and bin-4 low, bin-3 60 %: rates so slow that
    nothing reaches 100 % within eight days (bin-1 at most 94.6 %, bin-3 79.2 %): the tests
    preview days up to a week ahead, which on a Sunday or a Monday is a full week."""
    add_vehicle(conn, "veh-1", 2000)
    add_vehicle(conn, "veh-2", 2000)
    for number, (lat, lon) in enumerate([(48.6000, 8.8600), (48.5980, 8.8700),
                                         (48.5960, 8.8800), (48.5940, 8.8650)], start=1):
        add_bin(conn, f"bin-{number}", lat, lon)
    for bin_id, fill, rate in (("bin-1", 85.0, 0.05), ("bin-2", 30.0, 0.1),
                               ("bin-3", 60.0, 0.1), ("bin-4", 10.0, 0.05)):
        add_fills_at(conn, bin_id, hourly(end, 24, fill, rate))
    planning_settings.save(conn, planning_settings.parse({
        "depot": DEPOT, "time_limit_s": 0.3, "preview_time_limit_s": 0.2}), "planner:test")
    return token(conn, "paula", "planner")


def minute(moment: datetime) -> datetime:
    """The moment to the minute (readings' times are then exact in the JSON)."""
    return moment.replace(second=0, microsecond=0)


def next_weekday(after: date, weekday: int) -> date:
    """The first day after `after` that falls on `weekday` (0 = Monday)."""
    return after + timedelta(days=(weekday - after.weekday() - 1) % 7 + 1)


def test_a_working_day_with_fresh_data_has_no_warnings(conn: psycopg.Connection[Any],
                                                        client: TestClient) -> None:
    now = datetime.now(UTC)
    planner = village(conn, minute(now - timedelta(minutes=30)))
    day = selection.next_plan_date(now, planning_settings.PlannerSettings())
    answer = client.get(f"/api/v1/routes/preview?date={day}", headers=planner)
    assert answer.status_code == 200
    doc = answer.json()
    assert doc["warnings"] == []
    assert (doc["kind"], doc["plan_date"], doc["working_day"]) == ("preview", str(day), True)
    assert [(s["bin_id"], s["reason"], s["planned"]) for s in doc["selected"]] == [
        ("bin-1", "threshold", True)]
    (route,) = doc["routes"]
    assert [(s["seq"], s["bin_id"], s["name"], s["reason"]) for s in route["stop_list"]] == [
        (1, "bin-1", "Bin bin-1", "threshold")]
    assert [(b["bin_id"], b["reason"]) for b in doc["left_out"]] == [
        ("bin-2", "below_threshold"), ("bin-3", "below_threshold"),
        ("bin-4", "below_threshold")]
    assert (doc["overflows_expected"], doc["depot"]) == (0, DEPOT)
    assert [(v["id"], v["capacity_l"], v["used"]) for v in doc["fleet"]] == [
        ("veh-1", 2000.0, True), ("veh-2", 2000.0, True)]


def test_a_sunday_is_not_a_working_day(conn: psycopg.Connection[Any],
                                       client: TestClient) -> None:
    now = datetime.now(UTC)
    planner = village(conn, minute(now - timedelta(minutes=30)))
    sunday = next_weekday(now.date(), 6)
    doc = client.get(f"/api/v1/routes/preview?date={sunday}", headers=planner).json()
    assert doc["warnings"] == [{
        "code": "not_working_day", "date": str(sunday), "holiday": False,
        "working_days": [0, 1, 2, 3, 4],
        "message": f"{sunday} is not a working day (a Sunday).",
        "message_de": f"Der {sunday:%d.%m.%Y} ist kein Arbeitstag (ein Sonntag)."}]
    assert doc["working_day"] is False
    # A holiday on a weekday, given with the preview's settings.
    monday = next_weekday(now.date(), 0)
    holiday = client.post("/api/v1/routes/preview", headers=planner, json={
        "date": str(monday), "settings": {"holidays": [str(monday)]}}).json()
    assert [(w["code"], w["holiday"], w["message_de"]) for w in holiday["warnings"]] == [
        ("not_working_day", True, f"Der {monday:%d.%m.%Y} ist kein Arbeitstag (ein Feiertag).")]


def test_a_day_in_the_past(conn: psycopg.Connection[Any], client: TestClient) -> None:
    now = datetime.now(UTC)
    end = minute(now - timedelta(minutes=30))
    planner = village(conn, end)
    cfg = planning_settings.PlannerSettings()
    past = next_weekday(now.date() - timedelta(days=8), 2)  # a Wednesday last week
    doc = client.get(f"/api/v1/routes/preview?date={past}", headers=planner).json()
    today = datetime.now(UTC).astimezone(ZoneInfo(cfg.timezone)).date()
    local = end.astimezone(ZoneInfo(cfg.timezone))
    assert doc["warnings"] == [
        {"code": "date_past", "date": str(past), "today": str(today),
         "message": f"{past} lies in the past (today is {today}).",
         "message_de": f"Der {past:%d.%m.%Y} liegt in der Vergangenheit (heute ist der "
                       f"{today:%d.%m.%Y})."},
        {"code": "data_after_date", "date": str(past), "newest_reading_at": end.isoformat(),
         "message": "The data goes on after the day's shift began (newest reading "
                    f"{local:%Y-%m-%d %H:%M}): the plan uses forecasts from then, not from "
                    "that day.",
         "message_de": "Die Daten reichen über den Schichtbeginn hinaus (neuester Messwert "
                       f"{local:%d.%m.%Y %H:%M}): der Plan nutzt die Prognosen von dann, "
                       "nicht von diesem Tag."}]


def test_stale_data_silent_bins_and_capped_forecasts(conn: psycopg.Connection[Any],
                                                     client: TestClient) -> None:
    now = datetime.now(UTC)
    end = minute(now - timedelta(days=3))
    planner = village(conn, end)
    add_bin(conn, "bin-5", 48.5920, 8.8750)
    add_fills_at(conn, "bin-5", hourly(end - timedelta(hours=30), 12, 50.0, 0.05))
    add_bin(conn, "bin-6", 48.5910, 8.8760)
    add_fills_at(conn, "bin-6", hourly(end, 12, 99.0, 1.0))
    day = selection.next_plan_date(now, planning_settings.PlannerSettings())
    doc = client.get(f"/api/v1/routes/preview?date={day}", headers=planner).json()
    codes = [w["code"] for w in doc["warnings"]]
    assert codes == ["stale_data", "bins_without_recent_reading", "forecast_capped"]
    stale, silent, capped = doc["warnings"]
    assert (stale["newest_reading_at"], stale["limit_h"]) == (end.isoformat(), 24.0)
    # Three days and the half hour or so the test took: nothing else can make it younger.
    assert 72.0 <= stale["age_h"] < 73.0
    assert stale["message_de"].startswith(f"Der neueste Messwert ist {stale['age_h']} h alt")
    assert (silent["count"], silent["bins"], silent["message"]) == (
        1, ["bin-5"], "1 bins have no reading in the 24 h before the newest one: bin-5.")
    assert (capped["count"], capped["bins"]) == (1, ["bin-6"])
    stop = next(s for r in doc["routes"] for s in r["stop_list"] if s["bin_id"] == "bin-6")
    assert (stop["expected_fill_pct"], stop["capped"]) == (100.0, True)
    assert stop["forecast_pct"] > 100.0
    assert doc["overflows_expected"] == 1


def test_drafts_do_not_pile_up(conn: psycopg.Connection[Any], client: TestClient) -> None:
    now = datetime.now(UTC)
    planner = village(conn, minute(now - timedelta(minutes=30)))
    for threshold in (50, 55, 60, 65, 70, 75, 80):
        answer = client.get(f"/api/v1/routes/preview?threshold={threshold}", headers=planner)
        assert answer.status_code == 200
    kept = conn.execute("SELECT threshold_pct, created_by FROM route_plans "
                        "WHERE kind = 'preview' ORDER BY id").fetchall()
    assert kept == [(t, "planner:paula") for t in (60.0, 65.0, 70.0, 75.0, 80.0)]


def test_settings_history_and_restore(conn: psycopg.Connection[Any],
                                      client: TestClient) -> None:
    planner = village(conn, minute(datetime.now(UTC) - timedelta(minutes=30)))
    client.put("/api/v1/routes/settings?note=lower", headers=planner,
               json={"fill_threshold_pct": 70})
    restored = client.post("/api/v1/routes/settings/restore/1", headers=planner)
    assert restored.status_code == 200
    assert (restored.json()["version"], restored.json()["settings"]["fill_threshold_pct"]) == (
        3, None)
    history = client.get("/api/v1/routes/settings/history", headers=planner).json()
    assert [(v["version"], v["created_by"], v["note"], v["settings"]["fill_threshold_pct"])
            for v in history["versions"]] == [
        (3, "planner:paula", "restored version 1", None),
        (2, "planner:paula", "lower", 70.0), (1, "planner:test", None, None)]
    missing = client.post("/api/v1/routes/settings/restore/9", headers=planner)
    assert (missing.status_code, missing.json()["detail"]) == (
        404, "settings version 9 does not exist (or is not visible to you)")


def test_a_bins_curve(conn: psycopg.Connection[Any], client: TestClient) -> None:
    end = minute(datetime.now(UTC) - timedelta(minutes=30))
    planner = village(conn, end)
    client.get("/api/v1/routes/preview", headers=planner)
    doc = client.get("/api/v1/routes/bins/bin-3", headers=planner).json()
    assert doc["bin"] == {"id": "bin-3", "name": "Bin bin-3", "latitude": 48.596,
                          "longitude": 8.88, "volume_l": 1100.0, "fill_threshold_pct": 80.0}
    assert len(doc["readings"]) == 25
    assert doc["readings"][-1] == [end.isoformat(), 60.0]
    assert (doc["forecast"]["as_of"], doc["forecast"]["method"], len(doc["forecast"]["curve"])) \
        == (end.isoformat(), "trend", 169)
    assert doc["forecast"]["curve"][0] == 60.0
    assert client.get("/api/v1/routes/bins/nope", headers=planner).status_code == 404
