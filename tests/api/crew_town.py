"""A town's worth of open orders for the crew app's browser tests, built the way the rules
engine opens them (rules/orders.apply_open), fast enough for a test."""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from tests.api.town import open_order
from tests.rules import factory as f

BINS, AREAS, RADIO, REPORTS = 70, 50, 25, 10


def _evidence(hours: float, fills: list[float]) -> list[dict[str, Any]]:
    return [{"time": f.at(hours - len(fills) + 1 + i).isoformat(), "dev_eui": f.eui(2),
             "name": "distance_mm", "value": 1000 - 9 * v, "fill_pct": v}
            for i, v in enumerate(fills)]


def build(conn: psycopg.Connection[Any]) -> dict[str, list[int]]:
    """Bins B001…, areas G001…, devices of the bins with a poor radio link, citizen reports
    with an address; every order open and untaken. Returns the order ids by kind."""
    ids: dict[str, list[int]] = {"empty_bin": [], "watering": [], "sensor_maintenance": [],
                                 "citizen_defect": []}
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO bins (id, name, latitude, longitude, volume_l, empty_distance_mm, "
            "full_distance_mm, fill_threshold_pct) VALUES (%s, %s, %s, %s, 240, 1000, 100, 80)",
            [(f"B{i:03d}", f"Marktplatz {i}", 48.59 + i * 0.0004, 8.86 + i * 0.0003)
             for i in range(1, BINS + 1)])
        cur.executemany(
            "INSERT INTO devices (dev_eui, model, kind, asset_type, asset_id, "
            "expected_interval_s) VALUES (%s, 'bin', 'bin', 'bin', %s, 3600)",
            [(f.eui(1000 + i), f"B{i:03d}") for i in range(1, BINS + 1)])
        cur.executemany(
            "INSERT INTO green_areas (id, name, plant_type, latitude, longitude, radius_m) "
            "VALUES (%s, %s, 'lawn', %s, %s, 20)",
            [(f"G{i:03d}", f"Stadtpark {i}", 48.60 - i * 0.0004, 8.87 - i * 0.0003)
             for i in range(1, AREAS + 1)])
    for i in range(1, BINS + 1):
        fills = [40.0 + i % 10, 60.0 + i % 10, 80.0 + i % 15]
        ids["empty_bin"].append(open_order(
            conn, "bins.full", "empty_bin", "bin", f"B{i:03d}", hours=i * 0.1, priority=3,
            value=fills[-1], params={"fill_threshold_pct": 80.0, "reason": "threshold"},
            location=(48.59 + i * 0.0004, 8.86 + i * 0.0003)))
        conn.execute("UPDATE work_orders SET evidence = %s WHERE id = %s",
                     (Jsonb(_evidence(i * 0.1, fills)), ids["empty_bin"][-1]))
    for i in range(1, AREAS + 1):
        ids["watering"].append(open_order(
            conn, "watering.dry", "watering", "green_area", f"G{i:03d}", hours=i * 0.1,
            value=10.0 + i % 8, params={"low_pct": 20.0, **(
                {"litres": 1410 * i, "litres_per_m2": 18.0} if i % 2 == 0 else {})},
            location=(48.60 - i * 0.0004, 8.87 - i * 0.0003)))
    for i in range(1, RADIO + 1):
        ids["sensor_maintenance"].append(open_order(
            conn, "health.radio", "sensor_maintenance", "device", f.eui(1000 + i),
            hours=i * 0.1, priority=4, due_h=None,
            location=(48.59 + i * 0.0004, 8.86 + i * 0.0003)))
    for i in range(1, REPORTS + 1):
        ids["citizen_defect"].append(_report(conn, i))
    return ids


def _report(conn: psycopg.Connection[Any], i: int) -> int:
    """A citizen's report about an area, with the address the citizen gave."""
    order_id = open_order(conn, "citizen.report", "citizen_defect", "green_area", f"G{i:03d}",
                          hours=i * 0.2, due_h=48, location=(48.61, 8.88))
    row = conn.execute(
        "INSERT INTO defects (kind, source, subject_type, subject_id, order_id, description, "
        "opened_at) VALUES ('damage', 'citizen', 'green_area', %s, %s, %s, %s) RETURNING id",
        (f"G{i:03d}", order_id, f"Bank beschädigt {i}", f.at(i * 0.2))).fetchone()
    assert row is not None
    conn.execute(
        "INSERT INTO open311_requests (token, service_code, defect_id, requested_at, "
        "description, address_string) VALUES (%s, 'damage', %s, %s, %s, %s)",
        (f"tok{i}", row[0], f.at(i * 0.2), f"Bank beschädigt {i}", f"Lindenstraße {i}"))
    return order_id

