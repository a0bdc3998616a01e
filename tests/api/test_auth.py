"""Authentication and roles: 401 without a valid token, 403 for the wrong role."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import Tokens, bearer


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
