"""Open311 as third-party clients see it: the exact requests of three Python clients, over
real HTTP, and the GeoReport v2 spec's own examples (issue 18).

The clients are Python 2 or unmaintained, so their request shapes are reproduced here from
their published source (URL layout, parameters, body encoding), not imported:
- `georeport` 0.3.1: requests.get(f"{root}/services.{fmt}", params=…), parameters only when
  given, XML read as ['services']['service'], ['service_definition'],
  ['service_requests']['request'].
- `open311` 1.1 (urllib): every GET carries `?jurisdiction_id=` (empty when none is set),
  the service definition is asked at `service/<code>.<fmt>`, POST sends
  `requests.<fmt>?jurisdiction_id=&api_key=<key>` with a form body; XML by default.
- `three` 0.8.0 (requests.Session): the endpoint ends in a slash; `discovery.json`; dates as
  `%Y-%m-%dT%H:%M:%SZ`; `count` becomes `page_size`; POST puts api_key in the form body and
  a photo as the multipart file `media`.
"""

from __future__ import annotations

import io
import urllib.request
import xml.etree.ElementTree as ET
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import httpx
import psycopg
import pytest
from PIL import Image

from api import open311_store
from tests.api import town
from tests.api.conftest import Tokens


@pytest.fixture
def server(live_server: Callable[..., str], conn: psycopg.Connection[Any],
           tokens: Tokens) -> tuple[str, str]:
    """The town, an api_key, and the Open311 root of a real server."""
    town.build(conn)
    key = open311_store.create_key(conn, "client")
    return f"{live_server()}/open311/v2", key


def _items(root: ET.Element) -> list[dict[str, str | None]]:
    return [{child.tag: child.text for child in item} for item in root]


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_georeport_0_3_1(server: tuple[str, str], fmt: str) -> None:
    root, key = server
    with httpx.Client() as http:
        # The report itself comes from elsewhere: georeport 0.3.1 only reads.
        created = http.post(f"{root}/requests.json", data={
            "api_key": key, "service_code": "overflowing_bin", "lat": "48.59601",
            "long": "8.87002", "description": "voll"})
        assert created.status_code == 200
        services = http.get(f"{root}/services.{fmt}", params={})
        definition = http.get(f"{root}/services/overflowing_bin.{fmt}", params={})
        today = datetime.now(UTC)
        listed = http.get(f"{root}/requests.{fmt}", params={
            "service_code": "overflowing_bin", "status": "open",
            "start_date": (today - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "end_date": (today + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")})
        one = http.get(f"{root}/requests/1.{fmt}", params={})
        with_jurisdiction = http.get(f"{root}/services.{fmt}",
                                     params={"jurisdiction_id": "bauhof.local"})
    for response in (services, definition, listed, one, with_jurisdiction):
        assert response.status_code == 200, response.text
    if fmt == "json":
        assert [s["service_code"] for s in services.json()] == [
            "overflowing_bin", "damaged_bin", "dry_green_area", "other"]
        assert definition.json() == {"service_code": "overflowing_bin", "attributes": []}
        assert [r["service_request_id"] for r in listed.json()] == [1]
        assert one.json()[0]["description"] == "voll"
    else:
        assert [s["service_code"] for s in _items(ET.fromstring(services.content))] == [
            "overflowing_bin", "damaged_bin", "dry_green_area", "other"]
        assert ET.fromstring(definition.content).findtext("service_code") == "overflowing_bin"
        assert [r["service_request_id"] for r in _items(ET.fromstring(listed.content))] == ["1"]
        assert ET.fromstring(one.content).findtext("request/description") == "voll"


def _urlopen(url: str, data: bytes | None = None) -> tuple[int, bytes]:
    # open311 1.1 calls urlopen(url) and urlopen(url, post_data): urllib's own request.
    try:
        with urllib.request.urlopen(url, data, timeout=30) as response:
            return int(response.status), bytes(response.read())
    except urllib.error.HTTPError as exc:
        return int(exc.code), bytes(exc.read())


def test_open311_1_1(server: tuple[str, str], conn: psycopg.Connection[Any]) -> None:
    endpoint, key = server
    jurisdiction = urlencode({"jurisdiction_id": ""})
    status, services = _urlopen(f"{endpoint}/services.xml?{jurisdiction}")
    assert status == 200
    assert [s["service_code"] for s in _items(ET.fromstring(services))][:1] == [
        "overflowing_bin"]
    status, definition = _urlopen(f"{endpoint}/service/damaged_bin.xml?{jurisdiction}")
    assert (status, ET.fromstring(definition).findtext("service_code")) == (200, "damaged_bin")
    params = urlencode({"jurisdiction_id": "", "api_key": key})
    post_data = urlencode({"service_code": "damaged_bin", "lat": "48.59601",
                           "long": "8.87002", "description": "Deckel abgerissen, bitte "
                           "reparieren", "email": "eva@example.org"}).encode()
    status, created = _urlopen(f"{endpoint}/requests.xml?{params}", post_data)
    assert status == 200, created
    request_id = ET.fromstring(created).findtext("request/service_request_id")
    assert request_id == "1"
    query = urlencode({"jurisdiction_id": "", "status": "open"})
    status, listed = _urlopen(f"{endpoint}/requests.xml?{query}")
    rows = _items(ET.fromstring(listed))
    assert (status, [(r["service_request_id"], r["description"]) for r in rows]) == (
        200, [("1", "Deckel abgerissen, bitte reparieren")])
    status, one = _urlopen(f"{endpoint}/requests/1.xml?{jurisdiction}")
    assert (status, ET.fromstring(one).findtext("request/status")) == (200, "open")
    token = (conn.execute("SELECT token FROM open311_requests").fetchone() or [""])[0]
    status, by_token = _urlopen(f"{endpoint}/tokens/{token}.xml?{jurisdiction}")
    assert (status, ET.fromstring(by_token).findtext("request/service_request_id")) == (
        200, "1")


def test_three_0_8_0(server: tuple[str, str], conn: psycopg.Connection[Any]) -> None:
    root, key = server
    endpoint = root + "/"

    def path(*parts: str) -> str:
        return endpoint + "/".join(p for p in parts if p) + ".json"

    photo = io.BytesIO()
    Image.new("RGB", (800, 600), (10, 20, 30)).save(photo, "PNG")
    with httpx.Client() as http:
        discovery = http.get(path("discovery"), params={}).json()
        assert discovery["endpoints"][0]["url"] == root
        assert discovery["endpoints"][0]["formats"] == ["text/xml", "application/json"]
        assert len(http.get(path("services"), params={}).json()) == 4
        assert http.get(path("services", "other"), params={}).json()["service_code"] == "other"
        # t.post('dry_green_area', address=…, name='Zach Williams', phone=…, description=…)
        plain = http.post(path("requests"), data={
            "service_code": "dry_green_area", "address_string": "Stadtpark",
            "first_name": "Zach", "last_name": "Williams", "phone": "555-5555",
            "description": "Beet ist trocken", "lat": "48.5930", "long": "8.8650",
            "api_key": key})
        assert plain.status_code == 200, plain.text
        # …and with media=open('photo.png', 'rb'): a multipart body.
        with_media = http.post(path("requests"), data={
            "service_code": "damaged_bin", "address_string": "Marktplatz", "lat": "48.59601",
            "long": "8.87002", "api_key": key},
            files={"media": ("photo.png", photo.getvalue())})
        assert with_media.status_code == 200, with_media.text
        assert [r["service_request_id"] for r in (plain.json()[0], with_media.json()[0])] == [
            1, 2]
        today = datetime.now(UTC).date()
        between = http.get(path("requests"), params={
            "start_date": (today - timedelta(days=2)).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "end_date": (today + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "page_size": "50"})
        assert [r["service_request_id"] for r in between.json()] == [2, 1]
        one = http.get(path("requests", "2"), params={}).json()[0]
        assert one["media_url"].startswith(f"{root}/media/")
        assert http.get(one["media_url"]).headers["content-type"] == "image/jpeg"
        token = (conn.execute("SELECT token FROM open311_requests WHERE id = 1").fetchone()
                 or [""])[0]
        assert http.get(path("tokens", token), params={}).json() == [
            {"service_request_id": 1, "token": token}]


def test_the_spec_examples(server: tuple[str, str]) -> None:
    """GeoReport v2's examples, with this server's jurisdiction and a service code of ours."""
    root, key = server
    with httpx.Client() as http:
        services = http.get(f"{root}/services.xml?jurisdiction_id=bauhof.local")
        assert ET.fromstring(services.content).tag == "services"
        created = http.post(f"{root}/requests.xml", data={
            "api_key": key, "jurisdiction_id": "bauhof.local",
            "service_code": "overflowing_bin", "lat": "37.76524078", "long": "-122.4212043",
            "address_string": "1234 5th street", "email": "smit333@sfgov.edu",
            "device_id": "tt222111", "account_id": "123456", "first_name": "john",
            "last_name": "smith", "phone": "111111111",
            "description": "A large sinkhole is destroying the street",
            "media_url": "http://farm3.static.flickr.com/2002/2212426634_5ed477a060.jpg",
            "attribute[WHISPAWN]": "123456", "attribute[WHISDORN]": "COISL001"})
        assert ET.fromstring(created.content).findtext("request/account_id") == "123456"
        listing = http.get(f"{root}/requests.xml?start_date=2010-05-24T00:00:00Z"
                           "&end_date=2010-06-24T00:00:00Z&status=open")
        assert (listing.status_code, list(ET.fromstring(listing.content))) == (200, [])
        one = http.get(f"{root}/requests/1.xml?jurisdiction_id=bauhof.local")
        request = ET.fromstring(one.content).find("request")
        assert request is not None
        assert (request.findtext("status"), request.findtext("address")) == (
            "open", "1234 5th street")
        missing = http.get(f"{root}/requests/638344.xml?jurisdiction_id=bauhof.local")
        assert missing.status_code == 404
        assert ET.fromstring(missing.content).findtext("error/description") == (
            "service_request_id 638344 not found")
        other = http.get(f"{root}/services.xml?jurisdiction_id=city.gov")
        assert other.status_code == 404
