"""A stream ends with its token (issue 13): a user deleted while the stream is open, and a
token that expires while it is open."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import httpx
import psycopg

from tests.api import town
from tests.api.conftest import Tokens, bearer, make_user


def _rest(lines: Any) -> list[tuple[str, str]]:
    """(event, data) of every event until the stream ends."""
    out: list[tuple[str, str]] = []
    fields: dict[str, str] = {}
    for line in lines:
        if line == "":
            if "data" in fields:
                out.append((fields.get("event", ""), fields["data"]))
            fields = {}
        elif not line.startswith(":"):
            name, _, value = line.partition(": ")
            fields[name] = value
    return out


def test_deleting_the_crew_user_ends_its_open_stream(
        live_server: Callable[..., str], tokens: Tokens, conn: psycopg.Connection[Any]) -> None:
    town.build(conn)
    ids = town.standard_orders(conn)
    base = live_server()
    with (httpx.Client(base_url=base, timeout=15.0) as http,
          http.stream("GET", "/api/v1/stream/work-orders", headers=tokens.crew) as stream):
        lines = stream.iter_lines()
        assert next(lines) == "retry: 3000"
        assert http.delete("/api/v1/users/nord", headers=tokens.admin).status_code == 200
        # A change the crew would have been shown, after the revocation: never delivered.
        http.post(f"/api/v1/work-orders/{ids['b1']}/cancel", headers=tokens.planner,
                  json={"note": "x"})
        events = _rest(lines)
    assert [(e, json.loads(d)) for e, d in events] == [
        ("end", {"reason": "the token is unknown, expired or revoked"})]


def test_a_stream_ends_when_its_token_expires(
        live_server: Callable[..., str], conn: psycopg.Connection[Any]) -> None:
    short = bearer(make_user(conn, "kurz", "planner", timedelta(seconds=2)))
    base = live_server()
    with (httpx.Client(base_url=base, timeout=15.0) as http,
          http.stream("GET", "/api/v1/stream/work-orders", headers=short) as stream):
        lines = stream.iter_lines()
        assert next(lines) == "retry: 3000"
        events = _rest(lines)
    assert [(e, json.loads(d)) for e, d in events] == [
        ("end", {"reason": "the token expired"})]
