"""Operations: health and readiness, ingest counters and lag, dead letters.

Re-processing a dead letter runs its stored topic and payload through ingest's own pipeline
(`ingest.deadletters.reprocess`, as the CLI does), in this process and in one transaction with
the status change. The operator sees at once whether the fix worked (the rows written, or the
new reason it still fails), the same unique keys make a repeat harmless, and there is no
second way of turning messages into rows to keep in step with ingest. Written readings NOTIFY
the rules engine as ingest's do.
"""

from __future__ import annotations

import base64
import json
from datetime import datetime
from typing import Annotated, Any, Literal, NoReturn

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import BaseModel, Field
from starlette.responses import Response

from api import pagination, users
from api.auth import Staff
from api.database import Conn, Connection
from api.problems import Problem, not_found
from api.ratelimit import limit_public
from api.responses import json_response
from api.routes.weather import summary
from bauhof.db import available_migrations
from ingest import deadletters

router = APIRouter(tags=["operations"])
DeadId = Annotated[int, Path(ge=1, le=2**62)]
STALE_S = 60


class Health(BaseModel):
    """Liveness."""

    status: str


class Readiness(BaseModel):
    """Whether the API can serve: database reachable and migrated."""

    status: str
    database: str
    # Only for planners and administrators (a release's version is an attacker's hint).
    schema_version: int | None = None
    # How old the newest observed weather hour is, for planners and administrators too
    # (informational: it does not make the API unready). GET /api/v1/weather/status has more.
    weather_age_h: float | None = None


class Worker(BaseModel):
    """One ingest worker's counters."""

    worker: str
    started_at: datetime
    updated_at: datetime
    received: int
    stored: int
    duplicates: int
    dead_lettered: int
    lag_s: float | None
    stale: bool


class IngestStatus(BaseModel):
    """Ingest counters, lag, and what waits for the rules engine."""

    workers: list[Worker]
    received: int
    stored: int
    duplicates: int
    dead_lettered: int
    max_lag_s: float | None
    dead_letters_new: int
    newest_reading_at: datetime | None
    rules_backlog_batches: int


class DeadLetter(BaseModel):
    """A message ingest could not use."""

    id: int
    received_at: datetime
    topic: str
    reason: str
    reason_code: str = Field(description="what kind of problem, for programs: malformed, "
                             "too_large, implausible, unknown_model, undecodable, "
                             "refused_by_database, internal, refused_by_rules, or unknown "
                             "(stored before codes, wording not recognised)")
    dev_eui: str | None
    status: str
    size_bytes: int


class DeadLetterPage(BaseModel):
    """One page of dead letters."""

    items: list[DeadLetter]
    next_cursor: str | None


class DeadLetterDetail(DeadLetter):
    """A dead letter with its payload (base64, and as text or JSON when it is that)."""

    payload_base64: str
    payload_text: str | None
    payload_json: Any | None


class Reprocessed(BaseModel):
    """What re-processing wrote."""

    id: int
    status: str
    stored: int
    duplicates: int
    readings: int


@router.get("/health", response_model=Health, dependencies=[Depends(limit_public)],
            summary="Liveness: the process answers")
def health(*, request: Request) -> Response:
    """Always ok while the process runs."""
    return json_response(request, {"status": "ok"})


@router.get("/ready", response_model=Readiness, dependencies=[Depends(limit_public)],
            responses={503: {"model": Readiness, "description": "not ready"}},
            summary="Readiness: database reachable and fully migrated")
def ready(*, request: Request) -> Response:
    """503 while the database is down or a migration is missing."""
    want = max(m.version for m in available_migrations())
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    age = None
    try:
        with request.app.state.pool.connection(timeout=2.0) as conn:
            row = conn.execute("SELECT max(version) FROM schema_migrations").fetchone()
            who = (users.authenticate(conn, token.strip()) if scheme.lower() == "bearer"
                   else None)
            if (who is not None and who.role in ("planner", "admin") and row is not None
                    and row[0] is not None and int(row[0]) >= want):
                age = summary(conn)["age_h"]
    except Exception:
        return json_response(request, {"status": "unavailable", "database": "unreachable"},
                             status_code=503)
    version = None if row is None or row[0] is None else int(row[0])
    ok = version is not None and version >= want
    body: dict[str, Any] = {"status": "ok" if ok else "unavailable",
                            "database": "ok" if ok else
                            "needs migration (run `bauhof db migrate`)"}
    # Versions tell an attacker which release runs: only planners and administrators see them.
    if who is not None and who.role in ("planner", "admin"):
        body["schema_version"] = version
        body["weather_age_h"] = age
        if not ok:
            body["database"] = f"needs migration to {want} (run `bauhof db migrate`)"
    return json_response(request, body, status_code=200 if ok else 503)


@router.get("/api/v1/ops/ingest", response_model=IngestStatus, tags=["operations"],
            summary="Ingest counters and lag")
def ingest_status(*, request: Request, conn: Conn, _who: Staff) -> Response:
    """Per-worker counters (stale when not updated for a minute) and totals."""
    rows = conn.execute(
        "SELECT worker, started_at, updated_at, received, stored, duplicates, dead_lettered, "
        "lag_s, updated_at < now() - make_interval(secs => %s) FROM ingest_stats "
        "ORDER BY worker", (STALE_S,)).fetchall()
    keys = ("worker", "started_at", "updated_at", "received", "stored", "duplicates",
            "dead_lettered", "lag_s", "stale")
    workers = [dict(zip(keys, r, strict=True)) for r in rows]
    extra = conn.execute(
        "SELECT (SELECT count(*) FROM dead_letters WHERE status = 'new'), "
        "(SELECT max(time) FROM readings), "
        "(SELECT count(*) FROM ingest_batches b WHERE b.xid >= coalesce("
        "(SELECT min(next_xid) FROM rules_cursor), '1'::xid8))").fetchone()
    assert extra is not None
    lags = [w["lag_s"] for w in workers if w["lag_s"] is not None and not w["stale"]]
    return json_response(request, {
        "workers": workers,
        **{k: sum(int(w[k]) for w in workers)
           for k in ("received", "stored", "duplicates", "dead_lettered")},
        "max_lag_s": max(lags) if lags else None, "dead_letters_new": extra[0],
        "newest_reading_at": extra[1], "rules_backlog_batches": extra[2]})


_DEAD_COLUMNS = ("id, received_at, topic, reason, reason_code, dev_eui, status, "
                 "length(payload)")
_DEAD = f"SELECT {_DEAD_COLUMNS} FROM dead_letters"  # noqa: S608 (constant columns)
_DEAD_KEYS = ("id", "received_at", "topic", "reason", "reason_code", "dev_eui", "status",
              "size_bytes")


@router.get("/api/v1/ops/dead-letters", response_model=DeadLetterPage,
            summary="Dead-lettered messages, newest first")
def list_dead_letters(
    *,
    request: Request, conn: Conn, _who: Staff,
    status: Annotated[Literal["new", "reprocessed", "discarded"] | None, Query()] = None,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
    limit: Annotated[int, Query(ge=1, le=pagination.MAX_LIMIT)] = pagination.DEFAULT_LIMIT,
) -> Response:
    """Dead letters by id, newest first, optionally of one status."""
    before = pagination.decode(cursor, "dead", (int,))[0] if cursor else 2**62
    rows = conn.execute(
        f"{_DEAD} WHERE id < %(before)s AND (%(status)s::text IS NULL "
        "OR status = %(status)s) ORDER BY id DESC LIMIT %(n)s",
        {"before": before, "status": status, "n": limit + 1}).fetchall()
    items = [dict(zip(_DEAD_KEYS, r, strict=True)) for r in rows]
    return json_response(request, pagination.page(items, limit, "dead", lambda i: [i["id"]]))


def _dead(conn: Connection, dead_id: int) -> tuple[dict[str, Any], bytes]:
    row = conn.execute(f"SELECT {_DEAD_COLUMNS}, payload FROM dead_letters "  # noqa: S608
                       "WHERE id = %s", (dead_id,)).fetchone()
    if row is None:
        raise not_found(f"dead letter {dead_id}")
    return dict(zip(_DEAD_KEYS, row[:8], strict=True)), bytes(row[8])


@router.get("/api/v1/ops/dead-letters/{dead_id}", response_model=DeadLetterDetail,
            summary="One dead letter with its payload")
def get_dead_letter(*, request: Request, conn: Conn, _who: Staff, dead_id: DeadId) -> Response:
    """The stored message."""
    item, payload = _dead(conn, dead_id)
    text: str | None
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError:
        text = None
    parsed: Any = None
    if text is not None:
        try:
            parsed = json.loads(text)
        except ValueError:
            parsed = None
    item.update(payload_base64=base64.b64encode(payload).decode(), payload_text=text,
                payload_json=parsed)
    return json_response(request, item)


def _settle(item: dict[str, Any], action: str) -> None:
    if item["status"] != "new":
        _settled(item["id"], item["status"], action)


def _settled(dead_id: int, status: str, action: str) -> NoReturn:
    raise Problem(409, f"dead letter {dead_id} is {status} already; only new ones can be "
                       f"{action}", slug="dead-letter-settled", status_now=status)


@router.post("/api/v1/ops/dead-letters/{dead_id}/reprocess", response_model=Reprocessed,
             summary="Run a dead letter through ingest again (after a fix)")
def reprocess(*, request: Request, conn: Conn, _who: Staff, dead_id: DeadId) -> Response:
    """Write its rows now; 409 with the new reason if it still cannot be used."""
    try:
        result = deadletters.reprocess(
            conn, dead_id, request.app.state.settings.object_keymap)
    except deadletters.NotFound:
        raise not_found(f"dead letter {dead_id}") from None
    except deadletters.Settled as exc:
        _settled(dead_id, exc.status, "re-processed")
    except deadletters.StillFailing as exc:
        raise Problem(409, str(exc), slug="still-failing", reason=exc.reason) from None
    return json_response(request, {"id": dead_id, "status": "reprocessed",
                                   "stored": result.stored, "duplicates": result.duplicates,
                                   "readings": result.readings})


@router.post("/api/v1/ops/dead-letters/{dead_id}/discard", response_model=DeadLetter,
             summary="Mark a dead letter as discarded (kept, no longer listed as new)")
def discard(*, request: Request, conn: Conn, _who: Staff, dead_id: DeadId) -> Response:
    """Discard a new dead letter."""
    item, _ = _dead(conn, dead_id)
    _settle(item, "discarded")
    conn.execute("UPDATE dead_letters SET status = 'discarded' WHERE id = %s", (dead_id,))
    item["status"] = "discarded"
    return json_response(request, item)
