"""Bearer-token authentication and role checks, as FastAPI dependencies.

Roles: `crew` (its own orders and the map, no personal data), `planner` (reads everything,
changes rule and route settings), `admin` (also devices, assets, users, tokens and the
personal data of sponsors and reporters). An unknown, expired or revoked token is 401.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool
from starlette.types import Scope

from api import users
from api.database import Conn, Connection
from api.problems import Problem
from api.users import Principal

_bearer = HTTPBearer(auto_error=False, description="a token from `bauhof users create`")
_CHALLENGE = 'Bearer realm="bauhof"'


class TokenCache:
    """The principals of tokens checked in the last few seconds, by the token's hash.

    A revoked token, a disabled user or a changed role must not keep working: the database
    NOTIFYs `bauhof_auth` on every such change (migration 0035) and the API's listener calls
    `clear` (also after reconnecting, when notifications may have been missed). A lookup that
    was under way during a clear is not kept. Used from the event loop only.
    """

    def __init__(self, max_age_s: float = 10.0, max_entries: int = 10_000) -> None:
        self.max_age_s = max_age_s
        self.max_entries = max_entries
        self.generation = 0
        self._entries: dict[bytes, tuple[Principal, float]] = {}

    def get(self, digest: bytes) -> Principal | None:
        """The kept principal, None when there is none or it is too old."""
        entry = self._entries.get(digest)
        if entry is None:
            return None
        if entry[1] <= time.monotonic():
            del self._entries[digest]
            return None
        return entry[0]

    def put(self, digest: bytes, who: Principal, generation: int) -> None:
        """Keep a principal looked up while `generation` was current (else forget it)."""
        if generation != self.generation:
            return
        keep_s = self.max_age_s
        if who.expires_at is not None:
            keep_s = min(keep_s, (who.expires_at - datetime.now(UTC)).total_seconds())
        if keep_s <= 0:
            return
        if len(self._entries) >= self.max_entries:
            self._entries.clear()
        self._entries[digest] = (who, time.monotonic() + keep_s)

    def clear(self) -> None:
        """Forget every kept principal, and lookups still under way."""
        self.generation += 1
        self._entries.clear()


def _unauthenticated() -> Problem:
    return Problem(401, "the token is unknown, expired or revoked: ask an administrator "
                        "for a new one", slug="unauthenticated",
                   headers={"WWW-Authenticate": _CHALLENGE + ', error="invalid_token"'})


def _missing() -> Problem:
    return Problem(401, "this endpoint needs a bearer token: send "
                        "'Authorization: Bearer <token>' (tokens come from "
                        "`bauhof users create`)", slug="unauthenticated",
                   headers={"WWW-Authenticate": _CHALLENGE})


async def principal(request: Request, conn: Conn, credentials: Annotated[
        HTTPAuthorizationCredentials | None, Depends(_bearer)]) -> Principal:
    """The caller; 401 without a valid token.

    Async, so a token checked a moment ago costs neither a query nor a worker thread.
    """
    if credentials is None:
        raise _missing()
    token = credentials.credentials
    return await _cached(request, token, lambda: _authenticated(conn, token))


async def _cached(request: Request, token: str, lookup: Callable[[], Principal]) -> Principal:
    """The token's principal from the cache, else from `lookup` (in a worker thread);
    401 for a token that cannot be one."""
    if not users.plausible_token(token):
        raise _unauthenticated()
    cache: TokenCache = request.app.state.token_cache
    digest = users.hash_secret(token)
    found = cache.get(digest)
    if found is None:
        generation = cache.generation
        found = await run_in_threadpool(lookup)
        cache.put(digest, found, generation)
    return found


def _authenticated(conn: Connection, token: str) -> Principal:
    """The token's principal from the database; 401 when it has none."""
    found = users.authenticate(conn, token)
    if found is None:
        raise _unauthenticated()
    return found


def require(*roles: str) -> Callable[[Principal], Awaitable[Principal]]:
    """A dependency admitting only the given roles (403 for the others)."""
    # Async: a check without I/O runs in the event loop instead of a worker thread.
    async def check(who: Annotated[Principal, Depends(principal)]) -> Principal:
        if who.role not in roles:
            raise Problem(403, f"role {who.role} may not do this; it needs "
                               f"{' or '.join(roles)}", slug="forbidden")
        return who
    return check


Anyone = Annotated[Principal, Depends(principal)]
Staff = Annotated[Principal, Depends(require("planner", "admin"))]
Admin = Annotated[Principal, Depends(require("admin"))]


async def scope_principal(scope: Scope) -> Principal:
    """The caller of a request not yet routed (api.bodylimit checks it before the body)."""
    request = Request(scope)
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise _missing()
    token = token.strip()

    def lookup() -> Principal:
        with request.app.state.pool.connection() as conn:
            return _authenticated(conn, token)

    return await _cached(request, token, lookup)


def stream_principal(credentials: Annotated[HTTPAuthorizationCredentials | None,
                                            Depends(_bearer)], request: Request) -> Principal:
    """Like `principal`, but borrowing a connection only for the check (long streams)."""
    if credentials is None:
        raise _missing()
    with request.app.state.pool.connection() as conn:
        return _authenticated(conn, credentials.credentials)
