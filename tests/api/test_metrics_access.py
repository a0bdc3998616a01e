"""`/metrics` is internal or behind its token, `/ready` tells anonymous callers no schema
version (issue 13: both answered anyone through the documented proxies)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import httpx
from fastapi.testclient import TestClient

from api.app import create_app
from api.config import ApiSettings
from bauhof.db import available_migrations
from tests.api.conftest import Tokens

METRICS_TOKEN = "m" * 40


def test_anonymous_metrics_from_outside_are_refused(live_server: Callable[..., str]) -> None:
    base = live_server()
    # What a reverse proxy forwards carries X-Forwarded-For: a caller from outside.
    proxied = httpx.get(base + "/metrics", headers={"X-Forwarded-For": "203.0.113.7"})
    assert (proxied.status_code, proxied.json()["detail"]) == (
        403, "/metrics is internal: scrape it on the API's host, or set BAUHOF_METRICS_TOKEN "
             "and send it as a bearer token")
    # Scraped on the API's own host (Prometheus beside it): served.
    direct = httpx.get(base + "/metrics")
    assert direct.status_code == 200
    assert "bauhof_dead_letters" in direct.text


def test_metrics_with_a_token_need_the_token(api_settings: ApiSettings) -> None:
    settings = replace(api_settings, metrics_token=METRICS_TOKEN)
    with TestClient(create_app(settings)) as client:
        missing = client.get("/metrics")
        assert (missing.status_code, missing.json()["detail"]) == (
            401, "/metrics needs the metrics token (BAUHOF_METRICS_TOKEN) as a bearer token")
        wrong = client.get("/metrics", headers={"Authorization": "Bearer " + "x" * 40})
        assert wrong.status_code == 401
        right = client.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
        assert right.status_code == 200


def test_ready_names_the_schema_version_only_to_staff(client: TestClient,
                                                      tokens: Tokens) -> None:
    assert client.get("/ready").json() == {"status": "ok", "database": "ok"}
    newest = max(m.version for m in available_migrations())
    assert client.get("/ready", headers=tokens.planner).json() == {
        "status": "ok", "database": "ok", "schema_version": newest, "weather_age_h": None}
    assert client.get("/ready", headers=tokens.crew).json() == {"status": "ok",
                                                                "database": "ok"}
