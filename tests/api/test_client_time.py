"""A client's `at` on transitions: refused by default, taken with BAUHOF_API_CLIENT_TIME=1."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

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


@pytest.fixture
def ids(conn: psycopg.Connection[Any], tokens: Tokens) -> dict[str, int]:
    """The town and its four standard orders."""
    town.build(conn)
    return town.standard_orders(conn)


@pytest.fixture
def trusting(api_settings: ApiSettings) -> Iterator[TestClient]:
    """The app with client times allowed."""
    with TestClient(create_app(replace(api_settings, client_time=True))) as test_client:
        yield test_client


def _history(client: TestClient, tokens: Tokens, order_id: int) -> list[tuple[str, str, str]]:
    order = client.get(f"/api/v1/work-orders/{order_id}", headers=tokens.planner).json()
    return [(h["event"], h["actor"], h["at"]) for h in order["history"]]


def test_client_time_is_off_unless_the_environment_turns_it_on(tmp_path: Any) -> None:
    def client_time(env: dict[str, str]) -> bool:
        return from_settings(settings.load(
            {"BAUHOF_DATABASE_URL": "postgresql://x@127.0.0.1/bauhof", **env},
            cwd=tmp_path)).client_time

    assert client_time({}) is False
    assert client_time({"BAUHOF_API_CLIENT_TIME": "0"}) is False
    assert client_time({"BAUHOF_API_CLIENT_TIME": "1"}) is True


@pytest.mark.parametrize("step", ["assign", "start", "cancel"])
def test_by_default_a_client_time_is_422_and_nothing_changes(
        client: TestClient, tokens: Tokens, ids: dict[str, int], step: str) -> None:
    body = {"assign": {"crew": "nord", "at": AT}, "start": {"at": AT},
            "cancel": {"reason": "rain", "at": AT}}[step]
    response = client.post(f"/api/v1/work-orders/{ids['ga1']}/{step}", headers=tokens.planner,
                           json=body)
    assert response.status_code == 422
    assert response.json()["errors"] == [{"field": "at", "location": "body",
                                          "message": REFUSED}]
    assert _history(client, tokens, ids["ga1"]) == [
        ("opened", "rules", "2026-06-01T02:00:00+00:00")]


def test_by_default_done_with_a_client_time_is_422(client: TestClient, tokens: Tokens,
                                                   ids: dict[str, int]) -> None:
    response = client.post(f"/api/v1/work-orders/{ids['b1']}/done", headers=tokens.crew,
                           data={"note": "emptied", "at": AT})
    assert response.status_code == 422
    assert response.json()["detail"] == f"form field 'at': {REFUSED}"
    order = client.get(f"/api/v1/work-orders/{ids['b1']}", headers=tokens.planner).json()
    assert order["status"] == "open"


def test_by_default_the_server_clock_stamps_transitions(client: TestClient, tokens: Tokens,
                                                        ids: dict[str, int]) -> None:
    before = datetime.now(UTC)
    client.post(f"/api/v1/work-orders/{ids['b1']}/start", headers=tokens.crew)
    after = datetime.now(UTC)
    (_, started) = _history(client, tokens, ids["b1"])
    assert started[:2] == ("started", "crew:nord")
    assert before <= datetime.fromisoformat(started[2]) <= after


def test_allowed_client_times_reach_history_and_order(trusting: TestClient, tokens: Tokens,
                                                      ids: dict[str, int]) -> None:
    started = trusting.post(f"/api/v1/work-orders/{ids['b1']}/start", headers=tokens.crew,
                            json={"note": "on my way", "at": AT})
    assert started.status_code == 200, started.text
    done = trusting.post(f"/api/v1/work-orders/{ids['b1']}/done", headers=tokens.crew,
                         data={"note": "emptied", "at": "2026-06-01T06:05:00Z"})
    assert done.status_code == 200, done.text
    assert (done.json()["status"], done.json()["resolved_at"]) == (
        "done", "2026-06-01T06:05:00+00:00")
    assert _history(trusting, tokens, ids["b1"]) == [
        ("opened", "rules", "2026-06-01T01:00:00+00:00"),
        ("started", "crew:nord", "2026-06-01T05:30:00+00:00"),
        ("done", "crew:nord", "2026-06-01T06:05:00+00:00")]


def test_allowed_client_times_on_reassign_and_cancel(trusting: TestClient, tokens: Tokens,
                                                     ids: dict[str, int]) -> None:
    moved = trusting.post(f"/api/v1/work-orders/{ids['b2']}/assign", headers=tokens.planner,
                          json={"crew": "sued", "at": "2026-06-01T08:00:00Z"})
    assert moved.status_code == 200, moved.text
    cancelled = trusting.post(f"/api/v1/work-orders/{ids['b2']}/cancel",
                              headers=tokens.planner,
                              json={"reason": "bin removed", "at": "2026-06-01T09:00:00Z"})
    assert cancelled.json()["resolved_at"] == "2026-06-01T09:00:00+00:00"
    assert _history(trusting, tokens, ids["b2"]) == [
        ("opened", "rules", "2026-06-01T03:00:00+00:00"),
        ("assigned", "rules", "2026-06-01T03:00:00+00:00"),
        ("unassigned", "planner:paula", "2026-06-01T08:00:00+00:00"),
        ("assigned", "planner:paula", "2026-06-01T08:00:00+00:00"),
        ("cancelled", "planner:paula", "2026-06-01T09:00:00+00:00")]


def test_a_time_without_offset_is_422_even_when_allowed(trusting: TestClient, tokens: Tokens,
                                                         ids: dict[str, int]) -> None:
    response = trusting.post(f"/api/v1/work-orders/{ids['b1']}/start", headers=tokens.crew,
                             json={"at": "2026-06-01T07:30:00"})
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["at"]
