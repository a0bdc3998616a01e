"""Fixtures of the API tests: the app on the test's database, users of every role, a town."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient

from api import users
from api.app import create_app
from api.config import ApiSettings
from tests.fixtures.http import AppServers


@pytest.fixture
def api_settings(database_url: str, tmp_path: Path) -> ApiSettings:
    """Settings for one test: its database, a media dir of its own, a generous rate limit."""
    return ApiSettings(database_url=database_url, media_dir=tmp_path / "media",
                       public_rate_per_s=1000.0, public_burst=1000, pool_min=1, pool_max=6,
                       stream_poll_s=0.2, stream_keepalive_s=60.0)


@pytest.fixture
def client(api_settings: ApiSettings) -> Iterator[TestClient]:
    """The app, with its lifespan running."""
    with TestClient(create_app(api_settings)) as test_client:
        yield test_client


@dataclass(frozen=True)
class Tokens:
    """Bearer headers per role; `other_crew` is a second crew."""

    crew: dict[str, str]
    other_crew: dict[str, str]
    planner: dict[str, str]
    admin: dict[str, str]
    expired: dict[str, str]
    revoked: dict[str, str]


def bearer(token: str) -> dict[str, str]:
    """The Authorization header for a token."""
    return {"Authorization": f"Bearer {token}"}


def make_user(conn: psycopg.Connection[Any], name: str, role: str,
              lifetime: timedelta | None = timedelta(days=30)) -> str:
    """A user with one token; returns the token."""
    uid = users.create_user(conn, name, role)
    return users.issue_token(conn, uid, lifetime).token


@pytest.fixture
def tokens(conn: psycopg.Connection[Any]) -> Tokens:
    """Crews `nord` and `sued`, planner `paula`, admin `root`, an expired and a revoked token."""
    expired = make_user(conn, "late", "planner")
    conn.execute("UPDATE api_tokens SET expires_at = now() - interval '1 second' "
                 "WHERE user_id = (SELECT id FROM api_users WHERE name = 'late')")
    revoked = make_user(conn, "gone", "admin")
    users.revoke_user(conn, "gone")
    return Tokens(crew=bearer(make_user(conn, "nord", "crew")),
                  other_crew=bearer(make_user(conn, "sued", "crew")),
                  planner=bearer(make_user(conn, "paula", "planner")),
                  admin=bearer(make_user(conn, "root", "admin")),
                  expired=bearer(expired), revoked=bearer(revoked))


@pytest.fixture
def live_server(api_settings: ApiSettings) -> Iterator[Callable[..., str]]:
    """Start the app under a real uvicorn in a thread; returns its base URL."""
    servers = AppServers()

    def start(**changes: Any) -> str:
        return servers.start(create_app(replace(api_settings, **changes)))

    yield start
    servers.stop_all()
