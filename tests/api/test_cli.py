"""`bauhof users …` and `bauhof open311 key create` against the test database."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import psycopg

from api import open311_store, users


def _bauhof(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "BAUHOF_DATABASE_URL": database_url,
           "BAUHOF_MQTT_URL": "mqtt://127.0.0.1:1"}
    bauhof = str(Path(sys.executable).parent / "bauhof")
    return subprocess.run([bauhof, *args], capture_output=True, text=True, env=env,
                          check=False, timeout=60)


def test_users_create_prints_a_token_once_and_revoke_stops_it(
        database_url: str, conn: psycopg.Connection[Any]) -> None:
    created = _bauhof(database_url, "users", "create", "--role", "crew", "--name", "nord")
    assert created.returncode == 0, created.stderr
    token = created.stdout.strip()
    assert token.startswith("bh_") and len(token) == 46
    who = users.authenticate(conn, token)
    assert who is not None and (who.name, who.role, who.crew) == ("nord", "crew", "crew:nord")
    stored = conn.execute("SELECT token_hash, prefix FROM api_tokens").fetchone()
    assert stored == (users.hash_secret(token), token[:11])
    listed = _bauhof(database_url, "users", "list")
    assert listed.stdout.split() == ["nord", "crew", "active", token[:11] + "…"]
    again = _bauhof(database_url, "users", "create", "--role", "crew", "--name", "nord")
    assert again.returncode == 1
    assert again.stderr.strip() == (
        "bauhof users: a user named 'nord' exists already; pick another name or issue a "
        "further token with `bauhof users token nord`")
    revoked = _bauhof(database_url, "users", "revoke", "nord")
    assert revoked.stdout.strip() == "nord: disabled, 1 token(s) revoked"
    assert users.authenticate(conn, token) is None


def test_bad_arguments_exit_2_with_one_line(database_url: str) -> None:
    bad = _bauhof(database_url, "users", "create", "--role", "mayor", "--name", "x")
    assert bad.returncode == 2
    assert bad.stderr.count("\n") == 1
    assert "argument --role: invalid choice: 'mayor'" in bad.stderr


def test_open311_key_create(database_url: str, conn: psycopg.Connection[Any]) -> None:
    made = _bauhof(database_url, "open311", "key", "create", "--name", "Mark-a-Spot")
    assert made.returncode == 0, made.stderr
    key = made.stdout.strip()
    assert key.startswith("o311_")
    assert open311_store.check_key(conn, key) is not None
    # Migration 0055 made the report page's key first.
    assert conn.execute("SELECT name FROM open311_keys ORDER BY id").fetchall() == [
        ("melden page",), ("Mark-a-Spot",)]


def test_api_command_refuses_a_bad_port(database_url: str) -> None:
    bad = _bauhof(database_url, "api", "--port", "70000")
    assert bad.returncode == 2
    assert bad.stderr.strip() == ("bauhof api: error: argument --port: 70000 is not a TCP port "
                                  "(see `bauhof api --help`)")
    assert _bauhof(database_url, "api", "--help").returncode == 0
