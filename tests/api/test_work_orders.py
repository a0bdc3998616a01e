"""Work orders: lists and filters, what each role sees, transitions, 409s, photos, ETags."""

from __future__ import annotations

import io
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from tests.api import town
from tests.api.conftest import Tokens
from tests.factories import phone_photo
from tests.rules import factory as f


@pytest.fixture
def ids(conn: psycopg.Connection[Any], tokens: Tokens) -> dict[str, int]:
    """The town and its four standard orders."""
    town.build(conn)
    return town.standard_orders(conn)


def _ids(response: Any) -> list[int]:
    assert response.status_code == 200, response.text
    return [o["id"] for o in response.json()["items"]]


def test_planner_sees_every_order_most_urgent_first(client: TestClient, tokens: Tokens,
                                                    ids: dict[str, int]) -> None:
    response = client.get("/api/v1/work-orders", headers=tokens.planner)
    assert _ids(response) == [ids["b1"], ids["ga1"], ids["b2"], ids["dev"]]
    first = response.json()["items"][0]
    assert first == {
        "id": ids["b1"], "kind": "empty_bin", "status": "open", "subject_type": "bin",
        "subject_id": "b1", "rule": "bins.full", "priority": 2, "title": "empty_bin b1",
        "assignee": None, "opened_at": "2026-06-01T01:00:00+00:00",
        "due_at": "2026-06-02T01:00:00+00:00", "resolved_at": None, "resolved_by": None,
        "last_value": 90.0, "latitude": 48.596, "longitude": 8.87,
        "updated_at": first["updated_at"], "distance_m": None}
    assert first["updated_at"].endswith("+00:00")


def test_a_crew_sees_its_own_and_untaken_orders_only(client: TestClient, tokens: Tokens,
                                                     ids: dict[str, int]) -> None:
    mine = client.get("/api/v1/work-orders", headers=tokens.crew)
    assert _ids(mine) == [ids["b1"], ids["ga1"], ids["b2"], ids["dev"]]
    other = client.get("/api/v1/work-orders", headers=tokens.other_crew)
    assert _ids(other) == [ids["b1"], ids["ga1"], ids["dev"]]
    hidden = client.get(f"/api/v1/work-orders/{ids['b2']}", headers=tokens.other_crew)
    assert hidden.status_code == 404
    assert hidden.json()["detail"] == (f"work order {ids['b2']} does not exist (or is not "
                                       "visible to you)")
    assert client.post(f"/api/v1/work-orders/{ids['b2']}/start",
                       headers=tokens.other_crew).status_code == 404


@pytest.mark.parametrize(("query", "expected"), [
    ("status=assigned", ["b2"]),
    ("status=open,assigned", ["b1", "ga1", "b2", "dev"]),
    ("kind=empty_bin", ["b1", "b2"]),
    ("kind=watering,sensor_maintenance", ["ga1", "dev"]),
    ("assignee=crew:nord", ["b2"]),
    ("subject_type=green_area", ["ga1"]),
    ("subject_type=bin&subject_id=b2", ["b2"]),
    ("bbox=8.86,48.59,8.88,48.60", ["b1", "ga1"]),
    ("bbox=8.869,48.595,8.871,48.597", ["b1"]),
    ("due_before=2026-06-02T02:00:00%2B00:00", ["b1"]),
    ("due_before=2026-06-02T04:00:00Z", ["b1", "ga1", "b2"]),
    ("sort=newest", ["dev", "b2", "ga1", "b1"]),
    ("status=done", []),
])
def test_filters(client: TestClient, tokens: Tokens, ids: dict[str, int], query: str,
                 expected: list[str]) -> None:
    response = client.get(f"/api/v1/work-orders?{query}", headers=tokens.planner)
    assert _ids(response) == [ids[name] for name in expected]


def test_near_adds_the_distance(client: TestClient, tokens: Tokens,
                                ids: dict[str, int]) -> None:
    response = client.get("/api/v1/work-orders?near=48.5960,8.8700&kind=empty_bin",
                          headers=tokens.planner)
    distances = [o["distance_m"] for o in response.json()["items"]]
    assert distances == [0.0, 2699.9]


def test_cursor_pages_walk_the_whole_list_once(client: TestClient, tokens: Tokens,
                                               ids: dict[str, int]) -> None:
    for sort, order in (("priority", ["b1", "ga1", "b2", "dev"]),
                        ("newest", ["dev", "b2", "ga1", "b1"])):
        seen: list[int] = []
        cursor = None
        while True:
            query = f"sort={sort}&limit=1" + (f"&cursor={cursor}" if cursor else "")
            page = client.get(f"/api/v1/work-orders?{query}", headers=tokens.planner).json()
            seen += [o["id"] for o in page["items"]]
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert seen == [ids[name] for name in order]


@pytest.mark.parametrize(("query", "field"), [
    ("status=bogus", "status"), ("kind=", "kind"), ("bbox=1,2,3", "bbox"),
    ("bbox=9,48,8,49", "bbox"), ("near=north", "near"), ("limit=0", "limit"),
    ("limit=501", "limit"), ("cursor=not-a-cursor", "cursor"), ("sort=random", "sort"),
    ("due_before=2026-06-02T02:00:00", "due_before"), ("subject_type=tree", "subject_type"),
    ("assignee=nord", "assignee"), ("assignee=team:nord", "assignee"),
    ("assignee=crew:", "assignee"),
])
def test_bad_query_is_422_naming_the_field(client: TestClient, tokens: Tokens,
                                           ids: dict[str, int], query: str,
                                           field: str) -> None:
    response = client.get(f"/api/v1/work-orders?{query}", headers=tokens.planner)
    assert response.status_code == 422
    problem = response.json()
    assert response.headers["content-type"] == "application/problem+json"
    assert problem["type"] == "/problems/invalid-input"
    assert [e["field"] for e in problem["errors"]] == [field]
    assert f"query field '{field}'" in problem["detail"]


def test_a_malformed_assignee_is_422_saying_what_one_looks_like(
        client: TestClient, tokens: Tokens, ids: dict[str, int]) -> None:
    response = client.get("/api/v1/work-orders?assignee=crew-1", headers=tokens.planner)
    assert response.status_code == 422
    assert response.json()["errors"] == [{
        "field": "assignee", "location": "query",
        "message": "'crew-1' is not an assignee: write <kind>:<id> with kind one of crew, "
                   "sponsor, vehicle (e.g. crew:nord)"}]


def test_a_cursor_of_another_ordering_is_refused(client: TestClient, tokens: Tokens,
                                                 ids: dict[str, int]) -> None:
    page = client.get("/api/v1/work-orders?limit=1", headers=tokens.planner).json()
    response = client.get(f"/api/v1/work-orders?sort=newest&cursor={page['next_cursor']}",
                          headers=tokens.planner)
    assert response.status_code == 422
    assert response.json()["detail"] == ("query field 'cursor': it belongs to another "
                                         "ordering than 'newest'; start again without a cursor")


def test_etag_and_304(client: TestClient, tokens: Tokens, ids: dict[str, int]) -> None:
    first = client.get(f"/api/v1/work-orders/{ids['b1']}", headers=tokens.planner)
    etag = first.headers["etag"]
    again = client.get(f"/api/v1/work-orders/{ids['b1']}",
                       headers={**tokens.planner, "If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == etag
    client.post(f"/api/v1/work-orders/{ids['b1']}/start", headers=tokens.crew)
    changed = client.get(f"/api/v1/work-orders/{ids['b1']}",
                         headers={**tokens.planner, "If-None-Match": etag})
    assert changed.status_code == 200
    assert changed.headers["etag"] != etag


def test_one_order_with_evidence_and_history(client: TestClient, tokens: Tokens,
                                             ids: dict[str, int]) -> None:
    order = client.get(f"/api/v1/work-orders/{ids['b1']}", headers=tokens.crew).json()
    assert order["params"] == {"fill_threshold_pct": 80.0}
    assert order["evidence"] == [{"time": "2026-06-01T01:00:00+00:00",
                                  "dev_eui": f.eui(2), "name": "distance_mm",
                                  "value": 190.0, "fill_pct": 90.0}]
    assert [(h["event"], h["actor"], h["from_status"], h["to_status"])
            for h in order["history"]] == [("opened", "rules", "open", "open")]
    assert order["history"][0]["at"] == "2026-06-01T01:00:00+00:00"
    assert order["defects"] == [] and order["photos"] == []
    assert order["condition_since"] == "2026-06-01T01:00:00+00:00"


def test_crew_starts_and_finishes_with_a_note_and_a_photo(client: TestClient, tokens: Tokens,
                                                          ids: dict[str, int]) -> None:
    started = client.post(f"/api/v1/work-orders/{ids['b1']}/start", headers=tokens.other_crew,
                          json={"note": "on my way"})
    assert started.status_code == 200
    assert (started.json()["status"], started.json()["assignee"]) == ("in_progress",
                                                                      "crew:sued")
    assert client.get(f"/api/v1/work-orders/{ids['b1']}",
                      headers=tokens.crew).status_code == 404
    raw = phone_photo()
    done = client.post(f"/api/v1/work-orders/{ids['b1']}/done", headers=tokens.other_crew,
                       data={"note": "emptied"}, files={"photo": ("bin.jpg", raw, "image/jpeg")})
    assert done.status_code == 200, done.text
    order = done.json()
    assert (order["status"], order["resolved_by"]) == ("done", "crew:sued")
    assert [(h["event"], h["actor"], h["note"]) for h in order["history"]] == [
        ("opened", "rules", "empty_bin b1"), ("started", "crew:sued", "on my way"),
        ("done", "crew:sued", "emptied")]
    (photo,) = order["photos"]
    image = client.get(photo["url"], headers=tokens.planner)
    assert image.status_code == 200
    assert (photo["content_type"], photo["size_bytes"], photo["uploaded_by"]) == (
        "image/jpeg", len(image.content), "crew:sued")
    assert image.headers["content-type"] == "image/jpeg"
    # Turned upright, shrunk and stripped of EXIF (the maker, the GPS), as citizens' photos.
    decoded = Image.open(io.BytesIO(image.content))
    assert decoded.size == (1200, 1600)
    assert dict(decoded.getexif()) == {}
    assert b"PhoneMaker" in raw and b"PhoneMaker" not in image.content


def test_a_photo_that_is_not_an_image_is_422(client: TestClient, tokens: Tokens,
                                             ids: dict[str, int], api_settings: Any) -> None:
    response = client.post(f"/api/v1/work-orders/{ids['b1']}/done", headers=tokens.crew,
                           files={"photo": ("x.png", b"#!/bin/sh\nrm -rf /", "image/png")})
    assert response.status_code == 422
    assert response.json()["errors"] == [{"field": "photo", "location": "body",
                                          "message": "the photo is not a JPEG, PNG or WebP "
                                                     "image"}]
    order = client.get(f"/api/v1/work-orders/{ids['b1']}", headers=tokens.crew).json()
    assert order["status"] == "open"
    assert not list((api_settings.media_dir / "orders").glob("*/*"))


@pytest.mark.parametrize("closed", ["done", "cancelled"])
@pytest.mark.parametrize("step", ["assign", "start", "done", "cancel"])
def test_every_step_from_a_closed_order_is_409(client: TestClient, tokens: Tokens,
                                               ids: dict[str, int], closed: str,
                                               step: str) -> None:
    order = ids["ga1"]
    if closed == "done":
        client.post(f"/api/v1/work-orders/{order}/done", headers=tokens.planner)
    else:
        client.post(f"/api/v1/work-orders/{order}/cancel", headers=tokens.planner,
                    json={"reason": "rain"})
    body: dict[str, Any] = {"assign": {"crew": "nord"}, "cancel": {"reason": "again"}}.get(
        step, {})
    if step == "done":
        response = client.post(f"/api/v1/work-orders/{order}/done", headers=tokens.planner)
    else:
        response = client.post(f"/api/v1/work-orders/{order}/{step}", headers=tokens.planner,
                               json=body)
    assert response.status_code == 409
    to = {"assign": "assigned", "start": "in_progress", "done": "done",
          "cancel": "cancelled"}[step]
    assert response.json() == {
        "type": "/problems/illegal-transition", "title": "Illegal transition", "status": 409,
        "detail": f"work order {order} is {closed} and cannot become {to} (allowed next: "
                  "none: the order is closed)",
        "instance": f"/api/v1/work-orders/{order}/{step}", "order_id": order,
        "from_status": closed, "to_status": to, "allowed": []}


def test_assigning_twice_to_the_same_crew_is_409(client: TestClient, tokens: Tokens,
                                                 ids: dict[str, int]) -> None:
    response = client.post(f"/api/v1/work-orders/{ids['b2']}/assign", headers=tokens.crew,
                           json={})
    assert response.status_code == 409
    assert response.json()["allowed"] == ["open", "in_progress", "done", "cancelled",
                                          "resolved"]


def test_planner_assigns_and_reassigns(client: TestClient, tokens: Tokens,
                                       ids: dict[str, int]) -> None:
    response = client.post(f"/api/v1/work-orders/{ids['b2']}/assign", headers=tokens.planner,
                           json={"crew": "sued", "note": "closer"})
    order = response.json()
    assert (order["status"], order["assignee"]) == ("assigned", "crew:sued")
    assert [(h["event"], h["actor"], h["note"]) for h in order["history"][-2:]] == [
        ("unassigned", "planner:paula", "reassigned"), ("assigned", "planner:paula", "closer")]
    assert _ids(client.get("/api/v1/work-orders?status=assigned",
                           headers=tokens.crew)) == []


def test_assign_refusals(client: TestClient, tokens: Tokens, ids: dict[str, int]) -> None:
    unknown = client.post(f"/api/v1/work-orders/{ids['b1']}/assign", headers=tokens.planner,
                          json={"crew": "paula"})
    assert unknown.status_code == 422
    assert unknown.json()["detail"] == ("body field 'crew': 'paula' is not an active crew "
                                        "(see `bauhof users list`)")
    other = client.post(f"/api/v1/work-orders/{ids['b1']}/assign", headers=tokens.crew,
                        json={"crew": "sued"})
    assert other.status_code == 403
    extra = client.post(f"/api/v1/work-orders/{ids['b1']}/assign", headers=tokens.planner,
                        json={"crew": "nord", "urgent": True})
    assert extra.status_code == 422
    assert extra.json()["errors"][0]["field"] == "urgent"


def test_cancel_needs_staff_and_a_reason(client: TestClient, tokens: Tokens,
                                         ids: dict[str, int]) -> None:
    assert client.post(f"/api/v1/work-orders/{ids['ga1']}/cancel", headers=tokens.crew,
                       json={"reason": "rain"}).status_code == 403
    short = client.post(f"/api/v1/work-orders/{ids['ga1']}/cancel", headers=tokens.planner,
                        json={"reason": ""})
    assert short.status_code == 422
    assert short.json()["errors"][0]["field"] == "reason"
    done = client.post(f"/api/v1/work-orders/{ids['ga1']}/cancel", headers=tokens.planner,
                       json={"reason": "it rained"})
    assert (done.json()["status"], done.json()["history"][-1]["note"]) == ("cancelled",
                                                                           "it rained")


def test_unknown_order_and_bad_id(client: TestClient, tokens: Tokens,
                                  ids: dict[str, int]) -> None:
    assert client.get("/api/v1/work-orders/999999", headers=tokens.planner).status_code == 404
    bad = client.get("/api/v1/work-orders/abc", headers=tokens.planner)
    assert bad.status_code == 422
    assert bad.json()["errors"][0] == {"field": "order_id", "location": "path",
                                       "message": "Input should be a valid integer, unable "
                                                  "to parse string as an integer"}


def test_planners_assign_and_cancel_but_do_not_start_or_finish_a_crews_order(
        client: TestClient, conn: psycopg.Connection[Any], tokens: Tokens) -> None:
    town.build(conn)
    ids = town.standard_orders(conn)
    b2 = ids["b2"]  # assigned to crew nord
    expected = (f"planners assign and cancel orders; starting and finishing order {b2} is "
                "for crew:nord (or an administrator)")
    started = client.post(f"/api/v1/work-orders/{b2}/start", headers=tokens.planner)
    assert (started.status_code, started.json()["detail"]) == (403, expected)
    finished = client.post(f"/api/v1/work-orders/{b2}/done", headers=tokens.planner,
                           data={"note": "x"})
    assert (finished.status_code, finished.json()["detail"]) == (403, expected)
    assigned = client.post(f"/api/v1/work-orders/{ids['b1']}/assign", headers=tokens.planner,
                           json={"crew": "sued"})
    assert (assigned.status_code, assigned.json()["assignee"]) == (200, "crew:sued")
    cancelled = client.post(f"/api/v1/work-orders/{b2}/cancel", headers=tokens.planner,
                            json={"reason": "doppelt"})
    assert (cancelled.status_code, cancelled.json()["status"]) == (200, "cancelled")
    assert client.post(f"/api/v1/work-orders/{ids['b1']}/start",
                       headers=tokens.other_crew).json()["status"] == "in_progress"
