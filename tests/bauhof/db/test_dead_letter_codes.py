"""Migration 0070: dead letters stored before reason codes are coded from their wording."""

from __future__ import annotations

from typing import Any

import psycopg

from bauhof import db

REASONS = {
    "implausible readings: soil_moisture_pct 300 above 100": "implausible",
    "rules engine refused the reading: latitude 91.0 is off the globe": "refused_by_rules",
    "unknown model 'x': register the device with a model of `bauhof decode --list`":
        "unknown_model",
    "decode error: payload too short": "undecodable",
    "message of 300000 bytes is too large for an event": "too_large",
    "message of 20000 bytes is larger than the limit of 16384 bytes": "too_large",
    "database refused: value too long": "refused_by_database",
    "cannot use the event: KeyError: 'x'": "internal",
    "cannot store the event: ValueError: x": "internal",
    "event has no time": "unknown",
}


def test_existing_dead_letters_get_the_code_of_their_reason(
        conn: psycopg.Connection[Any]) -> None:
    conn.execute("ALTER TABLE dead_letters DROP COLUMN reason_code")
    for n, reason in enumerate(REASONS):
        conn.execute("INSERT INTO dead_letters (topic, payload, reason, digest) "
                     "VALUES ('t', '', %s, %s)", (reason, bytes([n])))
    (migration,) = [m for m in db.available_migrations() if m.version == 70]
    conn.execute(migration.sql)
    coded = dict(conn.execute("SELECT reason, reason_code FROM dead_letters").fetchall())
    assert coded == REASONS
