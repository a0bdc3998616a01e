"""Open311 service requests: the service list, api keys, and requests kept as citizen defects.

A report with coordinates is matched to the nearest asset its service is about (a bin for
an overflowing bin) within the match radius and recorded through rules/defects.py, which
attaches it to that asset's open order (an overflowing-bin report joins the bin's open
empty-bin order) or opens one. When the order is done the defect is resolved, the request
reads `closed` with a status note, and the outbox mails the reporter.
"""

from __future__ import annotations

import math
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from api.database import Connection
from api.photos import StoredPhoto
from api.users import hash_secret, new_secret
from bauhof.geo import M_PER_DEG_LAT
from rules import citizen, defects

KEY_PREFIX = "o311_"


@dataclass(frozen=True, slots=True)
class Service:
    """One defect category offered to citizens."""

    code: str
    name: str
    description: str
    group: str
    keywords: str
    subjects: tuple[str, ...]


SERVICES = (
    Service("overflowing_bin", "Überfüllter Abfallbehälter",
            "Ein öffentlicher Abfallbehälter ist voll oder läuft über.", "Abfall",
            "Mülleimer, voll, überfüllt, Müll, overflowing bin", ("bin",)),
    Service("damaged_bin", "Beschädigter Abfallbehälter",
            "Ein Abfallbehälter ist beschädigt, umgekippt oder brennt.", "Abfall",
            "Mülleimer, kaputt, beschädigt, umgekippt, damaged bin", ("bin",)),
    Service("dry_green_area", "Trockene Grünfläche",
            "Eine Grünfläche, ein Beet oder ein junger Baum braucht Wasser.", "Grünflächen",
            "Beet, Baum, trocken, gießen, Wasser, dry green area", ("green_area",)),
    Service("other", "Sonstiges", "Ein anderes Anliegen an den Bauhof.", "Sonstiges",
            "andere, Sonstiges, other", ("bin", "green_area")),
)
BY_CODE = {s.code: s for s in SERVICES}


def service_list() -> list[dict[str, Any]]:
    """GET services: the spec's fields for each service."""
    return [{"service_code": s.code, "service_name": s.name, "description": s.description,
             "metadata": False, "type": "realtime", "keywords": s.keywords,
             "group": s.group} for s in SERVICES]


def create_key(conn: Connection, name: str) -> str:
    """A new api_key for an Open311 client; only its hash is stored."""
    key = new_secret(KEY_PREFIX)
    conn.execute("INSERT INTO open311_keys (name, key_hash, prefix) VALUES (%s, %s, %s)",
                 (name, hash_secret(key), key[:10]))
    return key


def check_key(conn: Connection, key: str) -> int | None:
    """The id of a valid, unrevoked api_key."""
    row = conn.execute("SELECT id FROM open311_keys WHERE key_hash = %s AND revoked_at IS NULL",
                       (hash_secret(key),)).fetchone()
    return None if row is None else int(row[0])


def nearest_asset(conn: Connection, kinds: tuple[str, ...], lat: float, lon: float,
                  radius_m: float) -> tuple[str, str] | None:
    """The closest asset of these kinds within radius_m (on the local flat projection)."""
    scale = math.cos(math.radians(lat))
    row = conn.execute(
        "SELECT kind, id FROM (SELECT 'bin' AS kind, id, latitude, longitude FROM bins "
        "UNION ALL SELECT 'green_area', id, latitude, longitude FROM green_areas) a "
        "WHERE kind = ANY(%(kinds)s) AND %(m_per_deg)s * sqrt(power(latitude - %(lat)s, 2) + "
        "power((longitude - %(lon)s) * %(scale)s, 2)) <= %(r)s "
        "ORDER BY power(latitude - %(lat)s, 2) + power((longitude - %(lon)s) * %(scale)s, 2) "
        "LIMIT 1", {"kinds": list(kinds), "lat": lat, "lon": lon, "scale": scale,
                    "r": radius_m, "m_per_deg": M_PER_DEG_LAT}).fetchone()
    return None if row is None else (str(row[0]), str(row[1]))


@dataclass(frozen=True, slots=True)
class NewRequest:
    """A validated POST requests body."""

    service: Service
    key_id: int
    requested_at: datetime
    description: str | None
    lat: float | None
    lon: float | None
    address_string: str | None
    address_id: str | None
    email: str | None
    first_name: str | None
    last_name: str | None
    phone: str | None
    device_id: str | None
    account_id: str | None
    media_url: str | None
    attributes: dict[str, Any]
    lang: str


def notice(request_id: int, *, matched: bool, attached: bool, email: bool) -> str:
    """The service_notice: the request id the citizen sees, never an internal id."""
    text = f"Eingegangen als Meldung Nr. {request_id}."
    if not matched:
        text += " Ohne zugeordneten Standort prüft der Bauhof die Meldung von Hand."
    elif attached:
        text += " Die Stelle ist bereits gemeldet; Ihre Meldung wurde der offenen Meldung " \
                "hinzugefügt."
    if email:
        text += " Sie erhalten bei jedem Schritt eine E-Mail."
    return text


def create(conn: Connection, r: NewRequest, radius_m: float,
           photo: StoredPhoto | None = None) -> tuple[int, str]:
    """Record the request (and its defect); return (service_request_id, service_notice)."""
    from psycopg.types.json import Jsonb

    with conn.transaction():
        subject = None
        if r.lat is not None and r.lon is not None:
            subject = nearest_asset(conn, r.service.subjects, r.lat, r.lon, radius_m)
        defect_id = None
        attached = False
        if subject is not None:
            report = defects.report(
                conn, subject_type=subject[0], subject_id=subject[1],
                description=r.description or r.service.name, kind=r.service.code,
                source="citizen", email=r.email, lang=r.lang, latitude=r.lat,
                longitude=r.lon, service_code=r.service.code, actor="citizen",
                at=r.requested_at)
            defect_id, attached = report.defect_id, report.attached
        photo_id = None
        if photo is not None:
            stored = conn.execute(
                "INSERT INTO report_photos (file_name, size_bytes, width, height, sha256) "
                "VALUES (%s, %s, %s, %s, %s) RETURNING id",
                (photo.file_name, photo.size_bytes, photo.width, photo.height,
                 photo.sha256)).fetchone()
            assert stored is not None
            photo_id = int(stored[0])
        row = conn.execute(
            "INSERT INTO open311_requests (token, key_id, service_code, defect_id, "
            "requested_at, description, latitude, longitude, address_string, address_id, "
            "media_url, attributes, email, first_name, last_name, phone, device_id, "
            "account_id, lang, updated_at, photo_id, mail_token) VALUES (%s, %s, %s, %s, %s, "
            "%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING id",
            (secrets.token_hex(8), r.key_id, r.service.code, defect_id, r.requested_at,
             r.description, r.lat, r.lon, r.address_string, r.address_id, r.media_url,
             Jsonb(r.attributes), r.email, r.first_name, r.last_name, r.phone, r.device_id,
             r.account_id, r.lang, r.requested_at, photo_id,
             secrets.token_urlsafe(18) if r.email else None)).fetchone()
        assert row is not None
        request_id = int(row[0])
        if r.email:
            citizen.tell(conn, "merged" if attached else "received", r.requested_at, None,
                         request_id=request_id)
    return request_id, notice(request_id, matched=subject is not None, attached=attached,
                              email=r.email is not None)


_QUERY = """
SELECT * FROM (
  SELECT r.id AS request_id, r.service_code, r.description, r.requested_at, r.latitude,
         r.longitude, r.address_string, r.address_id, r.media_url, r.token, r.status_notes,
         CASE WHEN d.id IS NULL THEN r.status WHEN d.status = 'open' THEN 'open'
              ELSE 'closed' END AS status,
         CASE WHEN d.id IS NULL THEN r.updated_at WHEN d.status <> 'open' THEN d.resolved_at
              ELSE greatest(r.updated_at, o.updated_at) END AS updated,
         o.id AS order_id, o.status AS order_status, o.due_at, c.event,
         coalesce(c.data, p.data) AS public
  FROM open311_requests r
  LEFT JOIN defects d ON d.id = r.defect_id
  LEFT JOIN work_orders o ON o.id = d.order_id
  LEFT JOIN LATERAL (SELECT h.event, h.data FROM order_history h WHERE h.order_id = o.id
      AND h.event IN ('done', 'resolved', 'cancelled') ORDER BY h.id DESC LIMIT 1) c ON true
  LEFT JOIN LATERAL (SELECT h.data FROM order_history h WHERE h.order_id = o.id
      AND h.at >= r.requested_at AND (h.data ? 'public_note' OR h.data ? 'public_reason')
      ORDER BY h.id DESC LIMIT 1) p ON true
) q
"""


def status_notes(status: str, order_id: int | None, *, order_status: str | None,
                 closing: str | None, public: dict[str, Any] | None,
                 stored: str | None) -> str | None:
    """Why the request has its status, in words a citizen reads (German): only what was
    written for the public (rules/citizen.py), never an internal note or id."""
    if order_id is None:
        return stored or "Eingegangen; der Bauhof prüft die Meldung."
    said = citizen.public_text("de", (public or {}).get("public_note"),
                               (public or {}).get("public_reason"))
    if status == "closed":
        head = "Ohne Maßnahme geschlossen." if closing == "cancelled" else "Erledigt."
    else:
        head = {"in_progress": "In Arbeit.", "assigned": "Von einem Team übernommen."}.get(
            order_status or "", "Eingegangen; der Bauhof plant die Arbeit.")
    return f"{head} {said}" if said else head


def _request(row: tuple[Any, ...], agency: str) -> dict[str, Any]:
    service = BY_CODE.get(str(row[1]))
    return {
        "service_request_id": row[0], "status": row[11],
        "status_notes": status_notes(row[11], row[13], order_status=row[14], closing=row[16],
                                     public=row[17], stored=row[10]),
        "service_name": service.name if service else row[1], "service_code": row[1],
        "description": row[2], "agency_responsible": agency, "service_notice": None,
        "requested_datetime": row[3], "updated_datetime": row[12],
        "expected_datetime": row[15], "address": row[6], "address_id": row[7],
        "zipcode": None, "lat": row[4], "long": row[5], "media_url": row[8]}


@dataclass(frozen=True, slots=True)
class Query:
    """GET requests filters, validated (ids override everything else, as the spec says)."""

    ids: list[int] | None
    codes: list[str] | None
    start: datetime
    end: datetime
    statuses: list[str] | None


def find(conn: Connection, q: Query, agency: str, limit: int = 1000) -> list[dict[str, Any]]:
    """Requests matching the filters, newest first, at most `limit` (the spec's 1000)."""
    if q.ids is not None:
        rows = conn.execute(_QUERY + "WHERE request_id = ANY(%s) "
                            "ORDER BY requested_at DESC, request_id DESC", (q.ids,)).fetchall()
    else:
        rows = conn.execute(
            _QUERY + "WHERE requested_at >= %(start)s AND requested_at <= %(end)s "
            "AND (%(codes)s::text[] IS NULL OR service_code = ANY(%(codes)s)) "
            "AND (%(statuses)s::text[] IS NULL OR status = ANY(%(statuses)s)) "
            "ORDER BY requested_at DESC, request_id DESC LIMIT %(n)s",
            {"start": q.start, "end": q.end, "codes": q.codes, "statuses": q.statuses,
             "n": limit}).fetchall()
    return [_request(r, agency) for r in rows]


def by_token(conn: Connection, token: str) -> int | None:
    """The service_request_id of a token."""
    row = conn.execute("SELECT id FROM open311_requests WHERE token = %s", (token,)).fetchone()
    return None if row is None else int(row[0])
