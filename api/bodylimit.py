"""Request bodies bounded before they are read, and authentication before any body is parsed.

An ASGI middleware in front of every route (issue 13: 21 MB of JSON without a token were
parsed before the 401, API memory 144 → 279 MB):

- a body announced larger than its route's limit (Content-Length) is answered 413 without
  reading a byte of it; a body streamed without a length is counted as it arrives and
  answered 413 (or cut) at the first byte over the limit;
- a route behind a token (everything under /api/ but /api/v1/public/) that is sent a body
  gets its token checked first: 401 and the body never read.

Photo uploads (`…/done`, and Open311 reports with a photo) may be larger than other bodies;
everything else is small.
"""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg_pool import PoolTimeout
from starlette.exceptions import HTTPException
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.open311_format import error_response
from api.problems import Problem, response

_BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# multipart framing around a photo: field names, boundaries, the other form fields.
_UPLOAD_OVERHEAD = 64 * 1024


class BodyTooLarge(HTTPException):
    """A streamed body went past its limit (an HTTPException, so that FastAPI's body reading
    passes it on as it is and the problem handler answers 413)."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, _too_large(limit).detail)


def body_limit(path: str, small: int, upload: int, content_type: str = "") -> int:
    """The most bytes a request body on this path (of this Content-Type) may have."""
    if path.startswith("/api/v1/work-orders/") and path.endswith("/done"):
        return upload + _UPLOAD_OVERHEAD
    # An Open311 report with a citizen's photo (multipart, `media`); a plain form stays small.
    # The Open311 routes bound their bodies again themselves (api/open311_edge.py,
    # BAUHOF_OPEN311_MAX_BODY_BYTES): the smaller limit wins.
    if path.startswith("/open311/") and "/requests." in path and \
            content_type.lower().startswith("multipart/form-data"):
        return upload + _UPLOAD_OVERHEAD
    return small


def needs_token(path: str) -> bool:
    """Whether a route is behind a bearer token (its body is read only after the check)."""
    return path.startswith("/api/") and not path.startswith("/api/v1/public/")


def _too_large(limit: int) -> Problem:
    return Problem(413, f"the request body is larger than {limit} bytes, this route's limit; "
                        "send a smaller one", slug="too-large")


def _refusal(problem: Problem, path: str) -> Response:
    """A problem document; on Open311 paths GeoReport v2's error list (JSON or XML)."""
    if path.startswith("/open311/"):
        return error_response(path, problem.status, problem.detail, problem.headers)
    return response(problem, path)


class BodyLimit:
    """The middleware; `check_token(scope)` raises a Problem for a missing or bad token."""

    def __init__(self, app: ASGIApp, *, small: int, upload: int,
                 check_token: Any) -> None:
        self.app = app
        self.small = small
        self.upload = upload
        self.check_token = check_token

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Refuse what is too large or unauthenticated; count the rest as it is read."""
        if scope["type"] != "http" or scope["method"] not in _BODY_METHODS:
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        headers = dict(scope.get("headers") or [])
        limit = body_limit(path, self.small, self.upload,
                           headers.get(b"content-type", b"").decode("latin-1"))
        length = headers.get(b"content-length")
        if length is not None:
            try:
                announced = int(length)
            except ValueError:
                await response(Problem(400, "Content-Length is not a number",
                                       slug="bad-request"), path)(scope, receive, send)
                return
            if announced > limit:
                await _refusal(_too_large(limit), path)(scope, receive, send)
                return
        if needs_token(path):
            try:
                await self.check_token(scope)
            except Problem as problem:
                await response(problem, path)(scope, receive, send)
                return
            except (PoolTimeout, psycopg.OperationalError):
                # As the routes answer when no connection is free (api/problems.py).
                await response(Problem(503, "the database is busy; try again in a few "
                                            "seconds", slug="busy",
                                       headers={"Retry-After": "5"}), path)(
                    scope, receive, send)
                return
        received = 0
        started = False

        async def counted_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        async def tracked_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted_receive, tracked_send)
        except BodyTooLarge:
            if not started:
                await _refusal(_too_large(limit), path)(scope, receive, send)
