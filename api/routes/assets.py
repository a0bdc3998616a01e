"""Assets: green areas (sponsors for admins only), bins with current and forecast fill,
vehicles with their last position. Every role may read them: they are the crews' map."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel
from starlette.responses import Response

from api import pagination
from api.auth import Anyone
from api.database import Conn, Connection
from api.problems import not_found
from api.responses import json_response
from api.users import Principal
from rules import fill_forecast

router = APIRouter(prefix="/api/v1", tags=["assets"])
Cursor = Annotated[str | None, Query(max_length=500)]
Limit = Annotated[int, Query(ge=1, le=pagination.MAX_LIMIT)]
FORECAST_H = 48


class Sponsor(BaseModel):
    """A sponsor's contact details (personal data: administrators only)."""

    id: str
    name: str
    email: str | None
    phone: str | None
    period_start: str | None
    period_end: str | None


class WaterBalance(BaseModel):
    """The area's water balance from the weather (rules/water_balance.py) as the rules
    engine last computed it: seven days of rain, evapotranspiration and waterings, how far
    the root zone is depleted, and what a watering would take."""

    as_of: datetime
    rain_7d_mm: float
    et_7d_mm: float
    watered_7d_mm: float
    deficit_mm: float
    capacity_mm: float
    trigger_mm: float
    needs_water: bool
    et0_source: str
    litres: int | None
    litres_per_m2: float | None
    litres_per_tree: int | None
    attribution: list[str]


class GreenArea(BaseModel):
    """A green area, its newest soil moisture and, beside it, its water balance."""

    id: str
    name: str
    plant_type: str
    latitude: float
    longitude: float
    radius_m: float | None
    polygon: Any | None
    moisture_low_pct: float | None
    moisture_clear_pct: float | None
    sponsored: bool
    sponsor: Sponsor | None
    moisture_pct: float | None
    moisture_at: datetime | None
    water_balance: WaterBalance | None


class Forecast(BaseModel):
    """Where the fill is heading, from the rules engine's trend (null without enough data)."""

    full_at: datetime | None
    fill_in_24h_pct: float | None


class Bin(BaseModel):
    """A bin with its newest fill level and forecast."""

    id: str
    name: str | None
    waste_type: str
    latitude: float
    longitude: float
    volume_l: float
    fill_threshold_pct: float | None
    collection_weekday: int | None
    fill_pct: float | None
    fill_at: datetime | None
    forecast: Forecast


class Position(BaseModel):
    """A position fix."""

    latitude: float
    longitude: float
    time: datetime


class Vehicle(BaseModel):
    """A vehicle and its newest position."""

    id: str
    name: str
    plate: str | None
    kind: str
    capacity_l: float | None
    position: Position | None


class GreenAreaPage(BaseModel):
    """One page of green areas."""

    items: list[GreenArea]
    next_cursor: str | None


class BinPage(BaseModel):
    """One page of bins."""

    items: list[Bin]
    next_cursor: str | None


class VehiclePage(BaseModel):
    """One page of vehicles."""

    items: list[Vehicle]
    next_cursor: str | None


_AREAS = """
SELECT a.id, a.name, a.plant_type, a.latitude, a.longitude, a.radius_m, a.polygon,
       a.moisture_low_pct, a.moisture_clear_pct, a.sponsor_id IS NOT NULL,
       s.id, s.name, s.email, s.phone, s.period_start::text, s.period_end::text,
       m.soil_moisture_pct, m.time,
       w.as_of, w.rain_7d_mm, w.et_7d_mm, w.watered_7d_mm, w.deficit_mm, w.capacity_mm,
       w.trigger_mm, w.needs_water, w.et0_source, w.litres, w.litres_per_m2, w.litres_per_tree,
       (SELECT coalesce(array_agg(f.attribution ORDER BY f.source), '{}') FROM weather_feeds f
        WHERE f.last_success_at IS NOT NULL)
FROM green_areas a LEFT JOIN sponsors s ON s.id = a.sponsor_id
LEFT JOIN water_balance w ON w.area_id = a.id
LEFT JOIN LATERAL (SELECT r.soil_moisture_pct, r.time FROM readings r
    WHERE r.asset_type = 'green_area' AND r.asset_id = a.id
    AND r.soil_moisture_pct IS NOT NULL ORDER BY r.time DESC LIMIT 1) m ON true
WHERE (%(one)s::text IS NULL OR a.id = %(one)s) AND a.id > %(after)s
ORDER BY a.id LIMIT %(n)s
"""

_BINS = """
SELECT b.id, b.name, b.waste_type, b.latitude, b.longitude, b.volume_l,
       b.fill_threshold_pct, b.collection_weekday,
       bauhof_bin_fill_pct(f.distance_mm, b.empty_distance_mm, b.full_distance_mm), f.time,
       st.state
FROM bins b
LEFT JOIN LATERAL (SELECT r.distance_mm, r.time FROM readings r
    WHERE r.asset_type = 'bin' AND r.asset_id = b.id AND r.distance_mm IS NOT NULL
    ORDER BY r.time DESC LIMIT 1) f ON true
LEFT JOIN rule_state st ON st.rule = 'bins' AND st.subject_type = 'bin' AND st.subject_id = b.id
WHERE (%(one)s::text IS NULL OR b.id = %(one)s) AND b.id > %(after)s
ORDER BY b.id LIMIT %(n)s
"""

_VEHICLES = """
SELECT v.id, v.name, v.plate, v.kind, v.capacity_l, p.latitude, p.longitude, p.time
FROM vehicles v
LEFT JOIN LATERAL (SELECT r.latitude, r.longitude, r.time FROM readings r
    WHERE r.asset_type = 'vehicle' AND r.asset_id = v.id AND r.latitude IS NOT NULL
    AND r.longitude IS NOT NULL ORDER BY r.time DESC LIMIT 1) p ON true
WHERE (%(one)s::text IS NULL OR v.id = %(one)s) AND v.id > %(after)s
ORDER BY v.id LIMIT %(n)s
"""


def _area(row: tuple[Any, ...], who: Principal) -> dict[str, Any]:
    sponsor = None
    if row[9] and who.role == "admin":
        sponsor = dict(zip(("id", "name", "email", "phone", "period_start", "period_end"),
                           row[10:16], strict=True))
    return {"id": row[0], "name": row[1], "plant_type": row[2], "latitude": row[3],
            "longitude": row[4], "radius_m": row[5], "polygon": row[6],
            "moisture_low_pct": row[7], "moisture_clear_pct": row[8], "sponsored": row[9],
            "sponsor": sponsor, "moisture_pct": row[16], "moisture_at": row[17],
            "water_balance": None if row[18] is None else dict(zip(_BALANCE, row[18:],
                                                                   strict=True))}


_BALANCE = ("as_of", "rain_7d_mm", "et_7d_mm", "watered_7d_mm", "deficit_mm", "capacity_mm",
            "trigger_mm", "needs_water", "et0_source", "litres", "litres_per_m2",
            "litres_per_tree", "attribution")


def forecast(state: dict[str, Any] | None) -> dict[str, Any]:
    """Full time within FORECAST_H hours and the fill in 24 h, from a bin's rule state."""
    points = (state or {}).get("points") or []
    if len(points) < 4:
        return {"full_at": None, "fill_in_24h_pct": None}
    last_ts = float(points[-1][0])
    full = fill_forecast.full_at(points, last_ts + FORECAST_H * 3600,
                                 profile=(state or {}).get("profile"))
    slope, intercept = fill_forecast.theil_sen([float(p[0]) for p in points],
                                               [float(p[1]) for p in points])
    level = max(float(points[-1][1]), intercept + slope * last_ts)
    in_24h = max(0.0, min(100.0, level + max(slope, 0.0) * 24 * 3600))
    return {"full_at": None if full is None else datetime.fromtimestamp(full, UTC),
            "fill_in_24h_pct": round(in_24h, 1)}


def _bin(row: tuple[Any, ...]) -> dict[str, Any]:
    keys = ("id", "name", "waste_type", "latitude", "longitude", "volume_l",
            "fill_threshold_pct", "collection_weekday", "fill_pct", "fill_at")
    out = dict(zip(keys, row[:10], strict=True))
    if out["fill_pct"] is not None:
        out["fill_pct"] = round(float(out["fill_pct"]), 1)
    out["forecast"] = forecast(row[10])
    return out


def _vehicle(row: tuple[Any, ...]) -> dict[str, Any]:
    position = None if row[5] is None else {"latitude": row[5], "longitude": row[6],
                                            "time": row[7]}
    return {"id": row[0], "name": row[1], "plate": row[2], "kind": row[3],
            "capacity_l": row[4], "position": position}


Convert = Callable[[tuple[Any, ...]], dict[str, Any]]


def _rows(conn: Connection, sql: str, one: str | None, cursor: str | None,
          limit: int) -> list[tuple[Any, ...]]:
    after = pagination.decode(cursor, "id", (str,))[0] if cursor else ""
    return conn.execute(sql, {"one": one, "after": after, "n": limit + 1}).fetchall()


def _page(request: Request, conn: Connection, sql: str, convert: Convert, *,
          cursor: str | None, limit: int) -> Response:
    """A page of assets by id, each row converted."""
    items = [convert(r) for r in _rows(conn, sql, None, cursor, limit)]
    return json_response(request, pagination.page(items, limit, "id", _key))


def _single(request: Request, conn: Connection, sql: str, convert: Convert, *, asset_id: str,
            what: str) -> Response:
    """One asset, converted; 404 naming `what` when there is none."""
    items = [convert(r) for r in _rows(conn, sql, asset_id, None, 1)]
    if not items:
        raise not_found(f"{what} {asset_id!r}")
    return json_response(request, items[0])


def _key(item: dict[str, Any]) -> list[Any]:
    return [item["id"]]


@router.get("/green-areas", response_model=GreenAreaPage, summary="List green areas")
def list_green_areas(*, request: Request, conn: Conn, who: Anyone, cursor: Cursor = None,
                     limit: Limit = pagination.DEFAULT_LIMIT) -> Response:
    """Green areas by id; sponsors' details only for administrators."""
    return _page(request, conn, _AREAS, partial(_area, who=who), cursor=cursor, limit=limit)


@router.get("/green-areas/{area_id}", response_model=GreenArea, summary="One green area")
def get_green_area(*, request: Request, conn: Conn, who: Anyone, area_id: str) -> Response:
    """One green area."""
    return _single(request, conn, _AREAS, partial(_area, who=who), asset_id=area_id,
                   what="green area")


@router.get("/bins", response_model=BinPage, summary="List bins with fill and forecast")
def list_bins(*, request: Request, conn: Conn, _who: Anyone, cursor: Cursor = None,
              limit: Limit = pagination.DEFAULT_LIMIT) -> Response:
    """Bins by id with their newest fill level and forecast."""
    return _page(request, conn, _BINS, _bin, cursor=cursor, limit=limit)


@router.get("/bins/{bin_id}", response_model=Bin, summary="One bin")
def get_bin(*, request: Request, conn: Conn, _who: Anyone, bin_id: str) -> Response:
    """One bin."""
    return _single(request, conn, _BINS, _bin, asset_id=bin_id, what="bin")


@router.get("/vehicles", response_model=VehiclePage, summary="List vehicles and positions")
def list_vehicles(*, request: Request, conn: Conn, _who: Anyone, cursor: Cursor = None,
                  limit: Limit = pagination.DEFAULT_LIMIT) -> Response:
    """Vehicles by id with their newest position."""
    return _page(request, conn, _VEHICLES, _vehicle, cursor=cursor, limit=limit)


@router.get("/vehicles/{vehicle_id}", response_model=Vehicle, summary="One vehicle")
def get_vehicle(*, request: Request, conn: Conn, _who: Anyone, vehicle_id: str) -> Response:
    """One vehicle."""
    return _single(request, conn, _VEHICLES, _vehicle, asset_id=vehicle_id, what="vehicle")
