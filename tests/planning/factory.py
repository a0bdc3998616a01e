"""Factories for the planning tests: bins, vehicles and fill readings written directly."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg

# Monday 1 June 2026, 00:00 UTC.
MONDAY = datetime(2026, 6, 1, tzinfo=UTC)
EMPTY_MM, FULL_MM = 1300.0, 250.0


def at(hours: float) -> datetime:
    """MONDAY plus some hours."""
    return MONDAY + timedelta(hours=hours)


def add_bin(conn: psycopg.Connection[Any], bin_id: str, lat: float, lon: float, *,
            volume_l: float = 1100, threshold: float | None = 80, weekday: int | None = 0,
            sensor: bool = True) -> str:
    """A bin (and its sensor, dev_eui derived from the bin number); returns the dev_eui."""
    conn.execute(
        "INSERT INTO bins (id, name, latitude, longitude, volume_l, empty_distance_mm, "
        "full_distance_mm, fill_threshold_pct, collection_weekday) "
        "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
        (bin_id, f"Bin {bin_id}", lat, lon, volume_l, EMPTY_MM, FULL_MM, threshold, weekday))
    dev_eui = f"{int(bin_id.rsplit('-', maxsplit=1)[-1]):016x}"
    if sensor:
        conn.execute(
            "INSERT INTO devices (dev_eui, model, kind, asset_type, asset_id, "
            "expected_interval_s) VALUES (%s, 'dingtek-dc500', 'bin', 'bin', %s, 3600)",
            (dev_eui, bin_id))
    return dev_eui


def add_vehicle(conn: psycopg.Connection[Any], vehicle_id: str, capacity_l: float | None,
                kind: str = "truck") -> None:
    """A vehicle."""
    conn.execute("INSERT INTO vehicles (id, name, kind, capacity_l) VALUES (%s, %s, %s, %s)",
                 (vehicle_id, vehicle_id, kind, capacity_l))


def distance_for(fill_pct: float) -> float:
    """The sensor distance that reads as this fill in a factory bin."""
    return EMPTY_MM - fill_pct / 100 * (EMPTY_MM - FULL_MM)


def add_fills(conn: psycopg.Connection[Any], bin_id: str, points: Iterable[tuple[float, float]]
              ) -> None:
    """Fill readings of a bin: (hours after MONDAY, fill %)."""
    dev_eui = f"{int(bin_id.rsplit('-', maxsplit=1)[-1]):016x}"
    rows = [(at(h), dev_eui, uuid.uuid4(), "bin", bin_id, distance_for(f)) for h, f in points]
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO readings (time, dev_eui, deduplication_id, asset_type, asset_id, "
            "distance_mm) VALUES (%s, %s, %s, %s, %s, %s)", rows)


def linear(start_h: float, hours: int, fill0: float, rate: float) -> list[tuple[float, float]]:
    """Hourly readings from start_h: fill0, fill0 + rate, …"""
    return [(start_h + h, fill0 + rate * h) for h in range(hours + 1)]


def add_fills_at(conn: psycopg.Connection[Any], bin_id: str,
                 points: Iterable[tuple[datetime, float]]) -> None:
    """Fill readings of a bin at given times: (time, fill %)."""
    dev_eui = f"{int(bin_id.rsplit('-', maxsplit=1)[-1]):016x}"
    rows = [(t, dev_eui, uuid.uuid4(), "bin", bin_id, distance_for(f)) for t, f in points]
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO readings (time, dev_eui, deduplication_id, asset_type, asset_id, "
            "distance_mm) VALUES (%s, %s, %s, %s, %s, %s)", rows)


def hourly(end: datetime, hours: int, fill_end: float, rate: float) -> list[
    tuple[datetime, float]
]:
    """Hourly readings up to `end` (inclusive) rising by `rate` % an hour to `fill_end`."""
    return [(end - timedelta(hours=h), fill_end - rate * h) for h in range(hours, -1, -1)]
