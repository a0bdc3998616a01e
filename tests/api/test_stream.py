"""Server-Sent Events of order changes, against a real uvicorn: order, resume, crew view."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import psycopg
import pytest

from api.routes.stream import Cursor
from tests.api import town
from tests.api.conftest import Tokens


def _events(lines: Iterator[str], count: int) -> list[tuple[str, str, dict[str, Any]]]:
    """The next `count` events as (id, event, data), skipping comments and retry hints."""
    out: list[tuple[str, str, dict[str, Any]]] = []
    fields: dict[str, str] = {}
    for line in lines:
        if line == "":
            if "data" in fields:
                out.append((fields["id"], fields["event"], json.loads(fields["data"])))
                if len(out) == count:
                    return out
            fields = {}
        elif not line.startswith(":"):
            name, _, value = line.partition(": ")
            fields[name] = value
    raise AssertionError(f"stream ended after {len(out)} events")


@pytest.fixture
def ids(conn: psycopg.Connection[Any], tokens: Tokens) -> dict[str, int]:
    """The town and its orders."""
    town.build(conn)
    return town.standard_orders(conn)


def test_changes_arrive_in_order_and_resume_after_the_last_id(
        live_server: Callable[..., str], tokens: Tokens, ids: dict[str, int]) -> None:
    base = live_server()
    with httpx.Client(base_url=base, timeout=10.0) as http:
        with http.stream("GET", "/api/v1/stream/work-orders", headers=tokens.planner) as stream:
            assert stream.headers["content-type"] == "text/event-stream; charset=utf-8"
            lines = stream.iter_lines()
            assert next(lines) == "retry: 3000"
            http.post(f"/api/v1/work-orders/{ids['b1']}/start", headers=tokens.crew)
            events = _events(lines, 1)
            http.post(f"/api/v1/work-orders/{ids['b1']}/done", headers=tokens.crew,
                      data={"note": "leer"})
            events += _events(lines, 1)
        assert [(e, d["event"], d["actor"], d["order"]["id"], d["order"]["status"], d["note"])
                for _, e, d in events] == [
            ("order", "started", "crew:nord", ids["b1"], "in_progress", None),
            ("order", "done", "crew:nord", ids["b1"], "done", "leer")]
        first_id = events[0][0]
        assert int(events[1][0]) == int(first_id) + 1
        with http.stream("GET", "/api/v1/stream/work-orders",
                         headers={**tokens.planner, "Last-Event-ID": first_id}) as resumed:
            (again,) = _events(resumed.iter_lines(), 1)
        assert again[0] == events[1][0]
        assert again[2]["event"] == "done"


def test_a_crew_sees_its_orders_and_is_told_when_one_leaves_its_view(
        live_server: Callable[..., str], tokens: Tokens, ids: dict[str, int]) -> None:
    base = live_server()
    with (httpx.Client(base_url=base, timeout=10.0) as http,
          http.stream("GET", "/api/v1/stream/work-orders", headers=tokens.other_crew) as s):
        lines = s.iter_lines()
        next(lines)
        http.post(f"/api/v1/work-orders/{ids['b2']}/start", headers=tokens.crew)
        http.post(f"/api/v1/work-orders/{ids['ga1']}/start", headers=tokens.planner,
                  json={"note": "check"})
        http.post(f"/api/v1/work-orders/{ids['b1']}/assign", headers=tokens.planner,
                  json={"crew": "sued"})
        events = _events(lines, 2)
        http.post(f"/api/v1/work-orders/{ids['b1']}/assign", headers=tokens.planner,
                  json={"crew": "nord"})
        events += _events(lines, 1)
    assert [(e, d.get("event"), d.get("id") or d["order"]["id"]) for _, e, d in events] == [
        ("removed", None, ids["ga1"]), ("order", "assigned", ids["b1"]),
        ("removed", None, ids["b1"])]


def test_the_stream_needs_a_token(live_server: Callable[..., str], tokens: Tokens) -> None:
    base = live_server()
    response = httpx.get(f"{base}/api/v1/stream/work-orders", headers=tokens.revoked)
    assert response.status_code == 401
    bad = httpx.get(f"{base}/api/v1/stream/work-orders",
                    headers={**tokens.planner, "Last-Event-ID": "abc"})
    assert bad.status_code == 422
    assert bad.json()["errors"] == [{"field": "Last-Event-ID", "location": "header",
                                     "message": "must be an event id this stream sent"}]


def test_a_gap_is_waited_for_then_skipped() -> None:
    cursor = Cursor(after=10)
    assert cursor.accept(11, now=100.0)
    cursor.after = 11
    assert not cursor.accept(13, now=100.0)
    assert not cursor.accept(13, now=100.9)
    assert cursor.accept(13, now=101.0)
