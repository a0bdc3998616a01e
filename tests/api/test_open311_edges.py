"""Open311 at its edges: control characters, empty parameters, raw bytes, body size, URLs,
e-mail addresses, the api_key in the query, CORS for the public reads (issue 18)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import replace
from typing import Any

import httpx
import psycopg
import pytest
from fastapi.testclient import TestClient

from api import open311_store
from api.open311_format import to_xml
from tests.api import town
from tests.api.conftest import Tokens

FORM = {"content-type": "application/x-www-form-urlencoded"}


@pytest.fixture
def key(conn: psycopg.Connection[Any], tokens: Tokens) -> str:
    """The town, and an api_key."""
    town.build(conn)
    return open311_store.create_key(conn, "edge-client")


def _count(conn: psycopg.Connection[Any]) -> int:
    row = conn.execute("SELECT count(*) FROM open311_requests").fetchone()
    assert row is not None
    return int(row[0])


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_control_characters_are_refused_and_the_xml_list_stays_well_formed(
        client: TestClient, key: str, conn: psycopg.Connection[Any], fmt: str) -> None:
    body = f"api_key={key}&service_code=other&address_string=Markt+1&" \
           "description=bell%07-vt%0B-esc%1B[31m"
    response = client.post(f"/open311/v2/requests.{fmt}", content=body.encode(), headers=FORM)
    assert response.status_code == 400
    expected = ("description contains a control character (U+0007); only tab and line "
                "breaks are allowed")
    if fmt == "json":
        assert response.json() == [{"code": 400, "description": expected}]
    else:
        assert ET.fromstring(response.content).findtext("error/description") == expected
    assert _count(conn) == 0
    ok = client.post("/open311/v2/requests.json", data={
        "api_key": key, "service_code": "other", "address_string": "Markt 1",
        "description": "Zeile 1\r\nZeile 2\tmit Tab"})
    assert ok.status_code == 200, ok.text
    root = ET.fromstring(client.get("/open311/v2/requests.xml").content)
    assert [r.findtext("description") for r in root] == ["Zeile 1\nZeile 2\tmit Tab"]


def test_the_xml_writer_drops_characters_xml_cannot_carry(client: TestClient, key: str,
                                                          conn: psycopg.Connection[Any]) -> None:
    # Stored before the fix: the writer must still produce a document every parser reads.
    assert ET.fromstring(to_xml("service_requests", [{"description": "a\x07b\x1b[31mc\ufffe"}]))\
        .findtext("request/description") == "ab[31mc"
    client.post("/open311/v2/requests.json", data={
        "api_key": key, "service_code": "other", "address_string": "Markt 1",
        "description": "sauber"})
    conn.execute("UPDATE open311_requests SET description = 'alt\x07\x0bklingel'")
    root = ET.fromstring(client.get("/open311/v2/requests.xml").content)
    assert root.findtext("request/description") == "altklingel"
    assert ET.fromstring(client.get("/open311/v2/requests/1.xml").content).findtext(
        "request/description") == "altklingel"


def test_empty_optional_parameters_are_absent(client: TestClient, key: str) -> None:
    client.post("/open311/v2/requests.json", data={
        "api_key": key, "service_code": "other", "address_string": "Markt 1"})
    for query in ("start_date=&end_date=&service_request_id=",
                  "start_date=&end_date=&service_request_id=&status=&service_code="
                  "&jurisdiction_id="):
        response = client.get(f"/open311/v2/requests.json?{query}")
        assert response.status_code == 200, response.text
        assert [r["service_request_id"] for r in response.json()] == [1]
    posted = client.post("/open311/v2/requests.json", data={
        "api_key": key, "service_code": "other", "address_string": "Markt 2", "lat": "",
        "long": "", "email": "", "media_url": "", "jurisdiction_id": ""})
    assert posted.status_code == 200, posted.text
    assert client.get("/open311/v2/services.json?jurisdiction_id=").status_code == 200
    # A value ending in "=" is a value, not an empty parameter.
    kept = client.get("/open311/v2/services.json?jurisdiction_id=bauhof.local=")
    assert kept.json() == [{"code": 404, "description": "jurisdiction_id 'bauhof.local=' not "
                            "found; this endpoint serves bauhof.local"}]


def test_raw_utf8_form_bodies_round_trip_and_bad_bytes_are_refused(
        client: TestClient, key: str, conn: psycopg.Connection[Any]) -> None:
    raw = f"api_key={key}&service_code=other&address_string=Markt+1&description=Müll"
    response = client.post("/open311/v2/requests.json", content=raw.encode("utf-8"),
                           headers=FORM)
    assert response.status_code == 200, response.text
    assert client.get("/open311/v2/requests/1.json").json()[0]["description"] == "Müll"
    encoded = f"api_key={key}&service_code=other&address_string=Stra%C3%9Fe+1&description=%C3%BC"
    client.post("/open311/v2/requests.json", content=encoded.encode(), headers=FORM)
    (second,) = client.get("/open311/v2/requests/2.json").json()
    assert (second["description"], second["address"]) == ("ü", "Straße 1")
    for body, where in ((raw.encode("utf-8").replace("Müll".encode(), b"M\xfcll"), "raw"),
                        (f"api_key={key}&service_code=other&address_string=M&description="
                         "M%FCll".encode(), "percent-encoded")):
        refused = client.post("/open311/v2/requests.json", content=body, headers=FORM)
        assert refused.status_code == 400
        assert refused.json() == [{"code": 400, "description":
                                   f"the form body is not valid UTF-8 ({where} bytes)"}]
    assert _count(conn) == 2


def test_attribute_lists_are_kept(client: TestClient, key: str,
                                  conn: psycopg.Connection[Any]) -> None:
    body = (f"api_key={key}&service_code=other&address_string=Markt+1&attribute[c1][]=a"
            "&attribute[c1][]=b&attribute[c2]=x&attribute%5Bc3%5D%5B%5D=z")
    response = client.post("/open311/v2/requests.json", content=body.encode(),
                           headers=FORM)
    assert response.status_code == 200, response.text
    assert conn.execute("SELECT attributes FROM open311_requests").fetchone() == (
        {"c1": ["a", "b"], "c2": "x", "c3": ["z"]},)


def test_an_11_mb_body_gets_413_and_stores_nothing(client: TestClient, key: str,
                                                   conn: psycopg.Connection[Any]) -> None:
    junk = "x" * (11 * 1000 * 1000)
    response = client.post("/open311/v2/requests.json", data={
        "api_key": key, "service_code": "other", "address_string": "Markt 1",
        "description": "kurz", "junk": junk})
    assert response.status_code == 413
    # The app's body limit (api/bodylimit.py) answers first for a plain form, by its length.
    assert response.json() == [{"code": 413, "description":
                                "the request body is larger than 262144 bytes, this route's "
                                "limit; send a smaller one"}]
    files = {"media": ("big.jpg", b"\xff\xd8\xff" + b"0" * (11 * 1000 * 1000), "image/jpeg")}
    multipart = client.post("/open311/v2/requests.xml", data={
        "api_key": key, "service_code": "other", "address_string": "Markt 1"}, files=files)
    assert multipart.status_code == 413
    assert ET.fromstring(multipart.content).findtext("error/description") == (
        "the request body is larger than 10551296 bytes, this route's limit; send a smaller "
        "one")
    assert _count(conn) == 0
    assert conn.execute("SELECT count(*) FROM defects").fetchone() == (0,)


def test_the_open311_limit_holds_without_the_app_wide_one(
        client: TestClient, key: str, conn: psycopg.Connection[Any]) -> None:
    # A body within the app-wide limit for photos but over BAUHOF_OPEN311_MAX_BODY_BYTES.
    client.app.state.settings = replace(client.app.state.settings,  # type: ignore[attr-defined]
                                        open311_max_body_bytes=100_000)
    files = {"media": ("big.jpg", b"\xff\xd8\xff" + b"0" * 200_000, "image/jpeg")}
    response = client.post("/open311/v2/requests.json", data={
        "api_key": key, "service_code": "other", "address_string": "Markt 1"}, files=files)
    assert response.json() == [{"code": 413, "description":
                                "the request body is larger than 100000 bytes"}]
    assert _count(conn) == 0


def test_an_oversized_chunked_body_is_cut_off(live_server: Any, key: str,
                                              conn: psycopg.Connection[Any]) -> None:
    base = live_server()

    def chunks() -> Any:
        yield f"api_key={key}&service_code=other&address_string=M&description=".encode()
        for _ in range(11):
            yield b"y" * 1_000_000

    with httpx.Client(base_url=base) as http:
        response = http.post("/open311/v2/requests.json", content=chunks(), headers=FORM)
    assert response.status_code == 413
    assert _count(conn) == 0


@pytest.mark.parametrize("url", [
    "http://127.0.0.1:8000/x.jpg", "http://169.254.169.254/latest/meta-data",
    "http://10.1.2.3/a.jpg", "http://[::1]/a.jpg", "http://localhost/a.jpg",
    "https://intranet/a.jpg", "https://x.example/\"><script>", "https://x.example/<a>",
    "ftp://x.example/a.jpg", "https://user:pw@x.example/a.jpg", "https:///a.jpg",
    "http://192.168.0.10/a.jpg", "http://0.0.0.0/a.jpg",
])
def test_media_url_must_be_a_public_http_url(client: TestClient, key: str, url: str) -> None:
    response = client.post("/open311/v2/requests.json", data={
        "api_key": key, "service_code": "other", "address_string": "Markt 1",
        "media_url": url})
    assert response.status_code == 400
    assert response.json()[0]["description"].startswith("media_url must be an http(s) URL of "
                                                         "a public host")


def test_a_public_media_url_is_kept(client: TestClient, key: str) -> None:
    url = "https://farm3.static.flickr.com/2002/2212426634_5ed477a060.jpg?size=l"
    client.post("/open311/v2/requests.json", data={
        "api_key": key, "service_code": "other", "address_string": "Markt 1",
        "media_url": url})
    assert client.get("/open311/v2/requests/1.json").json()[0]["media_url"] == url


@pytest.mark.parametrize("address", [
    "victim@example.de>,root", "Anna <anna@example.org>", "a@example.org, b@example.org",
    "anna@example.org\r\nBcc: x@example.org", "anna@localhost", "anna@@example.org",
    "anna example@example.org", "anna@example.org;root", ".anna@example.org",
    "anna..b@example.org", "anna@-example.org", "\"quoted\"@example.org",
])
def test_recipient_injection_is_refused(client: TestClient, key: str, address: str,
                                        conn: psycopg.Connection[Any]) -> None:
    response = client.post("/open311/v2/requests.json", data={
        "api_key": key, "service_code": "other", "address_string": "Markt 1",
        "email": address})
    assert response.status_code == 400
    assert response.json()[0]["description"].endswith(
        "is not one e-mail address (name@domain.example, no display name or list)")
    assert _count(conn) == 0


def test_plain_addresses_are_accepted(client: TestClient, key: str,
                                      conn: psycopg.Connection[Any]) -> None:
    for address in ("anna.b+bauhof@mail.example.org", "o'brien@example.ie"):
        assert client.post("/open311/v2/requests.json", data={
            "api_key": key, "service_code": "other", "address_string": "Markt 1",
            "email": address}).status_code == 200
    assert [r[0] for r in conn.execute("SELECT email FROM open311_requests ORDER BY id")] == [
        "anna.b+bauhof@mail.example.org", "o'brien@example.ie"]


def test_api_key_in_the_query_string(client: TestClient, key: str) -> None:
    response = client.post(f"/open311/v2/requests.json?api_key={key}", data={
        "service_code": "other", "address_string": "Markt 1"})
    assert response.status_code == 200, response.text
    assert response.json()[0]["service_request_id"] == 1
    wrong = client.post("/open311/v2/requests.json?api_key=o311_nope", data={
        "service_code": "other", "address_string": "Markt 1"})
    assert wrong.json() == [{"code": 403, "description":
                             "Invalid api_key received -- can't proceed with create_request."}]


def test_open311_cors_is_separate_and_may_be_open_to_all(live_server: Any, key: str) -> None:
    base = live_server(open311_cors_origins=("*",), cors_origins=("https://planner.example",))
    with httpx.Client(base_url=base) as http:
        got = http.get("/open311/v2/services.json", headers={"Origin": "https://any.example"})
        assert got.headers["access-control-allow-origin"] == "*"
        assert "access-control-allow-credentials" not in got.headers
        pre = http.options("/open311/v2/requests.json", headers={
            "Origin": "https://any.example", "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "if-none-match"})
        assert pre.status_code == 200
        assert pre.headers["access-control-allow-origin"] == "*"
        assert pre.headers["access-control-allow-methods"] == "GET"
        api = http.get("/api/v1/public/map-config", headers={"Origin": "https://any.example"})
        assert "access-control-allow-origin" not in api.headers
        planner = http.get("/api/v1/public/map-config",
                           headers={"Origin": "https://planner.example"})
        assert planner.headers["access-control-allow-origin"] == "https://planner.example"
        both = http.get("/open311/v2/services.json",
                        headers={"Origin": "https://planner.example"})
        assert both.headers.get_list("access-control-allow-origin") == ["*"]
    closed = live_server()
    with httpx.Client(base_url=closed) as http:
        got = http.get("/open311/v2/services.json", headers={"Origin": "https://any.example"})
        assert "access-control-allow-origin" not in got.headers


def test_open311_cors_setting(tmp_path: Any) -> None:
    from api.config import from_settings
    from bauhof.settings import SettingsError, load

    def api(env: dict[str, str]) -> Any:
        return from_settings(load({"BAUHOF_STATE_DIR": str(tmp_path), **env}, cwd=tmp_path))

    env = {"BAUHOF_OPEN311_CORS_ORIGINS": "*", "BAUHOF_MAP_TILE_URL": ""}
    assert api(env).open311_cors_origins == ("*",)
    assert api({"BAUHOF_OPEN311_CORS_ORIGINS": " https://a.example, "
                "https://b.example "}).open311_cors_origins == (
        "https://a.example", "https://b.example")
    with pytest.raises(SettingsError, match="BAUHOF_OPEN311_CORS_ORIGINS"):
        api({"BAUHOF_OPEN311_CORS_ORIGINS": "*, https://a.example"})

