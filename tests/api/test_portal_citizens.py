"""The simulator's citizens through the real API: inquiry, signed links, staff approval."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import psycopg

from bauhof import assets
from bauhof.settings import DEFAULT_LINK_SECRET
from simulator.citizens import HttpCitizens
from simulator.scenario import scenario_file
from tests.api.conftest import Tokens
from tests.simulator.test_citizens import twenty_days


def test_citizens_through_the_api_ask_get_approved_and_end(
        live_server: Callable[..., str], conn: psycopg.Connection[Any], database_url: str,
        tokens: Tokens) -> None:
    assets.load_file(database_url, scenario_file("herrenberg"))
    base = live_server()
    citizens, asked, ended = twenty_days(HttpCitizens(
        base, tokens.admin["Authorization"].removeprefix("Bearer "), DEFAULT_LINK_SECRET))
    assert asked and ended
    rows = conn.execute("SELECT area_id, status, decided_by, ended_by FROM sponsorships "
                        "ORDER BY id").fetchall()
    assert [r[0] for r in rows] == asked
    assert [r[1] for r in rows].count("ended") == len(ended)
    assert {r[2] for r in rows if r[1] in ("active", "ended")} == {"admin:root"}
    assert {r[3] for r in rows if r[1] == "ended"} == {
        f"sponsor:{s}" for s in ended}
    assert citizens.summary()["approved"] == len(asked) - [r[1] for r in rows].count(
        "requested")
