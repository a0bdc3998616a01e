"""What the portal shows: the public green-area map (no personal data) and the staff overview."""

from __future__ import annotations

from typing import Any

from api.database import Connection
from rules.ruleset import Ruleset

# One row per area: its sponsor's public name (only where agreed), whether a confirmed request
# waits, the newest soil moisture, the last watering and who did it.
_PUBLIC = """
SELECT a.id, a.name, a.plant_type, a.latitude, a.longitude, a.radius_m, a.polygon, a.area_m2,
       a.planting_year, a.trees, a.photo_url, a.allow_several, a.moisture_low_pct,
       a.moisture_clear_pct,
       a.sponsor_id IS NOT NULL, s.display_name,
       EXISTS (SELECT 1 FROM sponsorships p WHERE p.area_id = a.id AND p.status = 'requested'),
       EXISTS (SELECT 1 FROM devices d WHERE d.asset_type = 'green_area' AND d.asset_id = a.id
               AND d.kind = 'soil'),
       m.soil_moisture_pct,
       EXISTS (SELECT 1 FROM work_orders o WHERE o.rule = 'watering.dry'
               AND o.subject_type = 'green_area' AND o.subject_id = a.id
               AND o.status IN ('open', 'assigned', 'in_progress')),
       w.at, w.by, a.inspection
FROM green_areas a
LEFT JOIN sponsors s ON s.id = a.sponsor_id
LEFT JOIN LATERAL (SELECT r.soil_moisture_pct FROM readings r
    WHERE r.asset_type = 'green_area' AND r.asset_id = a.id
    AND r.soil_moisture_pct IS NOT NULL ORDER BY r.time DESC LIMIT 1) m ON true
LEFT JOIN LATERAL (
    SELECT at, by FROM (
        SELECT o.resolved_at AS at, o.resolved_by AS by FROM work_orders o
        WHERE o.rule = 'watering.dry' AND o.subject_type = 'green_area'
        AND o.subject_id = a.id AND o.status IN ('resolved', 'done')
        UNION ALL
        SELECT h.at, h.actor FROM order_history h JOIN work_orders o ON o.id = h.order_id
        WHERE o.rule = 'watering.dry' AND o.subject_type = 'green_area'
        AND o.subject_id = a.id AND h.event = 'sponsor_watered') x
    ORDER BY at DESC LIMIT 1) w ON true
WHERE a.retired_at IS NULL AND (%(one)s::text IS NULL OR a.id = %(one)s)
ORDER BY a.id
"""


def watered_by(actor: str | None) -> str | None:
    """Who watered, as the portal says it: sponsor, bauhof or rain."""
    if actor is None:
        return None
    if actor.startswith("sponsor:"):
        return "sponsor"
    if actor == "rain":
        return "rain"
    return "bauhof"


def _geometry(lat: float, lon: float, polygon: Any) -> dict[str, Any]:
    if polygon:
        return {"type": "Polygon", "coordinates": [polygon]}
    return {"type": "Point", "coordinates": [lon, lat]}


def public_areas(conn: Connection, ruleset: Ruleset, one: str | None = None) -> (
    list[dict[str, Any]]
):
    """GeoJSON features of the areas the portal shows (never personal data)."""
    features = []
    for row in conn.execute(_PUBLIC, {"one": one}).fetchall():
        (area_id, name, plant, lat, lon, radius, polygon, m2, year, trees, photo, several,
         low, clear, sponsored, display, requested, has_probe, moisture, open_order,
         watered_at, by, inspection) = row
        if sponsored:
            status = "sponsored"
        elif requested:
            status = "requested"
        else:
            status = "free"
        threshold = ruleset.watering_for(area_id, plant, low, clear).low_pct
        if open_order:
            state = "dry"
        elif not has_probe or moisture is None:
            state = "unknown"
        else:
            state = "dry" if moisture < threshold else "ok"
        features.append({"type": "Feature", "id": area_id,
                         "geometry": _geometry(lat, lon, polygon), "properties": {
            "id": area_id, "name": name, "status": status, "area_m2": m2,
            "plant_type": plant, "moisture": state,
            "last_watered_at": watered_at.isoformat() if watered_at else None,
            "last_watered_by": watered_by(by), "planting_year": year,
            "trees": [{"species": t.get("species"), "planting_year": t.get("planting_year")}
                      for t in trees or []],
            "photo_url": photo, "radius_m": radius, "latitude": lat, "longitude": lon,
            "takes_sponsors": status != "sponsored" or bool(several),
            "sponsor_name": display if sponsored else None,
            "inspected": (inspection or {}).get("result"),
        }})
    return features


_OVERVIEW = """
SELECT a.id, a.name, s.id, s.name, s.email, s.display_name,
       coalesce(p.started_at::date, s.period_start),
       count(*) FILTER (WHERE o.by_sponsor),
       count(*) FILTER (WHERE NOT o.by_sponsor AND o.status IN ('resolved', 'done')
                        AND o.resolved_by <> 'rain'),
       p.id
FROM green_areas a JOIN sponsors s ON s.id = a.sponsor_id
LEFT JOIN sponsorships p ON p.sponsor_id = s.id AND p.status = 'active'
-- A watering order counts for the sponsor when the sponsor's watering resolved it or the
-- sponsor said "Ich habe gegossen" on it; otherwise, once closed, for Bauhof (rain apart).
LEFT JOIN LATERAL (
    SELECT w.status, w.resolved_by,
           (w.resolved_by LIKE 'sponsor:%%' OR EXISTS (SELECT 1 FROM order_history h
            WHERE h.order_id = w.id AND h.event = 'sponsor_watered')) AS by_sponsor
    FROM work_orders w WHERE w.rule = 'watering.dry' AND w.subject_type = 'green_area'
    AND w.subject_id = a.id) o ON true
WHERE a.retired_at IS NULL
GROUP BY a.id, a.name, s.id, s.name, s.email, s.display_name, p.started_at, s.period_start,
         p.id
ORDER BY a.id
"""


def overview(conn: Connection, admin: bool) -> list[dict[str, Any]]:
    """Sponsored areas: by whom (names and addresses for administrators only), since when,
    how often the sponsor watered and how often Bauhof did."""
    result = []
    for (area_id, area, sponsor_id, name, email, display, since, by_sponsor, by_bauhof,
         sid) in conn.execute(_OVERVIEW).fetchall():
        result.append({
            "area_id": area_id, "area_name": area, "sponsor_id": sponsor_id,
            "sponsor_name": name if admin else display,
            "sponsor_email": email if admin else None,
            "since": since.isoformat() if since else None,
            "watered_by_sponsor": int(by_sponsor), "watered_by_bauhof": int(by_bauhof),
            "sponsorship_id": sid})
    return result
