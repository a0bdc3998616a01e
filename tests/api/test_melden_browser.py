"""The report page on a phone in Debian's Chromium: a citizen reports with a pin and a photo,
sees a nearby report, then follows each step by mail (a local SMTP sink) and on the status
page while a crew works the order through the API (issue 18).

Screenshots: artifacts/melden-*.png.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import psycopg
import pytest
from PIL import ExifTags, Image
from playwright.sync_api import Browser, Page, expect

from api import open311_store
from rules import mail
from rules.notify import Publisher
from tests.api import town
from tests.api.conftest import Tokens
from tests.fixtures.browser import screenshot_path
from tests.fixtures.mailsink import Inbox, body, smtp_sink

MERGED = "Zusammengeführt mit einer bereits offenen Meldung"
@pytest.fixture
def sink() -> Iterator[tuple[mail.SmtpTarget, Inbox]]:
    """A local SMTP server and the target that sends to it."""
    with smtp_sink() as running:
        yield running


SPOT = {"latitude": 48.59601, "longitude": 8.87002}


def _a_town_worth_of_data(conn: psycopg.Connection[Any]) -> None:
    """The test town plus 300 bins on the streets east of it, 300 of their orders (200 done,
    100 open) and 120 earlier citizen reports there."""
    town.build(conn)
    conn.execute("UPDATE bins SET name = 'Marktplatz 3' WHERE id = 'b1'")
    conn.execute(
        "INSERT INTO bins (id, name, latitude, longitude, volume_l, empty_distance_mm, "
        "full_distance_mm) SELECT 'bx' || i, 'Hauptstraße ' || i, 48.590 + (i % 20) * 0.0007, "
        "8.885 + (i / 20) * 0.0009, 240, 1000, 100 FROM generate_series(1, 300) i")
    conn.execute(
        "INSERT INTO work_orders (kind, subject_type, subject_id, rule, status, title, "
        "opened_at, resolved_at, resolved_by, latitude, longitude) "
        "SELECT 'empty_bin', 'bin', b.id, 'bins.full', CASE WHEN n <= 200 THEN 'done' ELSE "
        "'open' END, 'Leeren ' || b.name, now() - n * interval '1 hour', CASE WHEN n <= 200 "
        "THEN now() - n * interval '1 hour' + interval '30 minutes' END, CASE WHEN n <= 200 "
        "THEN 'crew:nord' END, b.latitude, b.longitude FROM (SELECT id, name, latitude, "
        "longitude, row_number() OVER (ORDER BY id) AS n FROM bins WHERE id LIKE 'bx%') b")
    conn.execute(
        "INSERT INTO open311_requests (token, service_code, requested_at, description, "
        "latitude, longitude, lang, status) SELECT md5(i::text), 'other', now() - i * "
        "interval '5 hours', 'Alte Meldung ' || i, 48.590 + (i % 20) * 0.0007, 8.885 + "
        "(i / 20) * 0.0009, 'de', CASE WHEN i % 3 = 0 THEN 'open' ELSE 'closed' END "
        "FROM generate_series(1, 120) i")
    assert conn.execute("SELECT count(*) FROM work_orders").fetchone() == (300,)


def _phone_photo() -> bytes:
    image = Image.new("RGB", (4032, 3024), (90, 110, 60))
    exif = image.getexif()
    exif[0x010F] = "PhoneMaker"
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps.update({1: "N", 2: (48.0, 35.0, 45.5), 3: "E", 4: (8.0, 52.0, 12.0)})
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif, quality=80)
    return out.getvalue()


def _see_steps(page: Page, steps: list[str]) -> None:
    page.get_by_test_id("refresh").click()
    expect(page.get_by_test_id("step").locator("strong")).to_have_text(steps)


def test_a_citizen_reports_on_a_phone_and_follows_every_step(
        browser: Browser, live_server: Callable[..., str], conn: psycopg.Connection[Any],
        database_url: str, tokens: Tokens, sink: tuple[mail.SmtpTarget, Inbox]) -> None:
    target, inbox = sink
    _a_town_worth_of_data(conn)
    base = live_server()
    key = open311_store.create_key(conn, "other app")
    with httpx.Client(base_url=base) as http:
        earlier = http.post("/open311/v2/requests.json", data={
            "api_key": key, "service_code": "damaged_bin", "lat": "48.59605",
            "long": "8.87010", "description": "Deckel klappert"})
        assert earlier.status_code == 200
    publisher = Publisher(database_url, None, target, public_url=base)
    context = browser.new_context(viewport={"width": 390, "height": 844},
                                  device_scale_factor=2, locale="de-DE", geolocation=SPOT,
                                  permissions=["geolocation"], is_mobile=True, has_touch=True)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{base}/melden")
    expect(page.locator("html")).to_have_attribute("lang", "de")
    expect(page.get_by_test_id("map")).to_have_attribute("data-ready", "true")
    # No tiles configured: the map draws its pins on the plain background.
    expect(page.get_by_test_id("map")).to_have_class(re.compile(r"\bbauhof-map--no-tiles\b"))
    # The town's 302 bins and its green area are drawn as landmarks.
    expect(page.get_by_test_id("map")).to_have_attribute("data-landmarks", "303")
    page.get_by_test_id("category").select_option("overflowing_bin")
    # The phone's position centres the map and sets the pin; a tap moves it a little.
    page.get_by_test_id("locate").click()
    expect(page.get_by_test_id("pin")).to_have_text("Markiert: 48.59601, 8.87002")
    box = page.get_by_test_id("map").bounding_box()
    assert box is not None
    page.get_by_test_id("map").tap(position={"x": box["width"] / 2 + 8,
                                             "y": box["height"] / 2 - 6})
    expect(page.get_by_test_id("pin")).not_to_have_text("Markiert: 48.59601, 8.87002")
    pin = page.get_by_test_id("pin").inner_text().removeprefix("Markiert: ")
    lat, lon = (float(v) for v in pin.split(", "))
    assert abs(lat - 48.59601) < 0.0002 and abs(lon - 8.87002) < 0.0002
    nearby = page.get_by_test_id("nearby-item")
    expect(nearby).to_have_count(1)
    expect(nearby.first).to_contain_text("Beschädigter Abfallbehälter · Marktplatz 3")
    expect(nearby.first).to_contain_text("„Deckel klappert“")
    nearby.first.get_by_test_id("me-too").click()
    expect(nearby.first.get_by_test_id("me-too")).to_have_text("Danke – mitgezählt.")  # noqa: RUF001
    assert conn.execute("SELECT me_too FROM open311_requests WHERE id = 121").fetchone() == (1,)
    page.get_by_test_id("description").fill("Mülleimer quillt über, Müll liegt auf dem Gehweg")
    page.get_by_test_id("photo").set_input_files(
        files=[{"name": "IMG_2041.jpg", "mimeType": "image/jpeg", "buffer": _phone_photo()}])
    expect(page.get_by_test_id("preview")).to_be_visible()
    page.get_by_test_id("email").fill("anna@example.org")
    page.get_by_test_id("submit").click()
    expect(page.get_by_test_id("error")).to_have_text(
        "Bitte bestätigen Sie, dass Sie E-Mails erhalten möchten – oder "  # noqa: RUF001
        "lassen Sie das Feld leer.")
    page.get_by_test_id("consent").check()
    page.screenshot(path=str(screenshot_path("melden-form-phone.png")), full_page=True)
    page.get_by_test_id("submit").click()

    expect(page.get_by_test_id("number")).to_have_text("Meldung Nr. 122")
    assert page.url.endswith("/melden/status.html?id=122")
    expect(page.get_by_test_id("place")).to_have_text("Marktplatz 3")
    expect(page.get_by_test_id("service")).to_have_text("Überfüllter Abfallbehälter")
    expect(page.get_by_test_id("photo")).to_be_visible()
    # The earlier report opened an order for this bin: this one joins it.
    _see_steps(page, ["Eingegangen", MERGED])
    page.screenshot(path=str(screenshot_path("melden-status-received.png")), full_page=True)
    stored = conn.execute(
        "SELECT r.email, d.order_id, p.width, p.height FROM open311_requests r "
        "JOIN defects d ON d.id = r.defect_id JOIN report_photos p ON p.id = r.photo_id "
        "WHERE r.id = 122").fetchone()
    assert stored is not None
    assert (stored[0], stored[2], stored[3]) == ("anna@example.org", 1600, 1200)
    order_id = int(stored[1])
    photo = httpx.get(page.get_by_test_id("photo").get_attribute("src") or "")
    assert b"PhoneMaker" not in photo.content and b"Exif" not in photo.content

    expected = [
        (None, "Ihre Meldung Nr. 122: bereits bekannt (Marktplatz 3)",
         ["Eingegangen", MERGED]),
        (("assign", {"json": {"public_note": "Wir kommen heute Nachmittag.",
                              "note": "nach dem Markt, Kiosk Maier fragen"}}),
         "Ihre Meldung Nr. 122 wurde übernommen (Marktplatz 3)",
         ["Eingegangen", MERGED, "Übernommen"]),
        (("start", {"json": {}}), "Ihre Meldung Nr. 122 ist in Arbeit (Marktplatz 3)",
         ["Eingegangen", MERGED, "Übernommen", "In Arbeit"]),
        (("done", {"data": {"public_note": "Behälter geleert, Gehweg gekehrt.",
                            "note": "Maier verwarnt"}}),
         "Ihre Meldung Nr. 122 ist erledigt (Marktplatz 3)",
         ["Eingegangen", MERGED, "Übernommen", "In Arbeit", "Erledigt"]),
    ]
    with httpx.Client(base_url=base, headers=tokens.crew) as crew:
        for action, subject, steps in expected:
            if action is not None:
                name, kwargs = action
                response = crew.post(f"/api/v1/work-orders/{order_id}/{name}", **kwargs)
                assert response.status_code == 200, response.text
            assert publisher.deliver(conn, "email") == 1
            message = inbox.messages[-1]
            assert (message["To"], message["Subject"]) == ("anna@example.org", subject)
            assert f"{base}/melden/status.html?t=" in body(message)
            assert "Maier" not in body(message)
            _see_steps(page, steps)
    expect(page.get_by_test_id("state")).to_have_text("Abgeschlossen: Erledigt")
    notes = page.get_by_test_id("step").locator(".note").all_inner_texts()
    assert notes == ["Wir kommen heute Nachmittag.", "Behälter geleert, Gehweg gekehrt."]
    expect(page.get_by_test_id("steps")).not_to_contain_text("Maier")
    page.screenshot(path=str(screenshot_path("melden-status-done.png")), full_page=True)

    # The link in the mail opens the same page; in English on request.
    link = next(line for line in body(inbox.messages[-1]).splitlines()
                if "/melden/status.html?t=" in line).strip()
    page.goto(link)
    page.get_by_test_id("lang").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_test_id("number")).to_have_text("Report no. 122")
    expect(page.get_by_test_id("step").locator("strong")).to_have_text(
        ["Received", "Merged with a report already open", "Taken on", "In progress", "Done"])
    page.screenshot(path=str(screenshot_path("melden-status-en.png")), full_page=True)
    # The opt-out link works with one button.
    optout = next(line for line in body(inbox.messages[-1]).splitlines()
                  if "/melden/abmelden.html?m=" in line).split(": ", 1)[1].strip()
    page.goto(optout)
    page.get_by_test_id("optout").click()
    expect(page.get_by_test_id("optout-done")).to_have_text(
        "Done: you will get no more e-mails about this report.")
    assert conn.execute("SELECT mail_opt_out_at IS NOT NULL FROM open311_requests "
                        "WHERE id = 122").fetchone() == (True,)
    assert errors == []
    context.close()


def test_the_report_page_on_a_desktop_in_english(
        browser: Browser, live_server: Callable[..., str], conn: psycopg.Connection[Any]) -> None:
    _a_town_worth_of_data(conn)
    base = live_server()
    page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="en-GB")
    page.goto(f"{base}/melden/")
    expect(page.get_by_test_id("map")).to_have_attribute("data-ready", "true")
    page.get_by_test_id("lang").click()
    expect(page.locator("h1")).to_have_text("Report a problem")
    expect(page.get_by_test_id("category").locator("option")).to_have_text(
        ["Please choose …", "Overflowing litter bin", "Damaged litter bin", "Dry green area",
         "Other"])
    page.get_by_test_id("submit").click()
    expect(page.get_by_test_id("error")).to_have_text("Please choose what is wrong.")
    page.get_by_test_id("category").select_option("other")
    page.get_by_test_id("submit").click()
    expect(page.get_by_test_id("error")).to_have_text(
        "Please mark the place on the map or use your position.")
    page.screenshot(path=str(screenshot_path("melden-desktop-en.png")), full_page=True)
    assert conn.execute("SELECT count(*) FROM open311_requests").fetchone() == (120,)
