"""Factories: assets and readings written the way an ingest commit writes them."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg

T0 = datetime(2026, 6, 1, 0, 0, tzinfo=UTC)  # a Monday
SOIL, BIN, TRACKER = "dragino-lse01", "milesight-em310-udl", "dragino-lgt92"


def eui(n: int) -> str:
    """A valid dev_eui from a number."""
    return f"{n:016x}"


def at(hours: float) -> datetime:
    """T0 plus some hours."""
    return T0 + timedelta(hours=hours)


def sponsor(conn: psycopg.Connection[Any], sid: str = "sp1", email: str | None = "pat@example.org",
            name: str = "Pat Paten") -> str:
    """A sponsor whose sponsorship covers 2026."""
    conn.execute("INSERT INTO sponsors (id, name, email, period_start, period_end) "
                 "VALUES (%s, %s, %s, '2026-01-01', '2026-12-31')", (sid, name, email))
    return sid


def area(conn: psycopg.Connection[Any], aid: str = "ga1", dev: int = 1,
         sponsor_id: str | None = None, plant_type: str = "roses", interval_s: int = 3600,
         lat: float = 52.0, lon: float = 13.0) -> str:
    """A green area with one soil probe."""
    conn.execute("INSERT INTO green_areas (id, name, plant_type, latitude, longitude, "
                 "sponsor_id) VALUES (%s, %s, %s, %s, %s, %s)",
                 (aid, f"Area {aid}", plant_type, lat, lon, sponsor_id))
    device(conn, dev, SOIL, "soil", "green_area", aid, interval_s)
    return aid


def bin_(conn: psycopg.Connection[Any], bid: str = "b1", dev: int = 2,
         weekday: int | None = None, threshold: float | None = None,
         lat: float = 52.001, lon: float = 13.001) -> str:
    """A bin: empty at 1000 mm, full at 100 mm (fill % = (1000 - d) / 9)."""
    conn.execute("INSERT INTO bins (id, name, latitude, longitude, volume_l, empty_distance_mm, "
                 "full_distance_mm, fill_threshold_pct, collection_weekday) "
                 "VALUES (%s, %s, %s, %s, 240, 1000, 100, %s, %s)",
                 (bid, f"Bin {bid}", lat, lon, threshold, weekday))
    device(conn, dev, BIN, "bin", "bin", bid, 3600)
    return bid


def vehicle(conn: psycopg.Connection[Any], vid: str = "v1", dev: int = 3) -> str:
    """A vehicle with a tracker."""
    conn.execute("INSERT INTO vehicles (id, name) VALUES (%s, %s)", (vid, f"Truck {vid}"))
    device(conn, dev, TRACKER, "tracker", "vehicle", vid, 300)
    return vid


def device(conn: psycopg.Connection[Any], n: int, model: str, kind: str,
           asset_type: str | None, asset_id: str | None, interval_s: int) -> str:
    """A registered device."""
    conn.execute("INSERT INTO devices (dev_eui, model, kind, asset_type, asset_id, "
                 "expected_interval_s) VALUES (%s, %s, %s, %s, %s, %s)",
                 (eui(n), model, kind, asset_type, asset_id, interval_s))
    return eui(n)


def fill_distance(fill_pct: float) -> float:
    """The distance that gives a fill % in the factory's bins."""
    return 1000 - 9 * fill_pct


def ingest(conn: psycopg.Connection[Any], rows: list[dict[str, Any]],
           xid: int | None = None) -> None:
    """Write readings in one transaction as ingest does: readings, a batch row, NOTIFY.

    `xid` stamps readings and batch with that (past) transaction id instead of the writing
    transaction's own, for backlogs whose ids cross a power of ten.
    """
    with conn.transaction():
        for row in rows:
            values = dict(row)
            dev = values.pop("dev_eui")
            t = values.pop("time")
            rssi, snr = values.pop("rssi", None), values.pop("snr", None)
            dedup = uuid.uuid4()
            info = conn.execute("SELECT model, asset_type, asset_id FROM devices "
                                "WHERE dev_eui = %s", (dev,)).fetchone()
            model, asset_type, asset_id = info if info else (None, None, None)
            cols = ["time", "dev_eui", "deduplication_id", "model", "asset_type", "asset_id",
                    "ingest_xid", *values]
            slots = ["%s"] * 6 + ["coalesce(%s::text::xid8, pg_current_xact_id())"] + [
                "%s"] * len(values)
            conn.execute(
                f"INSERT INTO readings ({', '.join(cols)}) VALUES ({', '.join(slots)})",
                (t, dev, dedup, model, asset_type, asset_id, xid, *values.values()))
            if rssi is not None or snr is not None:
                conn.execute(
                    "INSERT INTO raw_uplinks (time, dev_eui, deduplication_id, application_id, "
                    "f_cnt, f_port, payload, rssi, snr) VALUES (%s, %s, %s, 'app', 1, 2, '', "
                    "%s, %s)", (t, dev, dedup, rssi, snr))
        times = [r["time"] for r in rows]
        batch = conn.execute(
            "INSERT INTO ingest_batches (xid, min_time, max_time, readings, worker) "
            "VALUES (coalesce(%s::text::xid8, pg_current_xact_id()), %s, %s, %s, 'test') "
            "RETURNING xid::text", (xid, min(times), max(times), len(rows))).fetchone()
        assert batch is not None
        conn.execute("SELECT pg_notify('bauhof_readings', %s)", (batch[0],))


def soil(n: int, hours: float, moisture: float, **extra: Any) -> dict[str, Any]:
    """A soil probe reading."""
    return {"dev_eui": eui(n), "time": at(hours), "soil_moisture_pct": moisture,
            "soil_temperature_c": 15.0 + hours / 100, "battery_v": 3.6, **extra}


def fill(n: int, hours: float, fill_pct: float, **extra: Any) -> dict[str, Any]:
    """A bin sensor reading at a fill %."""
    return {"dev_eui": eui(n), "time": at(hours), "distance_mm": fill_distance(fill_pct),
            "battery_pct": 90.0, **extra}


def position(n: int, hours: float, lat: float, lon: float, **extra: Any) -> dict[str, Any]:
    """A tracker reading."""
    return {"dev_eui": eui(n), "time": at(hours), "latitude": lat, "longitude": lon,
            "battery_v": 4.0, **extra}


def orders(conn: psycopg.Connection[Any], kind: str | None = None) -> list[tuple[Any, ...]]:
    """(id, kind, status, subject_id, rule) of every order, oldest first."""
    return conn.execute(
        "SELECT id, kind, status, subject_id, rule FROM work_orders "
        "WHERE %(k)s::text IS NULL OR kind = %(k)s ORDER BY id", {"k": kind}).fetchall()
