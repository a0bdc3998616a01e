"""Green areas for the portal tests: the API town plus free areas, and the mails' links."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import psycopg
from psycopg.types.json import Jsonb

from tests.api import town
from tests.rules import factory as f

# A polygon around (48.5950, 8.8700), closed.
RING = [[8.8695, 48.5947], [8.8705, 48.5947], [8.8705, 48.5953], [8.8695, 48.5953],
        [8.8695, 48.5947]]


def build(conn: psycopg.Connection[Any]) -> None:
    """ga1 sponsored by sp1 (probe 1); ga2 free with a polygon, trees and a probe (5) that
    needs a first planting; ga3 free without a probe, allowing several sponsors."""
    town.build(conn)
    conn.execute(
        "INSERT INTO green_areas (id, name, plant_type, latitude, longitude, polygon, area_m2, "
        "planting_year, trees, needs_planting) VALUES ('ga2', 'Marktplatz Beet', 'flowers', "
        "48.5950, 8.8700, %s, 120, 2019, %s, true)",
        (Jsonb(RING), Jsonb([{"species": "Tilia cordata", "planting_year": 1998}])))
    f.device(conn, 5, f.SOIL, "soil", "green_area", "ga2", 3600)
    conn.execute(
        "INSERT INTO green_areas (id, name, plant_type, latitude, longitude, radius_m, area_m2, "
        "allow_several) VALUES ('ga3', 'Stadtgraben Hecke', 'shrubs', 48.5990, 8.8750, 10, 45, "
        "true)")


def mails(conn: psycopg.Connection[Any]) -> list[tuple[str | None, str, str, dict[str, Any]]]:
    """Queued mails: (to, template, lang, context), oldest first (anonymised ones without
    recipient and context)."""
    rows = conn.execute("SELECT payload FROM outbox WHERE channel = 'email' ORDER BY id")
    return [(p.get("to"), p["template"], p["lang"], p.get("context", {}))
            for (p,) in rows.fetchall()]


def token(url: str) -> str:
    """The token of a portal link."""
    parts = urlsplit(url)
    assert parts.path == "/portal/act.html"
    return parse_qs(parts.query)["t"][0]
