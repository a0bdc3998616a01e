"""Operations: health, readiness, ingest counters, dead letters, rule settings."""

from __future__ import annotations

import base64
from typing import Any

import psycopg
from fastapi.testclient import TestClient

from api import users
from bauhof.db import available_migrations
from bauhof.dead_letters import digest
from tests.api import town
from tests.api.conftest import Tokens
from tests.factories import encode, topic, uplink


def test_health_and_ready(client: TestClient, tokens: Tokens) -> None:
    assert client.get("/health").json() == {"status": "ok"}
    ready = client.get("/ready", headers=tokens.admin)
    assert ready.status_code == 200
    newest = max(m.version for m in available_migrations())
    assert ready.json() == {"status": "ok", "database": "ok", "schema_version": newest,
                            "weather_age_h": None}


def test_ingest_counters_and_lag(client: TestClient, tokens: Tokens,
                                 conn: psycopg.Connection[Any]) -> None:
    town.two_ingest_workers(conn)
    status = client.get("/api/v1/ops/ingest", headers=tokens.planner).json()
    assert [(w["worker"], w["stale"], w["lag_s"]) for w in status["workers"]] == [
        ("a", False, 0.25), ("b", True, 9.0)]
    assert {k: status[k] for k in ("received", "stored", "duplicates", "dead_lettered",
                                   "max_lag_s", "dead_letters_new", "newest_reading_at",
                                   "rules_backlog_batches")} == {
        "received": 110, "stored": 100, "duplicates": 8, "dead_lettered": 2,
        "max_lag_s": 0.25, "dead_letters_new": 0, "newest_reading_at": None,
        "rules_backlog_batches": 0}
    assert status["workers"][0]["started_at"] == "2026-06-01T00:00:00+00:00"


def _dead(conn: psycopg.Connection[Any], topic_name: str, payload: bytes, reason: str) -> int:
    row = conn.execute("INSERT INTO dead_letters (topic, payload, reason, digest) VALUES "
                       "(%s, %s, %s, %s) RETURNING id",
                       (topic_name, payload, reason, digest(topic_name, payload))).fetchone()
    assert row is not None
    return int(row[0])


def test_dead_letters_list_inspect_reprocess_discard(client: TestClient, tokens: Tokens,
                                                     conn: psycopg.Connection[Any]) -> None:
    town.build(conn)
    eui = "0000000000000002"
    good = encode(uplink(eui, bytes.fromhex("01755C03824408040001"), f_port=85))
    fixed = _dead(conn, topic(eui), good, "unknown model: registered later")
    broken = _dead(conn, topic(eui), b"{not json", "invalid JSON")
    listed = client.get("/api/v1/ops/dead-letters?status=new", headers=tokens.planner).json()
    assert [d["id"] for d in listed["items"]] == [broken, fixed]
    detail = client.get(f"/api/v1/ops/dead-letters/{broken}", headers=tokens.planner).json()
    assert (detail["payload_base64"], detail["payload_text"], detail["payload_json"]) == (
        base64.b64encode(b"{not json").decode(), "{not json", None)
    assert client.get(f"/api/v1/ops/dead-letters/{fixed}",
                      headers=tokens.planner).json()["payload_json"]["deviceInfo"]["devEui"] == eui
    still = client.post(f"/api/v1/ops/dead-letters/{broken}/reprocess", headers=tokens.planner)
    assert still.status_code == 409
    assert still.json()["type"] == "/problems/still-failing"
    assert still.json()["detail"].startswith(f"dead letter {broken} still cannot be used: ")
    done = client.post(f"/api/v1/ops/dead-letters/{fixed}/reprocess", headers=tokens.planner)
    assert done.status_code == 200, done.text
    assert done.json() == {"id": fixed, "status": "reprocessed", "stored": 1, "duplicates": 0,
                           "readings": 1}
    assert conn.execute("SELECT count(*) FROM readings WHERE dev_eui = %s",
                        (eui,)).fetchone() == (1,)
    again = client.post(f"/api/v1/ops/dead-letters/{fixed}/reprocess", headers=tokens.planner)
    assert again.status_code == 409
    assert again.json()["detail"] == (f"dead letter {fixed} is reprocessed already; only new "
                                      "ones can be re-processed")
    gone = client.post(f"/api/v1/ops/dead-letters/{broken}/discard", headers=tokens.planner)
    assert gone.json()["status"] == "discarded"
    assert client.get("/api/v1/ops/dead-letters?status=new",
                      headers=tokens.planner).json() == {"items": [], "next_cursor": None}
    assert client.get("/api/v1/ops/dead-letters/999",
                      headers=tokens.planner).status_code == 404


def test_rule_settings_read_change_validate_reset(client: TestClient, tokens: Tokens,
                                                  conn: psycopg.Connection[Any]) -> None:
    town.build(conn)
    doc = client.get("/api/v1/rule-settings/b1", headers=tokens.planner).json()
    assert (doc["asset_type"], list(doc["effective"]), doc["overrides"]) == (
        "bin", ["bins", "sensor_health"], {})
    assert doc["effective"]["bins"]["fill_threshold_pct"] == 80.0
    changed = client.put("/api/v1/rule-settings/b1/bins", headers=tokens.planner,
                         json={"fill_threshold_pct": 70, "confirm_readings": 2})
    assert changed.status_code == 200
    assert changed.json()["overrides"] == {"bins": {"fill_threshold_pct": 70,
                                                    "confirm_readings": 2}}
    assert changed.json()["effective"]["bins"]["fill_threshold_pct"] == 70.0
    assert conn.execute("SELECT updated_by FROM rule_overrides").fetchone() == (
        "planner:paula",)
    for body, field, message in (
            ({"fill_threshold_pct": 120}, "fill_threshold_pct",
             "Input should be less than or equal to 100"),
            ({"fill_treshold_pct": 70}, "fill_treshold_pct", "Extra inputs are not permitted"),
            ({"fire_clear_c": 70}, "bins",
             "Value error, fire_clear_c must be below fire_temperature_c")):
        bad = client.put("/api/v1/rule-settings/b1/bins", headers=tokens.planner, json=body)
        assert bad.status_code == 422
        assert bad.json()["errors"] == [{"field": field, "location": "body",
                                         "message": message}]
    wrong = client.put("/api/v1/rule-settings/b1/watering", headers=tokens.planner,
                       json={"low_pct": 10})
    assert wrong.status_code == 422
    assert wrong.json()["detail"] == ("path field 'section': watering does not apply to a "
                                      "bin; use bins or sensor_health")
    area = client.put("/api/v1/rule-settings/ga1/watering", headers=tokens.admin,
                      json={"low_pct": 10, "clear_pct": 15}).json()
    assert (area["effective"]["watering"]["low_pct"], area["effective"]["watering"][
        "sustain_h"]) == (10.0, 4.0)
    reset = client.delete("/api/v1/rule-settings/b1/bins", headers=tokens.planner).json()
    assert reset["overrides"] == {}
    assert client.get("/api/v1/rule-settings/nowhere",
                      headers=tokens.planner).status_code == 404


def test_users_endpoints(client: TestClient, tokens: Tokens,
                         conn: psycopg.Connection[Any]) -> None:
    listed = client.get("/api/v1/users", headers=tokens.admin).json()["items"]
    assert [(u["name"], u["role"], u["disabled_at"] is None) for u in listed] == [
        ("late", "planner", True), ("gone", "admin", False), ("nord", "crew", True),
        ("sued", "crew", True), ("paula", "planner", True), ("root", "admin", True)]
    assert all("token" not in t for u in listed for t in u["tokens"])
    dup = client.post("/api/v1/users", headers=tokens.admin, json={"name": "nord",
                                                                   "role": "crew"})
    assert dup.status_code == 409
    bad = client.post("/api/v1/users", headers=tokens.admin, json={"name": "a b",
                                                                   "role": "crew"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "name"
    second = client.post("/api/v1/users/nord/tokens", headers=tokens.admin,
                         json={"expires_days": 1})
    assert second.status_code == 201
    assert users.authenticate(conn, second.json()["token"]) is not None
    disabled = client.delete("/api/v1/users/nord", headers=tokens.admin)
    assert disabled.json()["disabled_at"] is not None
    assert client.get("/api/v1/work-orders", headers=tokens.crew).status_code == 401
    assert client.delete("/api/v1/users/root", headers=tokens.admin).status_code == 409
