"""Feedback at every step: mails through a real SMTP sink (aiosmtpd) and the public status
of a report, while a crew works the order through the API (issue 18)."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from api import open311_store
from rules import citizen, mail
from rules.notify import Publisher
from tests.api import town
from tests.api.conftest import Tokens
from tests.factories import phone_photo
from tests.fixtures.mailsink import Inbox, body, smtp_sink

PUBLIC = "https://bauhof.town.example"


@pytest.fixture
def sink() -> Iterator[tuple[mail.SmtpTarget, Inbox]]:
    """A local SMTP server and the target that sends to it."""
    with smtp_sink() as running:
        yield running


@pytest.fixture
def key(conn: psycopg.Connection[Any], tokens: Tokens) -> str:
    """The town (bin b1 named by its street), and an api_key."""
    town.build(conn)
    conn.execute("UPDATE bins SET name = 'Marktplatz 3' WHERE id = 'b1'")
    conn.execute("UPDATE green_areas SET name = 'Stadtpark, Rosenbeet' WHERE id = 'ga1'")
    return open311_store.create_key(conn, "feedback")


def deliver(database_url: str, conn: psycopg.Connection[Any], target: mail.SmtpTarget) -> int:
    """Send what the outbox holds for e-mail."""
    return Publisher(database_url, None, target, public_url=PUBLIC).deliver(conn, "email")


def post(client: TestClient, key: str, **fields: str) -> dict[str, Any]:
    """POST a request next to bin b1; its answer."""
    form = {"api_key": key, "service_code": "overflowing_bin", "lat": "48.59601",
            "long": "8.87002", **fields}
    response = client.post("/open311/v2/requests.json", data=form)
    assert response.status_code == 200, response.text
    created: dict[str, Any] = response.json()[0]
    return created


def test_every_step_mails_the_citizen_in_words(
        client: TestClient, key: str, conn: psycopg.Connection[Any], tokens: Tokens,
        database_url: str, sink: tuple[mail.SmtpTarget, Inbox]) -> None:
    target, inbox = sink
    # An internal request first, so the citizen's request id (2) differs from the defect (1)
    # and the order id: the mails must only ever name 2.
    client.post("/open311/v2/requests.json", data={"api_key": key, "service_code": "other",
                                                   "address_string": "Rathaus"})
    conn.execute("SELECT setval('defects_id_seq', 40)")
    conn.execute("SELECT setval('work_orders_id_seq', 70)")
    created = post(client, key, email="anna@example.org", description="Mülleimer quillt über")
    assert created["service_request_id"] == 2
    order = conn.execute("SELECT order_id FROM defects").fetchone()
    assert order is not None
    order_id = int(order[0])
    assert order_id == 71
    steps = [
        ("assign", {"json": {"public_note": "Wir kommen heute Nachmittag.",
                             "note": "Herr Maier (Kiosk) hat wieder Sperrmüll abgestellt"}}),
        ("start", {"json": {"note": "Schlüssel beim Hausmeister Huber"}}),
        ("done", {"data": {"note": "Maier angesprochen, Tel. 0170 1234567",
                           "public_note": "Behälter geleert und Umgebung gereinigt."}}),
    ]
    for action, kwargs in steps:
        response = client.post(f"/api/v1/work-orders/{order_id}/{action}",
                               headers=tokens.crew, **kwargs)
        assert response.status_code == 200, response.text
    assert deliver(database_url, conn, target) == 4
    subjects = [m["Subject"] for m in inbox.messages]
    assert subjects == [
        "Ihre Meldung Nr. 2 ist eingegangen (Marktplatz 3)",
        "Ihre Meldung Nr. 2 wurde übernommen (Marktplatz 3)",
        "Ihre Meldung Nr. 2 ist in Arbeit (Marktplatz 3)",
        "Ihre Meldung Nr. 2 ist erledigt (Marktplatz 3)"]
    token, mail_token = conn.execute(
        "SELECT token, mail_token FROM open311_requests WHERE id = 2").fetchone() or ("", "")
    message_ids = set()
    for message in inbox.messages:
        text = body(message)
        assert message["To"] == "anna@example.org"
        assert message["X-Envelope-To"] == "anna@example.org"
        assert message["Date"] is not None
        assert message["Message-ID"].endswith("@town.example>")
        message_ids.add(message["Message-ID"])
        assert "Meldung Nr. 2" in text
        assert "Ort: Marktplatz 3" in text
        assert f"{PUBLIC}/melden/status.html?t={token}" in text
        assert f"Keine E-Mails mehr zu dieser Meldung: {PUBLIC}/melden/abmelden.html?m=" \
               f"{mail_token}" in text
        assert message["List-Unsubscribe"] == (
            f"<{PUBLIC}/api/v1/public/reports/unsubscribe?m={mail_token}>")
        # No internal id (order 71, defect 41, bin b1), no internal note (the random
        # tokens of the links are left out of the search).
        words_only = (text + message["Subject"]).replace(token, "").replace(mail_token, "")
        for internal in ("71", "41", "b1", "Maier", "Huber", "0170", "Sperrmüll"):
            assert internal not in words_only, (internal, text)
    assert len(message_ids) == 4
    assert "Wir kommen heute Nachmittag." in body(inbox.messages[1])
    assert "Behälter geleert und Umgebung gereinigt." in body(inbox.messages[3])
    (request,) = client.get("/open311/v2/requests/2.json").json()
    assert (request["status"], request["status_notes"]) == (
        "closed", "Erledigt. Behälter geleert und Umgebung gereinigt.")
    public = client.get(f"/api/v1/public/reports/{token}").json()
    assert [(s["step"], s["title"]["de"], s["note"]["de"]) for s in public["steps"]] == [
        ("received", "Eingegangen", None),
        ("taken_on", "Übernommen", "Wir kommen heute Nachmittag."),
        ("in_progress", "In Arbeit", None),
        ("done", "Erledigt", "Behälter geleert und Umgebung gereinigt.")]
    assert (public["service_request_id"], public["place"], public["status"]) == (
        2, "Marktplatz 3", "closed")
    assert client.get("/api/v1/public/reports/2").json() == public


def test_the_public_status_note_never_contains_the_internal_note(
        client: TestClient, key: str, conn: psycopg.Connection[Any], tokens: Tokens) -> None:
    post(client, key, description="voll")
    order_id = int((conn.execute("SELECT order_id FROM defects").fetchone() or [0])[0])
    internal = "Anwohnerin Petra Schulz, Hausnr. 5, beschwert sich ständig"
    for action, kwargs in (("assign", {"json": {"note": internal}}),
                           ("start", {"json": {"note": internal}}),
                           ("done", {"data": {"note": internal}})):
        assert client.post(f"/api/v1/work-orders/{order_id}/{action}", headers=tokens.crew,
                           **kwargs).status_code == 200
        for path in ("/open311/v2/requests/1.json", "/open311/v2/requests/1.xml",
                     "/open311/v2/requests.json", "/api/v1/public/reports/1"):
            text = client.get(path).text
            assert "Schulz" not in text and "Petra" not in text, (action, path)
    (request,) = client.get("/open311/v2/requests/1.json").json()
    assert request["status_notes"] == "Erledigt."
    # The internal note is kept, for staff.
    detail = client.get(f"/api/v1/work-orders/{order_id}", headers=tokens.planner).json()
    assert [h["note"] for h in detail["history"] if h["event"] == "done"] == [internal]


def test_merged_and_closed_without_action_with_a_reason(
        client: TestClient, key: str, conn: psycopg.Connection[Any], tokens: Tokens,
        database_url: str, sink: tuple[mail.SmtpTarget, Inbox]) -> None:
    target, inbox = sink
    ids = town.standard_orders(conn)
    post(client, key, email="ben@example.org", description="quillt über")
    response = client.post(f"/api/v1/work-orders/{ids['b1']}/cancel", headers=tokens.planner,
                           json={"reason": "Dublette von Hofmanns Anruf", "public_reason":
                                 "duplicate", "public_note": "Danke für den Hinweis!"})
    assert response.status_code == 200, response.text
    assert deliver(database_url, conn, target) == 2
    merged, closed = inbox.messages
    assert merged["Subject"] == "Ihre Meldung Nr. 1: bereits bekannt (Marktplatz 3)"
    assert closed["Subject"] == (
        "Ihre Meldung Nr. 1 wurde ohne Maßnahme geschlossen (Marktplatz 3)")
    assert ("Die Stelle ist bereits gemeldet und wird mit der anderen Meldung bearbeitet. "
            "Danke für den Hinweis!") in body(closed)
    assert "Hofmann" not in body(closed)
    steps = client.get("/api/v1/public/reports/1").json()["steps"]
    assert [s["step"] for s in steps] == ["received", "merged", "closed"]
    assert steps[2]["note"]["en"] == ("The place was already reported and is handled with the "
                                      "other report. Danke für den Hinweis!")
    (request,) = client.get("/open311/v2/requests/1.json").json()
    assert request["status_notes"] == (
        "Ohne Maßnahme geschlossen. Die Stelle ist bereits gemeldet und wird mit der anderen "
        "Meldung bearbeitet. Danke für den Hinweis!")
    bad = client.post(f"/api/v1/work-orders/{ids['ga1']}/cancel", headers=tokens.planner,
                      json={"reason": "xyz", "public_reason": "because"})
    assert bad.status_code == 422


def test_english_reporters_get_english_mail_and_opt_out_stops_them(
        client: TestClient, key: str, conn: psycopg.Connection[Any], tokens: Tokens,
        database_url: str, sink: tuple[mail.SmtpTarget, Inbox]) -> None:
    target, inbox = sink
    response = client.post("/open311/v2/requests.json", headers={"Accept-Language": "en-GB"},
                           data={"api_key": key, "service_code": "dry_green_area",
                                 "lat": "48.5930", "long": "8.8650", "email": "cy@example.org"})
    assert response.status_code == 200
    assert deliver(database_url, conn, target) == 1
    (received,) = inbox.messages
    assert received["Subject"] == (
        "Your report no. 1 has been received (Stadtpark, Rosenbeet)")
    assert "Concern: Dry green area" in body(received)
    mail_token = (conn.execute("SELECT mail_token FROM open311_requests").fetchone() or [""])[0]
    assert client.post("/api/v1/public/reports/unsubscribe?m=nope-nope-nope").status_code == 404
    out = client.post(f"/api/v1/public/reports/unsubscribe?m={mail_token}",
                      data={"List-Unsubscribe": "One-Click"})
    assert out.json() == {"unsubscribed": True}
    order_id = int((conn.execute("SELECT order_id FROM defects").fetchone() or [0])[0])
    client.post(f"/api/v1/work-orders/{order_id}/done", headers=tokens.crew)
    assert deliver(database_url, conn, target) == 0
    assert len(inbox.messages) == 1


def test_nearby_me_too_and_no_personal_data_on_public_endpoints(
        client: TestClient, key: str, conn: psycopg.Connection[Any], tokens: Tokens) -> None:
    post(client, key, email="dora@example.org", first_name="Dora", last_name="Diebold",
         phone="0711 999", description="Deckel fehlt")
    post(client, key, service_code="other", lat="48.6100", long="8.9000",
         description="weit weg")
    near = client.get("/api/v1/public/reports/nearby?lat=48.5961&long=8.8701").json()
    assert [(r["service_request_id"], r["place"], r["distance_m"], r["me_too"])
            for r in near] == [(1, "Marktplatz 3", 12, 0)]
    assert client.post("/api/v1/public/reports/1/me-too").json() == {
        "service_request_id": 1, "me_too": 1}
    assert client.post("/api/v1/public/reports/1/me-too").json()["me_too"] == 2
    assert client.post("/api/v1/public/reports/99/me-too").status_code == 404
    form = client.get("/api/v1/public/reports/form").json()
    assert form["api_key"] == "o311_melden"
    assert form["center"] == {"lat": 48.599667, "long": 8.878333}
    assert form["landmarks"] == [
        {"kind": "bin", "name": "Marktplatz 3", "lat": 48.596, "long": 8.87},
        {"kind": "bin", "name": "Bin b2", "lat": 48.61, "long": 8.9},
        {"kind": "green_area", "name": "Stadtpark, Rosenbeet", "lat": 48.593, "long": 8.865}]
    assert [s["name"]["en"] for s in form["services"]] == [
        "Overflowing litter bin", "Damaged litter bin", "Dry green area", "Other"]
    for path in ("/api/v1/public/reports/1", "/api/v1/public/reports/nearby?lat=48.5961"
                 "&long=8.8701", "/open311/v2/requests.json"):
        text = client.get(path).text
        for private in ("dora@", "Dora", "Diebold", "0711", "mail_token", "b1"):
            assert private not in text, (path, private)
    order_id = int((conn.execute("SELECT order_id FROM defects").fetchone() or [0])[0])
    client.post(f"/api/v1/work-orders/{order_id}/done", headers=tokens.crew)
    assert client.get("/api/v1/public/reports/nearby?lat=48.5961&long=8.8701").json() == []
    closed = client.post("/api/v1/public/reports/1/me-too")
    assert closed.status_code == 409


def test_a_photo_is_resized_and_stripped_and_served(
        client: TestClient, key: str, conn: psycopg.Connection[Any]) -> None:
    raw = phone_photo()
    assert b"PhoneMaker" in raw
    response = client.post("/open311/v2/requests.json", data={
        "api_key": key, "service_code": "damaged_bin", "lat": "48.59601", "long": "8.87002"},
        files={"media": ("IMG_0001.jpg", raw, "image/jpeg")})
    assert response.status_code == 200, response.text
    (request,) = client.get("/open311/v2/requests/1.json").json()
    file_name = conn.execute("SELECT file_name FROM report_photos").fetchone()
    assert file_name is not None
    assert request["media_url"] == f"http://testserver/open311/v2/media/{file_name[0]}"
    served = client.get(f"/open311/v2/media/{file_name[0]}")
    assert served.headers["content-type"] == "image/jpeg"
    image = Image.open(io.BytesIO(served.content))
    assert image.size == (1200, 1600)
    assert dict(image.getexif()) == {}
    assert b"PhoneMaker" not in served.content and b"Exif" not in served.content
    assert client.get("/open311/v2/media/..%2f..%2fsecret.jpg").status_code == 404
    bad = client.post("/open311/v2/requests.json", data={
        "api_key": key, "service_code": "damaged_bin", "lat": "48.59601", "long": "8.87002"},
        files={"media": ("x.jpg", b"GIF89a not a photo", "image/jpeg")})
    assert bad.json() == [{"code": 400, "description": "media is not a JPEG, PNG or WebP image"}]
    assert conn.execute("SELECT count(*) FROM open311_requests").fetchone() == (1,)


def test_the_reasons_of_the_api_are_the_citizen_texts() -> None:
    from api.routes.work_orders import CancelBody

    annotation = CancelBody.model_fields["public_reason"].annotation
    assert annotation is not None
    assert set(annotation.__args__[0].__args__) == set(citizen.REASONS)


def test_an_address_list_stored_before_the_check_gets_no_mail(
        client: TestClient, key: str, conn: psycopg.Connection[Any], tokens: Tokens,
        database_url: str, sink: tuple[mail.SmtpTarget, Inbox]) -> None:
    target, inbox = sink
    post(client, key, email="victim@example.de")
    conn.execute("DELETE FROM outbox")
    conn.execute("UPDATE open311_requests SET email = 'victim@example.de>,root'")
    order_id = int((conn.execute("SELECT order_id FROM defects").fetchone() or [0])[0])
    client.post(f"/api/v1/work-orders/{order_id}/done", headers=tokens.crew)
    assert conn.execute("SELECT count(*) FROM outbox WHERE channel = 'email'").fetchone() == (
        0,)
    with pytest.raises(mail.DeliveryError, match="not one e-mail address; not sent"):
        mail.send(target, "victim@example.de>,root", "s", "b")
    assert deliver(database_url, conn, target) == 0
    assert inbox.messages == []
