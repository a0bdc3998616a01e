"""The hourly water-balance round of the engine: every area's balance from the snapshot's
weather and waterings, the fallback for areas whose probes are silent, stored with the step.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

import psycopg

from rules import water_balance, watering
from rules.actions import Action
from rules.assets import Area
from rules.dispatch import Context
from rules.state import StateStore
from rules.watering import WateringState

_UPSERT = (
    "INSERT INTO water_balance (area_id, as_of, rain_7d_mm, et_7d_mm, "
    "watered_7d_mm, deficit_mm, capacity_mm, trigger_mm, needs_water, et0_source, "
    "litres, litres_per_m2, litres_per_tree) VALUES "
    "(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) "
    "ON CONFLICT (area_id) DO UPDATE SET as_of = excluded.as_of, "
    "rain_7d_mm = excluded.rain_7d_mm, et_7d_mm = excluded.et_7d_mm, "
    "watered_7d_mm = excluded.watered_7d_mm, deficit_mm = excluded.deficit_mm, "
    "capacity_mm = excluded.capacity_mm, trigger_mm = excluded.trigger_mm, "
    "needs_water = excluded.needs_water, et0_source = excluded.et0_source, "
    "litres = excluded.litres, litres_per_m2 = excluded.litres_per_m2, "
    "litres_per_tree = excluded.litres_per_tree, updated_at = now() "
    "WHERE water_balance.as_of <= excluded.as_of")


def _hour(at: datetime) -> int:
    return int(at.timestamp() // 3600)


@dataclass
class BalanceRound:
    """Once per event-time hour while weather is stored: every area's water balance."""

    hour: int | None = None  # the event-time hour of the last round
    latest: dict[str, water_balance.Balance] = field(default_factory=dict)
    # This step's balances by area, stored with its orders.
    rows: dict[str, tuple[Any, ...]] = field(default_factory=dict)

    def due(self, at: datetime) -> bool:
        """Whether a round at `at` would compute (another hour than the last round's)."""
        return _hour(at) != self.hour

    def run(self, ctx: Context, now: datetime, areas: list[Area]) -> list[Action]:
        """The round at `now` over the (owned) areas: keep each balance for the step's
        write, and let the balance decide for the areas whose probes are silent."""
        self.hour = _hour(now)
        window = ctx.snapshot.weather
        assert window is not None, "the snapshot loads the weather while the town has some"
        hours = window.hours(now)
        if not hours:
            return []
        town = ctx.snapshot.town
        waterings = ctx.snapshot.waterings_since(
            now - timedelta(days=water_balance.WINDOW_DAYS),
            ((a.id, (a.plant_type, a.size_m2, a.trees)) for a in areas))
        probed = {d.asset_id for d in town.devices.values()
                  if d.asset_type == "green_area" and d.asset_id}
        actions: list[Action] = []
        for area in areas:
            b = water_balance.balance(hours, area.latitude, area.plant_type,
                                      waterings.get(area.id, ()), now)
            self.latest[area.id] = b
            size = water_balance.dose(b.deficit_mm, area.plant_type, area.size_m2, area.trees)
            self.rows[area.id] = (
                area.id, b.as_of, b.rain_mm, b.et_mm, b.watered_mm, b.deficit_mm,
                b.capacity_mm, b.trigger_mm, b.needs_water, b.et0_source,
                size.litres or None, size.litres_per_m2, size.litres_per_tree)
            if area.id not in probed:
                continue
            p = ctx.watering_params(area)
            silent = silent_h(ctx.states, area.id, now)
            state = ctx.states.peek(WateringState, area.id)
            if state is None:
                state = ctx.states.get(WateringState, area.id)
            before = replace(state)
            found = watering.on_balance(state, now, area, p, balance=b, silent_h=silent,
                                        weather=ctx.snapshot.weather_at(p.weather_max_age_h))
            if found or state != before:
                ctx.states.touch(WateringState, area.id)
            actions += found
        return actions

    def write(self, conn: psycopg.Connection[Any]) -> None:
        """Store this step's balances (newer than what is stored)."""
        rows, self.rows = list(self.rows.values()), {}
        if rows:
            with conn.cursor() as cur:
                cur.executemany(_UPSERT, rows)


def silent_h(states: StateStore, area_id: str, now: datetime) -> float | None:
    """Hours since the area's newest probe reading (or since the engine began watching an
    area whose probes never reported)."""
    state = states.peek(WateringState, area_id)
    if state is not None and state.probes:
        newest = max(ts for ts, _ in state.probes.values())
    elif state is not None and state.watched_ts is not None:
        newest = state.watched_ts
    else:
        states.get(WateringState, area_id).watched_ts = newest = now.timestamp()
    return max(0.0, (now.timestamp() - newest) / 3600)
