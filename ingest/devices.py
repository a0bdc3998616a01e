"""Which codec a device uses, and which asset it is mounted on."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

import psycopg

from bauhof import codecs
from bauhof.chirpstack import DeviceInfo
from bauhof.codecs import plausibility

# ChirpStack codec output (`object`) keys mapped to Bauhof's reading names. Extend it with
# BAUHOF_OBJECT_KEYMAP='{"Bat": "battery_v", …}'; keys not mapped are kept in `extra`.
DEFAULT_OBJECT_KEYMAP: dict[str, str] = {
    "battery": "battery_v", "bat": "battery_v", "batV": "battery_v", "BatV": "battery_v",
    "battery_v": "battery_v", "battery_pct": "battery_pct", "batteryLevel": "battery_pct",
    "temperature": "temperature_c", "temp": "temperature_c", "TempC_DS18B20": "temperature_c",
    "temperature_c": "temperature_c",
    "soil_moisture": "soil_moisture_pct", "water_SOIL": "soil_moisture_pct",
    "moisture": "soil_moisture_pct", "soil_moisture_pct": "soil_moisture_pct",
    "soil_temperature": "soil_temperature_c", "temp_SOIL": "soil_temperature_c",
    "soil_temperature_c": "soil_temperature_c",
    "conduct_SOIL": "soil_conductivity_us_cm", "ec": "soil_conductivity_us_cm",
    "soil_conductivity_us_cm": "soil_conductivity_us_cm",
    "distance": "distance_mm", "Distance": "distance_mm", "distance_mm": "distance_mm",
    "tilt": "tilted", "position": "tilted", "tilted": "tilted",
    "latitude": "latitude", "lat": "latitude", "longitude": "longitude", "lon": "longitude",
    "altitude": "altitude_m", "altitude_m": "altitude_m", "hdop": "hdop",
    "alarm": "alarm", "motion": "motion", "roll": "roll_deg", "pitch": "pitch_deg",
}


def object_keymap(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The default key map extended by `extra` (the settings' `object_keymap`, from
    BAUHOF_OBJECT_KEYMAP)."""
    return {**DEFAULT_OBJECT_KEYMAP, **(extra or {})}


@dataclass(frozen=True, slots=True)
class DeviceRecord:
    """What ingest needs to know of a registered device."""

    model: str | None
    kind: str
    asset_type: str | None
    asset_id: str | None


_REGION = """
SELECT min(latitude), max(latitude), min(longitude), max(longitude) FROM (
  SELECT latitude, longitude FROM green_areas
  UNION ALL SELECT latitude, longitude FROM bins) assets
"""


class DeviceDirectory:
    """An in-memory view of the devices table, refreshed periodically and on a miss, and of
    the town's area (where positions are plausible; None before any asset is loaded)."""

    def __init__(self, refresh_s: float = 30.0) -> None:
        self.region: plausibility.Region | None = None
        self._devices: dict[str, DeviceRecord] = {}
        self._loaded_at = -1e9
        self._refresh_s = refresh_s

    def refresh(self, conn: psycopg.Connection[Any], force: bool = False) -> None:
        """Reload the table when it is older than the refresh interval."""
        now = time.monotonic()
        if not force and now - self._loaded_at < self._refresh_s:
            return
        rows = conn.execute(
            "SELECT dev_eui, model, kind, asset_type, asset_id FROM devices"
        ).fetchall()
        self._devices = {r[0]: DeviceRecord(r[1], r[2], r[3], r[4]) for r in rows}
        box = conn.execute(_REGION).fetchone()
        self.region = None if box is None or box[0] is None else plausibility.Region.around(
            float(box[0]), float(box[1]), float(box[2]), float(box[3]),
            plausibility.REGION_MARGIN_DEG)
        self._loaded_at = now

    def get(self, dev_eui: str) -> DeviceRecord | None:
        """The registered device, if known."""
        return self._devices.get(dev_eui)

    def remember(self, dev_eui: str, record: DeviceRecord) -> None:
        """Record a device ingest registered itself."""
        self._devices[dev_eui] = record


@cache
def known_models() -> frozenset[str]:
    """The registered model ids."""
    return frozenset(codecs.models())


def resolve_model(record: DeviceRecord | None, info: DeviceInfo) -> str | None:
    """The model id: device table first, then the `bauhof_model` tag, then the profile name."""
    if record is not None and record.model:
        return record.model
    known = known_models()
    tag = info.tag("bauhof_model")
    if tag in known:
        return tag
    if info.device_profile_name in known:
        return info.device_profile_name
    return None
