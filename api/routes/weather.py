"""Weather: how old the stored weather is, where it comes from, and the attribution to show
beside it ("Datenbasis: Deutscher Wetterdienst" for Bright Sky, Open-Meteo's CC BY 4.0)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel
from starlette.responses import Response

from api.auth import Anyone
from api.database import Conn, Connection
from api.responses import json_response

router = APIRouter(prefix="/api/v1", tags=["weather"])


class Feed(BaseModel):
    """One fetched source (`bauhof weather run`) and how its last attempts went."""

    source: str
    station: str | None
    station_name: str | None
    attribution: str
    last_attempt_at: datetime | None
    last_success_at: datetime | None
    last_error: str | None
    failures: int
    newest_observed_at: datetime | None


class WeatherStatus(BaseModel):
    """How old the newest observed hour is (any source: fetched or published on MQTT), how
    far the forecast reaches, whether the watering rule still uses it, and the feeds."""

    newest_observed_at: datetime | None
    age_h: float | None
    forecast_until: datetime | None
    max_age_h: float
    stale: bool
    feeds: list[Feed]
    attribution: list[str]


def summary(conn: Connection) -> dict[str, Any]:
    """Newest observed hour's end and its age in hours (None without weather)."""
    row = conn.execute(
        "SELECT max(time) + interval '1 hour', "
        "round((extract(epoch FROM now() - max(time) - interval '1 hour') / 3600)::numeric, 2)"
        "::float8 FROM weather WHERE kind = 'observed'").fetchone()
    assert row is not None
    return {"newest_observed_at": row[0], "age_h": row[1]}


@router.get("/weather/status", response_model=WeatherStatus,
            summary="How old the stored weather is, and its sources")
def weather_status(*, request: Request, conn: Conn, _who: Anyone) -> Response:
    """The newest observation's age, the forecast's reach, every feed's last attempt."""
    max_age_h = float(request.app.state.ruleset.watering.weather_max_age_h)
    newest = summary(conn)
    until = conn.execute("SELECT max(time) + interval '1 hour' FROM weather "
                         "WHERE kind = 'forecast'").fetchone()
    keys = ("source", "station", "station_name", "attribution", "last_attempt_at",
            "last_success_at", "last_error", "failures", "newest_observed_at")
    feeds = [dict(zip(keys, r, strict=True)) for r in conn.execute(
        "SELECT source, station, station_name, attribution, last_attempt_at, last_success_at,"
        " last_error, failures, newest_observed + interval '1 hour' FROM weather_feeds "
        "ORDER BY source")]
    age = newest["age_h"]
    return json_response(request, {
        **newest, "forecast_until": until[0] if until else None, "max_age_h": max_age_h,
        "stale": age is None or age > max_age_h, "feeds": feeds,
        "attribution": [f["attribution"] for f in feeds if f["last_success_at"]]})
