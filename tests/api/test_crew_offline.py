"""The crew app offline in Debian's Chromium: the shell and the last list survive a reload
without network; start and finish made offline are queued, sent in order when the network is
back (a photo too), and a finish refused because the order was closed meanwhile says so on
its card."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import psycopg
from playwright.sync_api import Browser, expect

from rules import orders
from tests.api import crew_town
from tests.api.conftest import Tokens
from tests.api.test_crew_day import PNG, sign_in
from tests.fixtures.browser import wait_until


def test_work_done_offline_is_sent_in_order_when_back(
        browser: Browser, live_server: Callable[..., str], conn: psycopg.Connection[Any],
        tokens: Tokens) -> None:
    ids = crew_town.build(conn)
    kept, closed = ids["empty_bin"][0], ids["empty_bin"][1]
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="de-DE")
    page = context.new_page()
    sign_in(page, live_server(), tokens.crew)
    cards = page.get_by_test_id("order")
    expect(cards).to_have_count(155, timeout=20_000)
    wait_until(page, "navigator.serviceWorker.controller !== null")
    # The worker stores the shell and the list it passed on (opening a cache comes before
    # the copy is in it: wait for the copies themselves).
    wait_until(page,
        "Promise.all([caches.match('/crew/app.js'), caches.match('/api/v1/crew/orders')])"
        ".then(found => found.every(Boolean))")

    context.set_offline(True)
    page.reload()
    # The worker's shell and last list, no network.
    expect(cards).to_have_count(155, timeout=20_000)
    expect(page.get_by_test_id("live")).to_have_text("offline")
    first = page.locator(f"[data-order-id='{kept}']")
    first.locator(".head").click()
    first.locator("textarea.note").fill("offline begonnen")
    first.get_by_test_id("start").click()
    expect(first.get_by_test_id("queue")).to_have_text("wartet auf Netz")
    expect(first.get_by_test_id("start")).to_be_hidden()
    first.locator("input.photo").set_input_files(
        files=[{"name": "leer.png", "mimeType": "image/png", "buffer": PNG}])
    first.get_by_test_id("done").click()  # started here: no question, an undo
    expect(first.get_by_test_id("undo-bar")).to_be_visible()
    expect(first.get_by_test_id("undo-bar")).to_be_hidden(timeout=10_000)
    expect(first.get_by_test_id("queue")).to_have_text("wartet auf Netz")
    expect(first.locator("textarea.note")).to_have_value("offline begonnen")

    second = page.locator(f"[data-order-id='{closed}']")
    second.get_by_test_id("done").click()
    second.get_by_test_id("done").click()
    expect(second.get_by_test_id("undo-bar")).to_be_hidden(timeout=10_000)
    expect(second.get_by_test_id("queue")).to_have_text("wartet auf Netz")
    assert [e[0] for e in conn.execute("SELECT event FROM order_history WHERE order_id = %s "
                                       "ORDER BY id", (kept,))] == ["opened"]
    # Meanwhile a planner closes the second one.
    orders.transition(conn, closed, "cancelled", "planner:paula", "doppelt gemeldet")

    context.set_offline(False)
    expect(second.get_by_test_id("queue")).to_have_text(
        "abgelehnt: Auftrag gibt es nicht mehr für euch \u2013 jemand anderes hat ihn übernommen "
        "oder abgeschlossen.", timeout=20_000)
    expect(first).to_have_count(0, timeout=20_000)
    history = conn.execute("SELECT event, actor, note FROM order_history WHERE order_id = %s "
                           "ORDER BY id", (kept,)).fetchall()
    assert history == [("opened", "rules", "empty_bin B001"),
                       ("started", "crew:nord", "offline begonnen"),
                       ("done", "crew:nord", "offline begonnen")]
    assert conn.execute("SELECT status FROM work_orders WHERE id = %s",
                        (closed,)).fetchone() == ("cancelled",)
    # The photo chosen offline was kept in IndexedDB and sent with the finish.
    # (stored as a JPEG of its pixels, as every photo is: api/photos.py)
    assert conn.execute("SELECT content_type, uploaded_by FROM order_photos "
                        "WHERE order_id = %s", (kept,)).fetchall() == [
        ("image/jpeg", "crew:nord")]
    expect(page.get_by_test_id("live")).to_have_text("live", timeout=20_000)
    second.get_by_test_id("dismiss").click()
    expect(second).to_have_count(0)
    expect(cards).to_have_count(153)
    context.close()
