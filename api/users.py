"""People who use the API and their bearer tokens: created, looked up and revoked.

A token is `bh_` and 32 random bytes in base64url; the database keeps only its SHA-256 and
the first characters for display. Tokens carry that much entropy, so a fast hash is safe
(there is nothing to brute-force); the plain token is shown once, when it is made.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import psycopg
from psycopg import errors as pg_errors

from api.problems import ApiError
from bauhof.assignee import Assignee

ROLES = ("crew", "planner", "admin")
TOKEN_PREFIX = "bh_"  # noqa: S105 (a marker, not a secret)
DISPLAY_CHARS = 11


class UserError(ApiError):
    """A user or token operation that cannot be done; the message says why."""


@dataclass(frozen=True, slots=True)
class Principal:
    """Who a request acts as."""

    user_id: int
    name: str
    role: str
    token_id: int
    expires_at: datetime | None = None

    @property
    def actor(self) -> str:
        """The actor recorded in order history: `<role>:<name>`."""
        return f"{self.role}:{self.name}"

    @property
    def assignee(self) -> Assignee | None:
        """This crew as its orders' assignee, None for other roles."""
        return Assignee.crew(self.name) if self.role == "crew" else None

    @property
    def crew(self) -> str | None:
        """The assignee value of this crew's orders (`crew:<name>`), None for other roles."""
        return str(Assignee.crew(self.name)) if self.role == "crew" else None


@dataclass(frozen=True, slots=True)
class IssuedToken:
    """A new token: the plain value exists only here."""

    token: str
    token_id: int
    prefix: str
    expires_at: datetime | None


def hash_secret(value: str) -> bytes:
    """SHA-256 of a token or key."""
    return hashlib.sha256(value.encode()).digest()


def new_secret(prefix: str) -> str:
    """A fresh random secret with a recognisable prefix."""
    return prefix + secrets.token_urlsafe(32)


def create_user(conn: psycopg.Connection[Any], name: str, role: str) -> int:
    """Add a person or crew; UserError if the role is unknown or the name is taken."""
    if role not in ROLES:
        raise UserError(f"role {role!r} is not one of {', '.join(ROLES)}")
    try:
        with conn.transaction():
            row = conn.execute("INSERT INTO api_users (name, role) VALUES (%s, %s) RETURNING id",
                               (name, role)).fetchone()
    except pg_errors.UniqueViolation as exc:
        raise UserError(f"a user named {name!r} exists already; pick another name or "
                        f"issue a further token with `bauhof users token {name}`") from exc
    except pg_errors.CheckViolation as exc:
        raise UserError(f"name {name!r} is not allowed: use letters, digits, '.', '_' or '-' "
                        "(at most 64, starting with a letter or digit)") from exc
    assert row is not None
    return int(row[0])


def user_id(conn: psycopg.Connection[Any], name: str) -> int:
    """The id of a user by name; UserError if there is none."""
    row = conn.execute("SELECT id FROM api_users WHERE name = %s", (name,)).fetchone()
    if row is None:
        raise UserError(f"no user named {name!r} (see `bauhof users list`)")
    return int(row[0])


def issue_token(conn: psycopg.Connection[Any], uid: int,
                lifetime: timedelta | None = timedelta(days=365)) -> IssuedToken:
    """A new token for a user, valid for `lifetime` (None: until revoked)."""
    token = new_secret(TOKEN_PREFIX)
    row = conn.execute(
        "INSERT INTO api_tokens (user_id, token_hash, prefix, expires_at) VALUES "
        "(%s, %s, %s, now() + %s) RETURNING id, expires_at",
        (uid, hash_secret(token), token[:DISPLAY_CHARS], lifetime)).fetchone()
    assert row is not None
    return IssuedToken(token, int(row[0]), token[:DISPLAY_CHARS], row[1])


def plausible_token(token: str) -> bool:
    """Whether a value can be a token at all (else it is refused without a lookup)."""
    return token.startswith(TOKEN_PREFIX) and len(token) <= 200


def authenticate(conn: psycopg.Connection[Any], token: str) -> Principal | None:
    """The principal of a valid token; None when unknown, expired, revoked or disabled."""
    if not plausible_token(token):
        return None
    row = conn.execute(
        "SELECT t.id, u.id, u.name, u.role, t.last_used_at IS NULL "
        "OR t.last_used_at < now() - interval '1 minute', t.expires_at "
        "FROM api_tokens t JOIN api_users u ON u.id = t.user_id "
        "WHERE t.token_hash = %s AND t.revoked_at IS NULL AND u.disabled_at IS NULL "
        "AND (t.expires_at IS NULL OR t.expires_at > now())",
        (hash_secret(token),)).fetchone()
    if row is None:
        return None
    if row[4]:
        conn.execute("UPDATE api_tokens SET last_used_at = now() WHERE id = %s", (row[0],))
    return Principal(user_id=int(row[1]), name=str(row[2]), role=str(row[3]),
                     token_id=int(row[0]), expires_at=row[5])


def revoke_user(conn: psycopg.Connection[Any], name: str) -> int:
    """Disable a user and revoke all their tokens; return how many tokens were revoked."""
    uid = user_id(conn, name)
    with conn.transaction():
        conn.execute("UPDATE api_users SET disabled_at = coalesce(disabled_at, now()) "
                     "WHERE id = %s", (uid,))
        rows = conn.execute("UPDATE api_tokens SET revoked_at = now() WHERE user_id = %s "
                            "AND revoked_at IS NULL RETURNING id", (uid,)).fetchall()
    return len(rows)


def revoke_token(conn: psycopg.Connection[Any], token_id: int) -> bool:
    """Revoke one token by id; False if it does not exist or was revoked already."""
    row = conn.execute("UPDATE api_tokens SET revoked_at = now() WHERE id = %s "
                       "AND revoked_at IS NULL RETURNING id", (token_id,)).fetchone()
    return row is not None


def list_users(conn: psycopg.Connection[Any]) -> list[dict[str, Any]]:
    """Every user with their tokens (prefixes only), oldest first."""
    users = conn.execute(
        "SELECT u.id, u.name, u.role, u.created_at, u.disabled_at, coalesce(json_agg("
        "json_build_object('id', t.id, 'prefix', t.prefix, 'created_at', t.created_at, "
        "'expires_at', t.expires_at, 'revoked_at', t.revoked_at, 'last_used_at', "
        "t.last_used_at) ORDER BY t.id) FILTER (WHERE t.id IS NOT NULL), '[]') "
        "FROM api_users u LEFT JOIN api_tokens t ON t.user_id = u.id "
        "GROUP BY u.id ORDER BY u.id").fetchall()
    return [{"id": r[0], "name": r[1], "role": r[2], "created_at": r[3],
             "disabled_at": r[4], "tokens": r[5]} for r in users]
