"""Front-end libraries served by the API itself, the map configuration, and /docs offline."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from fastapi.testclient import TestClient
from playwright.sync_api import Browser, expect

from api.config import OSM_ATTRIBUTION, OSM_TILES, from_settings
from bauhof import settings as bauhof_settings
from tests.fixtures.browser import screenshot_path


def test_listed_library_files_are_served_with_their_types(client: TestClient) -> None:
    leaflet = client.get("/vendor/leaflet/leaflet.js")
    assert leaflet.status_code == 200
    assert leaflet.headers["content-type"] == "text/javascript; charset=utf-8"
    assert b"Leaflet" in leaflet.content[:400]
    css = client.get("/vendor/uplot/uPlot.min.css")
    assert (css.status_code, css.headers["content-type"]) == (200, "text/css; charset=utf-8")
    icon = client.get("/vendor/leaflet/images/marker-icon.png")
    assert (icon.status_code, icon.content[:4]) == (200, b"\x89PNG")


def test_page_data_is_json_and_the_crew_manifest_a_web_manifest(client: TestClient) -> None:
    texts = client.get("/crew/texts.json")
    assert (texts.status_code, texts.headers["content-type"]) == (200, "application/json")
    assert texts.json()["de"]["title"] == "Bauhof \u2013 Aufträge"
    manifest = client.get("/crew/manifest.json")
    assert (manifest.status_code, manifest.headers["content-type"]) == (
        200, "application/manifest+json")


def test_unlisted_files_are_not_served(client: TestClient) -> None:
    for path in ("/vendor/leaflet/package.json", "/vendor/../pyproject.toml",
                 "/vendor/swagger-ui-dist/swagger-ui-bundle.js", "/common/nosuch.js"):
        answer = client.get(path)
        assert answer.status_code == 404, path
        assert answer.headers["content-type"] == "application/problem+json"


def test_missing_install_names_the_fix(api_settings: object, tmp_path: Path) -> None:
    from dataclasses import replace

    from api.app import create_app
    from api.config import ApiSettings

    assert isinstance(api_settings, ApiSettings)
    with TestClient(create_app(replace(api_settings, vendor_dir=tmp_path))) as bare:
        answer = bare.get("/vendor/leaflet/leaflet.js")
    assert answer.status_code == 503
    assert answer.json()["detail"] == ("front-end library file leaflet/dist/leaflet.js is not "
                                       "installed: run `make setup` (it installs package.json's "
                                       "libraries into node_modules/)")


def test_map_config_defaults_to_openstreetmap_and_can_be_turned_off(tmp_path: Path) -> None:
    def api(env: dict[str, str]) -> Any:
        return from_settings(bauhof_settings.load(environ=env, cwd=tmp_path))

    default = api({})
    assert (default.map_tile_url, default.map_attribution) == (OSM_TILES, OSM_ATTRIBUTION)
    local = api({"BAUHOF_MAP_TILE_URL": "https://tiles.town.example/{z}/{x}/{y}.png",
                 "BAUHOF_MAP_ATTRIBUTION": "Stadt"})
    assert (local.map_tile_url, local.map_attribution) == (
        "https://tiles.town.example/{z}/{x}/{y}.png", "Stadt")
    off = api({"BAUHOF_MAP_TILE_URL": ""})
    assert (off.map_tile_url, off.map_attribution) == ("", "")


def test_map_config_is_public_and_the_tile_origin_is_in_the_pages_policy(
        api_settings: object) -> None:
    from dataclasses import replace

    from api.app import create_app
    from api.config import ApiSettings

    assert isinstance(api_settings, ApiSettings)
    tiles = replace(api_settings, map_tile_url="https://tiles.town.example/{z}/{x}/{y}.png",
                    map_attribution="Stadt", map_max_zoom=18)
    with TestClient(create_app(tiles)) as app:
        assert app.get("/api/v1/public/map-config").json() == {
            "tile_url": "https://tiles.town.example/{z}/{x}/{y}.png", "attribution": "Stadt",
            "max_zoom": 18}
        policy = app.get("/crew/").headers["content-security-policy"]
    assert "img-src 'self' data: blob:;" in policy  # the crew page shows no map tiles
    assert "tiles.town.example" not in policy


def test_docs_render_with_no_request_to_another_host(
        browser: Browser, live_server: Callable[..., str]) -> None:
    base = live_server()
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    hosts: list[str] = []
    page.on("request", lambda request: hosts.append(urlsplit(request.url).netloc))
    page.goto(f"{base}/docs")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Bauhof API")
    expect(page.locator(".opblock-tag-section").first).to_be_visible()
    page.screenshot(path=str(screenshot_path("docs-desktop.png")))
    assert set(hosts) == {urlsplit(base).netloc}
    assert len(hosts) >= 4  # the page, Swagger UI's script and styles, the OpenAPI document
