"""The portal in a real headless Chromium on a phone (390 x 844), against a real API, database
and SMTP sink, with the default town (40 green areas, 250 bins, hundreds of open orders).

A citizen finds a free area on the map, asks for it and confirms from the captured mail;
staff approve; the map shows it sponsored; the next dry spell asks the sponsor by mail, and
"Ich kann diesmal nicht" from that mail puts the watering order on a crew's list at once.
Screenshots go to artifacts/portal-*.png.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from email.message import Message
from typing import Any
from urllib.parse import urlsplit

import psycopg
import pytest
from playwright.sync_api import Browser, Page, expect

from bauhof import assets
from bauhof.settings import DEFAULT_LINK_SECRET
from rules import mail, orders, ruleset
from rules.actions import Open
from rules.engine import RulesEngine
from rules.notify import Publisher
from simulator.scenario import scenario_file
from tests.api.conftest import Tokens
from tests.fixtures.browser import screenshot_path
from tests.fixtures.mailsink import Inbox, smtp_sink
from tests.rules import factory as f

AREA = "ga-033"  # free in the default town
PHONE = {"width": 390, "height": 844}
LINK = re.compile(r"https?://\S+/portal/act\.html\?t=\S+")


@pytest.fixture
def smtp() -> Iterator[tuple[mail.SmtpTarget, Inbox]]:
    """A local SMTP server keeping what it receives."""
    with smtp_sink() as sink:
        yield sink


def _body(message: Message) -> str:
    return str(message.get_body().get_content())  # type: ignore[attr-defined]


def _links(message: Message) -> list[str]:
    return LINK.findall(_body(message))


def _local(base: str, link: str) -> str:
    """The link on the test's server (the mail names the configured public address)."""
    parts = urlsplit(link)
    return f"{base}{parts.path}?{parts.query}"


def _town(conn: psycopg.Connection[Any], database_url: str) -> None:
    """The default town and 200 open bin orders (a town's working day)."""
    assets.load_file(database_url, scenario_file("herrenberg"))
    at = datetime.now(UTC) - timedelta(hours=3)
    with conn.transaction():
        for n in range(1, 201):
            orders.apply_open(conn, Open(
                rule="bins.full", kind="empty_bin", subject_type="bin", subject_id=f"bin-{n:04d}",
                at=at, title=f"Empty bin bin-{n:04d}", priority=3, value=85.0), "rules")


def _phone(browser: Browser) -> Page:
    return browser.new_page(viewport=PHONE, device_scale_factor=2, locale="de-DE",
                            is_mobile=True, has_touch=True)


def test_citizen_asks_confirms_staff_approve_and_the_sponsor_hands_watering_to_the_crew(
        browser: Browser, live_server: Callable[..., str], conn: psycopg.Connection[Any],
        database_url: str, tokens: Tokens, smtp: tuple[mail.SmtpTarget, Inbox]) -> None:
    target, inbox = smtp
    _town(conn, database_url)
    base = live_server()
    publisher = Publisher(database_url, None, target, link_secret=DEFAULT_LINK_SECRET,
                          public_url="https://gruen.herrenberg.example")

    # A citizen on a phone finds a free area on the map.
    page = _phone(browser)
    page.goto(f"{base}/portal/")
    expect(page.locator("body[data-ready='1']")).to_have_count(1)
    expect(page.get_by_test_id("area-item")).to_have_count(40)
    expect(page.get_by_test_id("count")).to_have_text("40 Flächen")
    page.get_by_test_id("filter-status").select_option("free")
    expect(page.get_by_test_id("area-item")).to_have_count(8)
    expect(page.locator("#map path.area-free")).to_have_count(8)
    expect(page.locator("#map path.area-sponsored")).to_have_count(0)
    page.screenshot(path=str(screenshot_path("portal-phone-map.png")), full_page=True)
    page.locator(f"#map path.area-id-{AREA}").dispatch_event("click")
    detail = page.get_by_test_id("area-detail")
    expect(detail).to_be_visible()
    name = conn.execute("SELECT name FROM green_areas WHERE id = %s", (AREA,)).fetchone()
    assert name is not None
    expect(page.get_by_test_id("area-name")).to_have_text(str(name[0]))
    expect(page.get_by_test_id("area-status")).to_have_text("frei")
    expect(page.get_by_test_id("area-moisture")).to_have_text("kein Sensor")
    expect(page.get_by_test_id("area-watered")).to_have_text("noch nicht")

    # It asks for it; a missing consent is named first.
    page.get_by_test_id("inquiry-name").fill("Erika Mustermann")
    page.get_by_test_id("inquiry-email").fill("erika@example.org")
    page.get_by_test_id("inquiry-display").fill("Familie M.")
    page.get_by_test_id("inquiry-submit").click()
    expect(page.get_by_test_id("inquiry-error")).to_have_text("Bitte prüfen: Zustimmung")
    page.get_by_test_id("inquiry-terms").check()
    page.get_by_test_id("inquiry-submit").click()
    expect(page.get_by_test_id("inquiry-done")).to_contain_text("Bitte bestätigen Sie")
    page.screenshot(path=str(screenshot_path("portal-phone-inquiry.png")), full_page=True)

    # The double-opt-in mail arrives; its link confirms.
    assert publisher.deliver(conn, "email") == 1
    (confirm_mail,) = inbox.messages
    assert (confirm_mail["To"], confirm_mail["Subject"]) == (
        "erika@example.org", f"Bitte bestätigen: Ihre Anfrage für „{name[0]}“")
    (confirm,) = _links(confirm_mail)
    assert confirm.startswith("http://127.0.0.1:8000/portal/act.html?t=")
    page.goto(_local(base, confirm))
    expect(page.get_by_test_id("act-what")).to_have_text(
        "Bitte bestätigen Sie Ihre Anfrage für eine Patenschaft.")
    page.get_by_test_id("act-button").click()
    expect(page.get_by_test_id("act-result")).to_have_text(
        "Danke! Ihre Anfrage ist bestätigt; der Bauhof meldet sich bei Ihnen.")

    # Staff approve on the staff page.
    staff = browser.new_page(viewport={"width": 1280, "height": 900}, locale="de-DE")
    staff.goto(f"{base}/portal/staff.html")
    staff.get_by_test_id("staff-token").fill(
        tokens.planner["Authorization"].removeprefix("Bearer "))
    staff.get_by_test_id("staff-signin-button").click()
    request = staff.get_by_test_id("request")
    expect(request).to_have_count(1)
    expect(request).to_contain_text("(nur für die Verwaltung sichtbar)")
    request.get_by_test_id("approve").click()
    expect(staff.get_by_test_id("request")).to_have_count(0)
    row = staff.locator(f"[data-testid='overview-row'][data-area-id='{AREA}']")
    expect(row).to_contain_text("Familie M.")
    expect(staff.get_by_test_id("overview-row")).to_have_count(33)
    staff.screenshot(path=str(screenshot_path("portal-staff.png")), full_page=True)
    staff.close()
    assert publisher.deliver(conn, "email") == 2  # received, approved
    assert [m["Subject"] for m in inbox.messages[1:]] == [
        f"Anfrage bestätigt: „{name[0]}“", f"Willkommen als Pate: „{name[0]}“"]
    planting = conn.execute("SELECT kind, status FROM work_orders WHERE rule = "
                            "'portal.planting' AND subject_id = %s", (AREA,)).fetchall()
    assert planting == [("planting", "open")]

    # The map shows it sponsored.
    page.goto(f"{base}/portal/")
    expect(page.locator("body[data-ready='1']")).to_have_count(1)
    item = page.locator(f"[data-testid='area-item'][data-area-id='{AREA}']")
    expect(item).to_have_attribute("data-status", "sponsored")
    expect(page.locator(f"#map path.area-id-{AREA}")).to_have_class(re.compile("area-sponsored"))
    item.locator("button").click()
    expect(page.get_by_test_id("area-status")).to_have_text("vergeben")
    expect(page.get_by_test_id("area-sponsor")).to_have_text("Familie M.")
    expect(page.get_by_test_id("inquiry-form")).to_be_hidden()

    # The next dry spell asks the sponsor first.
    dev = conn.execute("SELECT dev_eui FROM devices WHERE asset_id = %s", (AREA,)).fetchone()
    assert dev is not None
    start = datetime.now(UTC) + timedelta(hours=1)
    engine = RulesEngine(database_url, ruleset.load(), wall=lambda: start + timedelta(hours=9))
    try:
        for h in range(8):
            f.ingest(conn, [{"dev_eui": dev[0], "time": start + timedelta(hours=h),
                             "soil_moisture_pct": 6.0}])
            engine.step()
    finally:
        engine.close()
    order = orders.find_open(conn, "watering.dry", "green_area", AREA)
    assert order is not None
    assert (order.status, order.assignee) == ("assigned", "sponsor:pt-1")
    assert publisher.deliver(conn, "email") == 1
    ask = inbox.messages[-1]
    assert (ask["To"], ask["Subject"]) == ("erika@example.org",
                                           f"Bitte gießen: {name[0]} ist trocken")
    watered, cannot, stop = _links(ask)
    assert watered.startswith("https://gruen.herrenberg.example/portal/act.html?t=")

    # "Ich kann diesmal nicht": at once on the crews' list, without waiting out the grace time.
    page.goto(_local(base, cannot))
    expect(page.get_by_test_id("act-button")).to_have_text("Ich kann diesmal nicht")
    page.get_by_test_id("act-button").click()
    expect(page.get_by_test_id("act-result")).to_have_text(
        "Kein Problem – der Bauhof gießt diesmal.")  # noqa: RUF001 (the page's dash)
    page.screenshot(path=str(screenshot_path("portal-phone-cannot.png")), full_page=True)
    after = orders.get(conn, order.id)
    assert (after.status, after.assignee, after.params["stage"]) == ("open", None, "bauhof")
    crew = _phone(browser)
    crew.goto(f"{base}/crew/")
    crew.get_by_test_id("token").fill(tokens.crew["Authorization"].removeprefix("Bearer "))
    crew.get_by_test_id("signin-button").click()
    card = crew.locator(f"[data-order-id='{order.id}']")
    expect(card).to_have_count(1)
    expect(card).to_contain_text(str(name[0]))
    card.locator(".head").click()  # cards open on a tap; the note is inside
    card.locator("textarea.note").fill("gegossen")
    card.get_by_test_id("done").click()
    # Not started: the crew app asks once, then sends after its few seconds of undo.
    expect(card.get_by_test_id("done")).to_have_text(
        "Noch nicht begonnen \u2013 wirklich erledigt? Nochmal tippen.")
    card.get_by_test_id("done").click()
    expect(card).to_have_count(0, timeout=15_000)
    crew.close()
    assert orders.get(conn, order.id).resolved_by == "crew:nord"

    # In English, the area page says the same in words.
    page.goto(f"{base}/portal/#area={AREA}")
    expect(page.locator("body[data-ready='1']")).to_have_count(1)
    page.get_by_test_id("lang").click()
    expect(page.get_by_test_id("area-status")).to_have_text("sponsored")
    expect(page.get_by_test_id("area-moisture")).to_have_text("dry")
    expect(page.get_by_test_id("area-watered")).to_contain_text("(Bauhof)")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_test_id("lang")).to_have_text("Deutsch")
    expect(page.get_by_test_id("area-list")).to_be_hidden()  # the area's page, on a phone
    page.screenshot(path=str(screenshot_path("portal-phone-area-en.png")), full_page=True)
    desktop = browser.new_page(viewport={"width": 1366, "height": 900}, locale="de-DE")
    desktop.goto(f"{base}/portal/")
    expect(desktop.locator("body[data-ready='1']")).to_have_count(1)
    desktop.screenshot(path=str(screenshot_path("portal-desktop.png")))
    desktop.close()
    page.close()
    assert stop.startswith("https://gruen.herrenberg.example/portal/act.html?t=")
