"""Open311 GeoReport v2: the spec's requests and responses field by field, in JSON and XML."""

from __future__ import annotations

import email
import xml.etree.ElementTree as ET
from email.message import Message
from email.policy import default
from typing import Any

import psycopg
import pytest
from aiosmtpd.controller import Controller
from fastapi.testclient import TestClient

from api import open311_store
from bauhof.services import free_port
from rules import mail
from rules.notify import Publisher
from tests.api import town
from tests.api.conftest import Tokens

# The spec's example POST (GeoReport v2, "POST Service Request"), with our service code and
# a place next to bin b1.
EXAMPLE_POST = {
    "jurisdiction_id": "bauhof.local", "service_code": "overflowing_bin",
    "lat": "48.59601", "long": "8.87002", "address_string": "1234 5th street",
    "email": "smit333@sfgov.edu", "device_id": "tt222111", "account_id": "123456",
    "first_name": "john", "last_name": "smith", "phone": "111111111",
    "description": "A large sinkhole is destroying the street",
    "media_url": "http://farm3.static.flickr.com/2002/2212426634_5ed477a060.jpg",
    "attribute[WHISPAWN]": "123456", "attribute[WHISDORN]": "COISL001",
}
REQUEST_FIELDS = ["service_request_id", "status", "status_notes", "service_name",
                  "service_code", "description", "agency_responsible", "service_notice",
                  "requested_datetime", "updated_datetime", "expected_datetime", "address",
                  "address_id", "zipcode", "lat", "long", "media_url"]


class _Inbox:
    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:
        self.messages.append(email.message_from_bytes(envelope.content, policy=default))
        return "250 OK"


@pytest.fixture
def key(conn: psycopg.Connection[Any], tokens: Tokens) -> str:
    """The town, and an api_key."""
    town.build(conn)
    return open311_store.create_key(conn, "Mark-a-Spot")


def _xml(response: Any) -> ET.Element:
    assert response.headers["content-type"] == "text/xml; charset=utf-8"
    assert response.content.startswith(b'<?xml version="1.0" encoding="utf-8"?>\n')
    return ET.fromstring(response.content)


def _children(element: ET.Element) -> list[tuple[str, str | None]]:
    return [(child.tag, child.text) for child in element]


def test_services_json_has_the_spec_fields(client: TestClient, key: str) -> None:
    response = client.get("/open311/v2/services.json")
    assert response.headers["content-type"] == "application/json; charset=utf-8"
    services = response.json()
    assert [list(s) for s in services] == [["service_code", "service_name", "description",
                                            "metadata", "type", "keywords", "group"]] * 4
    assert [s["service_code"] for s in services] == ["overflowing_bin", "damaged_bin",
                                                     "dry_green_area", "other"]
    assert services[0] == {
        "service_code": "overflowing_bin", "service_name": "Überfüllter Abfallbehälter",
        "description": "Ein öffentlicher Abfallbehälter ist voll oder läuft über.",
        "metadata": False, "type": "realtime",
        "keywords": "Mülleimer, voll, überfüllt, Müll, overflowing bin", "group": "Abfall"}


def test_services_xml_has_the_same_fields(client: TestClient, key: str) -> None:
    root = _xml(client.get("/open311/v2/services.xml"))
    assert root.tag == "services"
    assert [s.tag for s in root] == ["service"] * 4
    assert _children(root[2]) == [
        ("service_code", "dry_green_area"), ("service_name", "Trockene Grünfläche"),
        ("description", "Eine Grünfläche, ein Beet oder ein junger Baum braucht Wasser."),
        ("metadata", "false"), ("type", "realtime"),
        ("keywords", "Beet, Baum, trocken, gießen, Wasser, dry green area"),
        ("group", "Grünflächen")]


def test_service_definition_in_json_and_xml(client: TestClient, key: str) -> None:
    assert client.get("/open311/v2/services/damaged_bin.json").json() == {
        "service_code": "damaged_bin", "attributes": []}
    root = _xml(client.get("/open311/v2/services/damaged_bin.xml"))
    assert root.tag == "service_definition"
    assert _children(root) == [("service_code", "damaged_bin"), ("attributes", None)]
    missing = client.get("/open311/v2/services/pothole.xml")
    assert missing.status_code == 404
    error = _xml(missing)
    assert error.tag == "errors"
    assert _children(error[0]) == [("code", "404"), ("description",
                                   "service_code 'pothole' not found; see services.xml")]


def test_post_the_spec_example_in_json(client: TestClient, key: str,
                                       conn: psycopg.Connection[Any]) -> None:
    response = client.post("/open311/v2/requests.json", data={"api_key": key, **EXAMPLE_POST})
    assert response.status_code == 200, response.text
    (created,) = response.json()
    assert list(created) == ["service_request_id", "service_notice", "account_id"]
    assert created == {
        "service_request_id": 1, "account_id": "123456",
        "service_notice": "Eingegangen als Meldung Nr. 1. Sie erhalten bei jedem Schritt eine "
                          "E-Mail."}
    stored = conn.execute(
        "SELECT r.email, r.first_name, r.last_name, r.phone, r.device_id, r.attributes, "
        "d.kind, d.source, d.subject_type, d.subject_id, d.reporter_email, o.kind, o.rule "
        "FROM open311_requests r JOIN defects d ON d.id = r.defect_id "
        "JOIN work_orders o ON o.id = d.order_id").fetchone()
    assert stored == ("smit333@sfgov.edu", "john", "smith", "111111111", "tt222111",
                      {"WHISPAWN": "123456", "WHISDORN": "COISL001"}, "overflowing_bin",
                      "citizen", "bin", "b1", "smit333@sfgov.edu", "citizen_defect",
                      "citizen.report")


def test_post_in_xml_and_get_it_back_field_by_field(client: TestClient, key: str) -> None:
    response = client.post("/open311/v2/requests.xml", data={"api_key": key, **EXAMPLE_POST})
    root = _xml(response)
    assert root.tag == "service_requests"
    assert [t for t, _ in _children(root[0])] == ["service_request_id", "service_notice",
                                                  "account_id"]
    assert root[0].findtext("service_request_id") == "1"
    got = client.get("/open311/v2/requests/1.json").json()
    assert [list(r) for r in got] == [REQUEST_FIELDS]
    (request,) = got
    assert request["requested_datetime"].endswith("+00:00")
    assert request == {
        "service_request_id": 1, "status": "open",
        "status_notes": "Eingegangen; der Bauhof plant die Arbeit.",
        "service_name": "Überfüllter Abfallbehälter",
        "service_code": "overflowing_bin",
        "description": "A large sinkhole is destroying the street",
        "agency_responsible": "Bauhof", "service_notice": None,
        "requested_datetime": request["requested_datetime"],
        "updated_datetime": request["updated_datetime"],
        "expected_datetime": None, "address": "1234 5th street", "address_id": None,
        "zipcode": None, "lat": 48.59601, "long": 8.87002,
        "media_url": "http://farm3.static.flickr.com/2002/2212426634_5ed477a060.jpg"}
    xml = _xml(client.get("/open311/v2/requests/1.xml"))
    assert [r.tag for r in xml] == ["request"]
    assert [t for t, _ in _children(xml[0])] == REQUEST_FIELDS
    assert dict(_children(xml[0])) == {
        k: None if v is None else str(v) for k, v in request.items()}


def test_a_report_next_to_an_open_order_joins_it(client: TestClient, key: str,
                                                 conn: psycopg.Connection[Any]) -> None:
    ids = town.standard_orders(conn)
    response = client.post("/open311/v2/requests.json", data={
        "api_key": key, "service_code": "overflowing_bin", "lat": "48.5961", "long": "8.8701",
        "description": "Mülleimer quillt über"})
    assert response.json()[0]["service_notice"] == (
        "Eingegangen als Meldung Nr. 1. Die Stelle ist bereits gemeldet; Ihre Meldung wurde "
        "der offenen Meldung hinzugefügt.")
    assert conn.execute("SELECT count(*) FROM work_orders").fetchone() == (4,)
    assert conn.execute("SELECT order_id, subject_id FROM defects").fetchall() == [
        (ids["b1"], "b1")]


def test_done_closes_the_request_and_mails_the_reporter(
        client: TestClient, key: str, conn: psycopg.Connection[Any], tokens: Tokens,
        database_url: str) -> None:
    ids = town.standard_orders(conn)
    client.post("/open311/v2/requests.json", data={
        "api_key": key, "service_code": "overflowing_bin", "lat": "48.5961", "long": "8.8701",
        "description": "Mülleimer quillt über", "email": "anna@example.org"})
    assert client.get("/open311/v2/requests/1.json").json()[0]["status"] == "open"
    conn.execute("UPDATE bins SET name = 'Marktplatz 3' WHERE id = 'b1'")
    client.post(f"/api/v1/work-orders/{ids['b1']}/done", headers=tokens.crew,
                data={"note": "Herr Maier vom Kiosk hat wieder alles reingestopft",
                      "public_note": "Behälter geleert"})
    (request,) = client.get("/open311/v2/requests/1.json").json()
    resolved = conn.execute("SELECT resolved_at FROM defects").fetchone()
    assert (request["status"], request["status_notes"]) == ("closed",
                                                            "Erledigt. Behälter geleert")
    assert resolved is not None
    assert request["updated_datetime"] == resolved[0].isoformat()
    inbox = _Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        target = mail.parse_smtp_url(f"smtp://127.0.0.1:{port}?from=bauhof@town.example")
        assert Publisher(database_url, None, target).deliver(conn, "email") == 2
    finally:
        controller.stop()
    merged, done = inbox.messages
    assert (merged["To"], merged["Subject"]) == (
        "anna@example.org", "Ihre Meldung Nr. 1: bereits bekannt (Bin b1)")
    assert (done["To"], done["Subject"]) == (
        "anna@example.org", "Ihre Meldung Nr. 1 ist erledigt (Marktplatz 3)")
    assert "Behälter geleert" in done.get_content()
    assert "Maier" not in done.get_content()


def test_requests_filters(client: TestClient, key: str,
                          conn: psycopg.Connection[Any]) -> None:
    for code, lat, lon in (("overflowing_bin", "48.5960", "8.8700"),
                           ("dry_green_area", "48.5930", "8.8650"),
                           ("other", "10.0", "10.0")):
        client.post("/open311/v2/requests.json", data={
            "api_key": key, "service_code": code, "lat": lat, "long": lon})
    conn.execute("UPDATE defects SET status = 'resolved', resolved_at = now() "
                 "WHERE service_code = 'dry_green_area'")

    def ids(query: str) -> list[int]:
        response = client.get(f"/open311/v2/requests.json?{query}")
        assert response.status_code == 200, response.text
        return [r["service_request_id"] for r in response.json()]

    assert ids("") == [3, 2, 1]
    assert ids("status=open") == [3, 1]
    assert ids("status=closed") == [2]
    assert ids("status=open,closed") == [3, 2, 1]
    assert ids("service_code=other,dry_green_area") == [3, 2]
    assert ids("service_request_id=1,3&status=closed") == [3, 1]
    assert ids("start_date=2010-01-01T00:00:00Z&end_date=2010-02-01T00:00:00Z") == []
    (other,) = client.get("/open311/v2/requests/3.json").json()
    assert (other["status"], other["status_notes"]) == (
        "open", "Eingegangen; der Bauhof prüft die Meldung.")


def test_tokens(client: TestClient, key: str, conn: psycopg.Connection[Any]) -> None:
    client.post("/open311/v2/requests.json", data={"api_key": key, **EXAMPLE_POST})
    token = conn.execute("SELECT token FROM open311_requests").fetchone()[0]  # type: ignore[index]
    assert client.get(f"/open311/v2/tokens/{token}.json").json() == [
        {"service_request_id": 1, "token": token}]
    root = _xml(client.get(f"/open311/v2/tokens/{token}.xml"))
    assert _children(root[0]) == [("service_request_id", "1"), ("token", token)]
    assert client.get("/open311/v2/tokens/nope.json").status_code == 404


@pytest.mark.parametrize(("data", "status", "description"), [
    ({}, 403, "api_key was not provided -- can't proceed with create_request."),
    ({"api_key": "o311_wrong"}, 403,
     "Invalid api_key received -- can't proceed with create_request."),
    ({"api_key": "KEY", "lat": "1", "long": "2"}, 400, "service_code was not provided"),
    ({"api_key": "KEY", "service_code": "pothole", "lat": "1", "long": "2"}, 404,
     "service_code 'pothole' not found"),
    ({"api_key": "KEY", "service_code": "other"}, 400,
     "a location is required: lat and long, address_string or address_id"),
    ({"api_key": "KEY", "service_code": "other", "lat": "1"}, 400,
     "lat and long must both be sent"),
    ({"api_key": "KEY", "service_code": "other", "lat": "north", "long": "2"}, 400,
     "body field 'lat': Input should be a valid number, unable to parse string as a number"),
    ({"api_key": "KEY", "service_code": "other", "lat": "91", "long": "2"}, 400,
     "lat must be within -90..90 and long within -180..180"),
    ({"api_key": "KEY", "service_code": "other", "address_string": "Markt 1",
      "email": "nobody"}, 400, "email 'nobody' is not one e-mail address "
     "(name@domain.example, no display name or list)"),
    ({"api_key": "KEY", "service_code": "other", "address_string": "Markt 1",
      "media_url": "file:///etc/passwd"}, 400, "media_url must be an http(s) URL of a public "
     "host: only http and https are allowed"),
    ({"api_key": "KEY", "service_code": "other", "address_string": "Markt 1",
      "description": "x" * 4001}, 400, "description is longer than 4000 characters"),
    ({"api_key": "KEY", "service_code": "other", "address_string": "Markt 1",
      "jurisdiction_id": "sfgov.org"}, 404,
     "jurisdiction_id 'sfgov.org' not found; this endpoint serves bauhof.local"),
])
@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_post_errors_in_the_spec_format(client: TestClient, key: str, data: dict[str, str],
                                        status: int, description: str, fmt: str) -> None:
    form = {k: key if v == "KEY" else v for k, v in data.items()}
    response = client.post(f"/open311/v2/requests.{fmt}", data=form)
    assert response.status_code == status
    if fmt == "json":
        assert response.json() == [{"code": status, "description": description}]
    else:
        root = _xml(response)
        assert root.tag == "errors"
        assert _children(root[0]) == [("code", str(status)), ("description", description)]


@pytest.mark.parametrize(("query", "description"), [
    ("start_date=2026-01-01T00:00:00Z&end_date=2026-06-01T00:00:00Z",
     "start_date and end_date may not span more than 90 days"),
    ("start_date=2026-06-01T00:00:00Z&end_date=2026-05-01T00:00:00Z",
     "end_date is before start_date"),
    ("status=pending", "status must be open, closed or both (comma-separated)"),
    ("service_request_id=1,x", "service_request_id must be comma-separated request ids"),
    ("start_date=yesterday", "query field 'start_date': Input should be a valid datetime or "
                             "date, input is too short"),
])
def test_get_errors(client: TestClient, key: str, query: str, description: str) -> None:
    response = client.get(f"/open311/v2/requests.json?{query}")
    assert response.status_code == 400
    assert response.json() == [{"code": 400, "description": description}]


def test_unknown_request_is_404_and_reporters_stay_private(client: TestClient, key: str,
                                                            tokens: Tokens) -> None:
    assert client.get("/open311/v2/requests/77.json").json() == [
        {"code": 404, "description": "service_request_id 77 not found"}]
    client.post("/open311/v2/requests.json", data={"api_key": key, **EXAMPLE_POST})
    public = client.get("/open311/v2/requests.json").text
    for private in ("smit333", "john", "smith", "111111111", "tt222111"):
        assert private not in public
    order = client.get("/api/v1/work-orders?kind=citizen_defect",
                       headers=tokens.planner).json()["items"][0]["id"]
    for who, seen in ((tokens.admin, "smit333@sfgov.edu"), (tokens.planner, None),
                      (tokens.crew, None)):
        detail = client.get(f"/api/v1/work-orders/{order}", headers=who).json()
        assert detail["defects"][0]["reporter_email"] == seen


def test_public_endpoints_are_rate_limited(live_server: Any, key: str) -> None:
    import httpx

    base = live_server(public_rate_per_s=0.01, public_burst=2)
    with httpx.Client(base_url=base) as http:
        assert [http.get("/open311/v2/services.json").status_code for _ in range(2)] == [200,
                                                                                        200]
        limited = http.get("/open311/v2/services.json")
        assert limited.status_code == 429
        assert limited.headers["retry-after"] == "100"
        assert limited.json() == [{"code": 429, "description": "too many requests from this "
                                   "address; try again in 100 s"}]
        health = http.get("/health")
        assert health.status_code == 429
        assert health.headers["content-type"] == "application/problem+json"
