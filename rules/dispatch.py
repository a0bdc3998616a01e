"""The rule modules behind one interface, and which of them a reading or a gone order goes to.

A reading goes to sensor health (every device) and to the one module of its asset's type
(`BY_ASSET`); an order that vanished under an Update (a person closed it) goes back to the
module its rule name starts with (`MODULES`). Adding a rule module means adding it here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from rules import bins, sensor_health, vehicles, watering
from rules.actions import Action
from rules.assets import Area
from rules.readings import Reading
from rules.ruleset import HealthParams, Ruleset, WateringParams
from rules.snapshot import Snapshot
from rules.state import State, StateStore


class Context(Protocol):
    """What a rule module may use while it evaluates: the step's snapshot, the states, and
    each subject's parameters."""

    snapshot: Snapshot
    states: StateStore

    def params(self, section: str, subject: str, make: Callable[[Ruleset], Any]) -> Any:
        """The parameters of one subject (cached; overrides fall back to the file's)."""

    def health_params(self, dev_eui: str) -> HealthParams:
        """A device's sensor-health parameters."""

    def watering_params(self, area: Area) -> WateringParams:
        """An area's watering parameters."""


@dataclass(frozen=True, slots=True)
class RuleModule:
    """One rule module: its name (the first part of its rule names and of its states' keys),
    the subject type of its states, and what it does with a reading and with a gone order."""

    name: str
    subject_type: str
    on_reading: Callable[[Context, Reading, str], list[Action]]
    on_order_gone: Callable[[State, str], None]


def _watering(ctx: Context, r: Reading, area_id: str) -> list[Action]:
    area = ctx.snapshot.town.areas.get(area_id)
    if area is None:
        return []
    p = ctx.watering_params(area)
    return watering.on_reading(ctx.states.get(("watering", "green_area", area_id)), r, area, p,
                               ctx.snapshot.weather_at(p.weather_max_age_h))


def _bins(ctx: Context, r: Reading, bin_id: str) -> list[Action]:
    b = ctx.snapshot.town.bins.get(bin_id)
    if b is None:
        return []
    p = ctx.params("bins", bin_id, lambda rs: rs.bins_for(b.id, b.fill_threshold_pct))
    return bins.on_reading(ctx.states.get(("bins", "bin", bin_id)), r, b, p)


def _vehicles(ctx: Context, r: Reading, vehicle_id: str) -> list[Action]:
    p = ctx.params("vehicles", vehicle_id, lambda rs: rs.vehicles_for(vehicle_id))
    return vehicles.on_reading(ctx.states.get(("vehicles", "vehicle", vehicle_id)), r,
                               vehicle_id, p, health=ctx.health_params(r.dev_eui),
                               sites=list(ctx.snapshot.sites))


def _device_wide(_ctx: Context, _r: Reading, _dev_eui: str) -> list[Action]:
    # Sensor health sees every reading of every device; the engine calls it first, itself,
    # because it also moves the earliest silence forward.
    return []


HEALTH = RuleModule("health", "device", _device_wide, sensor_health.on_order_gone)
WATERING = RuleModule("watering", "green_area", _watering,
                      lambda state, _rule: watering.on_order_gone(state))
BINS = RuleModule("bins", "bin", _bins, bins.on_order_gone)
VEHICLES = RuleModule("vehicles", "vehicle", _vehicles, vehicles.on_order_gone)

MODULES: dict[str, RuleModule] = {m.name: m for m in (HEALTH, WATERING, BINS, VEHICLES)}
# The module a reading of an asset of this type goes to (besides sensor health).
BY_ASSET: dict[str, RuleModule] = {m.subject_type: m for m in (WATERING, BINS, VEHICLES)}


def on_reading(ctx: Context, r: Reading, asset_type: str | None, asset_id: str) -> (
    list[Action]
):
    """What the module of the reading's asset type makes of it (none for other types)."""
    module = BY_ASSET.get(asset_type or "")
    return [] if module is None else module.on_reading(ctx, r, asset_id)


def order_gone(states: StateStore, rule: str, subject_type: str, subject_id: str) -> None:
    """Tell the rule's module that its open order is gone (closed by a person)."""
    name = rule.split(".", maxsplit=1)[0]
    state = states.get((name, subject_type, subject_id))
    module = MODULES.get(name)
    if module is not None:
        module.on_order_gone(state, rule)
