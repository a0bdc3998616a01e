"""The closed loop in one process: the simulator's events stored by ingest's pipeline
(`ingest.pipeline.Feed`), Bauhof's rules run on them, and the simulated crews and the planner
acting on the database, all on the simulator's clock.

Before the crews look at the orders and before a day is planned, the pending events are
written and the rules engine catches up, so both see what Bauhof would have seen by then.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from types import TracebackType
from typing import Any

from harness.policies import Tally, at
from simulator.scenario import Scenario
from simulator.truth import Truth

BATCH = 5000


class SyncedCrews:
    """A crew backend that first brings Bauhof up to date."""

    def __init__(self, inner: Any, flush: Callable[[], None]) -> None:
        self.inner = inner
        self.flush = flush

    def open_orders(self) -> list[Any]:
        """Bauhof's open orders as of now."""
        self.flush()
        orders: list[Any] = self.inner.open_orders()
        return orders

    def start(self, order_id: int, crew: str, when: datetime) -> bool:
        """Start an order."""
        return bool(self.inner.start(order_id, crew, when))

    def finish(self, order_id: int, crew: str, when: datetime, note: str) -> bool:
        """Finish an order."""
        return bool(self.inner.finish(order_id, crew, when, note))


class Loop:
    """Simulator, ingest, rules, crews and planner on one database."""

    def __init__(self, database_url: str, town: Scenario, *, seed: int, start_us: int,
                 end_us: int, truth: Truth) -> None:
        from bauhof import db
        from harness.town import load_assets
        from ingest.pipeline import Feed
        from planning import settings as planning_settings
        from rules import ruleset
        from rules.engine import RulesEngine
        from simulator.crews import DatabaseCrews
        from simulator.engine import Simulator

        load_assets(database_url, town)
        self.conn: Any = db.connect(database_url, autocommit=True)
        planning_settings.save(self.conn, planning_settings.parse({
            "depot": {"latitude": town.town.depot.latitude,
                      "longitude": town.town.depot.longitude},
            "timezone": town.town.timezone, "time_limit_s": 5.0}), "planner:bench")
        rules = ruleset.load()
        # Bins are emptied by the trucks' rounds or plans, not one by one from a van.
        rules = rules.model_copy(update={"bins": rules.bins.model_copy(
            update={"enabled": False})})
        self._now_us = start_us
        self.rules = RulesEngine(database_url, rules, wall=lambda: at(self._now_us),
                                 sole_writer=True)
        self.crews = DatabaseCrews(database_url)
        self._feed = Feed(self.conn, "bench-outcomes", batch_size=BATCH)
        self.engine = Simulator(town, seed=seed, start_us=start_us, end_us=end_us, truth=truth,
                                crews=SyncedCrews(self.crews, self.flush))

    def flush(self) -> None:
        """Write what is pending and let the rules engine catch up."""
        self._now_us = self.engine.now_us
        if self._feed.pending:
            self._feed.flush()
        self.rules.catch_up()

    def planner(self, tally: Tally) -> Callable[[int], dict[str, list[str]]]:
        """Plan the day starting at local midnight `day_us`: vehicle id → ordered bin ids."""
        from planning import previews

        zone = self.engine.world.town_time.zone

        def plan(day_us: int) -> dict[str, list[str]]:
            self.flush()
            day = at(day_us).astimezone(zone).date()
            made = previews.create(self.conn, day, by="planner:bench", as_of=at(day_us))
            tally.plans.append(made.summary())
            return {r.vehicle_id: [s.bin_id for s in r.stops] for r in made.routes}

        return plan

    def run(self, every_hour: Callable[[int], None]) -> None:
        """Run the simulation to its end."""
        for message in self.engine.messages():
            self._feed.add(message)
            if message.topic.startswith("bauhof/weather/"):
                every_hour(message.time_us)
            if self._feed.pending >= BATCH:
                self.flush()
        self.flush()

    def __enter__(self) -> Loop:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.rules.close()
        self.crews.close()
        self.conn.close()
