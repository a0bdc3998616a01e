"""The rules file: a closed vocabulary of parameters, validated by pydantic when loaded."""

from __future__ import annotations

from collections.abc import Iterable
from importlib import resources
from pathlib import Path
from typing import Any, Literal, Self, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from rules.errors import RulesFileError


class _Params(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


_P = TypeVar("_P", bound=_Params)


class ClockParams(_Params):
    """How the event-time clock follows the stream."""

    mode: Literal["auto", "stream", "wall"] = "auto"
    live_window_s: float = Field(default=600, gt=0)
    max_step_h: float = Field(default=24, gt=0)


class OrderParams(_Params):
    """Escalation with age and reminders while an order stays open."""

    escalate_after_h: tuple[float, ...] = (24, 72)
    remind_every_h: float | None = Field(default=24, gt=0)
    evidence_keep: int = Field(default=10, ge=1, le=100)


class WateringParams(_Params):
    """Sponsored green areas: dry for a sustained time → sponsor, then Bauhof."""

    enabled: bool = True
    low_pct: float = Field(default=20, ge=0, le=100)
    clear_pct: float = Field(default=28, ge=0, le=100)
    sustain_h: float = Field(default=6, ge=0)
    clear_sustain_h: float = Field(default=2, ge=0)
    sponsor_grace_h: float = Field(default=48, ge=0)
    priority: int = Field(default=3, ge=1, le=5)
    due_h: float = Field(default=24, gt=0)
    rain_now_mm_h: float = Field(default=0.2, ge=0)
    rain_forecast_mm_24h: float = Field(default=5, ge=0)
    weather_max_age_h: float = Field(default=3, gt=0)
    # Probes silent this long: the area's water balance decides (rules/water_balance.py).
    balance_silent_h: float = Field(default=6, gt=0)

    @model_validator(mode="after")
    def _hysteresis(self) -> Self:
        if self.clear_pct <= self.low_pct:
            raise ValueError(
                f"clear_pct ({self.clear_pct}) must be above low_pct ({self.low_pct}): "
                "the gap is the hysteresis that stops orders flapping"
            )
        return self


class WateringSection(WateringParams):
    """Watering parameters plus per-plant-type overrides and forced values."""

    plant_types: dict[str, dict[str, Any]] = Field(default_factory=dict)
    # Parameters that win over every area's own columns (and plant types); see docs/rules.md.
    force: dict[str, Any] = Field(default_factory=dict)


class BinParams(_Params):
    """Waste bins: fill threshold, forecast, emptying, tilt and fire."""

    enabled: bool = True
    fill_threshold_pct: float = Field(default=80, gt=0, le=100)
    confirm_readings: int = Field(default=1, ge=1)
    priority: int = Field(default=3, ge=1, le=5)
    emptied_drop_pct: float = Field(default=40, gt=0, le=100)
    forecast: bool = True
    forecast_min_points: int = Field(default=4, ge=2)
    forecast_min_span_h: float = Field(default=2, ge=0)
    forecast_horizon_h: float = Field(default=24, gt=0)
    fire_temperature_c: float = 65
    fire_rise_c: float = Field(default=25, gt=0)
    fire_clear_c: float = 45

    @model_validator(mode="after")
    def _fire_hysteresis(self) -> Self:
        if self.fire_clear_c >= self.fire_temperature_c:
            raise ValueError("fire_clear_c must be below fire_temperature_c")
        return self


class BinSection(BinParams):
    """Bin parameters plus forced values (winning over each bin's own threshold column)."""

    force: dict[str, Any] = Field(default_factory=dict)


class HealthParams(_Params):
    """Sensor health: silence, battery, radio, stuck and impossible readings."""

    enabled: bool = True
    silent_intervals: float = Field(default=3, gt=0)
    default_interval_s: float = Field(default=3600, gt=0)
    battery_low_pct: float = Field(default=20, ge=0, le=100)
    battery_clear_pct: float = Field(default=30, ge=0, le=100)
    battery_low_v: float = Field(default=3.3, gt=0)
    battery_low_v_models: dict[str, float] = Field(default_factory=dict)
    battery_confirm_readings: int = Field(default=2, ge=1)
    rssi_poor_dbm: float = -120
    snr_poor_db: float = -15
    radio_poor_readings: int = Field(default=6, ge=1)
    stuck_readings: int = Field(default=12, ge=2)
    impossible_readings: int = Field(default=1, ge=1)
    impossible_clear_readings: int = Field(default=12, ge=1)
    priority: int = Field(default=4, ge=1, le=5)


class HealthSection(HealthParams):
    """Sensor-health parameters plus forced values."""

    force: dict[str, Any] = Field(default_factory=dict)


class Depot(_Params):
    """Where vehicles belong outside working hours."""

    latitude: float = Field(ge=-90, le=90)
    longitude: float = Field(ge=-180, le=180)
    radius_m: float = Field(default=150, gt=0)


class VehicleParams(_Params):
    """Vehicles: parked outside the depot, arrival at an order, tracker without fix."""

    enabled: bool = True
    depot: Depot | None = None
    timezone: str = "Europe/Berlin"
    working_hours: tuple[str, str] = ("06:00", "18:00")
    working_days: tuple[int, ...] = (0, 1, 2, 3, 4)
    stationary_h: float = Field(default=3, gt=0)
    stationary_radius_m: float = Field(default=50, gt=0)
    arrival_radius_m: float = Field(default=30, gt=0)
    arrival_readings: int = Field(default=2, ge=1)
    no_fix_readings: int = Field(default=6, ge=1)
    priority: int = Field(default=2, ge=1, le=5)


class VehicleSection(VehicleParams):
    """Vehicle parameters plus forced values."""

    force: dict[str, Any] = Field(default_factory=dict)


class Ruleset(_Params):
    """A whole rules file."""

    version: Literal[1] = 1
    clock: ClockParams = ClockParams()
    orders: OrderParams = OrderParams()
    watering: WateringSection = WateringSection()
    bins: BinSection = BinSection()
    sensor_health: HealthSection = HealthSection()
    vehicles: VehicleSection = VehicleSection()
    overrides: dict[str, dict[str, dict[str, Any]]] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _check_overrides(self) -> Self:
        # Validate every override now, so a typo fails at load time and not at 3 a.m.
        for plant, values in self.watering.plant_types.items():
            _merge(WateringParams, self.watering, values, f"watering.plant_types.{plant}")
        for section, cls in SECTIONS.items():
            forced = getattr(self, section).force
            _merge(cls, getattr(self, section), forced, f"{section}.force")
        for asset, parts in self.overrides.items():
            for section, values in parts.items():
                if section not in SECTIONS:
                    raise ValueError(
                        f"overrides.{asset}: unknown section {section!r} "
                        f"(one of {', '.join(SECTIONS)})"
                    )
                _merge(SECTIONS[section], getattr(self, section), values,
                       f"overrides.{asset}.{section}")
        return self

    def with_overrides(self, rows: Iterable[tuple[str, str, Any]]) -> tuple[Ruleset, list[str]]:
        """These rules with (asset, section, params) overrides over the file's own.

        A row's parameters win over the file's for that asset and section, parameter by
        parameter (as the API shows them). Each row is validated as the file's overrides are;
        one that is refused is left out and described in the returned list.
        """
        merged = {asset: {section: dict(values) for section, values in parts.items()}
                  for asset, parts in self.overrides.items()}
        refused: list[str] = []
        for asset, section, params in rows:
            where = f"rule_overrides {asset!r} {section}"
            if section not in SECTIONS:
                refused.append(f"{where}: unknown section (one of {', '.join(SECTIONS)})")
                continue
            if not isinstance(params, dict):
                refused.append(f"{where}: params must be an object of parameters, "
                               f"not {type(params).__name__}")
                continue
            values = {**merged.get(asset, {}).get(section, {}), **params}
            try:
                _merge(SECTIONS[section], getattr(self, section), values, where)
            except ValueError as exc:
                refused.append(str(exc))
                continue
            merged.setdefault(asset, {})[section] = values
        return self.model_copy(update={"overrides": merged}), refused

    def watering_layers(self, area_id: str, plant_type: str | None,
                        low_pct: float | None = None, clear_pct: float | None = None) -> (
        list[Layer]
    ):
        """What sets an area's watering parameters, lowest first (above the section)."""
        columns: dict[str, Any] = {}
        if low_pct is not None:
            columns["low_pct"] = low_pct
        if clear_pct is not None:
            columns["clear_pct"] = clear_pct
        return _layers(
            (f"watering.plant_types.{plant_type}",
             self.watering.plant_types.get(plant_type or "", {})),
            ("the green area's own moisture_low_pct/moisture_clear_pct", columns),
            ("watering.force", self.watering.force),
            (f"overrides.{area_id}.watering", self.overrides.get(area_id, {}).get("watering")))

    def watering_for(self, area_id: str, plant_type: str | None,
                     low_pct: float | None = None, clear_pct: float | None = None) -> (
        WateringParams
    ):
        """Parameters for one area: section < plant type < the area's columns < force <
        overrides."""
        return _merge(WateringParams, self.watering, _flat(self.watering_layers(
            area_id, plant_type, low_pct, clear_pct)), f"green area {area_id}")

    def bins_layers(self, bin_id: str, fill_threshold_pct: float | None = None) -> list[Layer]:
        """What sets a bin's parameters, lowest first (above the section)."""
        return _layers(
            ("the bin's own fill_threshold_pct",
             {} if fill_threshold_pct is None else {"fill_threshold_pct": fill_threshold_pct}),
            ("bins.force", self.bins.force),
            (f"overrides.{bin_id}.bins", self.overrides.get(bin_id, {}).get("bins")))

    def bins_for(self, bin_id: str, fill_threshold_pct: float | None = None) -> BinParams:
        """Parameters for one bin: section < the bin's threshold column < force < overrides."""
        return _merge(BinParams, self.bins, _flat(self.bins_layers(bin_id, fill_threshold_pct)),
                      f"bin {bin_id}")

    def health_layers(self, dev_eui: str, asset_id: str | None = None) -> list[Layer]:
        """What sets a device's health parameters, lowest first (above the section)."""
        return _layers(
            ("sensor_health.force", self.sensor_health.force),
            (f"overrides.{asset_id}.sensor_health",
             self.overrides.get(asset_id, {}).get("sensor_health") if asset_id else None),
            (f"overrides.{dev_eui}.sensor_health",
             self.overrides.get(dev_eui, {}).get("sensor_health")))

    def health_for(self, dev_eui: str, asset_id: str | None = None) -> HealthParams:
        """Parameters for one device: section < force < overrides by its asset < by dev_eui."""
        return _merge(HealthParams, self.sensor_health,
                      _flat(self.health_layers(dev_eui, asset_id)), f"device {dev_eui}")

    def vehicles_layers(self, vehicle_id: str) -> list[Layer]:
        """What sets a vehicle's parameters, lowest first (above the section)."""
        return _layers(
            ("vehicles.force", self.vehicles.force),
            (f"overrides.{vehicle_id}.vehicles",
             self.overrides.get(vehicle_id, {}).get("vehicles")))

    def vehicles_for(self, vehicle_id: str) -> VehicleParams:
        """Parameters for one vehicle: section < force < overrides."""
        return _merge(VehicleParams, self.vehicles, _flat(self.vehicles_layers(vehicle_id)),
                      f"vehicle {vehicle_id}")

    def explain(self, section: str, layers: list[Layer], label: str = "rules file") -> (
        list[tuple[str, Any, str]]
    ):
        """(parameter, effective value, where it comes from) for one subject's section, given
        its layers (from `*_layers`, lowest first); `label` names the rules file."""
        cls = SECTIONS[section]
        base = getattr(self, section)
        params = _merge(cls, base, _flat(layers), section)
        file_set = base.model_fields_set
        out: list[tuple[str, Any, str]] = []
        for name in cls.model_fields:
            source = f"{label} {section}.{name}" if name in file_set else "default"
            for where, values in layers:
                if name in values:
                    source = where
            out.append((name, getattr(params, name), source))
        return out


Layer = tuple[str, dict[str, Any]]


def _layers(*candidates: tuple[str, dict[str, Any] | None]) -> list[Layer]:
    return [(where, dict(values)) for where, values in candidates if values]


def _flat(layers: list[Layer]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for _where, layer in layers:
        values.update(layer)
    return values


# The sections an asset's overrides may set (rules file `overrides:` and table rule_overrides).
SECTIONS: dict[str, type[_Params]] = {"watering": WateringParams, "bins": BinParams,
                                      "sensor_health": HealthParams, "vehicles": VehicleParams}


def _merge(cls: type[_P], base: _Params, values: dict[str, Any], where: str) -> _P:
    if not values:
        data = base.model_dump(include=set(cls.model_fields))
        return cls.model_validate(data)
    data = base.model_dump(include=set(cls.model_fields))
    data.update(values)
    try:
        return cls.model_validate(data)
    except ValidationError as exc:
        raise ValueError(f"{where}: {_first_error(exc)}") from exc


def _first_error(exc: ValidationError) -> str:
    err = exc.errors()[0]
    loc = ".".join(str(p) for p in err["loc"])
    return f"{loc}: {err['msg']}" if loc else str(err["msg"])


def parse(text: str, source: str = "<rules>") -> Ruleset:
    """Validate a rules file's text; raise RulesFileError naming the file and the field."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise RulesFileError(source, f"not valid YAML: {exc}") from exc
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise RulesFileError(source, "the top level must be a mapping")
    try:
        return Ruleset.model_validate(data)
    except ValidationError as exc:
        raise RulesFileError(source, _first_error(exc)) from exc


def load(path: Path | None = None) -> Ruleset:
    """Load a rules file, or the packaged defaults when path is None."""
    if path is None:
        text = resources.files("rules").joinpath("default_rules.yaml").read_text("utf-8")
        return parse(text, "default_rules.yaml")
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise RulesFileError(str(path), f"cannot read: {exc.strerror or exc}") from exc
    return parse(text, str(path))


def load_for_command(path: Path | None) -> Ruleset:
    """Load a rule set for a command: a bad file is a CommandError (one line, exit 1)."""
    from bauhof.cli import CommandError
    from rules.errors import RulesError

    try:
        return load(path)
    except RulesError as exc:
        raise CommandError(str(exc)) from exc
