"""The connection pool the lifespan opens, and the dependency that lends a connection."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Annotated, Any

import psycopg
from fastapi import Depends, Request
from psycopg_pool import ConnectionPool

from api.config import ApiSettings

Connection = psycopg.Connection[tuple[Any, ...]]


def open_pool(settings: ApiSettings) -> ConnectionPool[Connection]:
    """A pool of autocommit connections in UTC; waits until the first one connects."""
    pool: ConnectionPool[Connection] = ConnectionPool(
        settings.database_url, min_size=settings.pool_min, max_size=settings.pool_max,
        # Generic plans for prepared (hot) statements: planning a query over a year of
        # weekly chunks costs more than running it; TimescaleDB still excludes chunks at
        # run time.
        kwargs={"autocommit": True,
                "options": "-c TimeZone=UTC -c plan_cache_mode=force_generic_plan",
                "application_name": "bauhof-api"},
        open=False, timeout=10.0, name="bauhof-api")
    pool.open(wait=True, timeout=30.0)
    return pool


async def _slot(request: Request) -> AsyncIterator[None]:
    """Wait (in the event loop, holding no thread) until a pool connection is free.

    Sync endpoints run in a pool of worker threads. Were a thread to block waiting for a
    connection, enough such threads could leave the requests that hold connections without a
    thread to finish on: a deadlock until the pool's timeout. With at most pool_max requests
    past this point, a connection is always free when one is asked for.
    """
    async with request.app.state.db_slots:
        yield


def get_conn(request: Request, _slot: Annotated[None, Depends(_slot)]) -> Iterator[Connection]:
    """A pooled connection for one request (autocommit; use conn.transaction() to group)."""
    pool: ConnectionPool[Connection] = request.app.state.pool
    with pool.connection() as conn:
        yield conn


Conn = Annotated[Connection, Depends(get_conn)]
