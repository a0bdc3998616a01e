"""The routes API: plan a day, preview, read a plan, planner settings."""

from __future__ import annotations

from typing import Any

import psycopg
from fastapi.testclient import TestClient

from api import users


def token(conn: psycopg.Connection[Any], name: str, role: str) -> dict[str, str]:
    """A bearer header for a new user."""
    issued = users.issue_token(conn, users.create_user(conn, name, role), None)
    return {"Authorization": f"Bearer {issued.token}"}


def test_plan_preview_and_read(town: psycopg.Connection[Any], client: TestClient) -> None:
    planner = token(town, "paula", "planner")
    created = client.post("/api/v1/routes/plans", json={"date": "2026-06-02"}, headers=planner)
    assert created.status_code == 201
    plan = created.json()
    assert (plan["kind"], plan["plan_date"], plan["bins_planned"], len(plan["routes"])) == (
        "plan", "2026-06-02", 3, 1)
    assert created.headers["location"] == f"/api/v1/routes/plans/{plan['id']}"
    route = plan["routes"][0]
    stored = client.get(f"/api/v1/routes/plans/{plan['id']}", headers=planner).json()
    assert [s["bin_id"] for s in stored["routes"][0]["stop_list"]] == route["bins"]
    assert stored["routes"][0]["order_id"] == route["order_id"]

    preview = client.get("/api/v1/routes/preview?threshold=95&horizon=0&date=2026-06-02",
                         headers=planner)
    assert preview.status_code == 200
    assert (preview.json()["kind"], preview.json()["bins_selected"]) == ("preview", 1)
    assert client.get("/api/v1/routes/plans/999", headers=planner).status_code == 404


def test_settings_change_and_replan_in_one_call(town: psycopg.Connection[Any],
                                                client: TestClient) -> None:
    planner = token(town, "paula", "planner")
    answer = client.post("/api/v1/routes/plans", headers=planner, json={
        "date": "2026-06-02", "settings": {"fill_threshold_pct": 95, "horizon_h": 0},
        "save": True, "note": "only what must go"})
    assert answer.status_code == 201
    assert (answer.json()["settings_version"], answer.json()["bins_selected"]) == (2, 1)
    current = client.get("/api/v1/routes/settings", headers=planner).json()
    assert (current["version"], current["settings"]["fill_threshold_pct"],
            current["settings"]["horizon_h"]) == (2, 95.0, 0.0)
    saved = client.put("/api/v1/routes/settings?note=back", headers=planner,
                       json={"fill_threshold_pct": 80})
    assert (saved.status_code, saved.json()["version"]) == (200, 3)


def test_invalid_settings_and_roles(town: psycopg.Connection[Any], client: TestClient) -> None:
    planner = token(town, "paula", "planner")
    crew = token(town, "nord", "crew")
    bad = client.put("/api/v1/routes/settings", headers=planner,
                     json={"fill_threshold_pct": 120, "never": ["bin-9"]})
    assert bad.status_code == 422
    assert bad.headers["content-type"] == "application/problem+json"
    assert bad.json()["errors"] == [{"field": "fill_threshold_pct", "location": "body",
                                     "message": "Input should be less than or equal to 100"}]
    unknown = client.put("/api/v1/routes/settings", headers=planner, json={"never": ["bin-9"]})
    assert unknown.json()["errors"] == [{"field": "never.0", "location": "body",
                                         "message": "no bin 'bin-9'"}]
    assert client.post("/api/v1/routes/plans", json={}, headers=crew).status_code == 403
    assert client.get("/api/v1/routes/preview?threshold=101", headers=planner).status_code == 422
