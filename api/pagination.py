"""Stable, opaque cursors: the sort key and id of the last item, base64url-encoded JSON.

A cursor names a position in a total order (sort key, id), not an offset, so items added or
removed while a client pages neither repeat nor go missing. The cursor carries the sort
name so a cursor from one ordering is refused in another.
"""

from __future__ import annotations

import base64
import binascii
from datetime import datetime
from typing import Any

import orjson

from api.problems import Problem

DEFAULT_LIMIT = 100
MAX_LIMIT = 500


def encode(sort: str, key: list[Any]) -> str:
    """A cursor for the position after `key` in ordering `sort`."""
    values = [v.isoformat() if isinstance(v, datetime) else v for v in key]
    raw = orjson.dumps([sort, *values])
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode(cursor: str, sort: str, types: tuple[type, ...]) -> list[Any]:
    """The key of a cursor, checked against the ordering and the key's types; 422 if bad."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        data = orjson.loads(raw)
    except (binascii.Error, ValueError, orjson.JSONDecodeError) as exc:
        raise _bad("it is not a cursor this API gave out") from exc
    if not isinstance(data, list) or len(data) != len(types) + 1 or data[0] != sort:
        raise _bad(f"it belongs to another ordering than {sort!r}")
    out: list[Any] = []
    for value, kind in zip(data[1:], types, strict=True):
        out.append(_typed(value, kind))
    return out


def _typed(value: Any, kind: type) -> Any:
    if value is None:
        return None
    if kind is datetime:
        try:
            return datetime.fromisoformat(str(value))
        except ValueError as exc:
            raise _bad("its time is invalid") from exc
    if kind is int and isinstance(value, int) and not isinstance(value, bool):
        return value
    if kind is str and isinstance(value, str):
        return value
    raise _bad("its key has the wrong type")


def _bad(reason: str) -> Problem:
    return Problem(422, f"query field 'cursor': {reason}; start again without a cursor",
                   slug="invalid-input", title="Invalid input",
                   errors=[{"field": "cursor", "location": "query", "message": reason}])


def page(items: list[dict[str, Any]], limit: int, sort: str,
         key: Any) -> dict[str, Any]:
    """The page envelope: `items` (at most limit) and `next_cursor` (null on the last page).

    Callers fetch limit + 1 rows; `key(item)` gives the item's sort key as a list.
    """
    more = len(items) > limit
    shown = items[:limit]
    return {"items": shown,
            "next_cursor": encode(sort, key(shown[-1])) if more and shown else None}
