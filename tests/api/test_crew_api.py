"""The crew app's API: who is signed in, the cards, one-call stops."""

from __future__ import annotations

from typing import Any

import psycopg
from fastapi.testclient import TestClient

from tests.api import crew_routes, crew_town
from tests.api.conftest import Tokens


def test_me_names_the_user_and_role(client: TestClient, tokens: Tokens) -> None:
    assert client.get("/api/v1/me", headers=tokens.crew).json() == {
        "name": "nord", "role": "crew", "actor": "crew:nord", "crew": "crew:nord",
        "expires_at": client.get("/api/v1/me", headers=tokens.crew).json()["expires_at"]}
    planner = client.get("/api/v1/me", headers=tokens.planner).json()
    assert (planner["role"], planner["crew"]) == ("planner", None)
    assert client.get("/api/v1/me").status_code == 401


def test_cards_are_for_crews_and_admins_only(client: TestClient, tokens: Tokens,
                                             conn: psycopg.Connection[Any]) -> None:
    crew_routes.build(conn)
    refused = client.get("/api/v1/crew/orders", headers=tokens.planner)
    assert refused.status_code == 403
    assert refused.json()["detail"] == "role planner may not do this; it needs crew or admin"
    assert client.get("/api/v1/crew/orders", headers=tokens.admin).status_code == 200
    bad = client.get("/api/v1/crew/orders?ids=1,x", headers=tokens.crew)
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["message"] == "expected 1 to 200 comma-separated order ids"


def test_cards_carry_place_values_series_and_stops(client: TestClient, tokens: Tokens,
                                                   conn: psycopg.Connection[Any]) -> None:
    town = crew_town.build(conn)
    ids = crew_routes.build(conn)
    items = {c["id"]: c for c in client.get("/api/v1/crew/orders",
                                            headers=tokens.crew).json()["items"]}
    # 155 town orders, the route and R4; R1-R3 are stops of the route, not cards.
    assert len(items) == 157
    assert not {ids["R1"], ids["R2"], ids["R3"]} & set(items)
    b1 = items[town["empty_bin"][0]]
    assert (b1["place"], b1["last_value"], b1["threshold"], b1["series"]) == (
        "Marktplatz 1", 81.0, 80.0, [["2026-05-31T22:06:00+00:00", 41.0],
                                     ["2026-05-31T23:06:00+00:00", 61.0],
                                     ["2026-06-01T00:06:00+00:00", 81.0]])
    radio = items[town["sensor_maintenance"][0]]
    assert (radio["place"], radio["subject_id"]) == ("Marktplatz 1", "00000000000003e9")
    report = items[town["citizen_defect"][1]]
    assert (report["place"], report["report"], report["citizen_reports"]) == (
        "Stadtpark 2", "Bank beschädigt 2", 1)
    assert (b1["citizen_reports"], radio["citizen_reports"]) == (0, 0)
    route = items[ids["route"]]["route"]
    assert [(s["seq"], s["name"], s["planned_fill_pct"], s["expected_fill_pct"], s["done_at"])
            for s in route["stops"]] == [(1, "Rathausplatz", 85.0, 90.0, None),
                                         (2, "Schulhof", 70.0, 82.0, None),
                                         (3, "Friedhof Ost", 65.0, 81.0, None)]
    only = client.get(f"/api/v1/crew/orders?ids={ids['R4']},{ids['route']},999999",
                      headers=tokens.crew).json()["items"]
    assert [c["id"] for c in only] == [ids["R4"], ids["route"]]


def test_finishing_stops_one_call_each_closes_the_route(client: TestClient, tokens: Tokens,
                                                        conn: psycopg.Connection[Any]) -> None:
    ids = crew_routes.build(conn)
    url = f"/api/v1/work-orders/{ids['route']}/stops"
    first = client.post(f"{url}/1/done", headers=tokens.crew)
    assert first.status_code == 200
    assert [s["done_at"] is not None for s in first.json()["route"]["stops"]] == [
        True, False, False]
    again = client.post(f"{url}/1/done", headers=tokens.crew)
    assert (again.status_code, again.json()["detail"]) == (
        409, f"stop 1 of work order {ids['route']} is done already")
    assert client.post(f"{url}/9/done", headers=tokens.crew).status_code == 404
    assert client.post(f"{url}/1/done", headers=tokens.other_crew).status_code == 404
    assert client.post(f"{url}/2/done", headers=tokens.crew).status_code == 200
    last = client.post(f"{url}/3/done", headers=tokens.crew)
    assert (last.status_code, last.json()["status"], last.json()["resolved_by"]) == (
        200, "done", "crew:nord")
    rows = conn.execute(
        "SELECT subject_id, status, resolved_by FROM work_orders WHERE kind = 'empty_bin' "
        "ORDER BY subject_id").fetchall()
    assert rows == [("R1", "done", "crew:nord"), ("R2", "done", "crew:nord"),
                    ("R3", "done", "crew:nord"), ("R4", "open", None)]
    events = conn.execute("SELECT event, data->>'seq' FROM order_history WHERE order_id = %s "
                          "ORDER BY id", (ids["route"],)).fetchall()
    assert events == [("opened", None), ("assigned", None), ("stop_done", "1"),
                      ("stop_done", "2"), ("stop_done", "3"), ("done", None)]
    closed = client.post(f"{url}/3/done", headers=tokens.crew)
    assert (closed.status_code, closed.json()["detail"]) == (
        409, f"work order {ids['route']} is done already")
