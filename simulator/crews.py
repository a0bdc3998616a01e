"""Simulated crews closing the loop: they take Bauhof's open work orders, drive there in a van,
do the work in the simulated world after a plausible time, and close the order.

Bauhof is reached through a `CrewBackend` (list open orders, start one, finish it):
`simulator.crew_api.HttpCrews` goes through Bauhof's HTTP API as the real crews do
(`simulate --crews --api URL`, `bauhof demo`); `DatabaseCrews` here works on the database
through `rules.orders.transition` for runs without an API (the planning loop, tests of the
rules loop, `simulate --crews` alone). Every `TICK_S` of simulated time during
the shift (Mon-Fri 7:00-15:30 local) each idle crew takes the most urgent open order (lowest
priority number, then oldest) that nobody has taken, starts it, drives there (straight line
x 1.3 at 25 km/h), works (`WORK_MIN` by kind) and finishes: watering gives the litres the
order asks for (its `litres` param, over the area's square metres), else 20 mm,
emptying empties the bin, sensor maintenance fits a new battery. A watering order assigned to
a sponsor (`sponsor:<id>`, asked first) is left to the sponsor, who waters (15 mm) within 1-6 h
with probability 0.6 and never touches the order: the rules resolve it when the soil is wet.
"""

from __future__ import annotations

import random
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any, Protocol

from bauhof.assignee import Assignee, AssigneeError, crew_name
from bauhof.geo import Place, flat_distance_m
from simulator import SimulatorError
from simulator.clock import US, from_us
from simulator.vehicles import DETOUR, DayPlan, Leg
from simulator.world import World

TICK_S = 600
SPEED_KMH = 25.0
WATERING_MM = 20.0
SPONSOR = "sponsor:"
SPONSOR_WATERS = 0.6
SPONSOR_DELAY_H = (1.0, 6.0)
SPONSOR_MM = 15.0
WORK_MIN = {"watering": 20, "empty_bin": 5, "sensor_maintenance": 15, "bin_maintenance": 15}
SHIFT_HOURS = (7.0, 15.5)


class CrewError(SimulatorError):
    """The crews cannot reach Bauhof's work orders."""


@dataclass(frozen=True, slots=True)
class CrewOrder:
    """What a crew needs to know of a work order."""

    id: int
    kind: str
    subject_type: str
    subject_id: str
    priority: int
    opened_at: datetime
    assignee: str | None
    latitude: float | None
    longitude: float | None
    # The water a watering order asks for (params.litres), when it says.
    litres: float | None = None


def for_crews(status: str, assignee: str | None) -> bool:
    """Whether the crews look at an order: untaken open ones, crews' and sponsors' asked."""
    if status == "open":
        return True
    try:
        kind = None if assignee is None else Assignee.parse(assignee).kind
    except AssigneeError:
        return False
    return kind == "crew" or (kind == "sponsor" and status == "assigned")


def crew_order(order: dict[str, Any]) -> CrewOrder | None:
    """An order (the API's fields) as the crews see it, None when it is not for them; a
    crew's assignee is its name, a sponsor's stays `sponsor:<id>`."""
    assignee: str | None = order["assignee"]
    if not for_crews(order["status"], assignee):
        return None
    opened = order["opened_at"]
    return CrewOrder(int(order["id"]), order["kind"], order["subject_type"],
                     order["subject_id"], int(order["priority"]),
                     opened if isinstance(opened, datetime) else datetime.fromisoformat(opened),
                     crew_name(assignee) or assignee, order["latitude"], order["longitude"],
                     order_litres(order.get("params") or {}))


def order_litres(params: dict[str, Any]) -> float | None:
    """The litres a watering order's params ask for, if any."""
    value = params.get("litres")
    return float(value) if isinstance(value, int | float) and value > 0 else None


class CrewBackend(Protocol):
    """How crews see and change Bauhof's work orders."""

    def open_orders(self) -> list[CrewOrder]:
        """Orders waiting for someone (status open), and those assigned to crews or sponsors."""
        ...

    def start(self, order_id: int, crew: str, at: datetime) -> bool:
        """Mark the order in progress by `crew`; False when it was closed meanwhile."""
        ...

    def finish(self, order_id: int, crew: str, at: datetime, note: str) -> bool:
        """Mark the order done; False when it was closed meanwhile."""
        ...


class DatabaseCrews:
    """The backend on Bauhof's database, through the rules engine's order functions."""

    def __init__(self, database_url: str) -> None:
        from bauhof import db

        self._conn: Any = db.connect(database_url, autocommit=True,
                                     application_name="bauhof-simulator-crews")

    def open_orders(self) -> list[CrewOrder]:
        """Open orders and orders assigned to a crew, oldest first."""
        from rules import orders

        found = [crew_order(asdict(o)) for status in ("open", "assigned")
                 for o in orders.list_orders(self._conn, status=status)]
        return [o for o in found if o is not None]

    def _move(self, order_id: int, status: str, crew: str, at: datetime, note: str) -> bool:
        from rules import orders
        from rules.errors import IllegalTransition

        # The crew writes itself as the API writes a crew user: `crew:<name>`.
        who = Assignee.crew(crew)
        try:
            orders.transition(self._conn, order_id, status, str(who), note, assignee=who, at=at)
        except IllegalTransition:
            return False
        return True

    def start(self, order_id: int, crew: str, at: datetime) -> bool:
        """Move the order to in_progress, assigned to the crew."""
        return self._move(order_id, "in_progress", crew, at, "on the way")

    def finish(self, order_id: int, crew: str, at: datetime, note: str) -> bool:
        """Move the order to done."""
        return self._move(order_id, "done", crew, at, note)

    def close(self) -> None:
        """Close the connection."""
        self._conn.close()


@dataclass(frozen=True, slots=True)
class SponsorVisit:
    """A sponsor coming to water their area."""

    sponsor: str
    area_id: str
    order_id: int


@dataclass
class Crew:
    """One crew with its van."""

    name: str
    vehicle: str | None
    place: Place
    order: CrewOrder | None = None


class Crews:
    """The crews of the depot acting on the world; the engine calls `tick` and `complete`."""

    def __init__(self, backend: CrewBackend, world: World, vans: list[str], seed: int) -> None:
        self.backend = backend
        self.world = world
        # One crew per van; without vans, one crew that travels unseen.
        drivers: list[str | None] = list(vans) or [None]
        self.crews = [Crew(f"crew-{i + 1}", van, world.depot) for i, van in enumerate(drivers)]
        self._rng = random.Random(f"{seed}:crews")
        self._taken: set[int] = set()
        # Sponsor requests already answered (or not): once the rules hand one over to Bauhof
        # (unassigned), it is crew work like any other open order.
        self._asked: set[int] = set()
        self.done = 0

    def on_shift(self, t_us: int) -> bool:
        """Whether crews work at `t_us` (weekdays, 7:00-15:30 local)."""
        weekday, hour = self.world.town_time.weekday_hour(t_us)
        start, end = SHIFT_HOURS
        minute = from_us(t_us).astimezone(self.world.town_time.zone).minute
        return weekday < 5 and start <= hour + minute / 60 < end

    def _place(self, order: CrewOrder) -> Place | None:
        if order.latitude is not None and order.longitude is not None:
            return order.latitude, order.longitude
        return self.world.place_of(order.subject_type, order.subject_id)

    def tick(self, t_us: int) -> list[tuple[int, Crew | SponsorVisit]]:
        """Give idle crews work and let sponsors answer requests; return (time, who) of each
        job that will complete."""
        idle = [c for c in self.crews if c.order is None] if self.on_shift(t_us) else []
        found = self.backend.open_orders()
        jobs: list[tuple[int, Crew | SponsorVisit]] = []
        for order in found:
            if order.id in self._asked or not (order.assignee or "").startswith(SPONSOR):
                continue
            self._asked.add(order.id)
            if order.kind == "watering" and self._rng.random() < SPONSOR_WATERS:
                delay_h = self._rng.uniform(*SPONSOR_DELAY_H)
                visit = SponsorVisit(order.assignee or "", order.subject_id, order.id)
                jobs.append((t_us + round(delay_h * 3600 * US), visit))
        crew_names = {c.name for c in self.crews}
        waiting = sorted(
            (o for o in found if o.id not in self._taken and o.kind in WORK_MIN
             and (o.assignee is None or o.assignee in crew_names)),
            key=lambda o: (o.priority, o.opened_at, o.id),
        )
        for crew in idle:
            while waiting:
                order = waiting.pop(0)
                target = self._place(order)
                if target is None or not self.backend.start(order.id, crew.name, from_us(t_us)):
                    continue
                self._taken.add(order.id)
                jobs.append((self._dispatch(crew, order, target, t_us), crew))
                break
        return jobs

    def _dispatch(self, crew: Crew, order: CrewOrder, target: Place, t_us: int) -> int:
        metres = flat_distance_m(*crew.place, *target) * DETOUR
        arrive = t_us + round(metres / (SPEED_KMH / 3.6) * US)
        work_s = WORK_MIN[order.kind] * 60 * self._rng.uniform(0.8, 1.3)
        done = arrive + round(work_s * US)
        if crew.vehicle is not None:
            self.world.plans[crew.vehicle] = DayPlan(self.world.depot, [
                Leg(t_us, max(arrive, t_us + 1), crew.place, target),
                Leg(max(arrive, t_us + 1), done, target, target),
            ])
        crew.order, crew.place = order, target
        return done

    def complete(self, t_us: int, who: Crew | SponsorVisit) -> None:
        """A job is done: change the world, and close the order when a crew did it."""
        if isinstance(who, SponsorVisit):
            self.world.water(who.area_id, SPONSOR_MM, t_us, by=who.sponsor)
            return
        crew = who
        order = crew.order
        if order is None:
            return
        if order.kind == "watering":
            m2 = self.world.area_m2(order.subject_id)
            mm = order.litres / m2 if order.litres and m2 else WATERING_MM
            self.world.water(order.subject_id, mm, t_us, by=crew.name)
        elif order.kind == "empty_bin":
            self.world.empty_bin(order.subject_id, t_us, by=crew.name)
        elif order.kind == "sensor_maintenance" and order.subject_type == "device":
            self.world.replace_battery(order.subject_id, t_us, by=crew.name)
        if self.backend.finish(order.id, crew.name, from_us(t_us), f"done by {crew.name}"):
            self.done += 1
        crew.order = None

