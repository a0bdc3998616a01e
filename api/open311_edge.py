"""Open311 input at the edge: body size, bytes, empty parameters, addresses and URLs, CORS.

Every Open311 route runs through `Open311Route`, which, before FastAPI reads anything:
refuses a body larger than the limit (413; by Content-Length before reading, and by counting
while reading a chunked one), drops empty query parameters (the spec: treat them as absent),
and turns a form-encoded body into strict UTF-8 (raw UTF-8 bytes and percent-encoded UTF-8
both; anything else is a 400) with empty fields dropped and control characters refused.
It is local to the Open311 router and composes with an app-wide body-size middleware (the
stricter limit wins). `Open311Cors` opens the Open311 reads to the origins of
BAUHOF_OPEN311_CORS_ORIGINS (`*` allowed: they carry no credentials) independently of the
token API's CORS.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Coroutine
from typing import Any
from urllib.parse import unquote_to_bytes, urlencode, urlsplit

from fastapi import Request
from fastapi.routing import APIRoute
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.problems import Problem
from rules.mail import is_addr_spec

__all__ = ["CONTROL", "MAX_BODY_BYTES", "Open311Cors", "Open311Route", "check_text",
           "is_addr_spec", "public_url_problem"]

MAX_BODY_BYTES = 10 * 1024 * 1024
# C0 controls except tab, line feed and carriage return (a browser's line break is CR LF),
# and DEL: XML 1.0 cannot carry most of them and no citizen types them.
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_URL_FORBIDDEN = re.compile(r"[\s\"'<>\\`{}|^]")
_LOCAL_NAMES = (".localhost", ".local", ".internal", ".lan", ".home.arpa", ".test",
                ".invalid")


def control_character(value: str) -> str | None:
    """The first forbidden control character in a value, as U+XXXX, or None."""
    found = CONTROL.search(value)
    return None if found is None else f"U+{ord(found.group()):04X}"


def check_text(name: str, value: str) -> None:
    """400 when a field holds a control character other than tab and line breaks."""
    bad = control_character(value)
    if bad is not None:
        raise Problem(400, f"{name} contains a control character ({bad}); only tab and line "
                           "breaks are allowed")


def public_url_problem(value: str) -> str | None:
    """Why a URL is not an http(s) URL of a public host, or None when it is one."""
    if _URL_FORBIDDEN.search(value):
        return "it contains spaces, quotes, angle brackets or other characters URLs escape"
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https"):
        return "only http and https are allowed"
    if "@" in parts.netloc:
        return "user names and passwords are not allowed"
    try:
        host = parts.hostname
        parts.port  # noqa: B018 (raises on a bad port)
    except ValueError:
        return "the host or port is malformed"
    if not host:
        return "it has no host"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        if "." not in host or host == "localhost" or host.endswith(_LOCAL_NAMES):
            return f"host {host!r} is not a public name"
        return None
    if not address.is_global:
        return f"address {host} is loopback, private, link-local or reserved"
    return None


def _drop_empty_query(raw: bytes) -> bytes:
    # `name=` (nothing after the first "=") is absent; `token=abc=` keeps its value.
    return b"&".join(p for p in raw.split(b"&")
                     if p and not (b"=" in p and not p.partition(b"=")[2]))


def _decoded(part: bytes) -> str:
    # Raw bytes first (a client sending UTF-8 unencoded), then the percent-decoded bytes.
    try:
        part.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise Problem(400, "the form body is not valid UTF-8 (raw bytes)") from exc
    try:
        return unquote_to_bytes(part.replace(b"+", b" ")).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise Problem(400, "the form body is not valid UTF-8 (percent-encoded bytes)") from exc


def canonical_form(body: bytes) -> bytes:
    """A form body as strict UTF-8 pairs, empty fields dropped, re-encoded for the parser."""
    pairs: list[tuple[str, str]] = []
    for item in body.split(b"&"):
        if not item:
            continue
        raw_name, _, raw_value = item.partition(b"=")
        name, value = _decoded(raw_name), _decoded(raw_value)
        check_text("a field name", name)
        check_text(name, value)
        if value:
            pairs.append((name, value))
    return urlencode(pairs).encode("ascii")


class Open311Route(APIRoute):
    """An Open311 route: the body limit, empty parameters and strict UTF-8, before FastAPI."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        """FastAPI's handler, behind the checks above."""
        handler = super().get_route_handler()

        async def guarded(request: Request) -> Response:
            scope = dict(request.scope)
            scope["query_string"] = _drop_empty_query(request.scope.get("query_string", b""))
            if request.method not in ("POST", "PUT", "PATCH"):
                return await handler(Request(scope, request.receive))
            limit = getattr(request.app.state.settings, "open311_max_body_bytes",
                            MAX_BODY_BYTES)
            body = await read_limited(request, limit)
            if request.headers.get("content-type", "").split(";")[0].strip().lower() == \
                    "application/x-www-form-urlencoded":
                body = canonical_form(body)
                headers = [(k, v) for k, v in scope["headers"] if k != b"content-length"]
                scope["headers"] = [*headers, (b"content-length", str(len(body)).encode())]
            sent = False

            async def replay() -> Message:
                nonlocal sent
                if sent:
                    return {"type": "http.disconnect"}
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}

            return await handler(Request(scope, replay))

        return guarded


async def read_limited(request: Request, limit: int) -> bytes:
    """The whole body, refusing (413) one longer than `limit` before or while reading it."""
    declared = request.headers.get("content-length")
    too_large = Problem(413, f"the request body is larger than {limit} bytes")
    if declared is not None and (not declared.isdigit() or int(declared) > limit):
        raise too_large
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise too_large
        chunks.append(chunk)
    return b"".join(chunks)


class Open311Cors:
    """CORS for the Open311 reads with its own origins; other paths pass through untouched."""

    def __init__(self, app: ASGIApp, origins: tuple[str, ...]) -> None:
        self.app = app
        self.cors = CORSMiddleware(self._inner, allow_origins=list(origins),
                                   allow_methods=["GET"], allow_headers=["If-None-Match"],
                                   expose_headers=["ETag"])

    async def _inner(self, scope: Scope, receive: Receive, send: Send) -> None:
        # The token API's CORS (inside) must not add its own headers to these answers.
        headers = [(k, v) for k, v in scope["headers"] if k != b"origin"]
        await self.app({**scope, "headers": headers}, receive, send)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Open311 GETs (and their preflights) through this policy; the rest as they are."""
        if scope["type"] == "http" and scope["path"].startswith("/open311/") and \
                scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.cors(scope, receive, send)
        else:
            await self.app(scope, receive, send)

