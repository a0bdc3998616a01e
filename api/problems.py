"""Errors as RFC 9457 problem details (`application/problem+json`), for every error the API gives.

Open311 paths answer in the GeoReport v2 error format instead (see api/open311_format.py).
"""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

import orjson
import psycopg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from psycopg_pool import PoolTimeout
from pydantic import BaseModel, ConfigDict
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

log = logging.getLogger("bauhof.api")
MEDIA_TYPE = "application/problem+json"


class ApiError(Exception):
    """Base class of every error the api package raises."""


class Problem(ApiError):
    """An error answered as a problem document; `extra` members are added to it."""

    def __init__(self, status: int, detail: str, *, slug: str | None = None,
                 title: str | None = None, headers: dict[str, str] | None = None,
                 **extra: Any) -> None:
        self.status = status
        self.detail = detail
        self.slug = slug
        self.title = title or HTTPStatus(status).phrase
        self.headers = headers or {}
        self.extra = extra
        super().__init__(detail)

    def body(self, instance: str | None = None) -> dict[str, Any]:
        """The problem document."""
        doc: dict[str, Any] = {
            "type": f"/problems/{self.slug}" if self.slug else "about:blank",
            "title": self.title, "status": self.status, "detail": self.detail}
        if instance:
            doc["instance"] = instance
        doc.update(self.extra)
        return doc


class FieldError(BaseModel):
    """One invalid input field."""

    field: str
    location: str
    message: str


class ProblemDocument(BaseModel):
    """RFC 9457 problem details; some problems add members (errors, allowed, …)."""

    model_config = ConfigDict(extra="allow")

    type: str
    title: str
    status: int
    detail: str
    instance: str | None = None
    errors: list[FieldError] | None = None


def not_found(what: str) -> Problem:
    """404 naming what was not found."""
    return Problem(404, f"{what} does not exist (or is not visible to you)", slug="not-found")


def invalid(field: str, message: str, location: str = "body") -> Problem:
    """422 for one invalid field, named in the detail and in `errors`."""
    return Problem(422, f"{location} field '{field}': {message}", slug="invalid-input",
                   title="Invalid input",
                   errors=[{"field": field, "location": location, "message": message}])


def response(problem: Problem, instance: str | None = None) -> Response:
    """The HTTP response for a problem."""
    return Response(orjson.dumps(problem.body(instance)), status_code=problem.status,
                    media_type=MEDIA_TYPE, headers=problem.headers)


def field_errors(exc: RequestValidationError) -> list[dict[str, str]]:
    """Each invalid field of a validation error as {field, location, message}."""
    out: list[dict[str, str]] = []
    for err in exc.errors():
        loc = [str(p) for p in err.get("loc", ())]
        where = loc[0] if loc else "request"
        name = ".".join(loc[1:]) or where
        message = str(err.get("msg", "invalid"))
        out.append({"field": name, "location": where, "message": message})
    return out


def validation_problem(exc: RequestValidationError) -> Problem:
    """422 whose detail names every invalid field."""
    errors = field_errors(exc)
    detail = "; ".join(f"{e['location']} field '{e['field']}': {e['message']}" for e in errors)
    return Problem(422, detail or "the request is invalid", slug="invalid-input",
                   title="Invalid input", errors=errors)


async def _on_problem(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, Problem)
    return _dispatch(request, exc)


async def _on_http(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    detail = exc.detail if isinstance(exc.detail, str) else HTTPStatus(exc.status_code).phrase
    if exc.status_code == 404 and detail == "Not Found":
        detail = f"no resource at {request.url.path}"
    if exc.status_code == 405:
        detail = f"{request.method} is not allowed on {request.url.path}"
    return _dispatch(request, Problem(exc.status_code, detail,
                                      headers=dict(exc.headers or {})))


async def _on_validation(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    return _dispatch(request, validation_problem(exc))


async def _on_data_error(request: Request, exc: Exception) -> Response:
    # The database refused a value the client sent (a NUL character, a number out of
    # range): the request is at fault, not the server.
    from bauhof.db import first_line

    return _dispatch(request, Problem(422, f"a value in the request cannot be stored: "
                                           f"{first_line(exc)}", slug="invalid-input",
                                      title="Invalid input"))


async def _on_busy(request: Request, exc: Exception) -> Response:
    log.warning("no database connection free for %s %s", request.method, request.url.path)
    return _dispatch(request, Problem(503, "the database is busy; try again in a few seconds",
                                      slug="busy", headers={"Retry-After": "5"}))


async def _on_unexpected(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return _dispatch(request, Problem(500, "an unexpected error occurred; it has been logged "
                                           "for the operators", slug="internal"))


def _dispatch(request: Request, problem: Problem) -> Response:
    if request.url.path.startswith("/open311/"):
        from api.open311_format import error_response

        status = problem.status if problem.status in (403, 404, 413, 429, 503) else (
            500 if problem.status >= 500 else 400)
        return error_response(request.url.path, status, problem.detail, problem.headers)
    return response(problem, request.url.path)


def install(app: FastAPI) -> None:
    """Register the handlers that turn every error into a problem document."""
    app.add_exception_handler(Problem, _on_problem)
    app.add_exception_handler(StarletteHTTPException, _on_http)
    app.add_exception_handler(RequestValidationError, _on_validation)
    app.add_exception_handler(psycopg.DataError, _on_data_error)
    app.add_exception_handler(PoolTimeout, _on_busy)
    app.add_exception_handler(Exception, _on_unexpected)
