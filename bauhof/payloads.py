"""Limits on what one received message may be: its size and the depth of its JSON.

Every message handler parses through `load_json`, so that no message can make a worker
spend unbounded memory or time, or hit an interpreter limit later (a number of thousands of
digits, thousands of nested arrays, a value too deep for the JSON writer that stores it).
"""

from __future__ import annotations

from typing import Any

import orjson

from bauhof.errors import InputError

# Deeper than any ChirpStack event (its deepest field, rxInfo[].metadata, is 3 levels) or
# weather message, and far below orjson's writer limit (254), so what is parsed can be stored.
MAX_DEPTH = 32


class PayloadError(InputError):
    """A message is too large, too deep or not JSON; `reason` says which, `code` is
    'too_large' or 'malformed'."""


def load_json(payload: bytes, *, max_bytes: int, max_depth: int = MAX_DEPTH) -> Any:
    """Parse JSON of at most `max_bytes` bytes and `max_depth` levels; else PayloadError."""
    if len(payload) > max_bytes:
        raise PayloadError(f"message of {len(payload)} bytes is larger than the limit of "
                           f"{max_bytes} bytes", "too_large")
    try:
        # orjson refuses numbers beyond a double and nesting beyond 1024 levels itself.
        value = orjson.loads(payload)
    except orjson.JSONDecodeError as exc:
        raise PayloadError(f"invalid JSON: {exc}") from exc
    # Fewer brackets than the limit cannot nest deeper: the common case costs two counts.
    if payload.count(b"[") + payload.count(b"{") > max_depth:
        depth = nesting(value)
        if depth > max_depth:
            raise PayloadError(f"JSON nested {depth} levels deep; the limit is {max_depth}")
    return value


def nesting(value: Any) -> int:
    """How many levels of arrays and objects a parsed JSON value has (without recursion)."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            children: Any = node.values()
        elif isinstance(node, list):
            children = node
        else:
            continue
        deepest = max(deepest, depth)
        stack.extend((child, depth + 1) for child in children)
    return deepest
