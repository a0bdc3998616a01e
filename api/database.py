"""The connection pool the lifespan opens, and the dependency that lends a connection."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Annotated, Any

import psycopg
from fastapi import Depends, Request
from psycopg.pq import TransactionStatus
from psycopg_pool import ConnectionPool, PoolTimeout
from starlette.concurrency import run_in_threadpool

from api.config import ApiSettings

log = logging.getLogger("bauhof.api.database")
Connection = psycopg.Connection[tuple[Any, ...]]
# psycopg_pool refuses a zero timeout outright; this only takes a connection that is ready.
_NO_WAIT_S = 1e-4


def _warm(conn: Connection) -> None:
    """Load the catalogue of every readings chunk into a new connection before it serves.

    Planning (EXPLAIN, nothing runs) a query over all chunks opens each chunk and its
    indexes once; otherwise the first requests on each new connection pay for it (a fresh
    API's first 5 s at 200 req/s had a p99 near a second; ~0.2 s with this and a full pool).
    """
    try:
        conn.execute("EXPLAIN SELECT * FROM readings WHERE dev_eui = '' "
                     "AND ingest_xid >= '1'::xid8")
        conn.execute("EXPLAIN SELECT * FROM rollup_daily WHERE dev_eui = ''")
    except psycopg.errors.UndefinedTable:
        log.warning("the database has no readings tables yet: run `bauhof db migrate`")


def open_pool(settings: ApiSettings) -> ConnectionPool[Connection]:
    """A pool of autocommit connections in UTC, warmed; waits until pool_min are ready."""
    pool: ConnectionPool[Connection] = ConnectionPool(
        settings.database_url, min_size=min(settings.pool_min, settings.pool_max),
        max_size=settings.pool_max,
        # Generic plans for prepared (hot) statements: planning a query over a year of
        # weekly chunks costs more than running it; TimescaleDB still excludes chunks at
        # run time.
        kwargs={"autocommit": True,
                "options": "-c TimeZone=UTC -c plan_cache_mode=force_generic_plan",
                "application_name": "bauhof-api"},
        open=False, timeout=10.0, name="bauhof-api", configure=_warm)
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


async def get_conn(request: Request,
                   _slot: Annotated[None, Depends(_slot)]) -> AsyncIterator[Connection]:
    """A pooled connection for one request (autocommit; use conn.transaction() to group).

    Taken and given back in the event loop when that needs no I/O (an idle connection is
    ready; the connection is back to idle), else in a worker thread: two thread hops less
    per request, which is most of the API's own CPU time on a short request.
    """
    pool: ConnectionPool[Connection] = request.app.state.pool
    try:
        conn = pool.getconn(timeout=_NO_WAIT_S)
    except PoolTimeout:
        conn = await run_in_threadpool(pool.getconn)
    try:
        yield conn
    finally:
        if conn.info.transaction_status == TransactionStatus.IDLE:
            pool.putconn(conn)
        else:  # the pool rolls back: I/O, so not in the event loop
            await run_in_threadpool(pool.putconn, conn)


Conn = Annotated[Connection, Depends(get_conn)]
