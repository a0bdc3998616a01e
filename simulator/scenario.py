"""The scenario file: a town's assets (in Bauhof's asset file format) plus what only the simulator
needs (`town`, `gateways`, `weather`, `faults`, `simulation`), validated into typed values.

The asset sections follow docs/assets.md exactly, so `bauhof assets load` reads the same file.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
)

from simulator import SimulatorError
from simulator.faults import FAULT_KINDS

HEX16 = re.compile(r"^[0-9a-f]{16}$")


def _eui(value: str) -> str:
    if not HEX16.match(value):
        raise ValueError(f"must be 16 lower-case hex digits, got {value!r}")
    return value


# A gateway's or device's EUI: 16 lower-case hex digits.
Eui = Annotated[str, AfterValidator(_eui)]
ASSET_REF = re.compile(r"^(green_area|bin|vehicle)/(.+)$")
# A device model's kind and the asset type it may be mounted on.
KIND_ASSET = {"soil": "green_area", "bin": "bin", "tracker": "vehicle"}


class ScenarioError(SimulatorError):
    """A scenario that cannot be used; `problems` name each field as `section[i].field: …`."""

    def __init__(self, source: str, problems: list[str]) -> None:
        shown = "; ".join(problems[:10])
        more = f" (and {len(problems) - 10} more)" if len(problems) > 10 else ""
        super().__init__(f"scenario {source}: {shown}{more}")
        self.source = source
        self.problems = problems


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


Latitude = Annotated[float, Field(ge=-90, le=90)]
Longitude = Annotated[float, Field(ge=-180, le=180)]


class Point(_Model):
    """A place given by latitude and longitude."""

    latitude: Latitude
    longitude: Longitude


class Town(_Model):
    """The town: its centre, the depot vehicles start from, and non-collection vehicle routes."""

    name: str
    latitude: Latitude
    longitude: Longitude
    timezone: str = "Europe/Berlin"
    depot: Point
    # Vehicle id -> waypoints as [longitude, latitude] pairs (GeoJSON order, like `polygon`).
    routes: dict[str, list[tuple[Longitude, Latitude]]] = Field(default_factory=dict)


class Gateway(_Model):
    """A LoRaWAN gateway; `id` is its 16-hex-digit gateway EUI."""

    id: Eui
    name: str
    latitude: Latitude
    longitude: Longitude
    altitude_m: float = 0.0


class RainEvent(_Model):
    """A fixed shower that overrides the random weather (for tests and demos)."""

    start: datetime
    hours: Annotated[int, Field(gt=0)]
    mm_h: Annotated[float, Field(ge=0)]


class WeatherConfig(_Model):
    """Climate of the town; see simulator/weather.py for how the values are used."""

    station: str = "town"
    mean_temperature_c: float = 9.5
    seasonal_amplitude_c: Annotated[float, Field(ge=0)] = 9.5
    daily_amplitude_c: Annotated[float, Field(ge=0)] = 5.0
    rain_start_probability: Annotated[float, Field(ge=0, le=1)] = 0.025
    rain_continue_probability: Annotated[float, Field(ge=0, le=1)] = 0.75
    rain_mean_mm_h: Annotated[float, Field(gt=0)] = 1.2
    rain_events: list[RainEvent] = Field(default_factory=list)


class Simulation(_Model):
    """Run defaults and the ChirpStack identities the events carry."""

    seed: int = 1
    start: datetime = datetime(2026, 6, 1, tzinfo=UTC)
    days: Annotated[float, Field(gt=0)] = 1.0
    speed: Annotated[float, Field(gt=0)] | Literal["max"] = 3600.0
    tenant_id: str = "00000000-0000-4000-8000-000000000001"
    tenant_name: str = "Bauhof"
    # ChirpStack application id -> name; `default_application` for devices naming none.
    applications: dict[str, str] = Field(
        default_factory=lambda: {"00000000-0000-4000-8000-00000000a001": "Bauhof"}
    )
    default_application: str = "00000000-0000-4000-8000-00000000a001"
    region: str = "eu868"
    status_interval_h: Annotated[float, Field(gt=0)] = 24.0
    tx_power_dbm: float = 14.0
    path_loss_exponent: Annotated[float, Field(gt=1, le=6)] = 3.3
    shadowing_db: Annotated[float, Field(ge=0)] = 6.0

    @field_validator("start")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        return value if value.tzinfo else value.replace(tzinfo=UTC)


class Sponsor(_Model):
    """A sponsor (Pate) of green areas."""

    id: str
    name: str
    email: str | None = None
    phone: str | None = None
    period_start: date | None = None
    period_end: date | None = None


class GreenArea(_Model):
    """A green area, as in docs/assets.md."""

    id: str
    name: str
    plant_type: Literal["lawn", "flowers", "shrubs", "trees", "meadow"] = "lawn"
    latitude: Latitude
    longitude: Longitude
    radius_m: Annotated[float, Field(gt=0)] | None = None
    polygon: list[tuple[Longitude, Latitude]] | None = None
    sponsor: str | None = None
    moisture_low_pct: Annotated[float, Field(ge=0, le=100)] | None = None
    moisture_clear_pct: Annotated[float, Field(ge=0, le=100)] | None = None
    tags: dict[str, Any] = Field(default_factory=dict)
    # Cadastre fields (the portal's); the simulation itself does not use them.
    area_m2: Annotated[float, Field(gt=0)] | None = None
    planting_year: int | None = None
    trees: list[dict[str, Any]] = Field(default_factory=list)
    notes: str | None = None
    photo_url: str | None = None
    allow_several: bool = False
    needs_planting: bool = False


class Bin(_Model):
    """A waste bin with its installed sensor geometry, as in docs/assets.md."""

    id: str
    name: str | None = None
    waste_type: Literal["residual", "paper", "packaging", "glass", "organic"] = "residual"
    latitude: Latitude
    longitude: Longitude
    volume_l: Annotated[float, Field(gt=0)]
    empty_distance_mm: Annotated[float, Field(gt=0)]
    full_distance_mm: Annotated[float, Field(ge=0)]
    fill_threshold_pct: Annotated[float, Field(ge=0, le=100)] | None = None
    collection_weekday: Annotated[int, Field(ge=0, le=6)] | None = None
    tags: dict[str, Any] = Field(default_factory=dict)


class Vehicle(_Model):
    """A municipal vehicle, as in docs/assets.md."""

    id: str
    name: str
    plate: str | None = None
    kind: Literal["truck", "van", "sweeper", "car"] = "truck"
    capacity_l: Annotated[float, Field(gt=0)] | None = None
    tags: dict[str, Any] = Field(default_factory=dict)


class Device(_Model):
    """A sensor, as in docs/assets.md; `asset` is green_area/<id>, bin/<id> or vehicle/<id>."""

    dev_eui: Eui
    model: str
    name: str | None = None
    asset: str | None = None
    expected_interval_s: Annotated[int, Field(gt=0)] | None = None
    application_id: str | None = None
    tags: dict[str, str] = Field(default_factory=dict)

    @property
    def asset_ref(self) -> tuple[str, str] | None:
        """(asset type, asset id), or None when the device is not mounted on an asset."""
        if self.asset is None:
            return None
        match = ASSET_REF.match(self.asset)
        return (match.group(1), match.group(2)) if match else None


class Scenario(_Model):
    """A whole town: scenario-only sections and the asset sections."""

    town: Town
    gateways: Annotated[list[Gateway], Field(min_length=1)]
    weather: WeatherConfig = Field(default_factory=WeatherConfig)
    faults: dict[str, Annotated[float, Field(ge=0)]] = Field(default_factory=dict)
    simulation: Simulation = Field(default_factory=Simulation)
    sponsors: list[Sponsor] = Field(default_factory=list)
    green_areas: list[GreenArea] = Field(default_factory=list)
    bins: list[Bin] = Field(default_factory=list)
    vehicles: list[Vehicle] = Field(default_factory=list)
    devices: list[Device] = Field(default_factory=list)


def _location(loc: tuple[int | str, ...]) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(top level)"


def _duplicates(items: list[Any], attr: str, section: str) -> list[str]:
    seen: dict[str, int] = {}
    problems = []
    for index, item in enumerate(items):
        key = getattr(item, attr)
        if key in seen:
            problems.append(f"{section}[{index}].{attr}: {key!r} repeats {section}[{seen[key]}]")
        seen.setdefault(key, index)
    return problems


def check_references(scenario: Scenario) -> list[str]:
    """Cross-section problems: duplicate ids, dangling references, models that do not fit."""
    from bauhof import codecs

    problems = _duplicates(scenario.gateways, "id", "gateways")
    for section in ("sponsors", "green_areas", "bins", "vehicles"):
        problems += _duplicates(getattr(scenario, section), "id", section)
    problems += _duplicates(scenario.devices, "dev_eui", "devices")
    ids = {
        "green_area": {a.id for a in scenario.green_areas},
        "bin": {b.id for b in scenario.bins},
        "vehicle": {v.id for v in scenario.vehicles},
    }
    sponsors = {s.id for s in scenario.sponsors}
    for index, area in enumerate(scenario.green_areas):
        if area.sponsor is not None and area.sponsor not in sponsors:
            problems.append(f"green_areas[{index}].sponsor: no sponsor {area.sponsor!r}")
    for index, dev in enumerate(scenario.devices):
        where = f"devices[{index}]"
        try:
            kind = codecs.get(dev.model).kind
        except codecs.UnknownModelError:
            problems.append(
                f"{where}.model: unknown model {dev.model!r} (see `bauhof decode --list`)"
            )
            continue
        if dev.asset is not None:
            ref = dev.asset_ref
            if ref is None:
                problems.append(
                    f"{where}.asset: {dev.asset!r} is not green_area/, bin/ or vehicle/<id>"
                )
            elif ref[1] not in ids[ref[0]]:
                problems.append(f"{where}.asset: no {ref[0]} {ref[1]!r}")
            elif KIND_ASSET.get(kind) != ref[0]:
                problems.append(
                    f"{where}.asset: a {kind} sensor ({dev.model}) cannot sit on a {ref[0]}"
                )
        app = dev.application_id
        if app is not None and app not in scenario.simulation.applications:
            problems.append(f"{where}.application_id: {app!r} is not in simulation.applications")
    if scenario.simulation.default_application not in scenario.simulation.applications:
        problems.append("simulation.default_application: not in simulation.applications")
    for vehicle_id in scenario.town.routes:
        if vehicle_id not in ids["vehicle"]:
            problems.append(f"town.routes.{vehicle_id}: no vehicle {vehicle_id!r}")
    for name in scenario.faults:
        if name not in FAULT_KINDS:
            problems.append(f"faults.{name}: unknown fault (one of {', '.join(FAULT_KINDS)})")
    return problems


def parse(data: object, source: str) -> Scenario:
    """Validate parsed YAML into a Scenario; ScenarioError names every bad field."""
    if not isinstance(data, dict):
        raise ScenarioError(source, ["(top level): expected a mapping of sections"])
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError(
            source, [f"{_location(e['loc'])}: {e['msg']}" for e in exc.errors()]
        ) from exc
    problems = check_references(scenario)
    if problems:
        raise ScenarioError(source, problems)
    return scenario


def scenario_file(name: str) -> Path:
    """The packaged scenario's YAML file (it is also an asset file)."""
    entry = resources.files("simulator.scenarios") / f"{name}.yaml"
    with resources.as_file(entry) as path:
        return Path(path)


def packaged() -> list[str]:
    """Names of the scenarios shipped with the simulator."""
    folder = resources.files("simulator.scenarios")
    names = (e.name for e in folder.iterdir())
    return sorted(n.removesuffix(".yaml") for n in names if n.endswith(".yaml"))


def load(name_or_path: str | Path) -> Scenario:
    """Load a scenario by packaged name (`herrenberg`) or by file path."""
    path = Path(name_or_path)
    if path.is_file():
        text, source = path.read_text(encoding="utf-8"), str(path)
    elif str(name_or_path) in packaged():
        entry = resources.files("simulator.scenarios") / f"{name_or_path}.yaml"
        text, source = entry.read_text(encoding="utf-8"), str(name_or_path)
    else:
        raise ScenarioError(
            str(name_or_path),
            [f"no such file, and no packaged scenario of that name ({', '.join(packaged())})"],
        )
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        data = yaml.load(text, Loader=loader)  # noqa: S506 - a safe loader
    except yaml.YAMLError as exc:
        raise ScenarioError(source, [f"not valid YAML: {exc}"]) from exc
    return parse(data, source)
