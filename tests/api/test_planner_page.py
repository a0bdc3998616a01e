"""The planner settings page that the Waste planning dashboard's link opens: the link carries
the dashboard's variables, the API serves the page, and saving through the API with a
planner token stores a new settings version (a crew token is refused). The page itself in
Chromium: tests/api/test_planner_browser.py."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import psycopg
from fastapi.testclient import TestClient

from api.app import create_app
from api.config import ApiSettings
from dashboards import macros, waste
from tests.api.conftest import Tokens

NOON = datetime(2026, 6, 1, 12, tzinfo=UTC)


def saved(conn: psycopg.Connection[Any]) -> list[tuple[Any, ...]]:
    """(version, threshold, horizon, by, note) of every stored settings version."""
    return conn.execute(
        "SELECT version, settings -> 'fill_threshold_pct', settings -> 'horizon_h', "
        "created_by, note FROM planner_settings ORDER BY version").fetchall()


def save_link(base: str, threshold: str, horizon: str) -> str:
    """The dashboard's save link as Grafana opens it for these variable values."""
    (link,) = [x for x in waste.dashboard().to_json()["links"]
               if x["title"] == "Save these as planner settings"]
    return macros.expand(link["url"], NOON, NOON,
                         {"api": base, "threshold": threshold, "horizon": horizon})


def test_the_dashboard_link_opens_the_page_with_its_variables(client: TestClient) -> None:
    assert save_link("http://bauhof:8000", "90", "48") == (
        "http://bauhof:8000/planner/?threshold=90&horizon=48")
    page = client.get(save_link("", "90", "48"))
    assert page.status_code == 200
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    assert '<script src="app.js" defer></script>' in page.text
    assert page.text.startswith('<!doctype html>\n<html lang="de">')
    script = client.get("/planner/app.js")
    assert (script.status_code, script.headers["content-type"]) == (
        200, "text/javascript; charset=utf-8")
    assert 'const API = "/api/v1/routes";' in script.text
    redirect = client.get("/planner?threshold=90&horizon=48", follow_redirects=False)
    assert (redirect.status_code, redirect.headers["location"]) == (
        308, "/planner/?threshold=90&horizon=48")
    missing = client.get("/planner/secrets.txt")
    assert missing.status_code == 404
    assert missing.json()["detail"] == (
        "planner page file 'secrets.txt' does not exist (or is not visible to you)")


def test_saving_needs_a_planner(client: TestClient, conn: psycopg.Connection[Any],
                                tokens: Tokens) -> None:
    before = client.get("/api/v1/routes/settings", headers=tokens.planner).json()
    assert (before["version"], before["settings"]["fill_threshold_pct"],
            before["settings"]["horizon_h"]) == (None, None, 24.0)
    answer = client.put("/api/v1/routes/settings?note=from%20the%20dashboard",
                        headers=tokens.planner, json={"fill_threshold_pct": 90, "horizon_h": 48})
    assert answer.status_code == 200
    assert (answer.json()["version"], answer.json()["settings"]["fill_threshold_pct"],
            answer.json()["settings"]["horizon_h"]) == (1, 90.0, 48.0)
    refused = client.put("/api/v1/routes/settings", headers=tokens.crew,
                         json={"fill_threshold_pct": 50})
    assert refused.status_code == 403
    assert refused.json()["detail"] == "role crew may not do this; it needs planner or admin"
    assert client.get("/api/v1/routes/settings", headers=tokens.crew).status_code == 403
    assert saved(conn) == [(1, 90.0, 48.0, "planner:paula", "from the dashboard")]


def test_dashboard_and_planner_page_link_each_other(api_settings: ApiSettings,
                                                    tokens: Tokens) -> None:
    model = waste.dashboard().to_json()
    (link,) = [x for x in model["links"] if x["title"] == "Plan this day in the planner"]
    # Grafana fills in the last day of the time range shown and the variables.
    assert macros.expand(link["url"], NOON, NOON, {
        "api": "http://bauhof:8000", "threshold": "70", "horizon": "24"}) == (
        "http://bauhof:8000/planner/?date=${__to:date:YYYY-MM-DD}&threshold=70&horizon=24")
    panel = model["panels"][waste.BIN_PANEL - 1]
    assert (panel["id"], panel["title"]) == (7, "Fill of bin $bin")
    app = create_app(replace(api_settings, grafana_url="http://grafana:3000"))
    with TestClient(app) as client:
        doc = client.get("/api/v1/routes/settings", headers=tokens.planner).json()
    assert (doc["grafana_url"], doc["grafana_bin_panel"]) == (
        "http://grafana:3000/d/bauhof-waste/waste-planning", 7)
