"""Load green areas, sponsors, bins, vehicles and devices from YAML or GeoJSON (docs/assets.md).

Validation happens on the whole file before anything is written, and every problem is named
with its YAML line or GeoJSON feature; loading is an upsert by id, so a second load of the
same file changes nothing.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal

import psycopg
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from bauhof import db

PlantType = Literal["lawn", "flowers", "shrubs", "trees", "meadow"]
WasteType = Literal["residual", "paper", "packaging", "glass", "organic"]
Latitude = Annotated[float, Field(ge=-90, le=90)]
Longitude = Annotated[float, Field(ge=-180, le=180)]
_ID = r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$"
# Sections a simulator scenario adds; the asset loader skips them.
SCENARIO_SECTIONS = frozenset({"town", "gateways", "weather", "faults", "simulation", "name",
                               "description", "depot", "application_id"})


class AssetFileError(ValueError):
    """An asset file with problems; `problems` names each with its place in the file."""

    def __init__(self, path: Path, problems: list[str]) -> None:
        shown = "\n  ".join(problems[:50])
        more = f"\n  … and {len(problems) - 50} more" if len(problems) > 50 else ""
        super().__init__(f"{path}: {len(problems)} problem(s), nothing loaded:\n  {shown}{more}")
        self.problems = problems


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Sponsor(_Model):
    """A sponsor (Pate) of green areas."""

    id: Annotated[str, Field(pattern=_ID)]
    name: Annotated[str, Field(min_length=1, max_length=200)]
    email: Annotated[str, Field(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")] | None = None
    phone: str | None = None
    period_start: date | None = None
    period_end: date | None = None

    @model_validator(mode="after")
    def _period(self) -> Sponsor:
        if self.period_start and self.period_end and self.period_end < self.period_start:
            raise ValueError("period_end is before period_start")
        return self


class Tree(_Model):
    """A tree on a green area (the tree cadastre)."""

    species: Annotated[str, Field(min_length=1, max_length=200)]
    planting_year: Annotated[int, Field(ge=1800, le=2200)] | None = None


class GreenArea(_Model):
    """A green area, a point with a radius or a polygon, with its cadastre data."""

    id: Annotated[str, Field(pattern=_ID)]
    name: Annotated[str, Field(min_length=1, max_length=200)]
    plant_type: PlantType = "lawn"
    latitude: Latitude
    longitude: Longitude
    radius_m: Annotated[float, Field(gt=0, le=5000)] | None = None
    polygon: list[tuple[Longitude, Latitude]] | None = None
    sponsor: str | None = None
    moisture_low_pct: Annotated[float, Field(ge=0, le=100)] | None = None
    moisture_clear_pct: Annotated[float, Field(ge=0, le=100)] | None = None
    tags: dict[str, str] = Field(default_factory=dict)
    area_m2: Annotated[float, Field(gt=0, le=10_000_000)] | None = None
    planting_year: Annotated[int, Field(ge=1800, le=2200)] | None = None
    trees: list[Tree] = Field(default_factory=list)
    notes: Annotated[str, Field(max_length=4000)] | None = None
    photo_url: Annotated[str, Field(max_length=1000, pattern=r"^(https?://|/)\S+$")] | None = None
    allow_several: bool = False
    needs_planting: bool = False

    @model_validator(mode="after")
    def _shape(self) -> GreenArea:
        if self.polygon is not None and (len(self.polygon) < 4
                                         or self.polygon[0] != self.polygon[-1]):
            raise ValueError("polygon must be a closed ring of at least 4 [lon, lat] points")
        if (self.moisture_low_pct is not None and self.moisture_clear_pct is not None
                and self.moisture_low_pct >= self.moisture_clear_pct):
            raise ValueError("moisture_low_pct must be below moisture_clear_pct")
        return self


class Bin(_Model):
    """A waste bin with its installed sensor geometry."""

    id: Annotated[str, Field(pattern=_ID)]
    name: str | None = None
    waste_type: WasteType = "residual"
    latitude: Latitude
    longitude: Longitude
    volume_l: Annotated[float, Field(gt=0, le=40000)]
    empty_distance_mm: Annotated[float, Field(gt=0, le=10000)]
    full_distance_mm: Annotated[float, Field(ge=0, le=10000)]
    fill_threshold_pct: Annotated[float, Field(ge=0, le=100)] | None = None
    collection_weekday: Annotated[int, Field(ge=0, le=6)] | None = None
    tags: dict[str, str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _geometry(self) -> Bin:
        if self.full_distance_mm >= self.empty_distance_mm:
            raise ValueError("full_distance_mm must be below empty_distance_mm")
        return self


def bin_fill_pct(distance_mm: float | None, empty_distance_mm: float | None,
                 full_distance_mm: float | None) -> float | None:
    """A bin's fill level in percent from a distance reading and its installed geometry,
    clamped to 0..100; None without a distance or a usable geometry (empty not above full).

    The database's bauhof_bin_fill_pct (bauhof/db/functions/10_geometry.sql) is the same
    computation for queries; the rules engine uses this one on readings in memory.
    """
    if distance_mm is None or empty_distance_mm is None or full_distance_mm is None:
        return None
    if not empty_distance_mm > full_distance_mm:
        return None
    return max(0.0, min(100.0, 100 * (empty_distance_mm - distance_mm)
                        / (empty_distance_mm - full_distance_mm)))


class Vehicle(_Model):
    """A municipal vehicle."""

    id: Annotated[str, Field(pattern=_ID)]
    name: Annotated[str, Field(min_length=1, max_length=200)]
    plate: str | None = None
    kind: Literal["truck", "van", "sweeper", "car"] = "truck"
    capacity_l: Annotated[float, Field(gt=0)] | None = None
    tags: dict[str, str] = Field(default_factory=dict)


class Device(_Model):
    """A sensor and the asset it is mounted on."""

    dev_eui: Annotated[str, Field(pattern=r"^[0-9a-fA-F]{16}$")]
    model: str
    name: str | None = None
    asset: Annotated[str, Field(pattern=r"^(green_area|bin|vehicle)/.+$")] | None = None
    expected_interval_s: Annotated[int, Field(gt=0, le=7 * 86400)] | None = None
    application_id: str | None = None
    tags: dict[str, str] = Field(default_factory=dict)

    @field_validator("dev_eui")
    @classmethod
    def _lower(cls, value: str) -> str:
        return value.lower()

    @field_validator("model")
    @classmethod
    def _known_model(cls, value: str) -> str:
        from bauhof import codecs

        if value not in codecs.models():
            raise ValueError(f"unknown model {value!r}; known: {', '.join(codecs.models())}")
        return value


class AssetFile(_Model):
    """Everything one file holds."""

    sponsors: list[Sponsor] = Field(default_factory=list)
    green_areas: list[GreenArea] = Field(default_factory=list)
    bins: list[Bin] = Field(default_factory=list)
    vehicles: list[Vehicle] = Field(default_factory=list)
    devices: list[Device] = Field(default_factory=list)


_SECTION_MODELS: dict[str, type[_Model]] = {
    "sponsors": Sponsor, "green_areas": GreenArea, "bins": Bin, "vehicles": Vehicle,
    "devices": Device,
}


def _yaml_lines(text: str) -> dict[tuple[str, int], int]:
    """The line of each item of each top-level section, for error messages."""
    lines: dict[tuple[str, int], int] = {}
    node = yaml.compose(text, Loader=yaml.SafeLoader)
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if isinstance(value, yaml.SequenceNode):
                for index, item in enumerate(value.value):
                    lines[(str(key.value), index)] = item.start_mark.line + 1
    return lines


def geojson_features(data: dict[str, Any], problems: list[str]) -> Iterator[
        tuple[int, dict[str, Any], dict[str, Any]]]:
    """Each feature of a GeoJSON FeatureCollection that is an object: its index, itself and a
    copy of its properties; any other is a problem."""
    for index, feature in enumerate(data.get("features") or []):
        if not isinstance(feature, dict):
            problems.append(f"feature {index}: not an object")
            continue
        yield index, feature, dict(feature.get("properties") or {})


def _geojson_to_sections(data: dict[str, Any], problems: list[str]) -> dict[str, list[Any]]:
    sections: dict[str, list[Any]] = {name: [] for name in _SECTION_MODELS}
    for index, feature, props in geojson_features(data, problems):
        where = f"feature {index}"
        kind = props.pop("type", None)
        section = {"green_area": "green_areas", "bin": "bins", "vehicle": "vehicles",
                   "sponsor": "sponsors", "device": "devices"}.get(str(kind))
        if section is None:
            problems.append(f"{where}: properties.type must be green_area, bin, vehicle, "
                            f"sponsor or device, got {kind!r}")
            continue
        geometry = feature.get("geometry") or {}
        if geometry.get("type") == "Point":
            lon, lat = geometry["coordinates"][:2]
            props.update(latitude=lat, longitude=lon)
        elif geometry.get("type") == "Polygon" and section == "green_areas":
            ring = geometry["coordinates"][0]
            props["polygon"] = ring
            props.setdefault("longitude", sum(p[0] for p in ring[:-1]) / max(len(ring) - 1, 1))
            props.setdefault("latitude", sum(p[1] for p in ring[:-1]) / max(len(ring) - 1, 1))
        props["__where"] = where
        sections[section].append(props)
    return sections


def parse(path: Path, stored: Known | None = None) -> AssetFile:
    """Read and validate a file; raises AssetFileError naming every problem."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise AssetFileError(path, [f"cannot read: {exc.strerror}"]) from exc
    problems: list[str] = []
    lines: dict[tuple[str, int], int] = {}
    try:
        if path.suffix.lower() in (".geojson", ".json"):
            data = json.loads(text)
            if not isinstance(data, dict) or data.get("type") != "FeatureCollection":
                raise AssetFileError(path, ["GeoJSON must be a FeatureCollection"])
            raw = _geojson_to_sections(data, problems)
        else:
            raw = yaml.safe_load(text) or {}
            lines = _yaml_lines(text)
    except (yaml.YAMLError, json.JSONDecodeError) as exc:
        raise AssetFileError(path, [f"not valid YAML/JSON: {exc}"]) from exc
    if not isinstance(raw, dict):
        raise AssetFileError(path, ["the top level must be a mapping of sections"])
    sections: dict[str, list[Any]] = {}
    for key, items in raw.items():
        if key in SCENARIO_SECTIONS:
            continue
        model = _SECTION_MODELS.get(str(key))
        if model is None:
            problems.append(f"unknown section {key!r} (expected one of "
                            f"{', '.join(_SECTION_MODELS)})")
            continue
        if not isinstance(items, list):
            problems.append(f"section {key!r} must be a list")
            continue
        valid: list[Any] = []
        for index, item in enumerate(items):
            where = (item.pop("__where", None) if isinstance(item, dict) else None) or (
                f"line {lines[(key, index)]}" if (key, index) in lines else f"{key}[{index}]")
            try:
                valid.append(model.model_validate(item))
            except ValidationError as exc:
                for err in exc.errors():
                    field = ".".join(str(p) for p in err["loc"]) or "item"
                    problems.append(f"{where}: {key} {field}: {err['msg']}")
        sections[str(key)] = valid
    result = AssetFile(**sections) if not problems else None
    if result is not None:
        problems.extend(cross_check(result, stored))
    if problems or result is None:
        raise AssetFileError(path, problems)
    return result


Known = dict[str, set[str]]


def cross_check(assets: AssetFile, stored: Known | None = None) -> list[str]:
    """Problems across items: repeated ids, references to sponsors or assets that exist
    neither in the file nor (when given) in the database."""
    stored = stored or {"sponsor": set(), "green_area": set(), "bin": set(), "vehicle": set()}
    problems: list[str] = []
    for name, items in (("sponsors", assets.sponsors), ("green_areas", assets.green_areas),
                        ("bins", assets.bins), ("vehicles", assets.vehicles)):
        seen: set[str] = set()
        for item in items:
            ident = str(getattr(item, "id"))  # noqa: B009 -- every section has an id
            if ident in seen:
                problems.append(f"{name}: id {ident!r} appears twice")
            seen.add(ident)
    euis = [d.dev_eui for d in assets.devices]
    for eui in sorted({e for e in euis if euis.count(e) > 1}):
        problems.append(f"devices: dev_eui {eui} appears twice")
    sponsors = {s.id for s in assets.sponsors} | stored["sponsor"]
    for area in assets.green_areas:
        if area.sponsor is not None and area.sponsor not in sponsors:
            problems.append(f"green_areas {area.id}: sponsor {area.sponsor!r} is unknown")
    known = {"green_area": {a.id for a in assets.green_areas} | stored["green_area"],
             "bin": {b.id for b in assets.bins} | stored["bin"],
             "vehicle": {v.id for v in assets.vehicles} | stored["vehicle"]}
    for device in assets.devices:
        if device.asset is not None:
            kind, _, ident = device.asset.partition("/")
            if ident not in known[kind]:
                problems.append(f"devices {device.dev_eui}: asset {device.asset} is unknown")
    return problems


def stored_ids(conn: psycopg.Connection[Any]) -> Known:
    """Ids already in the database, for references across files."""
    known: Known = {}
    for kind, table in (("sponsor", "sponsors"), ("green_area", "green_areas"), ("bin", "bins"),
                        ("vehicle", "vehicles")):
        known[kind] = {str(r[0]) for r in conn.execute(f"SELECT id FROM {table}")}  # noqa: S608
    return known


def store(conn: psycopg.Connection[Any], assets: AssetFile) -> dict[str, int]:
    """Upsert everything in one transaction; return counts per section."""
    from bauhof import codecs

    with conn.transaction(), conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO sponsors (id, name, email, phone, period_start, period_end)"
            " VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (id) DO UPDATE SET"
            " name = EXCLUDED.name, email = EXCLUDED.email, phone = EXCLUDED.phone,"
            " period_start = EXCLUDED.period_start, period_end = EXCLUDED.period_end",
            [(s.id, s.name, s.email, s.phone, s.period_start, s.period_end)
             for s in assets.sponsors])
        cur.executemany(
            "INSERT INTO green_areas (id, name, plant_type, latitude, longitude, radius_m,"
            " polygon, sponsor_id, moisture_low_pct, moisture_clear_pct, tags, area_m2,"
            " planting_year, trees, notes, photo_url, allow_several, needs_planting)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s::jsonb, %s, %s, %s, %s::jsonb, %s, %s,"
            " %s::jsonb, %s, %s, %s, %s)"
            " ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name,"
            " plant_type = EXCLUDED.plant_type, latitude = EXCLUDED.latitude,"
            " longitude = EXCLUDED.longitude, radius_m = EXCLUDED.radius_m,"
            # A sponsor the portal awarded stays until the sponsorship ends.
            " polygon = EXCLUDED.polygon, sponsor_id = CASE WHEN green_areas.sponsor_id"
            " LIKE 'pt-%%' THEN green_areas.sponsor_id ELSE EXCLUDED.sponsor_id END,"
            " moisture_low_pct = EXCLUDED.moisture_low_pct,"
            " moisture_clear_pct = EXCLUDED.moisture_clear_pct, tags = EXCLUDED.tags,"
            " area_m2 = EXCLUDED.area_m2, planting_year = EXCLUDED.planting_year,"
            " trees = EXCLUDED.trees, notes = EXCLUDED.notes, photo_url = EXCLUDED.photo_url,"
            " allow_several = EXCLUDED.allow_several,"
            " needs_planting = EXCLUDED.needs_planting, retired_at = NULL",
            [(a.id, a.name, a.plant_type, a.latitude, a.longitude, a.radius_m,
              json.dumps(a.polygon) if a.polygon else None, a.sponsor, a.moisture_low_pct,
              a.moisture_clear_pct, json.dumps(a.tags), a.area_m2, a.planting_year,
              json.dumps([t.model_dump() for t in a.trees]), a.notes, a.photo_url,
              a.allow_several, a.needs_planting) for a in assets.green_areas])
        cur.executemany(
            "INSERT INTO bins (id, name, waste_type, latitude, longitude, volume_l,"
            " empty_distance_mm, full_distance_mm, fill_threshold_pct, collection_weekday, tags)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s::jsonb)"
            " ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name,"
            " waste_type = EXCLUDED.waste_type, latitude = EXCLUDED.latitude,"
            " longitude = EXCLUDED.longitude, volume_l = EXCLUDED.volume_l,"
            " empty_distance_mm = EXCLUDED.empty_distance_mm,"
            " full_distance_mm = EXCLUDED.full_distance_mm,"
            " fill_threshold_pct = EXCLUDED.fill_threshold_pct,"
            " collection_weekday = EXCLUDED.collection_weekday, tags = EXCLUDED.tags",
            [(b.id, b.name, b.waste_type, b.latitude, b.longitude, b.volume_l,
              b.empty_distance_mm, b.full_distance_mm, b.fill_threshold_pct,
              b.collection_weekday, json.dumps(b.tags)) for b in assets.bins])
        cur.executemany(
            "INSERT INTO vehicles (id, name, plate, kind, capacity_l, tags)"
            " VALUES (%s, %s, %s, %s, %s, %s::jsonb) ON CONFLICT (id) DO UPDATE SET"
            " name = EXCLUDED.name, plate = EXCLUDED.plate, kind = EXCLUDED.kind,"
            " capacity_l = EXCLUDED.capacity_l, tags = EXCLUDED.tags",
            [(v.id, v.name, v.plate, v.kind, v.capacity_l, json.dumps(v.tags))
             for v in assets.vehicles])
        cur.executemany(
            "INSERT INTO devices (dev_eui, model, kind, name, asset_type, asset_id,"
            " expected_interval_s, application_id, tags, registered_by)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s::jsonb, 'operator')"
            " ON CONFLICT (dev_eui) DO UPDATE SET model = EXCLUDED.model, kind = EXCLUDED.kind,"
            " name = EXCLUDED.name, asset_type = EXCLUDED.asset_type,"
            " asset_id = EXCLUDED.asset_id, expected_interval_s = EXCLUDED.expected_interval_s,"
            " application_id = coalesce(EXCLUDED.application_id, devices.application_id),"
            " tags = EXCLUDED.tags, registered_by = 'operator'",
            [(d.dev_eui, d.model, codecs.get(d.model).kind, d.name,
              d.asset.partition("/")[0] if d.asset else None,
              d.asset.partition("/")[2] if d.asset else None,
              d.expected_interval_s, d.application_id, json.dumps(d.tags))
             for d in assets.devices])
    return {"sponsors": len(assets.sponsors), "green areas": len(assets.green_areas),
            "bins": len(assets.bins), "vehicles": len(assets.vehicles),
            "devices": len(assets.devices)}


def load_file(database_url: str, path: Path) -> dict[str, int]:
    """Validate a file, then store it."""
    with db.connect(database_url) as conn:
        assets = parse(path, stored_ids(conn))
        return store(conn, assets)


