"""The role table of docs/security.md, enforced as written: every request of it, as each role,
against a real uvicorn and a real database (the table is read from the document itself)."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import psycopg

from tests.api import town
from tests.api.conftest import Tokens, make_user
from tests.rules import factory as f

DOC = Path(__file__).resolve().parents[2] / "docs" / "security.md"
ROW = re.compile(r"^\| [^|]+ \| `(GET|POST|PUT|PATCH|DELETE) (\S+)` \| (\w+) \| (\w+) \| (\w+) "
                 r"\| (\w+) \|$")
ROLES = ("anonymous", "crew", "planner", "admin")


def table() -> list[tuple[str, str, dict[str, str]]]:
    """(method, path, {role: cell}) of every row of the role table."""
    rows = []
    for line in DOC.read_text(encoding="utf-8").splitlines():
        match = ROW.match(line)
        if match:
            method, path, *cells = match.groups()
            rows.append((method, path, dict(zip(ROLES, cells, strict=True))))
    return rows


def _body(method: str, path: str, role: str) -> dict[str, Any]:
    """What each request sends (anything the route takes; 422 is not a refusal)."""
    if path.endswith("/assign"):
        return {"json": {} if role == "crew" else {"crew": "sued"}}
    if path.endswith("/done"):
        return {"data": {"note": "x"}}
    if path.endswith("/cancel"):
        return {"json": {"reason": "x"}}
    if path == "/api/v1/users" and method == "POST":
        return {"json": {"name": f"new-{role}", "role": "crew"}}
    if path.endswith("/tokens"):
        return {"json": {"expires_days": 1}}
    if method in ("PUT", "PATCH", "POST") and not path.endswith(("/start", "/reprocess")):
        return {"json": {"unknown": True}}
    return {}


def _status(http: httpx.Client, method: str, path: str, headers: dict[str, str],
            role: str) -> tuple[int, Any]:
    if path.startswith("/api/v1/stream/"):
        with http.stream(method, path, headers=headers) as stream:
            return stream.status_code, None
    response = http.request(method, path, headers=headers, **_body(method, path, role))
    body = response.json() if response.headers.get("content-type", "").endswith("json") \
        else None
    return response.status_code, body


def test_the_role_table_has_every_request_once() -> None:
    rows = table()
    assert len(rows) == 29
    assert len({(m, p) for m, p, _ in rows}) == len(rows)


def test_the_role_table_is_enforced_as_written(
        live_server: Callable[..., str], tokens: Tokens, conn: psycopg.Connection[Any]) -> None:
    town.build(conn)
    ids = town.standard_orders(conn)
    other = town.open_order(conn, "health.battery", "sensor_maintenance", "device", f.eui(7),
                            assignee="crew:sued")
    make_user(conn, "temp", "crew")
    dead = conn.execute("INSERT INTO dead_letters (topic, payload, reason, digest) VALUES "
                        "('t', 'x', 'r', 'd') RETURNING id").fetchone()
    assert dead is not None
    values = {"own_order": ids["b2"], "other_order": other, "open_order": ids["b1"],
              "device": f.eui(2), "dead_letter": dead[0], "user": "temp"}
    headers = {"anonymous": {}, "crew": tokens.crew, "planner": tokens.planner,
               "admin": tokens.admin}
    seen: list[tuple[str, str, str, str]] = []
    with httpx.Client(base_url=live_server(), timeout=30.0) as http:
        for method, template, cells in table():
            path = template.format(**values)
            for role in ROLES:
                status, body = _status(http, method, path, headers[role], role)
                allowed = cells[role] in ("yes", "own", "self")
                if template == "/ready":
                    # The request is public; what the cell governs is the schema version.
                    got = "yes" if body is not None and "schema_version" in body else "no"
                    assert (status, got) == (200, "yes" if allowed else "no"), (role, body)
                elif template == "/api/v1/green-areas/ga1" and role != "anonymous":
                    # Every role sees the area; the cell governs its sponsor's contact details.
                    sponsor = body["sponsor"] if body else None
                    got = "yes" if sponsor and sponsor.get("email") else "no"
                    assert (status, got) == (200, "yes" if allowed else "no"), (role, body)
                elif allowed:
                    assert status not in (401, 403, 404), (method, path, role, status, body)
                elif role == "anonymous":
                    assert status == 401, (method, path, role, status, body)
                else:
                    assert status in (403, 404), (method, path, role, status, body)
                seen.append((method, template, role, cells[role]))
    assert len(seen) == 29 * 4
