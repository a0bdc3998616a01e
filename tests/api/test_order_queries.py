"""How many statements a work order's transition and its view cost: the order is read once,
locked, and the view adds one query for history, defects and photos."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, ClassVar

import psycopg
import pytest
from fastapi.testclient import TestClient

from api.database import get_conn
from tests.api import town
from tests.api.conftest import Tokens
from tests.api.test_crew_day import PNG


class CountingCursor(psycopg.Cursor[Any]):
    """A cursor that notes the first words of every statement it runs."""

    seen: ClassVar[list[str]] = []

    def execute(self, query: Any, params: Any = None,  # type: ignore[override]
                **kwargs: Any) -> CountingCursor:
        text = query if isinstance(query, str) else query.as_string(self)
        CountingCursor.seen.append(" ".join(text.split()[:3]))
        super().execute(query, params, **kwargs)
        return self


@pytest.fixture
def counted(client: TestClient, database_url: str) -> Iterator[list[str]]:
    """Every request's connection counts its statements into the list returned."""
    def conn() -> Iterator[psycopg.Connection[Any]]:
        with psycopg.connect(database_url, autocommit=True, options="-c TimeZone=UTC",
                             cursor_factory=CountingCursor) as c:
            yield c

    client.app.dependency_overrides[get_conn] = conn  # type: ignore[attr-defined]
    CountingCursor.seen = []
    yield CountingCursor.seen


# What moving an order costs: read it locked, change it, look for citizens to tell, record
# and publish the change (outbox for MQTT and webhooks, a wake-up); then the view's story.
READ = "SELECT id, kind,"
MOVE = ["UPDATE work_orders SET", "SELECT id FROM", "INSERT INTO order_history",
        "INSERT INTO outbox", "INSERT INTO outbox", "SELECT pg_notify(%s, '')"]
STORY = "SELECT * FROM"


def test_a_transition_reads_the_order_once_and_its_story_once(
        client: TestClient, tokens: Tokens, conn: psycopg.Connection[Any],
        counted: list[str]) -> None:
    town.build(conn)
    ids = town.standard_orders(conn)
    counted.clear()
    response = client.post(f"/api/v1/work-orders/{ids['b1']}/start", headers=tokens.crew)
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "in_progress"
    assert counted == [READ, *MOVE, STORY]

    counted.clear()
    response = client.get(f"/api/v1/work-orders/{ids['b1']}", headers=tokens.crew)
    assert [h["event"] for h in response.json()["history"]] == ["opened", "started"]
    assert counted == [READ, STORY]

    counted.clear()
    response = client.post(f"/api/v1/work-orders/{ids['b1']}/done", headers=tokens.crew,
                           data={"note": "emptied"},
                           files={"photo": ("bin.png", PNG, "image/png")})
    assert response.status_code == 200, response.text
    assert len(response.json()["photos"]) == 1
    # Closing also closes the order's defects; the photo is recorded before the story.
    assert counted == [READ, *MOVE, "UPDATE defects SET", "INSERT INTO order_photos", STORY]


def test_a_reassignment_reads_the_order_once(client: TestClient, tokens: Tokens,
                                              conn: psycopg.Connection[Any],
                                              counted: list[str]) -> None:
    town.build(conn)
    ids = town.standard_orders(conn)
    counted.clear()
    response = client.post(f"/api/v1/work-orders/{ids['b2']}/assign", headers=tokens.planner,
                           json={"crew": "sued"})
    assert response.status_code == 200, response.text
    assert response.json()["assignee"] == "crew:sued"
    # The crew is checked, then: back to open, assigned to the new crew.
    assert counted == ["SELECT role FROM", READ, *MOVE, *MOVE, STORY]
