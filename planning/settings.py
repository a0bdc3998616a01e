"""Planner settings: validated with pydantic, stored as numbered versions in planner_settings.

Saving never changes an old version: it inserts the next one, so every plan can name the
settings it was made with and a planner can see what changed when.
"""

from __future__ import annotations

from datetime import date, time
from typing import Annotated, Any, Self
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import psycopg
from psycopg.types.json import Jsonb
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from planning import SettingsInvalid

Pct = Annotated[float, Field(gt=0, le=100)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Depot(_Model):
    """Where the vehicles start and end."""

    latitude: Annotated[float, Field(ge=-90, le=90)]
    longitude: Annotated[float, Field(ge=-180, le=180)]


class VehicleSetting(_Model):
    """A vehicle the planner may use; capacity from the vehicles table when not given."""

    id: Annotated[str, Field(min_length=1)]
    capacity_l: Annotated[float, Field(gt=0)] | None = None
    capacity_bins: Annotated[int, Field(gt=0)] | None = None
    shift_h: Annotated[float, Field(gt=0, le=16)] | None = None


class PlannerSettings(_Model):
    """Everything the planner needs besides the data."""

    # None: each bin's own fill_threshold_pct (80 % when it has none).
    fill_threshold_pct: Pct | None = None
    horizon_h: Annotated[float, Field(ge=0, le=168)] = 24.0
    # Empty: every vehicle of kind truck with a capacity.
    vehicles: list[VehicleSetting] = Field(default_factory=list)
    # None: the centre of the bins (set it: routes start and end here).
    depot: Depot | None = None
    timezone: str = "Europe/Berlin"
    shift_start: str = "06:30"
    shift_h: Annotated[float, Field(gt=0, le=16)] = 8.0
    working_days: list[Annotated[int, Field(ge=0, le=6)]] = Field(
        default_factory=lambda: [0, 1, 2, 3, 4])
    # Public holidays and other days without collection, even on a working weekday.
    holidays: list[date] = Field(default_factory=list)
    # The preview warns when the newest reading (or a bin's own) is older than this.
    stale_after_h: Annotated[float, Field(gt=0, le=720)] = 24.0
    service_s: Annotated[float, Field(ge=0, le=3600)] = 60.0
    speed_kmh: Annotated[float, Field(gt=0, le=130)] = 25.0
    road_factor: Annotated[float, Field(ge=1, le=3)] = 1.3
    # Litres of waste a truck carries per litre of bin volume emptied (compaction).
    compaction: Annotated[float, Field(gt=0, le=1)] = 0.25
    always: list[str] = Field(default_factory=list)
    never: list[str] = Field(default_factory=list)
    vehicle_cost_m: Annotated[float, Field(ge=0)] = 2000.0
    time_limit_s: Annotated[float, Field(gt=0, le=600)] = 5.0
    preview_time_limit_s: Annotated[float, Field(gt=0, le=60)] = 0.5
    osrm_url: str | None = None
    seed: int = 1

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r} (e.g. Europe/Berlin)") from exc
        return value

    @field_validator("shift_start")
    @classmethod
    def _clock(cls, value: str) -> str:
        try:
            time.fromisoformat(value)
        except ValueError as exc:
            raise ValueError(f"{value!r} is not a time of day like 06:30") from exc
        return value

    @field_validator("osrm_url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError("must be an http(s) URL of an OSRM server")
        return value

    @model_validator(mode="after")
    def _lists(self) -> Self:
        both = sorted(set(self.always) & set(self.never))
        if both:
            raise ValueError(f"bins both always and never collected: {', '.join(both)}")
        ids = [v.id for v in self.vehicles]
        if len(set(ids)) != len(ids):
            raise ValueError("a vehicle is listed twice in vehicles")
        if not self.working_days:
            raise ValueError("working_days must name at least one weekday (0 = Monday)")
        return self

    def works_on(self, day: date) -> bool:
        """Whether the day is a working day (a working weekday and no holiday)."""
        return day.weekday() in self.working_days and day not in self.holidays

    def threshold_for(self, bin_threshold: float | None) -> float:
        """The fill threshold that applies to a bin."""
        if self.fill_threshold_pct is not None:
            return self.fill_threshold_pct
        return bin_threshold if bin_threshold is not None else 80.0


def parse(data: dict[str, Any]) -> PlannerSettings:
    """Validate settings; SettingsInvalid names every bad field."""
    try:
        return PlannerSettings.model_validate(data)
    except ValidationError as exc:
        problems = [f"{'.'.join(str(p) for p in e['loc']) or '(settings)'}: {e['msg']}"
                    for e in exc.errors()]
        raise SettingsInvalid(problems) from exc


def check_references(conn: psycopg.Connection[Any], settings: PlannerSettings) -> None:
    """Refuse vehicles and bins the database does not know."""
    problems = []
    vehicles = {str(r[0]) for r in conn.execute("SELECT id FROM vehicles").fetchall()}
    for index, v in enumerate(settings.vehicles):
        if v.id not in vehicles:
            problems.append(f"vehicles.{index}.id: no vehicle {v.id!r}")
    bins = {str(r[0]) for r in conn.execute("SELECT id FROM bins").fetchall()}
    for field in ("always", "never"):
        for index, bin_id in enumerate(getattr(settings, field)):
            if bin_id not in bins:
                problems.append(f"{field}.{index}: no bin {bin_id!r}")
    if problems:
        raise SettingsInvalid(problems)


def current(conn: psycopg.Connection[Any]) -> tuple[int | None, PlannerSettings]:
    """The settings in force and their version (None and the defaults when none are saved)."""
    row = conn.execute(
        "SELECT version, settings FROM planner_settings ORDER BY version DESC LIMIT 1"
    ).fetchone()
    if row is None:
        return None, PlannerSettings()
    return int(row[0]), parse(dict(row[1]))


def save(conn: psycopg.Connection[Any], settings: PlannerSettings, by: str,
         note: str | None = None) -> int:
    """Store the settings as the next version; return it."""
    check_references(conn, settings)
    with conn.transaction():
        conn.execute("LOCK TABLE planner_settings IN SHARE ROW EXCLUSIVE MODE")
        row = conn.execute(
            "INSERT INTO planner_settings (version, settings, created_by, note) "
            "SELECT coalesce(max(version), 0) + 1, %s, %s, %s FROM planner_settings "
            "RETURNING version",
            (Jsonb(settings.model_dump(mode="json")), by, note)).fetchone()
    assert row is not None
    return int(row[0])


def history(conn: psycopg.Connection[Any], limit: int = 20) -> list[dict[str, Any]]:
    """The latest saved versions, newest first."""
    rows = conn.execute(
        "SELECT version, settings, created_at, created_by, note FROM planner_settings "
        "ORDER BY version DESC LIMIT %s", (limit,)).fetchall()
    return [{"version": r[0], "settings": r[1], "created_at": r[2], "created_by": r[3],
             "note": r[4]} for r in rows]


def restore(conn: psycopg.Connection[Any], version: int, by: str) -> int | None:
    """Save an old version's settings again as the next version; None if there is none."""
    row = conn.execute("SELECT settings FROM planner_settings WHERE version = %s",
                       (version,)).fetchone()
    if row is None:
        return None
    return save(conn, parse(dict(row[0])), by, f"restored version {version}")
