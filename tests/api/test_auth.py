"""Authentication and roles: 401 without a valid token, 403 for the wrong role."""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.auth import TokenCache
from api.config import ApiSettings
from api.users import Principal
from tests.api.conftest import Tokens, bearer, make_user


def test_no_token_is_401_with_a_problem_and_a_challenge(client: TestClient) -> None:
    response = client.get("/api/v1/work-orders")
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["www-authenticate"] == 'Bearer realm="bauhof"'
    assert response.json() == {
        "type": "/problems/unauthenticated", "title": "Unauthorized", "status": 401,
        "detail": "this endpoint needs a bearer token: send 'Authorization: Bearer <token>' "
                  "(tokens come from `bauhof users create`)",
        "instance": "/api/v1/work-orders"}


@pytest.mark.parametrize("which", ["expired", "revoked", "unknown"])
def test_expired_revoked_or_unknown_token_is_401(client: TestClient, tokens: Tokens,
                                                 which: str) -> None:
    headers = bearer("bh_" + "x" * 43) if which == "unknown" else getattr(tokens, which)
    response = client.get("/api/v1/work-orders", headers=headers)
    assert response.status_code == 401
    assert response.json()["detail"] == ("the token is unknown, expired or revoked: ask an "
                                         "administrator for a new one")
    assert response.headers["www-authenticate"] == 'Bearer realm="bauhof", error="invalid_token"'


def test_a_token_revoked_through_the_api_stops_working_at_once(client: TestClient,
                                                               tokens: Tokens) -> None:
    created = client.post("/api/v1/users", headers=tokens.admin,
                          json={"name": "west", "role": "crew"})
    assert created.status_code == 201
    token = bearer(created.json()["token"])
    assert client.get("/api/v1/work-orders", headers=token).status_code == 200
    token_id = created.json()["token_id"]
    assert client.delete(f"/api/v1/users/west/tokens/{token_id}",
                         headers=tokens.admin).status_code == 200
    assert client.get("/api/v1/work-orders", headers=token).status_code == 401


@pytest.mark.parametrize(("role", "method", "path", "body"), [
    ("crew", "GET", "/api/v1/devices", None),
    ("crew", "GET", "/api/v1/devices/0000000000000001/readings", None),
    ("crew", "GET", "/api/v1/ops/ingest", None),
    ("crew", "GET", "/api/v1/ops/dead-letters", None),
    ("crew", "GET", "/api/v1/rule-settings/b1", None),
    ("crew", "POST", "/api/v1/work-orders/1/cancel", {"reason": "no"}),
    ("crew", "GET", "/api/v1/users", None),
    ("planner", "GET", "/api/v1/users", None),
    ("planner", "PATCH", "/api/v1/devices/0000000000000001", {"name": "x"}),
    ("planner", "POST", "/api/v1/users", {"name": "x", "role": "crew"}),
])
def test_roles_are_enforced_with_403(client: TestClient, tokens: Tokens, role: str,
                                     method: str, path: str, body: object) -> None:
    response = client.request(method, path, headers=getattr(tokens, role), json=body)
    assert response.status_code == 403
    problem = response.json()
    assert problem["type"] == "/problems/forbidden"
    assert problem["detail"].startswith(f"role {role} may not do this; it needs ")


def _wait_for_status(client: TestClient, headers: dict[str, str], status: int) -> int:
    """Ask until the answer is `status` (at most 10 s, for a notification to travel)."""
    deadline = time.monotonic() + 10
    got = client.get("/api/v1/work-orders", headers=headers).status_code
    while got != status and time.monotonic() < deadline:
        time.sleep(0.02)
        got = client.get("/api/v1/work-orders", headers=headers).status_code
    return got


@pytest.mark.parametrize("change", [
    "UPDATE api_tokens SET revoked_at = now()",
    "UPDATE api_users SET disabled_at = now()",
    "UPDATE api_tokens SET expires_at = now() - interval '1 second'",
    "DELETE FROM api_tokens",
])
def test_a_token_revoked_elsewhere_stops_working_though_the_api_kept_it(
        api_settings: ApiSettings, conn: psycopg.Connection[Any], change: str) -> None:
    # Kept for an hour: only the database's notification can make the API forget it.
    settings = replace(api_settings, token_cache_s=3600.0)
    token = bearer(make_user(conn, "west", "crew"))
    with TestClient(create_app(settings)) as client:
        assert _wait_for_status(client, token, 200) == 200
        # As `bauhof users revoke` does from another process: straight in the database.
        conn.execute(change)
        assert _wait_for_status(client, token, 401) == 401


def test_the_token_cache_keeps_principals_for_their_time_and_forgets_on_clear() -> None:
    who = Principal(user_id=1, name="nord", role="crew", token_id=7, expires_at=None)
    cache = TokenCache(max_age_s=60.0)
    assert cache.get(b"a") is None
    cache.put(b"a", who, cache.generation)
    assert cache.get(b"a") is who
    # A lookup that began before a clear is not kept: it may have read the old state.
    began = cache.generation
    cache.clear()
    assert cache.get(b"a") is None
    cache.put(b"a", who, began)
    assert cache.get(b"a") is None
    # A token that expires in the past is not kept at all; one about to expire not for long.
    gone = replace(who, expires_at=datetime.now(UTC) - timedelta(seconds=1))
    cache.put(b"b", gone, cache.generation)
    assert cache.get(b"b") is None
    soon = replace(who, expires_at=datetime.now(UTC) + timedelta(seconds=0.05))
    cache.put(b"c", soon, cache.generation)
    assert cache.get(b"c") is soon
    time.sleep(0.06)
    assert cache.get(b"c") is None
    # Kept for no time at all when switched off.
    off = TokenCache(max_age_s=0.0)
    off.put(b"a", who, off.generation)
    assert off.get(b"a") is None
