"""Simulated citizens on the portal: they ask for free areas, staff approve, sponsors end."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import psycopg

from bauhof import assets
from simulator import scenario
from simulator.citizens import Citizens, DatabaseCitizens, HttpCitizens
from simulator.clock import DAY_US, to_us
from simulator.scenario import scenario_file
from simulator.truth import Truth
from tests.simulator.conftest import run_engine, tiny_town

START = to_us(datetime.fromisoformat("2026-06-01T00:00:00+00:00"))


@dataclass
class Board:
    """The portal kept in memory: free areas, requests, active portal sponsors."""

    free: list[str]
    requested: list[str] = field(default_factory=list)
    active: dict[str, str] = field(default_factory=dict)  # sponsor → area
    log: list[tuple[str, str]] = field(default_factory=list)

    def free_areas(self) -> list[str]:
        return list(self.free)

    def ask(self, area_id: str, name: str, email: str, at: datetime) -> None:
        self.free.remove(area_id)
        self.requested.append(area_id)
        self.log.append(("ask", f"{area_id} {name} {email} {at.date()}"))

    def approve_requests(self, at: datetime) -> int:
        for area in self.requested:
            self.active[f"pt-{area}"] = area
        count, self.requested = len(self.requested), []
        return count

    def portal_sponsors(self) -> list[str]:
        return list(self.active)

    def end(self, sponsor_id: str, at: datetime) -> None:
        self.free.append(self.active.pop(sponsor_id))
        self.log.append(("end", f"{sponsor_id} {at.date()}"))


def _days(citizens: Citizens, n: int) -> list[tuple[str, str]]:
    return [e for d in range(n) for e in citizens.day(START + d * DAY_US)]


def twenty_days(backend: DatabaseCitizens | HttpCitizens) -> tuple[Citizens, list[str],
                                                                   list[str]]:
    """Citizens (seed 3) on a backend for 20 days, then the backend closed: the citizens,
    the areas they asked for and those whose sponsorships they ended."""
    try:
        citizens = Citizens(backend, seed=3)
        events = _days(citizens, 20)
    finally:
        backend.close()
    return (citizens, [s for e, s in events if e == "asked"],
            [s for e, s in events if e == "ended"])


def test_the_same_seed_makes_the_same_portal_days() -> None:
    free = [f"ga-{n:03d}" for n in range(33, 41)]
    first, second, other = Board(list(free)), Board(list(free)), Board(list(free))
    events = _days(Citizens(first, seed=1), 30)
    assert _days(Citizens(second, seed=1), 30) == events
    assert first.log == second.log
    assert _days(Citizens(other, seed=2), 30) != events
    asked = [s for e, s in events if e == "asked"]
    ended = [s for e, s in events if e == "ended"]
    assert asked and ended
    # Every inquiry was for an area free that day; every end frees its area again.
    assert sorted(first.free + list(first.active.values()) + first.requested) == free
    assert len(first.active) == len(asked) - len(ended) - len(first.requested)


def test_citizens_on_the_database_ask_get_approved_and_end(
        conn: psycopg.Connection[tuple[object, ...]], database_url: str) -> None:
    assets.load_file(database_url, scenario_file("herrenberg"))
    citizens, asked, ended = twenty_days(DatabaseCitizens(database_url))
    rows = conn.execute("SELECT area_id, status FROM sponsorships ORDER BY id").fetchall()
    assert [r[0] for r in rows] == asked
    statuses = [r[1] for r in rows]
    assert statuses.count("ended") == len(ended)
    # Requests confirmed on the last day wait for staff; all others were approved.
    assert statuses.count("requested") == len(asked) - citizens.approved
    assert citizens.summary() == {"asked": len(asked), "approved": citizens.approved,
                                  "ended": len(ended)}
    active = conn.execute("SELECT area_id, sponsor_id FROM sponsorships WHERE status = 'active' "
                          "ORDER BY area_id").fetchall()
    assert conn.execute("SELECT id, sponsor_id FROM green_areas WHERE sponsor_id LIKE 'pt-%' "
                        "ORDER BY id").fetchall() == active
    assert conn.execute("SELECT count(*) FROM green_areas WHERE sponsor_id IS NULL"
                        ).fetchone() == (8 - len(active),)


def test_the_simulator_runs_the_portal_each_day() -> None:
    town = scenario.parse(tiny_town(green_areas=[
        {"id": f"ga-{n}", "name": f"Beet {n}", "latitude": 48.6005, "longitude": 8.8705}
        for n in range(1, 4)], devices=[]), "tiny")
    board = Board(["ga-1", "ga-2", "ga-3"])
    truth = Truth()
    run_engine(town, seed=5, days=10, truth=truth, citizens=board)
    expected = _days(Citizens(Board(["ga-1", "ga-2", "ga-3"]), seed=5), 10)
    assert truth.counts["portal"] == len(expected) > 0
    assert [x for x in board.log if x[0] == "ask"] == [
        x for x in _log(5, 10) if x[0] == "ask"]


def _log(seed: int, days: int) -> list[tuple[str, str]]:
    board = Board(["ga-1", "ga-2", "ga-3"])
    _days(Citizens(board, seed=seed), days)
    return board.log
