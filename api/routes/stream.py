"""Live order changes as Server-Sent Events, read from the append-only order history.

Each event's id is the history row's id, so a client that reconnects with `Last-Event-ID`
gets exactly what it missed. The stream wakes on the outbox NOTIFY that every change sends
(api/changes.py) and polls as a fallback. History ids are handed out before commit, so a
later id can become visible before an earlier one: the stream waits up to GAP_WAIT_S for a
missing id before skipping it (a rolled-back transaction never fills its gap).

A crew gets the orders it may see; when an order that was in its view leaves it (taken or
started by another crew, closed by someone else) it gets a `removed` event with just the id,
also for orders it only knows from the list.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Annotated, Any

import anyio
from fastapi import APIRouter, Depends, Header, Query, Request
from starlette.responses import StreamingResponse

from api import orders_view, users
from api.auth import stream_principal
from api.changes import ChangeNotifier
from api.problems import invalid
from api.responses import dumps
from api.users import Principal

router = APIRouter(prefix="/api/v1/stream", tags=["work orders"])
GAP_WAIT_S = 1.0
BATCH = 200
SEEN_MAX = 20_000
_ORDER_COLUMNS = ", ".join("o." + c for c in orders_view.SUMMARY)
_FETCH = (
    "SELECT h.id, h.order_id, h.at, h.actor, h.event, h.from_status, h.to_status, h.note, "  # noqa: S608
    + _ORDER_COLUMNS + " FROM order_history h JOIN work_orders o ON o.id = h.order_id "
    "WHERE h.id > %s ORDER BY h.id LIMIT %s")


def _fetch(request: Request, after: int) -> list[tuple[Any, ...]]:
    with request.app.state.pool.connection() as conn:
        rows: list[tuple[Any, ...]] = conn.execute(_FETCH, (after, BATCH)).fetchall()
    return rows


def _latest(request: Request) -> int:
    with request.app.state.pool.connection() as conn:
        row = conn.execute("SELECT coalesce(max(id), 0) FROM order_history").fetchone()
    return int(row[0]) if row else 0


class Cursor:
    """Where a stream is, and the gap it may be waiting on."""

    def __init__(self, after: int) -> None:
        self.after = after
        self.gap_since: float | None = None
        self.seen: set[int] = set()

    def accept(self, history_id: int, now: float) -> bool:
        """Whether the next row may be sent now (False: wait for the gap before it)."""
        if history_id == self.after + 1:
            self.gap_since = None
            return True
        if self.gap_since is None:
            self.gap_since = now
        if now - self.gap_since >= GAP_WAIT_S:
            self.gap_since = None
            return True
        return False


def render(who: Principal, cursor: Cursor, row: tuple[Any, ...]) -> str | None:
    """The SSE text of one history row for this caller, or None when it is not for them."""
    history_id, order_id = int(row[0]), int(row[1])
    order = orders_view.summary(row[8:])
    if not orders_view.visible(who, order["assignee"], order["status"]):
        # It was in this crew's view if the stream showed it, if it was in the open pool
        # just before this change, or if it is still this crew's (closed by someone else):
        # a crew that loaded it from the list must hear that it went.
        was_visible = (order_id in cursor.seen or row[5] == "open"
                       or (who.crew is not None and order["assignee"] == who.crew))
        if who.crew is not None and was_visible:
            cursor.seen.discard(order_id)
            return f"id: {history_id}\nevent: removed\ndata: {dumps({'id': order_id}).decode()}\n\n"
        return None
    if who.crew is not None:
        if len(cursor.seen) >= SEEN_MAX:
            # Bounded over a day: the open pool and the crew's own orders are covered anyway.
            cursor.seen.clear()
        cursor.seen.add(order_id)
    data = {"history_id": history_id, "at": row[2], "actor": row[3], "event": row[4],
            "from_status": row[5], "to_status": row[6], "note": row[7], "order": order}
    return f"id: {history_id}\nevent: order\ndata: {dumps(data).decode()}\n\n"


def _recheck(request: Request) -> Principal | None:
    """The stream's token checked again (None: unknown, expired or revoked by now)."""
    _, _, token = request.headers.get("authorization", "").partition(" ")
    with request.app.state.pool.connection() as conn:
        return users.authenticate(conn, token.strip())


def _end(reason: str) -> str:
    return f"event: end\ndata: {dumps({'reason': reason}).decode()}\n\n"


async def _events(request: Request, who: Principal, cursor: Cursor) -> AsyncIterator[str]:
    notifier: ChangeNotifier = request.app.state.notifier
    settings = request.app.state.settings
    checked = notifier.auth_generation
    yield "retry: 3000\n\n"
    last_sent = time.monotonic()
    while not await request.is_disconnected():
        # A stream lives no longer than its token: it ends when the token expires, and
        # re-checks it on every auth notice (a user disabled, a token revoked, a role changed).
        if who.expires_at is not None and datetime.now(UTC) >= who.expires_at:
            yield _end("the token expired")
            return
        if notifier.auth_generation != checked:
            checked = notifier.auth_generation
            now = await anyio.to_thread.run_sync(_recheck, request)
            if now is None or (now.user_id, now.role) != (who.user_id, who.role):
                yield _end("the token is unknown, expired or revoked")
                return
        rows = await anyio.to_thread.run_sync(_fetch, request, cursor.after)
        held = False
        for row in rows:
            if not cursor.accept(int(row[0]), time.monotonic()):
                held = True
                break
            cursor.after = int(row[0])
            text = render(who, cursor, row)
            if text is not None:
                last_sent = time.monotonic()
                yield text
        if len(rows) == BATCH and not held:
            continue
        if held:
            await anyio.sleep(0.1)
            continue
        if time.monotonic() - last_sent >= settings.stream_keepalive_s:
            last_sent = time.monotonic()
            yield ": keep-alive\n\n"
        wait_s = settings.stream_poll_s
        if who.expires_at is not None:
            wait_s = max(0.0, min(wait_s, (who.expires_at - datetime.now(UTC)).total_seconds()))
        await notifier.wait(wait_s)


@router.get("/work-orders", summary="Live order changes (Server-Sent Events)",
            response_class=StreamingResponse,
            responses={200: {"content": {"text/event-stream": {}},
                             "description": "`order` and `removed` events; id = history id"}})
async def stream_work_orders(
    *,
    request: Request, who: Annotated[Principal, Depends(stream_principal)],
    last_event_id: Annotated[str | None, Header(alias="Last-Event-ID", max_length=20)] = None,
    after: Annotated[int | None, Query(ge=0, le=2**62,
                                       description="start after this history id")] = None,
) -> StreamingResponse:
    """Changes after `Last-Event-ID` (or `after`), else from now on."""
    start = after
    if last_event_id is not None:
        if not last_event_id.isdigit():
            raise invalid("Last-Event-ID", "must be an event id this stream sent", "header")
        start = int(last_event_id)
    if start is None:
        start = await anyio.to_thread.run_sync(_latest, request)
    return StreamingResponse(_events(request, who, Cursor(start)),
                             media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
