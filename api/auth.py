"""Bearer-token authentication and role checks, as FastAPI dependencies.

Roles: `crew` (its own orders and the map, no personal data), `planner` (reads everything,
changes rule and route settings), `admin` (also devices, assets, users, tokens and the
personal data of sponsors and reporters). An unknown, expired or revoked token is 401.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api import users
from api.database import Conn
from api.problems import Problem
from api.users import Principal

_bearer = HTTPBearer(auto_error=False, description="a token from `bauhof users create`")
_CHALLENGE = 'Bearer realm="bauhof"'


def principal(conn: Conn, credentials: Annotated[HTTPAuthorizationCredentials | None,
                                                 Depends(_bearer)]) -> Principal:
    """The caller; 401 without a valid token."""
    if credentials is None:
        raise Problem(401, "this endpoint needs a bearer token: send "
                           "'Authorization: Bearer <token>' (tokens come from "
                           "`bauhof users create`)", slug="unauthenticated",
                      headers={"WWW-Authenticate": _CHALLENGE})
    found = users.authenticate(conn, credentials.credentials)
    if found is None:
        raise Problem(401, "the token is unknown, expired or revoked: ask an administrator "
                           "for a new one", slug="unauthenticated",
                      headers={"WWW-Authenticate": _CHALLENGE + ', error="invalid_token"'})
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


def stream_principal(request: Request, credentials: Annotated[
        HTTPAuthorizationCredentials | None, Depends(_bearer)]) -> Principal:
    """Like `principal`, but borrowing a connection only for the check (long streams)."""
    with request.app.state.pool.connection() as conn:
        return principal(conn, credentials)
