"""Defects reported by people (Open311 citizen reports, crews), attached to open orders.

A report about a bin that already has an open order (say, "overflowing" while an empty-bin
order is open) joins that order; otherwise it opens a citizen-defect order for the subject.
Either way the reporter is mailed when the order is done or resolved.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import psycopg

from rules import orders, outbox
from rules.actions import Open
from rules.errors import RulesError, UnknownSubject

CITIZEN_RULE = "citizen.report"
_SUBJECT_TABLES = {"bin": "bins", "green_area": "green_areas", "vehicle": "vehicles"}
# Which rule's open order a report joins first, by subject type.
_PREFERRED = {"bin": ("bins.full", "bins.tilted", "bins.fire"), "green_area": ("watering.dry",)}


@dataclass(frozen=True, slots=True)
class Report:
    """A defect as recorded, with the order it belongs to."""

    defect_id: int
    order_id: int
    attached: bool


def report(conn: psycopg.Connection[Any], *, subject_type: str, subject_id: str,
           description: str, kind: str = "citizen_report", source: str = "citizen",
           email: str | None = None, lang: str = "de", latitude: float | None = None,
           longitude: float | None = None, service_code: str | None = None,
           actor: str = "citizen", at: datetime | None = None) -> Report:
    """Record a reported defect and attach it to the subject's open order (or open one)."""
    if lang not in ("de", "en"):
        raise RulesError(f"language {lang!r} is not supported: use de or en")
    at = at or datetime.now(UTC)
    with conn.transaction():
        location = _location(conn, subject_type, subject_id)
        target = _open_order_for(conn, subject_type, subject_id)
        attached = target is not None
        if target is None:
            order_id, _ = orders.apply_open(conn, Open(
                rule=CITIZEN_RULE, kind="citizen_defect", subject_type=subject_type,
                subject_id=subject_id, at=at, title=f"Reported: {description[:120]}",
                priority=3, since=at, params={"service_code": service_code}),
                actor, location)
            target = orders.get(conn, order_id)
        row = conn.execute(
            "INSERT INTO defects (kind, source, subject_type, subject_id, order_id, "
            "description, opened_at, reporter_email, reporter_lang, service_code, latitude, "
            "longitude) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING id",
            (kind, source, subject_type, subject_id, target.id, description, at, email, lang,
             service_code, latitude, longitude),
        ).fetchone()
        assert row is not None
        defect_id = int(row[0])
        outbox.publish(conn, "defects", defect_id, "opened", {
            "event": "opened", "at": at.isoformat(), "defect": {
                "id": defect_id, "kind": kind, "source": source, "order_id": target.id,
                "subject_type": subject_type, "subject_id": subject_id}})
        orders.record(conn, target, at, actor, "reported", note=description,
                      data={"defect_id": defect_id}, defect_id=defect_id)
        return Report(defect_id, target.id, attached)


def _location(conn: psycopg.Connection[Any], subject_type: str, subject_id: str) -> (
    tuple[float, float] | None
):
    table = _SUBJECT_TABLES.get(subject_type)
    if table is None:
        exists = conn.execute("SELECT 1 FROM devices WHERE dev_eui = %s", (subject_id,))
        if exists.fetchone() is None:
            raise UnknownSubject(subject_type, subject_id)
        return None
    if table == "vehicles":
        row = conn.execute("SELECT NULL, NULL FROM vehicles WHERE id = %s", (subject_id,))
    else:
        row = conn.execute(f"SELECT latitude, longitude FROM {table} WHERE id = %s",  # noqa: S608
                           (subject_id,))
    found = row.fetchone()
    if found is None:
        raise UnknownSubject(subject_type, subject_id)
    return None if found[0] is None else (float(found[0]), float(found[1]))


def _open_order_for(conn: psycopg.Connection[Any], subject_type: str, subject_id: str) -> (
    orders.Order | None
):
    for rule in (*_PREFERRED.get(subject_type, ()), CITIZEN_RULE):
        order = orders.find_open(conn, rule, subject_type, subject_id, lock=True)
        if order is not None:
            return order
    return None
