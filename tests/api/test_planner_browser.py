"""The planners' workspace (/planner) in Debian's Chromium against a real API and the default
town's 250 bins with two days of hourly readings ending half an hour ago: a planner signs
in, previews the next working day on the map, changes the threshold and sees the difference,
opens a bin's fill curve, plans twice and finds each collection order once. A crew token is
refused with a clear message. Screenshots (desktop and phone) go to artifacts/."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, time, timedelta
from typing import Any

import psycopg
import pytest
from playwright.sync_api import Browser, Page, expect

from harness import town
from planning import selection
from planning import settings as planning_settings
from simulator import scenario
from tests.api.conftest import Tokens
from tests.fixtures.browser import screenshot_path

DESKTOP = {"width": 1440, "height": 1000}
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def herrenberg(database_url: str, conn: psycopg.Connection[Any]) -> datetime:
    """The default town's assets; per bin 49 hourly readings up to the returned time (half an
    hour ago), fills from 20 to 89 % rising 0.3 % an hour; the depot and short solver limits
    saved as settings version 1."""
    default = scenario.load("herrenberg")
    town.load_assets(database_url, default)
    end = (datetime.now(UTC) - timedelta(minutes=30)).replace(second=0, microsecond=0)
    sensors = conn.execute(
        "SELECT d.dev_eui, b.id, b.empty_distance_mm, b.full_distance_mm FROM devices d "
        "JOIN bins b ON b.id = d.asset_id WHERE d.asset_type = 'bin' ORDER BY b.id").fetchall()
    assert len(sensors) == 250
    with conn.cursor() as cur, cur.copy(
            "COPY readings (time, dev_eui, deduplication_id, asset_type, asset_id, "
            "distance_mm) FROM STDIN") as copy:
        for index, (dev_eui, bin_id, empty, full) in enumerate(sensors):
            last = 20.0 + (index * 53) % 70
            for hour in range(48, -1, -1):
                fill = last - 0.3 * hour
                copy.write_row((end - timedelta(hours=hour), dev_eui, uuid.uuid4(), "bin",
                                bin_id, empty - fill / 100 * (empty - full)))
    depot = default.town.depot
    planning_settings.save(conn, planning_settings.parse({
        "depot": {"latitude": depot.latitude, "longitude": depot.longitude},
        "time_limit_s": 1.0, "preview_time_limit_s": 0.5}), "planner:setup")
    return end


def de(value: float, digits: int) -> str:
    """A number as the page shows it in German (no thousands in these figures)."""
    return f"{value:.{digits}f}".replace(".", ",")


def signed(value: float, digits: int) -> str:
    """A difference as the page shows it: plus, minus sign or ± and the German number."""
    sign = "+" if value > 0 else "\u2212" if value < 0 else "±"
    return sign + de(abs(value), digits)


def sign_in(page: Page, token: dict[str, str]) -> None:
    """Enter a token and sign in."""
    page.get_by_test_id("token").fill(token["Authorization"].removeprefix("Bearer "))
    page.get_by_test_id("signin-button").click()


def preview(page: Page, button: str) -> dict[str, Any]:
    """Click a button that previews; the preview document the page received."""
    with page.expect_response(lambda r: r.url.endswith("/api/v1/routes/preview")) as answer:
        page.get_by_test_id(button).click()
    assert answer.value.status == 200
    doc: dict[str, Any] = answer.value.json()
    return doc


def test_planner_previews_compares_and_plans_a_day(
        browser: Browser, live_server: Callable[..., str], conn: psycopg.Connection[Any],
        tokens: Tokens, herrenberg: datetime) -> None:
    base = live_server(grafana_url="http://grafana.invalid:3000")
    page = browser.new_page(viewport=DESKTOP)
    page.goto(f"{base}/planner")
    assert page.evaluate("document.documentElement.lang") == "de"
    sign_in(page, tokens.planner)
    expect(page.get_by_test_id("history").get_by_test_id("version")).to_have_count(1)

    day = selection.next_plan_date(datetime.now(UTC), planning_settings.PlannerSettings())
    page.get_by_test_id("day").fill(day.isoformat())
    first = preview(page, "preview")
    assert first["plan_date"] == day.isoformat()
    assert first["routes"], "the default town's full bins make at least one route"
    stops = sum(len(r["stop_list"]) for r in first["routes"])
    expect(page.get_by_test_id("route")).to_have_count(len(first["routes"]))
    expect(page.get_by_test_id("stop-marker")).to_have_count(stops)
    expect(page.get_by_test_id("stop")).to_have_count(stops)
    expect(page.get_by_test_id("km")).to_have_text(de(first["km"], 1))
    expect(page.get_by_test_id("bins")).to_have_text(
        f"{first['bins_planned']}/{first['bins_selected']}")
    # The table lists the first route's stops in driving order, by street address.
    first_stop = first["routes"][0]["stop_list"][0]
    row = page.get_by_test_id("stop").first
    expect(row).to_have_attribute("data-bin", first_stop["bin_id"])
    expect(row).to_contain_text(first_stop["name"])
    expect(page.get_by_test_id("warning")).to_have_count(len(first["warnings"]))
    assert conn.execute("SELECT name FROM bins WHERE id = %s",
                        (first_stop["bin_id"],)).fetchone() == (first_stop["name"],)
    assert not {w["code"] for w in first["warnings"]} & {
        "not_working_day", "date_past", "stale_data"}

    # Click a stop: the bin, its fill curve (readings and forecast) and the forecast's facts.
    row.click()
    expect(page.get_by_test_id("bin-detail")).to_be_visible()
    expect(page.get_by_test_id("bin-detail")).to_contain_text(first_stop["name"])
    expect(page.get_by_test_id("chart-readings")).to_have_count(1)
    expect(page.get_by_test_id("chart-forecast")).to_have_count(1)
    # Back to Grafana: the Waste planning dashboard's panel of this bin, the week before.
    midnight = datetime.combine(day, time(), UTC)
    expect(page.get_by_test_id("bin-grafana")).to_have_attribute(
        "href", "http://grafana.invalid:3000/d/bauhof-waste/waste-planning?"
        f"from={int((midnight - timedelta(days=7)).timestamp() * 1000)}"
        f"&to={int((midnight + timedelta(hours=23, minutes=59, seconds=59)).timestamp()) * 1000}"
        f"&var-bin={first_stop['bin_id']}&viewPanel=7")
    expect(page.get_by_test_id("dashboard-link")).to_be_visible()
    page.screenshot(path=screenshot_path("planner-desktop.png"), full_page=False)
    # Zoomed in, the stops carry their street addresses (the town's data; no tiles needed).
    label = page.locator(".leaflet-tooltip.street", has_text=f"1 · {first_stop['name']}")
    expect(label).to_be_hidden()
    page.evaluate("document.querySelector('.leaflet-control-zoom-in').scrollIntoView()")
    for _ in range(3):
        page.locator(".leaflet-control-zoom-in").click()
    page.evaluate("window.scrollTo(0, 0)")
    expect(label).to_be_visible()

    # A lower threshold: more bins; the page shows the difference to the previous preview.
    page.get_by_test_id("threshold").fill("60")
    second = preview(page, "apply")
    assert second["settings"]["fill_threshold_pct"] == 60.0
    assert second["bins_selected"] > first["bins_selected"]
    km = round(second["km"] - first["km"], 2)
    expect(page.get_by_test_id("diff")).to_have_text(
        f"Gegenüber der vorigen Vorschau: {signed(km, 2)} km, "
        f"{signed(second['bins_planned'] - first['bins_planned'], 0)} Behälter, "
        f"{signed(second['overflows_expected'] - first['overflows_expected'], 0)} "
        "erwartete Überläufe.")
    expect(page.get_by_test_id("km")).to_have_text(de(second["km"], 1))
    expect(page.get_by_test_id("stop")).to_have_count(
        sum(len(r["stop_list"]) for r in second["routes"]))
    page.screenshot(path=screenshot_path("planner-compare.png"), full_page=True)

    # Plan twice: the orders of the day exist once (re-planning updates them).
    for _ in range(2):
        with page.expect_response(lambda r: r.url.endswith("/api/v1/routes/plans")) as done:
            page.get_by_test_id("plan").click()
        assert done.value.status == 201
        expect(page.get_by_test_id("plan-status")).to_contain_text("Geplant:")
    plan = done.value.json()
    active = conn.execute(
        "SELECT r.vehicle_id, r.order_id FROM route_plan_routes r JOIN route_plans p "
        "ON p.id = r.plan_id WHERE p.kind = 'plan' AND p.status = 'active' AND p.plan_date = %s "
        "ORDER BY r.vehicle_id", (day,)).fetchall()
    assert [(r["vehicle_id"], r["order_id"]) for r in sorted(
        plan["routes"], key=lambda r: r["vehicle_id"])] == active
    assert conn.execute(
        "SELECT subject_id, id, status, params ->> 'plan_id' FROM work_orders "
        "WHERE kind = 'collection_route' ORDER BY subject_id").fetchall() == [
        (vehicle, order, "open", str(plan["id"])) for vehicle, order in active]
    assert conn.execute("SELECT count(*), count(*) FILTER (WHERE status = 'superseded') "
                        "FROM route_plans WHERE kind = 'plan'").fetchone() == (2, 1)
    expect(page.get_by_test_id("plan-status")).to_have_text(
        f"Geplant: {len(plan['routes'])} Touren, {plan['bins_planned']} Behälter, "
        f"{de(plan['km'], 1)} km. Aufträge: "
        + ", ".join(f"#{r['order_id']}" for r in plan["routes"]) + ".")
    # Previews are drafts: the planner's latest five at most.
    assert conn.execute("SELECT count(*) FROM route_plans WHERE kind = 'preview' "
                        "AND created_by = 'planner:paula'").fetchone() == (2,)

    # Save the threshold as a version, then restore the first one.
    page.get_by_test_id("note").fill("Dezember: mehr leeren")
    page.get_by_test_id("save").click()
    expect(page.get_by_test_id("plan-status")).to_have_text("Als Version 2 gespeichert.")
    expect(page.get_by_test_id("history").get_by_test_id("version")).to_have_count(2)
    page.get_by_test_id("history-toggle").click()
    page.get_by_test_id("restore").nth(1).click()
    expect(page.get_by_test_id("plan-status")).to_have_text(
        "Version 1 als Version 3 wiederhergestellt.")
    expect(page.get_by_test_id("threshold")).to_have_value("")
    assert conn.execute(
        "SELECT version, settings -> 'fill_threshold_pct', created_by, note "
        "FROM planner_settings ORDER BY version").fetchall() == [
        (1, None, "planner:setup", None), (2, 60.0, "planner:paula", "Dezember: mehr leeren"),
        (3, None, "planner:paula", "restored version 1")]

    # English second.
    page.get_by_test_id("lang").click()
    assert page.evaluate("document.documentElement.lang") == "en"
    expect(page.get_by_test_id("preview")).to_have_text("Preview")
    # A Sunday: the page says so (in English now) before anyone plans it.
    sunday = day + timedelta(days=6 - day.weekday())
    page.get_by_test_id("day").fill(sunday.isoformat())
    shown = preview(page, "preview")
    assert shown["warnings"][0]["code"] == "not_working_day"
    expect(page.locator("[data-testid=warning][data-code=not_working_day]")).to_have_text(
        f"{sunday.isoformat()} is not a working day (a Sunday).")

    phone = browser.new_page(viewport=PHONE)
    phone.goto(f"{base}/planner/?date={day.isoformat()}")
    sign_in(phone, tokens.planner)
    on_phone = preview(phone, "preview")
    expect(phone.get_by_test_id("route")).to_have_count(len(on_phone["routes"]))
    phone.screenshot(path=screenshot_path("planner-phone.png"), full_page=False)


def test_a_crew_token_is_refused_with_a_clear_message(
        browser: Browser, live_server: Callable[..., str], tokens: Tokens) -> None:
    page = browser.new_page(viewport=PHONE)
    page.goto(f"{live_server()}/planner/")
    sign_in(page, tokens.crew)
    expect(page.get_by_test_id("signin-error")).to_have_text(
        "Diese Seite ist nur für Planer und Administratoren; ein Crew-Schlüssel reicht nicht. "
        "(role crew may not do this; it needs planner or admin)")
    expect(page.get_by_test_id("preview")).to_be_hidden()
    expect(page.get_by_test_id("token")).to_be_visible()
