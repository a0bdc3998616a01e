"""Simulated crews: they take open work orders, travel, do the work in the world, close them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import yaml

from bauhof import assets
from rules import orders
from rules.actions import Open
from simulator import scenario, truth
from simulator.crews import CrewOrder, DatabaseCrews
from tests.simulator.conftest import crew_day, tiny_town

MONDAY = datetime(2026, 6, 1, tzinfo=UTC)
VAN = {"id": "veh-2", "name": "Van", "kind": "van"}


def _town() -> scenario.Scenario:
    data = tiny_town()
    data["vehicles"] = [*data["vehicles"], VAN]
    return scenario.parse(data, "tiny")


@dataclass
class BoardBackend:
    """Work orders on a board in memory, as a depot without Bauhof would keep them."""

    orders: list[CrewOrder]
    log: list[tuple[str, int, str, datetime]] = field(default_factory=list)
    closed: set[int] = field(default_factory=set)

    def open_orders(self) -> list[CrewOrder]:
        return [o for o in self.orders if o.id not in self.closed]

    def start(self, order_id: int, crew: str, at: datetime) -> bool:
        self.log.append(("start", order_id, crew, at))
        return True

    def finish(self, order_id: int, crew: str, at: datetime, note: str) -> bool:
        self.log.append(("finish", order_id, crew, at))
        self.closed.add(order_id)
        return True


def _order(order_id: int, kind: str, subject_type: str, subject_id: str,
           assignee: str | None = None, priority: int = 3) -> CrewOrder:
    return CrewOrder(order_id, kind, subject_type, subject_id, priority, MONDAY, assignee,
                     None, None)


def test_crews_work_through_the_open_orders_during_the_shift(tmp_path: Path) -> None:
    board = BoardBackend([
        _order(1, "watering", "green_area", "ga-1"),
        _order(2, "empty_bin", "bin", "bin-1", priority=1),
        _order(3, "sensor_maintenance", "device", "24e1240000000002"),
        _order(4, "watering", "green_area", "ga-1", assignee="sponsor:sp-1"),
    ])
    crew_day(_town(), board, tmp_path / "truth.jsonl")
    entries = list(truth.read(tmp_path / "truth.jsonl"))
    assert [(step, order) for step, order, _, _ in board.log] == [
        ("start", 2), ("finish", 2), ("start", 1), ("finish", 1), ("start", 3), ("finish", 3)]
    assert {crew for _, _, crew, _ in board.log} == {"crew-1"}
    # Summer time: the shift is 7:00-15:30 local, 05:00-13:30 UTC.
    first_start = board.log[0][3]
    assert (first_start.hour, first_start.minute) == (5, 0)
    assert all(at.hour < 14 for _, _, _, at in board.log)
    watered = [e for e in entries if e["kind"] == "watered"]
    # The sponsor, asked first, comes within 1-6 h; the crew does its own order.
    assert sorted((e["green_area"], e["by"], e["mm"]) for e in watered) == [
        ("ga-1", "crew-1", 20.0), ("ga-1", "sponsor:sp-1", 15.0)]
    assert all(e["moisture_after"] > e["moisture_before"] for e in watered)
    sponsor = next(e for e in watered if e["by"] == "sponsor:sp-1")
    assert "01:00" <= sponsor["time"][11:16] <= "06:00"
    assert [(e["bin"], e["by"]) for e in entries if e["kind"] == "emptied"
            and e["by"].startswith("crew")] == [("bin-1", "crew-1")]
    assert [e["dev_eui"] for e in entries if e["kind"] == "battery_replaced"] == [
        "24e1240000000002"]
    van = [e for e in entries if e["kind"] == "uplink" and e["asset"] == "vehicle/veh-2"]
    assert van == []  # the van has no tracker in this town; its plan still drives the crew


@dataclass
class HandOverBackend(BoardBackend):
    """The board, where the rules hand a sponsor's watering request over to Bauhof (the same
    order, now unassigned) after the first look at it."""

    looks: int = 0

    def open_orders(self) -> list[CrewOrder]:
        self.looks += 1
        if self.looks == 2:
            self.orders = [_order(o.id, o.kind, o.subject_type, o.subject_id, priority=2)
                           for o in self.orders]
        return super().open_orders()


def test_a_sponsor_request_handed_over_to_bauhof_is_watered_by_a_crew(tmp_path: Path) -> None:
    board = HandOverBackend([_order(4, "watering", "green_area", "ga-1",
                                    assignee="sponsor:sp-1")])
    crew_day(_town(), board, tmp_path / "truth.jsonl")
    assert [(step, order, crew) for step, order, crew, _ in board.log] == [
        ("start", 4, "crew-1"), ("finish", 4, "crew-1")]
    watered = [(e["green_area"], e["by"], e["mm"])
               for e in truth.read(tmp_path / "truth.jsonl") if e["kind"] == "watered"]
    assert ("ga-1", "crew-1", 20.0) in watered


def test_crews_close_orders_in_the_database_through_the_rules(database_url: str,
                                                              tmp_path: Path) -> None:
    town_file = tmp_path / "town.yaml"
    data = tiny_town()
    data["vehicles"] = [*data["vehicles"], VAN]
    town_file.write_text(yaml.safe_dump(data), encoding="utf-8")
    assets.load_file(database_url, town_file)
    with psycopg.connect(database_url, autocommit=True) as conn:
        with conn.transaction():
            order_id, created = orders.apply_open(conn, Open(
                rule="watering.dry", kind="watering", subject_type="green_area",
                subject_id="ga-1", at=MONDAY, title="Beet is dry"), actor="rules")
        assert created
    backend = DatabaseCrews(database_url)
    try:
        crew_day(scenario.parse(data, "tiny"), backend, tmp_path / "truth.jsonl")
    finally:
        backend.close()
    with psycopg.connect(database_url, autocommit=True) as conn:
        order = orders.get(conn, order_id)
        steps = [(h.actor, h.to_status, h.at) for h in orders.history(conn, order_id)]
    # The same form the crews write through the API (tests/simulator/test_crew_api.py).
    assert (order.status, order.assignee, order.resolved_by) == (
        "done", "crew:crew-1", "crew:crew-1")
    assert [(actor, status) for actor, status, _ in steps] == [
        ("rules", "open"), ("crew:crew-1", "in_progress"), ("crew:crew-1", "done")]
    started, finished = steps[1][2], steps[2][2]
    assert started == datetime(2026, 6, 1, 5, 0, tzinfo=UTC)
    assert 15 * 60 < (finished - started).total_seconds() < 60 * 60
    watered = [e for e in truth.read(tmp_path / "truth.jsonl") if e["kind"] == "watered"]
    assert [(e["green_area"], e["by"]) for e in watered] == [("ga-1", "crew-1")]
