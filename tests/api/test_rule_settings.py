"""Rule settings changed through the API are what the rules engine decides with next."""

from __future__ import annotations

from typing import Any

import psycopg
from fastapi.testclient import TestClient

from rules import orders, ruleset
from rules.engine import RulesEngine
from tests.api import town
from tests.api.conftest import Tokens
from tests.rules import factory as f


def test_a_threshold_set_through_the_api_is_used_by_the_engines_next_step(
        client: TestClient, tokens: Tokens, conn: psycopg.Connection[Any],
        database_url: str) -> None:
    town.build(conn)
    engine = RulesEngine(database_url, ruleset.load(), wall=lambda: f.at(24 * 365))
    try:
        f.ingest(conn, [f.fill(2, 0, 75.0)])
        engine.step()
        assert orders.list_orders(conn) == []
        changed = client.put("/api/v1/rule-settings/b1/bins", headers=tokens.planner,
                             json={"fill_threshold_pct": 70})
        assert changed.json()["effective"]["bins"]["fill_threshold_pct"] == 70.0
        f.ingest(conn, [f.fill(2, 1, 75.0)])
        engine.step()
        (order,) = orders.list_orders(conn)
        assert (order.rule, order.subject_id, order.status, order.opened_at,
                order.last_value) == ("bins.full", "b1", "open", f.at(1), 75.0)
        # Reset: emptied, then 75 % again is below the file's (and b1's own) 80 %.
        reset = client.delete("/api/v1/rule-settings/b1/bins", headers=tokens.planner)
        assert reset.json()["effective"]["bins"]["fill_threshold_pct"] == 80.0
        for h, fill in ((2, 5.0), (3, 75.0)):
            f.ingest(conn, [f.fill(2, h, fill)])
            engine.step()
        assert [(o.id, o.status) for o in orders.list_orders(conn)] == [(order.id, "resolved")]
    finally:
        engine.close()


def test_a_devices_settings_show_its_assets_overrides_under_its_own(
        client: TestClient, tokens: Tokens, conn: psycopg.Connection[Any]) -> None:
    town.build(conn)  # device 2 measures bin b1
    for asset, body in (("b1", {"silent_intervals": 5, "battery_low_pct": 15}),
                        (f.eui(2), {"silent_intervals": 4})):
        put = client.put(f"/api/v1/rule-settings/{asset}/sensor_health",
                         headers=tokens.planner, json=body)
        assert put.status_code == 200, put.text
    doc = client.get(f"/api/v1/rule-settings/{f.eui(2)}", headers=tokens.planner).json()
    assert doc["overrides"] == {"sensor_health": {"silent_intervals": 4}}
    health = doc["effective"]["sensor_health"]
    assert (health["silent_intervals"], health["battery_low_pct"]) == (4.0, 15.0)
    assert ruleset.load().with_overrides([
        ("b1", "sensor_health", {"silent_intervals": 5, "battery_low_pct": 15}),
        (f.eui(2), "sensor_health", {"silent_intervals": 4}),
    ])[0].health_for(f.eui(2), "b1").model_dump(mode="json") == health
