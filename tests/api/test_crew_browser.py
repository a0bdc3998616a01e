"""The crew page in a real headless Chromium (Debian's, driven by Playwright).

Sign in, see an order the rules engine raised, see another arrive live, finish one (asked
once, as it was not started; sent after the undo time), and see it disappear; a screenshot at
phone width is kept in artifacts/crew-phone-small-town.png.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import psycopg
from playwright.sync_api import Browser, expect

from rules import ruleset
from rules.engine import RulesEngine
from tests.api import town
from tests.api.conftest import Tokens
from tests.fixtures.browser import screenshot_path
from tests.rules import factory as f


def test_crew_signs_in_sees_live_orders_and_finishes_one(
        browser: Browser, live_server: Callable[..., str], conn: psycopg.Connection[Any],
        database_url: str, tokens: Tokens) -> None:
    town.build(conn)
    engine = RulesEngine(database_url, ruleset.load(), wall=lambda: f.at(24 * 365))
    try:
        f.ingest(conn, [f.fill(2, 0, 40.0), f.fill(2, 1, 60.0)])
        engine.step()
        f.ingest(conn, [f.fill(2, 2, 92.0)])
        engine.step()
        ((order_id, kind, status, subject, rule),) = f.orders(conn)
        assert (kind, status, subject, rule) == ("empty_bin", "open", "b1", "bins.full")
        base = live_server()
        page = browser.new_page(viewport={"width": 390, "height": 844},
                                device_scale_factor=2, locale="de-DE")
        page.goto(f"{base}/crew/")
        expect(page.get_by_test_id("signin")).to_be_visible()
        page.get_by_test_id("token").fill(tokens.crew["Authorization"].removeprefix("Bearer "))
        page.get_by_test_id("signin-button").click()
        cards = page.get_by_test_id("order")
        expect(cards).to_have_count(1)
        expect(page.get_by_test_id("who")).to_have_text("nord · Kolonne")
        expect(cards.first.get_by_test_id("title")).to_have_text("Leeren: Bin b1 \u2013 92 % voll")
        cards.first.locator(".head").click()
        expect(cards.first.get_by_test_id("facts")).to_have_text("Schwelle 80 %")
        expect(cards.first.locator(".chart svg polyline")).to_have_count(1)
        expect(cards.first.locator("a.geo")).to_have_attribute("href", "geo:48.596,8.87")
        expect(page.get_by_test_id("live")).to_have_text("live")

        f.ingest(conn, [f.fill(4, 3, 95.0)])
        engine.step()
        expect(cards).to_have_count(2)
        page.screenshot(path=str(screenshot_path("crew-phone-small-town.png")), full_page=True)

        first = page.locator(f"[data-order-id='{order_id}']")
        first.locator("textarea.note").fill("geleert")
        # Not started: the first tap asks, the second sends after the undo time.
        first.get_by_test_id("done").click()
        expect(first.get_by_test_id("done")).to_have_text(
            "Noch nicht begonnen \u2013 wirklich erledigt? Nochmal tippen.")
        first.get_by_test_id("done").click()
        expect(first.get_by_test_id("undo")).to_be_visible()
        expect(first).to_have_count(0, timeout=15_000)
        expect(cards).to_have_count(1)
        status_row = conn.execute("SELECT status, resolved_by FROM work_orders WHERE id = %s",
                                  (order_id,)).fetchone()
        assert status_row == ("done", "crew:nord")
        page.get_by_test_id("lang").click()
        expect(page.get_by_test_id("done")).to_have_text("Done")
        page.close()
    finally:
        engine.close()
