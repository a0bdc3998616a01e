"""Users and tokens (administrators): list, create (the token is shown once), revoke."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Literal

import anyio
from fastapi import APIRouter, Path, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import Response

from api import users
from api.auth import Admin
from api.database import Conn
from api.problems import Problem, invalid, not_found
from api.responses import json_response

router = APIRouter(prefix="/api/v1/users", tags=["users"])
Name = Annotated[str, Path(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")]


class TokenInfo(BaseModel):
    """A token as stored: never the token itself."""

    id: int
    prefix: str
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None


class User(BaseModel):
    """A person or crew."""

    id: int
    name: str
    role: str
    created_at: datetime
    disabled_at: datetime | None
    tokens: list[TokenInfo]


class UserList(BaseModel):
    """Every user."""

    items: list[User]


class NewUser(BaseModel):
    """A user to create."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
    role: Literal["crew", "planner", "admin"]
    expires_days: int | None = Field(default=365, ge=1, le=3650)


class NewToken(BaseModel):
    """How long a new token lasts (null: until revoked)."""

    model_config = ConfigDict(extra="forbid")

    expires_days: int | None = Field(default=365, ge=1, le=3650)


class Issued(BaseModel):
    """A new token: shown this once, store it now."""

    user: str
    role: str
    token: str
    token_id: int
    prefix: str
    expires_at: datetime | None


def _lifetime(days: int | None) -> timedelta | None:
    return None if days is None else timedelta(days=days)


@router.get("", response_model=UserList, summary="List users and their tokens")
def list_users(*, request: Request, conn: Conn, _who: Admin) -> Response:
    """Users with token prefixes, never tokens."""
    return json_response(request, {"items": users.list_users(conn)})


@router.post("", response_model=Issued, status_code=201,
             summary="Create a user and their first token")
def create_user(*, request: Request, conn: Conn, _who: Admin, body: NewUser) -> Response:
    """The token is in this response only."""
    try:
        with conn.transaction():
            uid = users.create_user(conn, body.name, body.role)
            issued = users.issue_token(conn, uid, _lifetime(body.expires_days))
    except users.UserError as exc:
        raise Problem(409, str(exc), slug="user-exists") from exc
    return json_response(request, {"user": body.name, "role": body.role,
                                   "token": issued.token, "token_id": issued.token_id,
                                   "prefix": issued.prefix, "expires_at": issued.expires_at},
                         status_code=201, headers={"Cache-Control": "no-store"})


@router.post("/{name}/tokens", response_model=Issued, status_code=201,
             summary="Issue another token for a user")
def create_token(*, request: Request, conn: Conn, _who: Admin, name: Name,
                 body: NewToken | None = None) -> Response:
    """A further token (e.g. a second phone); the old ones stay valid."""
    row = conn.execute("SELECT id, role, disabled_at FROM api_users WHERE name = %s",
                       (name,)).fetchone()
    if row is None:
        raise not_found(f"user {name!r}")
    if row[2] is not None:
        raise invalid("name", f"user {name!r} is disabled", "path")
    issued = users.issue_token(conn, int(row[0]),
                               _lifetime(body.expires_days if body else 365))
    return json_response(request, {"user": name, "role": row[1], "token": issued.token,
                                   "token_id": issued.token_id, "prefix": issued.prefix,
                                   "expires_at": issued.expires_at}, status_code=201,
                         headers={"Cache-Control": "no-store"})


def _forget_tokens(request: Request) -> None:
    """This process forgets checked tokens now; the others do on the database's NOTIFY."""
    anyio.from_thread.run_sync(request.app.state.token_cache.clear)


@router.delete("/{name}", response_model=User,
               summary="Disable a user and revoke all their tokens")
def disable_user(*, request: Request, conn: Conn, who: Admin, name: Name) -> Response:
    """The user stays in the history; every token stops working at once."""
    if name == who.name:
        raise Problem(409, "you cannot disable yourself; ask another administrator",
                      slug="self-disable")
    try:
        users.revoke_user(conn, name)
    except users.UserError as exc:
        raise not_found(f"user {name!r}") from exc
    _forget_tokens(request)
    return json_response(request, next(u for u in users.list_users(conn) if u["name"] == name))


@router.delete("/{name}/tokens/{token_id}", response_model=User, summary="Revoke one token")
def revoke_token(*, request: Request, conn: Conn, _who: Admin, name: Name,
                 token_id: Annotated[int, Path(ge=1, le=2**62)]) -> Response:
    """The token stops working at once."""
    row = conn.execute("SELECT 1 FROM api_tokens t JOIN api_users u ON u.id = t.user_id "
                       "WHERE t.id = %s AND u.name = %s", (token_id, name)).fetchone()
    if row is None:
        raise not_found(f"token {token_id} of user {name!r}")
    users.revoke_token(conn, token_id)
    _forget_tokens(request)
    return json_response(request, next(u for u in users.list_users(conn) if u["name"] == name))
