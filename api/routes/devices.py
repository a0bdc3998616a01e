"""Devices: list with health (last seen, battery, signal), one device with recent data, edits."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import Response

from api import pagination
from api.auth import Admin, Staff
from api.database import Conn, Connection
from api.problems import invalid, not_found
from api.responses import json_response
from bauhof import codecs
from bauhof.vocabulary import FLAGS, NUMERIC, WORDS

router = APIRouter(prefix="/api/v1/devices", tags=["devices"])
DevEui = Annotated[str, Path(pattern=r"^[0-9a-f]{16}$", description="16 lower-case hex digits")]
# Silent: no uplink for three expected intervals (an hour when the interval is unknown).
_SILENT = "(d.last_seen IS NULL OR d.last_seen < now() - 3 * make_interval(" \
          "secs => coalesce(d.expected_interval_s, 3600)))"
_COLUMNS = ("d.dev_eui, d.name, d.model, d.kind, d.asset_type, d.asset_id, "
            "d.expected_interval_s, d.first_seen, d.last_seen, d.last_battery_v, "
            f"d.last_battery_pct, d.last_rssi, d.last_snr, d.registered_by, {_SILENT}")


class Device(BaseModel):
    """A device and its health."""

    dev_eui: str
    name: str | None
    model: str | None
    kind: str
    asset_type: str | None
    asset_id: str | None
    expected_interval_s: int | None
    first_seen: datetime | None
    last_seen: datetime | None
    battery_v: float | None
    battery_pct: float | None
    rssi: int | None
    snr: float | None
    registered_by: str
    silent: bool


class DevicePage(BaseModel):
    """One page of devices."""

    items: list[Device]
    next_cursor: str | None


class Uplink(BaseModel):
    """One raw uplink as ChirpStack delivered it."""

    time: datetime
    f_cnt: int
    f_port: int
    payload_hex: str
    rssi: int | None
    snr: float | None
    dr: int | None
    frequency: int | None
    gateway_count: int


class RecentReading(BaseModel):
    """One reading with only the values the uplink carried."""

    time: datetime
    values: dict[str, float | bool | str]


class DeviceDetail(Device):
    """A device with its newest readings and uplinks."""

    readings: list[RecentReading]
    uplinks: list[Uplink]


class DeviceChange(BaseModel):
    """Fields an administrator may change; asset_type and asset_id go together."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, max_length=200)
    model: str | None = Field(default=None, max_length=100)
    asset_type: Literal["green_area", "bin", "vehicle"] | None = None
    asset_id: str | None = Field(default=None, max_length=200)
    expected_interval_s: int | None = Field(default=None, gt=0, le=7 * 24 * 3600)


def _device(row: tuple[Any, ...]) -> dict[str, Any]:
    keys = ("dev_eui", "name", "model", "kind", "asset_type", "asset_id",
            "expected_interval_s", "first_seen", "last_seen", "battery_v", "battery_pct",
            "rssi", "snr", "registered_by", "silent")
    return dict(zip(keys, row, strict=True))


@router.get("", response_model=DevicePage, summary="List devices with their health")
def list_devices(
    *,
    request: Request, conn: Conn, _who: Staff,
    kind: Annotated[Literal["soil", "bin", "tracker", "other"] | None, Query()] = None,
    silent: Annotated[bool | None, Query(description="only silent (or only reporting)")] = None,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
    limit: Annotated[int, Query(ge=1, le=pagination.MAX_LIMIT)] = pagination.DEFAULT_LIMIT,
) -> Response:
    """Devices ordered by dev_eui, filtered by kind and silence."""
    after = pagination.decode(cursor, "dev_eui", (str,))[0] if cursor else ""
    rows = conn.execute(
        f"SELECT {_COLUMNS} FROM devices d WHERE d.dev_eui > %(after)s "  # noqa: S608
        "AND (%(kind)s::text IS NULL OR d.kind = %(kind)s) "
        f"AND (%(silent)s::boolean IS NULL OR {_SILENT} = %(silent)s) "
        "ORDER BY d.dev_eui LIMIT %(n)s",
        {"after": after, "kind": kind, "silent": silent, "n": limit + 1}).fetchall()
    items = [_device(r) for r in rows]
    return json_response(request, pagination.page(items, limit, "dev_eui",
                                                  lambda i: [i["dev_eui"]]))


def device_or_404(conn: Connection, dev_eui: str) -> dict[str, Any]:
    """One device's row as a dict; 404 if unknown."""
    row = conn.execute(f"SELECT {_COLUMNS} FROM devices d WHERE d.dev_eui = %s",  # noqa: S608
                       (dev_eui,)).fetchone()
    if row is None:
        raise not_found(f"device {dev_eui}")
    return _device(row)


@router.get("/{dev_eui}", response_model=DeviceDetail,
            summary="One device with its newest readings and uplinks")
def get_device(*, request: Request, conn: Conn, _who: Staff, dev_eui: DevEui,
               recent: Annotated[int, Query(ge=1, le=200)] = 20) -> Response:
    """The device, its `recent` newest readings and raw uplinks."""
    device = device_or_404(conn, dev_eui)
    names = (*NUMERIC, *FLAGS, *WORDS)
    readings = conn.execute(
        f"SELECT time, {', '.join(names)} FROM readings WHERE dev_eui = %s "  # noqa: S608
        "ORDER BY time DESC LIMIT %s", (dev_eui, recent)).fetchall()
    device["readings"] = [
        {"time": r[0], "values": {n: v for n, v in zip(names, r[1:], strict=True)
                                  if v is not None}} for r in readings]
    uplinks = conn.execute(
        "SELECT time, f_cnt, f_port, encode(payload, 'hex'), rssi, snr, dr, frequency, "
        "gateway_count FROM raw_uplinks WHERE dev_eui = %s ORDER BY time DESC LIMIT %s",
        (dev_eui, recent)).fetchall()
    keys = ("time", "f_cnt", "f_port", "payload_hex", "rssi", "snr", "dr", "frequency",
            "gateway_count")
    device["uplinks"] = [dict(zip(keys, u, strict=True)) for u in uplinks]
    return json_response(request, device)


@router.patch("/{dev_eui}", response_model=Device, summary="Change a device (admin)")
def change_device(*, request: Request, conn: Conn, _who: Admin, dev_eui: DevEui,
                  change: DeviceChange) -> Response:
    """Rename a device, set its model or interval, or mount it on an asset."""
    device_or_404(conn, dev_eui)
    fields = change.model_dump(exclude_unset=True)
    if ("asset_type" in fields) != ("asset_id" in fields) or (
            (fields.get("asset_type") is None) != (fields.get("asset_id") is None)):
        raise invalid("asset_id", "give asset_type and asset_id together (both null to "
                                  "unmount the device)")
    if fields.get("model") is not None and fields["model"] not in codecs.models():
        raise invalid("model", f"{fields['model']!r} is not a known model; one of "
                               f"{', '.join(codecs.models())}")
    if fields.get("asset_id") is not None:
        table = {"green_area": "green_areas", "bin": "bins", "vehicle": "vehicles"}
        found = conn.execute(
            f"SELECT 1 FROM {table[fields['asset_type']]} WHERE id = %s",  # noqa: S608
            (fields["asset_id"],)).fetchone()
        if found is None:
            raise invalid("asset_id", f"no {fields['asset_type']} {fields['asset_id']!r} "
                                      "is registered")
    if fields:
        sets = ", ".join(f"{name} = %({name})s" for name in fields)
        conn.execute(f"UPDATE devices SET {sets} WHERE dev_eui = %(dev_eui)s",  # noqa: S608
                     {**fields, "dev_eui": dev_eui})
    return json_response(request, device_or_404(conn, dev_eui))
