"""The crew app in Debian's Chromium: routes as stop lists, German titles with current values
in Berlin time, the planner's token refused, signing out clearing every cache."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import psycopg
from playwright.sync_api import Browser, expect

from bauhof.assignee import Assignee
from rules import orders
from rules.actions import Update
from tests.api import crew_routes, crew_town
from tests.api.conftest import Tokens
from tests.api.test_crew_day import sign_in
from tests.api.town import open_order
from tests.fixtures.browser import screenshot_path, wait_until
from tests.rules import factory as f


def test_a_route_is_a_stop_list_and_a_stop_is_one_tap(
        browser: Browser, live_server: Callable[..., str], conn: psycopg.Connection[Any],
        tokens: Tokens) -> None:
    ids = crew_routes.bins(conn)
    page = browser.new_page(viewport={"width": 390, "height": 844}, locale="de-DE")
    sign_in(page, live_server(), tokens.crew)
    cards = page.get_by_test_id("order")
    expect(cards).to_have_count(4)
    # The planner plans the day: the route arrives live and R1-R3 go onto it.
    ids["route"] = crew_routes.plan(conn)
    expect(page.locator(f"[data-order-id='{ids['R1']}']")).to_have_count(0)
    expect(cards).to_have_count(2)
    route = page.locator(f"[data-order-id='{ids['route']}']")
    expect(page.get_by_test_id("mine").get_by_test_id("order")).to_have_count(1)
    expect(route.get_by_test_id("title")).to_have_text("Tour 1: 3 Behälter, 4.2 km")
    route.locator(".head").click()
    stops = route.get_by_test_id("stop")
    expect(stops.locator(".stop-label")).to_have_text([
        "1. Rathausplatz \u2013 85 % voll (geplant 90 %)",
        "2. Schulhof \u2013 70 % voll (geplant 82 %)",
        "3. Friedhof Ost \u2013 65 % voll (geplant 81 %)"])
    expect(stops.locator("a.stop-nav")).to_have_count(3)
    expect(stops.nth(1).locator("a.stop-nav")).to_have_attribute("href", "geo:48.5972,8.8722")
    expect(route.get_by_test_id("next")).to_have_text("Nächster Halt: 1. Rathausplatz")
    page.screenshot(path=str(screenshot_path("crew-route-phone.png")))
    stops.nth(0).get_by_test_id("stop-done").click()
    expect(route.get_by_test_id("undo-bar")).to_be_visible()
    expect(route.get_by_test_id("next")).to_have_text("Nächster Halt: 2. Schulhof",
                                                      timeout=15_000)
    expect(route.get_by_test_id("title")).to_have_text("Tour 1: 3 Behälter, 4.2 km, noch 2",
                                                       timeout=15_000)
    expect(route.get_by_test_id("queue")).to_have_text("gesendet", timeout=15_000)
    done = conn.execute("SELECT seq FROM route_plan_stops WHERE done_at IS NOT NULL "
                        "ORDER BY seq").fetchall()
    assert done == [(1,)]
    assert conn.execute("SELECT status, resolved_by FROM work_orders WHERE id = %s",
                        (ids["R1"],)).fetchone() == ("done", "crew:nord")
    # An undone tap sends nothing.
    stops.nth(1).get_by_test_id("stop-done").click()
    route.get_by_test_id("undo").click()
    expect(route.get_by_test_id("undo-bar")).to_be_hidden()
    page.wait_for_timeout(6000)
    assert conn.execute("SELECT count(*) FROM route_plan_stops WHERE done_at IS NOT NULL"
                        ).fetchone() == (1,)
    page.close()


def test_titles_are_german_with_current_values_in_berlin_time(
        browser: Browser, live_server: Callable[..., str], conn: psycopg.Connection[Any],
        tokens: Tokens) -> None:
    town = crew_town.build(conn)
    full_at = f.at(4 * 24 + 4 + 19 / 60)  # 2026-06-05 04:19 UTC, 06:19 in Berlin
    forecast = open_order(conn, "bins.full", "empty_bin", "bin", "R9", hours=0, value=0.0,
                          params={"fill_threshold_pct": 80.0, "reason": "forecast",
                                  "forecast_full_at": full_at.isoformat()},
                          due_h=(full_at - f.at(0)) / timedelta(hours=1),
                          location=(48.59, 8.86))
    conn.execute("INSERT INTO bins (id, name, latitude, longitude, volume_l, "
                 "empty_distance_mm, full_distance_mm) VALUES ('R9', 'Hohlweg 22', 48.59, "
                 "8.86, 240, 1000, 100)")
    # A reading after opening: the card shows 49 %, not the 0 % of the title at opening.
    orders.apply_update(conn, Update("bins.full", "bin", "R9", f.at(5), 49.0, ()))
    # A phone in New York's zone and English locale, standing 111 m north of the bin.
    page = browser.new_page(viewport={"width": 1440, "height": 900}, locale="en-US",
                            timezone_id="America/New_York", permissions=["geolocation"],
                            geolocation={"latitude": 48.591, "longitude": 8.86})
    sign_in(page, live_server(), tokens.crew)
    card = page.locator(f"[data-order-id='{forecast}']")
    expect(card.get_by_test_id("title")).to_have_text(
        "Leeren: Hohlweg 22 \u2013 49 % voll, voll am Fr., 05.06., 06:19")
    expect(card.get_by_test_id("meta")).to_have_text(
        "frei · fällig Fr., 05.06., 06:19 · 111 m entfernt")
    card.locator(".head").click()
    expect(card.get_by_test_id("why")).to_have_text(
        "P3 · Prognose: erst Fr., 05.06., 06:19 nötig · "
        "Priorität der Regel (1 = dringend, 5 = wenn Zeit ist)")
    radio = page.locator(f"[data-order-id='{town['sensor_maintenance'][0]}']")
    expect(radio.get_by_test_id("title")).to_have_text(
        "Sensor: Marktplatz 1 \u2013 schlechter Funkempfang \u2013 Antenne/Standort prüfen")
    report = page.locator(f"[data-order-id='{town['citizen_defect'][1]}']")
    expect(report.get_by_test_id("title")).to_have_text("Meldung: Stadtpark 2")
    report.locator(".head").click()
    expect(report.get_by_test_id("facts")).to_have_text(
        "Bürgermeldung: Bank beschädigt 2 · Lindenstraße 2")
    watering = page.locator(f"[data-order-id='{town['watering'][0]}']")
    expect(watering.get_by_test_id("title")).to_have_text(
        "Gießen: Stadtpark 1 \u2013 Bodenfeuchte 11 %")
    # The water balance's size of the order, as the crew should give it.
    sized = page.locator(f"[data-order-id='{town['watering'][1]}']")
    expect(sized.get_by_test_id("title")).to_have_text(
        "Gießen: Stadtpark 2 \u2013 Bodenfeuchte 12 % \u2013 2.820 l (18 l/m²)")
    expect(page.get_by_test_id("summary")).to_have_text("156 offene Aufträge")
    page.get_by_test_id("kind").select_option("watering")
    expect(page.get_by_test_id("summary")).to_have_text("156 offene Aufträge (50 angezeigt)")
    page.get_by_test_id("kind").select_option("")
    page.get_by_test_id("search").fill("hohlweg")
    expect(page.get_by_test_id("summary")).to_have_text("156 offene Aufträge (1 angezeigt)")
    page.get_by_test_id("search").fill("")
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(screenshot_path("crew-desktop.png")))
    page.get_by_test_id("lang").click()
    expect(card.get_by_test_id("title")).to_have_text(
        "Empty bin: Hohlweg 22 \u2013 49 % full, full by Fri 05/06, 06:19")
    expect(sized.get_by_test_id("title")).to_have_text(
        "Watering: Stadtpark 2 \u2013 soil moisture 12 % \u2013 2,820 l (18 l/m²)")
    page.close()


def test_a_planner_token_is_refused_with_a_clear_message(
        browser: Browser, live_server: Callable[..., str], tokens: Tokens) -> None:
    page = browser.new_page(viewport={"width": 390, "height": 844}, locale="de-DE")
    expect(page.get_by_test_id("live")).to_be_hidden()
    sign_in(page, live_server(), tokens.planner)
    expect(page.get_by_test_id("signin-error")).to_have_text(
        "Dieser Schlüssel gehört zur Planung. Die Crew-App ist für Kolonnen: bitte mit dem "
        "Schlüssel der Kolonne anmelden.")
    expect(page.get_by_test_id("signin")).to_be_visible()
    expect(page.get_by_test_id("live")).to_be_hidden()
    assert page.evaluate("localStorage.getItem('bauhof.token')") is None
    page.close()


def test_signing_out_clears_every_cached_order_and_photo(
        browser: Browser, live_server: Callable[..., str], conn: psycopg.Connection[Any],
        tokens: Tokens) -> None:
    town = crew_town.build(conn)
    nords = town["empty_bin"][0]
    orders.transition(conn, nords, "assigned", "planner:paula", assignee=Assignee.crew("nord"))
    page = browser.new_page(viewport={"width": 390, "height": 844}, locale="de-DE")
    sign_in(page, live_server(), tokens.crew)
    expect(page.get_by_test_id("who")).to_have_text("nord · Kolonne")
    mine = page.locator(f"[data-order-id='{nords}']")
    expect(mine).to_have_count(1)
    mine.locator(".head").click()
    mine.locator("textarea.note").fill("Schlüssel liegt im Auto")
    # The worker has cached the shell and the list.
    wait_until(page, "navigator.serviceWorker.controller !== null")
    wait_until(page, "caches.keys().then(k => k.length === 2)")
    assert page.evaluate("caches.keys()") == ["bauhof-crew-shell-v1", "bauhof-crew-data-v1"]
    assert page.evaluate("localStorage.getItem('bauhof.crew.drafts')") == (
        f'{{"{nords}":"Schlüssel liegt im Auto"}}')
    page.get_by_test_id("signout").click()
    wait_until(page, "document.body.dataset.signedOut === '1'")
    assert page.evaluate("caches.keys()") == []
    assert page.evaluate("Object.keys(localStorage)") == []
    assert page.evaluate("indexedDB.databases().then(d => d.map(x => x.name))") == []
    expect(page.get_by_test_id("order")).to_have_count(0)
    expect(page.get_by_test_id("who")).to_be_hidden()
    sign_in(page, page.url.split("/crew/")[0], tokens.other_crew)
    expect(page.get_by_test_id("who")).to_have_text("sued · Kolonne")
    expect(page.get_by_test_id("order")).to_have_count(154)
    expect(mine).to_have_count(0)
    page.close()


def test_a_reply_to_the_reporting_citizens_goes_out_with_done(
        browser: Browser, live_server: Callable[..., str], conn: psycopg.Connection[Any],
        tokens: Tokens) -> None:
    town = crew_town.build(conn)
    report, bin_order = town["citizen_defect"][0], town["empty_bin"][0]
    for order_id in (report, bin_order):
        orders.transition(conn, order_id, "assigned", "planner:paula",
                          assignee=Assignee.crew("nord"))
    (request_id,) = conn.execute(
        "SELECT r.id FROM open311_requests r JOIN defects d ON d.id = r.defect_id "
        "WHERE d.order_id = %s", (report,)).fetchone() or (None,)
    page = browser.new_page(viewport={"width": 390, "height": 844}, locale="de-DE")
    base = live_server()
    sign_in(page, base, tokens.crew)
    card = page.locator(f"[data-order-id='{report}']")
    plain = page.locator(f"[data-order-id='{bin_order}']")
    card.locator(".head").click()
    plain.locator(".head").click()
    # Only the order with a citizen's report offers the public reply.
    expect(card.get_by_test_id("public-note")).to_be_visible()
    expect(plain.get_by_test_id("public-note")).to_be_hidden()
    expect(card.locator(".publiclabel")).to_contain_text(
        "Antwort an die Meldenden (öffentlich)")
    card.locator("textarea.note").fill("Schraube M8 getauscht, Ersatz bestellen")
    card.get_by_test_id("public-note").fill("Die Bank ist repariert.")
    assert page.evaluate("JSON.parse(localStorage.getItem('bauhof.crew.drafts'))") == {
        str(report): "Schraube M8 getauscht, Ersatz bestellen",
        f"{report}:public": "Die Bank ist repariert."}
    page.screenshot(path=str(screenshot_path("crew-public-reply-phone.png")))
    card.get_by_test_id("done").click()
    card.get_by_test_id("done").click()  # not started: "done" asks once more
    # Sent and closed, the card leaves the list ("gesendet" shows for a moment only; a
    # refused one would stay, marked "abgelehnt").
    expect(card).to_have_count(0, timeout=15_000)
    assert conn.execute(
        "SELECT event, note, data->>'public_note' FROM order_history WHERE order_id = %s "
        "ORDER BY id DESC LIMIT 1", (report,)).fetchone() == (
        "done", "Schraube M8 getauscht, Ersatz bestellen", "Die Bank ist repariert.")
    # The citizens read the reply, never the internal note.
    answer = page.request.get(f"{base}/open311/v2/requests/{request_id}.json")
    assert [(r["status"], r["status_notes"]) for r in answer.json()] == [
        ("closed", "Erledigt. Die Bank ist repariert.")]
    assert "Schraube" not in answer.text()
    wait_until(page, "localStorage.getItem('bauhof.crew.drafts') === '{}'")
    page.close()
