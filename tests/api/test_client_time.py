"""A client's `at` on transitions: refused by default, taken with BAUHOF_API_CLIENT_TIME=1."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

import httpx
import psycopg
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.config import ApiSettings, from_settings
from bauhof import settings
from tests.api import town
from tests.api.conftest import Tokens

AT = "2026-06-01T07:30:00+02:00"
REFUSED = ("this API stamps transitions with its own clock; a client's time is accepted only "
           "with BAUHOF_API_CLIENT_TIME=1 (simulations and replays)")


@dataclass(frozen=True)
class Orders:
    """The town's four standard orders (by name) through one client."""

    client: TestClient
    tokens: Tokens
    ids: dict[str, int]

    def post(self, who: str, order: str, step: str, **body: str) -> httpx.Response:
        """`step` on the order as `who` (a Tokens field): `done` takes a form, the others
        JSON; no body when none is given."""
        payload = {("data" if step == "done" else "json"): body} if body else {}
        return self.client.post(f"/api/v1/work-orders/{self.ids[order]}/{step}",
                                headers=getattr(self.tokens, who), **payload)

    def get(self, order: str) -> dict[str, Any]:
        """The order as a planner sees it."""
        answer: dict[str, Any] = self.client.get(f"/api/v1/work-orders/{self.ids[order]}",
                                                 headers=self.tokens.planner).json()
        return answer

    def history(self, order: str) -> list[tuple[str, str, str]]:
        """(event, actor, at) of the order's history."""
        return [(h["event"], h["actor"], h["at"]) for h in self.get(order)["history"]]


@pytest.fixture
def ids(conn: psycopg.Connection[Any], tokens: Tokens) -> dict[str, int]:
    """The town and its four standard orders."""
    town.build(conn)
    return town.standard_orders(conn)


@pytest.fixture
def orders(client: TestClient, tokens: Tokens, ids: dict[str, int]) -> Orders:
    """The orders through the app as configured by default (client times refused)."""
    return Orders(client, tokens, ids)


@pytest.fixture
def trusting(api_settings: ApiSettings, tokens: Tokens,
             ids: dict[str, int]) -> Iterator[Orders]:
    """The orders through the app with client times allowed."""
    with TestClient(create_app(replace(api_settings, client_time=True))) as test_client:
        yield Orders(test_client, tokens, ids)


def test_client_time_is_off_unless_the_environment_turns_it_on(tmp_path: Any) -> None:
    def client_time(env: dict[str, str]) -> bool:
        return from_settings(settings.load(
            {"BAUHOF_DATABASE_URL": "postgresql://x@127.0.0.1/bauhof", **env},
            cwd=tmp_path)).client_time

    assert client_time({}) is False
    assert client_time({"BAUHOF_API_CLIENT_TIME": "0"}) is False
    assert client_time({"BAUHOF_API_CLIENT_TIME": "1"}) is True


@pytest.mark.parametrize("step", ["assign", "start", "cancel"])
def test_by_default_a_client_time_is_422_and_nothing_changes(orders: Orders,
                                                              step: str) -> None:
    body = {"assign": {"crew": "nord", "at": AT}, "start": {"at": AT},
            "cancel": {"reason": "rain", "at": AT}}[step]
    response = orders.post("planner", "ga1", step, **body)
    assert response.status_code == 422
    assert response.json()["errors"] == [{"field": "at", "location": "body",
                                          "message": REFUSED}]
    assert orders.history("ga1") == [("opened", "rules", "2026-06-01T02:00:00+00:00")]


def test_by_default_done_with_a_client_time_is_422(orders: Orders) -> None:
    response = orders.post("crew", "b1", "done", note="emptied", at=AT)
    assert response.status_code == 422
    assert response.json()["detail"] == f"form field 'at': {REFUSED}"
    assert orders.get("b1")["status"] == "open"


def test_by_default_the_server_clock_stamps_transitions(orders: Orders) -> None:
    before = datetime.now(UTC)
    orders.post("crew", "b1", "start")
    after = datetime.now(UTC)
    (_, started) = orders.history("b1")
    assert started[:2] == ("started", "crew:nord")
    assert before <= datetime.fromisoformat(started[2]) <= after


def test_allowed_client_times_reach_history_and_order(trusting: Orders) -> None:
    started = trusting.post("crew", "b1", "start", note="on my way", at=AT)
    assert started.status_code == 200, started.text
    done = trusting.post("crew", "b1", "done", note="emptied", at="2026-06-01T06:05:00Z")
    assert done.status_code == 200, done.text
    assert (done.json()["status"], done.json()["resolved_at"]) == (
        "done", "2026-06-01T06:05:00+00:00")
    assert trusting.history("b1") == [
        ("opened", "rules", "2026-06-01T01:00:00+00:00"),
        ("started", "crew:nord", "2026-06-01T05:30:00+00:00"),
        ("done", "crew:nord", "2026-06-01T06:05:00+00:00")]


def test_allowed_client_times_on_reassign_and_cancel(trusting: Orders) -> None:
    moved = trusting.post("planner", "b2", "assign", crew="sued", at="2026-06-01T08:00:00Z")
    assert moved.status_code == 200, moved.text
    cancelled = trusting.post("planner", "b2", "cancel", reason="bin removed",
                              at="2026-06-01T09:00:00Z")
    assert cancelled.json()["resolved_at"] == "2026-06-01T09:00:00+00:00"
    assert trusting.history("b2") == [
        ("opened", "rules", "2026-06-01T03:00:00+00:00"),
        ("assigned", "rules", "2026-06-01T03:00:00+00:00"),
        ("unassigned", "planner:paula", "2026-06-01T08:00:00+00:00"),
        ("assigned", "planner:paula", "2026-06-01T08:00:00+00:00"),
        ("cancelled", "planner:paula", "2026-06-01T09:00:00+00:00")]


def test_a_time_without_offset_is_422_even_when_allowed(trusting: Orders) -> None:
    response = trusting.post("crew", "b1", "start", at="2026-06-01T07:30:00")
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["at"]
