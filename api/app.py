"""The FastAPI application: `create_app(settings)`; nothing happens at import time.

The lifespan opens the connection pool and the change listener, loads the rules file the
rule-settings endpoints validate against, and closes everything on shutdown.
"""

from __future__ import annotations

import asyncio
import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.openapi.utils import get_openapi

from api import crew, melden, planner, portal, problems, vendor
from api.auth import TokenCache, scope_principal
from api.bodylimit import BodyLimit
from api.changes import ChangeNotifier
from api.config import ApiSettings
from api.database import open_pool
from api.open311_edge import Open311Cors
from api.ratelimit import TokenBucket
from api.routes import (
    assets,
    crew_app,
    devices,
    metrics,
    open311,
    operations,
    readings,
    reports,
    rule_settings,
    sponsorships,
    stream,
    users,
    weather,
    work_orders,
)
from api.routes import portal as portal_routes
from api.routes import routes as route_plans
from rules import ruleset

DESCRIPTION = """Bauhof's HTTP API: devices, assets, readings, work orders, operations, and an
Open311 GeoReport v2 endpoint. Send `Authorization: Bearer <token>` (tokens come from
`bauhof users create`). Errors are RFC 9457 problem details; lists are paged with opaque
cursors; reads carry ETags; every timestamp is ISO 8601 with its offset."""


def _lifespan(settings: ApiSettings) -> Any:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if getattr(app.state, "started", False):
            # A second client attached to an app already serving (in-process tests) shares
            # the running resources instead of replacing them.
            yield
            return
        app.state.started = True
        settings.media_dir.mkdir(parents=True, exist_ok=True)
        app.state.ruleset = ruleset.load(settings.rules_file)
        app.state.pool = open_pool(settings)
        app.state.db_slots = anyio.Semaphore(settings.pool_max)
        app.state.token_cache = TokenCache(settings.token_cache_s)
        app.state.notifier = ChangeNotifier(settings.database_url,
                                            on_auth_change=app.state.token_cache.clear)
        app.state.notifier.start(asyncio.get_running_loop())
        # What start-up allocated lives as long as the process: out of the collector's way,
        # so full collections while serving only walk what requests allocate.
        gc.collect()
        gc.freeze()
        try:
            yield
        finally:
            app.state.notifier.stop()
            app.state.pool.close()
            app.state.started = False
    return lifespan


def _openapi(app: FastAPI) -> dict[str, Any]:
    """The OpenAPI document, with every error response documented as a problem."""
    if app.openapi_schema:
        return app.openapi_schema
    schema = get_openapi(title=app.title, version=app.version, description=app.description,
                         routes=app.routes)
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components["ProblemDocument"] = problems.ProblemDocument.model_json_schema(
        ref_template="#/components/schemas/{model}")
    components.update(components["ProblemDocument"].pop("$defs", {}))
    problem = {"application/problem+json": {
        "schema": {"$ref": "#/components/schemas/ProblemDocument"}}}
    for path, item in schema.get("paths", {}).items():
        for method, operation in item.items():
            responses = operation.setdefault("responses", {})
            if path.startswith("/open311/"):
                responses.pop("422", None)
                continue
            codes = ["422"] + [c for c in responses if c[0] in "45"]
            if operation.get("security") or path.startswith("/api/"):
                codes += ["401", "403", "404", "503"]
            if path in ("/health", "/ready"):
                codes.append("429")
            # A change can collide with the resource's state (a closed order, a settled
            # dead letter, a taken name).
            if path.startswith("/api/") and method in ("post", "put", "patch", "delete"):
                codes.append("409")
            if method in ("post", "put", "patch", "delete"):
                codes.append("413")  # api/bodylimit.py
            for code in dict.fromkeys(codes):
                if code != "422" and responses.get(code, {}).get("content"):
                    continue  # a route that documents its own error body keeps it
                title = responses.get(code, {}).get("description") or problems.Problem(
                    int(code), "").title
                responses[code] = {"description": title, "content": problem}
    app.openapi_schema = schema
    return schema


def create_app(settings: ApiSettings) -> FastAPI:
    """A new application for these settings."""
    # /docs is served by api.vendor with Swagger UI from this server, not from a CDN.
    app = FastAPI(title="Bauhof API", version="1", description=DESCRIPTION,
                  lifespan=_lifespan(settings), docs_url=None, redoc_url=None)
    app.state.settings = settings
    app.state.public_bucket = TokenBucket(settings.public_rate_per_s, settings.public_burst)
    if settings.cors_origins:
        app.add_middleware(CORSMiddleware, allow_origins=list(settings.cors_origins),
                           allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
                           allow_headers=["Authorization", "Content-Type", "If-None-Match",
                                          "Last-Event-ID"], expose_headers=["ETag"])
    if settings.open311_cors_origins:
        # Added last, so outermost: the Open311 reads answer by their own CORS policy.
        app.add_middleware(Open311Cors, origins=settings.open311_cors_origins)
    problems.install(app)
    # Bodies bounded and tokens checked before any body is read (api/bodylimit.py).
    app.add_middleware(BodyLimit, small=settings.max_body_bytes,
                       upload=settings.max_photo_bytes, check_token=scope_principal)
    for module in (operations, metrics, devices, readings, assets, stream, work_orders,
                   rule_settings, users, open311, crew, planner, vendor, reports, melden, weather):
        app.include_router(module.router)
    app.include_router(route_plans.router)
    app.include_router(portal.router)
    app.include_router(portal_routes.router)
    app.include_router(sponsorships.router)
    app.include_router(crew_app.router)
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    return app
