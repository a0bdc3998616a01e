"""A report as its citizen follows it: each step in words, nearby open reports, "me too".

Everything here is public: no e-mail, name, phone or account, no internal order, defect
or asset id, and no internal note: the steps carry only what was written for the public
(rules/citizen.py).
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Any

from api.database import Connection
from api.open311_store import BY_CODE
from bauhof.geo import M_PER_DEG_LAT
from rules import citizen

_REQUEST = """
SELECT r.id, r.token, r.service_code, r.description, r.requested_at, r.address_string,
       coalesce(b.name, g.name), r.latitude, r.longitude, r.me_too, r.media_url,
       d.order_id, o.opened_at, o.status, d.status, r.status
FROM open311_requests r
LEFT JOIN defects d ON d.id = r.defect_id
LEFT JOIN work_orders o ON o.id = d.order_id
LEFT JOIN bins b ON d.subject_type = 'bin' AND b.id = d.subject_id
LEFT JOIN green_areas g ON d.subject_type = 'green_area' AND g.id = d.subject_id
"""


def _service(code: str) -> dict[str, str]:
    return {"de": citizen.words(citizen.SERVICE_NAMES, code, "de"),
            "en": citizen.words(citizen.SERVICE_NAMES, code, "en")}


def _step(step: str, at: datetime, data: dict[str, Any] | None = None) -> dict[str, Any]:
    data = data or {}
    note, reason = data.get("public_note"), data.get("public_reason")
    return {"step": step, "at": at.isoformat(),
            "title": {"de": citizen.words(citizen.STEP_WORDS, step, "de"),
                      "en": citizen.words(citizen.STEP_WORDS, step, "en")},
            "note": {"de": citizen.public_text("de", note, reason) or None,
                     "en": citizen.public_text("en", note, reason) or None}}


def status(conn: Connection, key: str) -> dict[str, Any] | None:
    """The public view of one request, by its token or its service_request_id."""
    if key.isdigit() and len(key) < 19:
        row = conn.execute(_REQUEST + "WHERE r.id = %s", (int(key),)).fetchone()
    elif 0 < len(key) <= 100:
        row = conn.execute(_REQUEST + "WHERE r.token = %s", (key,)).fetchone()
    else:
        row = None
    if row is None:
        return None
    (request_id, _token, code, description, requested_at, address, asset, lat, lon, me_too,
     media_url, order_id, opened_at, _order_status, defect_status, stored_status) = row
    steps = [_step("received", requested_at)]
    if order_id is not None:
        if opened_at < requested_at:
            steps.append(_step("merged", requested_at))
        seen: set[str] = set()
        for at, to_status, data in conn.execute(
                "SELECT at, to_status, data FROM order_history WHERE order_id = %s "
                "AND event IN ('assigned', 'started', 'done', 'resolved', 'cancelled') "
                "ORDER BY at, id", (order_id,)):
            step = citizen.STEP_OF_STATUS.get(str(to_status))
            if step is None or step in seen:
                continue
            seen.add(step)
            steps.append(_step(step, max(at, requested_at), data))
    closed = defect_status not in (None, "open") if order_id is not None else \
        stored_status == "closed"
    return {"service_request_id": request_id, "service_code": code,
            "service_name": _service(code), "description": description,
            "place": citizen.place(address, asset, lat, lon), "lat": lat, "long": lon,
            "requested_at": requested_at.isoformat(), "status": "closed" if closed else "open",
            "me_too": me_too, "media_url": media_url, "steps": steps}


def nearby(conn: Connection, lat: float, lon: float, radius_m: float,
           limit: int = 20) -> list[dict[str, Any]]:
    """Open reports of the last 90 days within radius_m, nearest first."""
    scale = math.cos(math.radians(lat))
    since = datetime.now(UTC) - timedelta(days=90)
    rows = conn.execute(
        "SELECT * FROM (SELECT r.id, r.service_code, r.description, r.requested_at, "
        "r.address_string, coalesce(b.name, g.name) AS asset, r.latitude, r.longitude, "
        "r.me_too, %(m_per_deg)s * sqrt(power(r.latitude - %(lat)s, 2) + "
        "power((r.longitude - %(lon)s) * %(scale)s, 2)) AS distance "
        "FROM open311_requests r LEFT JOIN defects d ON d.id = r.defect_id "
        "LEFT JOIN bins b ON d.subject_type = 'bin' AND b.id = d.subject_id "
        "LEFT JOIN green_areas g ON d.subject_type = 'green_area' AND g.id = d.subject_id "
        "WHERE r.latitude IS NOT NULL AND r.requested_at >= %(since)s "
        "AND CASE WHEN d.id IS NULL THEN r.status = 'open' ELSE d.status = 'open' END "
        "AND abs(r.latitude - %(lat)s) < %(deg)s) q WHERE distance <= %(r)s "
        "ORDER BY distance, id LIMIT %(n)s",
        {"lat": lat, "lon": lon, "scale": scale, "r": radius_m, "since": since,
         "deg": radius_m / M_PER_DEG_LAT + 1e-6, "n": limit,
         "m_per_deg": M_PER_DEG_LAT}).fetchall()
    return [{"service_request_id": r[0], "service_code": r[1],
             "service_name": _service(str(r[1])), "description": r[2],
             "requested_at": r[3].isoformat(), "place": citizen.place(r[4], r[5], r[6], r[7]),
             "lat": r[6], "long": r[7], "me_too": r[8], "distance_m": round(float(r[9]))}
            for r in rows]


def me_too(conn: Connection, request_id: int) -> int | None:
    """Count one more citizen for an open request; None when there is no open one."""
    row = conn.execute(
        "UPDATE open311_requests r SET me_too = me_too + 1 WHERE r.id = %s AND NOT EXISTS "
        "(SELECT 1 FROM defects d WHERE d.id = r.defect_id AND d.status <> 'open') "
        "AND r.status = 'open' RETURNING me_too", (request_id,)).fetchone()
    return None if row is None else int(row[0])


def unsubscribe(conn: Connection, mail_token: str) -> bool:
    """Stop the mails of the request this opt-out token belongs to."""
    row = conn.execute(
        "UPDATE open311_requests SET mail_opt_out_at = coalesce(mail_opt_out_at, now()) "
        "WHERE mail_token = %s RETURNING id", (mail_token,)).fetchone()
    return row is not None


def services() -> list[dict[str, Any]]:
    """The categories the report page offers, in both languages."""
    return [{"service_code": s.code, "name": _service(s.code), "group": s.group}
            for s in BY_CODE.values()]


def center(conn: Connection) -> dict[str, float] | None:
    """The middle of the town's bins and green areas (where the report map opens)."""
    row = conn.execute("SELECT avg(latitude), avg(longitude) FROM (SELECT latitude, longitude "
                       "FROM bins UNION ALL SELECT latitude, longitude FROM green_areas) a"
                       ).fetchone()
    if row is None or row[0] is None:
        return None
    return {"lat": round(float(row[0]), 6), "long": round(float(row[1]), 6)}


def landmarks(conn: Connection, limit: int = 5000) -> list[dict[str, Any]]:
    """Named bins and green areas: what a map without tiles shows to find one's way."""
    rows = conn.execute(
        "SELECT kind, name, latitude, longitude FROM (SELECT 'bin' AS kind, name, latitude, "
        "longitude, id FROM bins UNION ALL SELECT 'green_area', name, latitude, longitude, id "
        "FROM green_areas) a WHERE name IS NOT NULL ORDER BY kind, id LIMIT %s", (limit,)
    ).fetchall()
    return [{"kind": r[0], "name": r[1], "lat": r[2], "long": r[3]} for r in rows]
