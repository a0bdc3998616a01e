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
from rules.state import RuleState, StateStore


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
    """One rule module: the type of its states (which names the module and its subjects'
    type, and knows what a gone order changes), and what it does with a reading."""

    state: type[RuleState]
    on_reading: Callable[[Context, Reading, str], list[Action]]

    @property
    def name(self) -> str:
        """The first part of the module's rule names and of its states' keys."""
        return self.state.MODULE

    @property
    def subject_type(self) -> str:
        """The subject type of the module's states."""
        return self.state.SUBJECT_TYPE

    def order_gone(self, states: StateStore, rule: str, subject_id: str) -> None:
        """Tell the module that its open order of `rule` for the subject is gone."""
        states.get(self.state, subject_id).order_gone(rule)


def _watering(ctx: Context, r: Reading, area_id: str) -> list[Action]:
    area = ctx.snapshot.town.areas.get(area_id)
    if area is None:
        return []
    p = ctx.watering_params(area)
    return watering.on_reading(ctx.states.get(watering.WateringState, area_id), r, area, p,
                               ctx.snapshot.weather_at(p.weather_max_age_h))


def _bins(ctx: Context, r: Reading, bin_id: str) -> list[Action]:
    b = ctx.snapshot.town.bins.get(bin_id)
    if b is None:
        return []
    p = ctx.params("bins", bin_id, lambda rs: rs.bins_for(b.id, b.fill_threshold_pct))
    return bins.on_reading(ctx.states.get(bins.BinState, bin_id), r, b, p)


def _vehicles(ctx: Context, r: Reading, vehicle_id: str) -> list[Action]:
    p = ctx.params("vehicles", vehicle_id, lambda rs: rs.vehicles_for(vehicle_id))
    return vehicles.on_reading(ctx.states.get(vehicles.VehicleState, vehicle_id), r,
                               vehicle_id, p, health=ctx.health_params(r.dev_eui),
                               sites=list(ctx.snapshot.sites))


def _device_wide(_ctx: Context, _r: Reading, _dev_eui: str) -> list[Action]:
    # Sensor health sees every reading of every device; the engine calls it first, itself,
    # because it also moves the earliest silence forward.
    return []


HEALTH = RuleModule(sensor_health.HealthState, _device_wide)
WATERING = RuleModule(watering.WateringState, _watering)
BINS = RuleModule(bins.BinState, _bins)
VEHICLES = RuleModule(vehicles.VehicleState, _vehicles)

MODULES: dict[str, RuleModule] = {m.name: m for m in (HEALTH, WATERING, BINS, VEHICLES)}
# The module a reading of an asset of this type goes to (besides sensor health).
BY_ASSET: dict[str, RuleModule] = {m.subject_type: m for m in (WATERING, BINS, VEHICLES)}
# The state types of the modules, for the engine's StateStore.
STATES: tuple[type[RuleState], ...] = tuple(m.state for m in MODULES.values())


def on_reading(ctx: Context, r: Reading, asset_type: str | None, asset_id: str) -> (
    list[Action]
):
    """What the module of the reading's asset type makes of it (none for other types)."""
    module = BY_ASSET.get(asset_type or "")
    return [] if module is None else module.on_reading(ctx, r, asset_id)


def order_gone(states: StateStore, rule: str, subject_id: str) -> None:
    """Tell the rule's module that its open order for the subject is gone (closed by a
    person); the subject is of the module's subject type."""
    module = MODULES.get(rule.split(".", maxsplit=1)[0])
    if module is not None:
        module.order_gone(states, rule, subject_id)
