"""What a fault run found: counting stored events against published ones, and the table."""

from __future__ import annotations

import time
from collections.abc import Collection, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import orjson
import psycopg

from reliability.lab import scalar

COLUMNS = ("fault", "tried", "published", "stored", "duplicates", "orders expected",
           "orders found")


@dataclass
class Row:
    """One fault's line of the report."""

    fault: str
    tried: int
    published: int
    stored: int
    duplicates: int
    lost: int
    orders_expected: int | None = None
    orders_found: int | None = None
    orders_missing: int = 0
    orders_duplicated: int = 0
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """Nothing lost, nothing twice, every expected order exactly once."""
        return not (self.lost or self.duplicates or self.orders_missing
                    or self.orders_duplicated or "error" in self.details)

    def as_dict(self) -> dict[str, Any]:
        """The row as JSON-ready values."""
        return asdict(self)


@dataclass(frozen=True, slots=True)
class Tally:
    """Published events against the database."""

    published: int
    stored: int
    duplicates: int
    lost: int
    unpublished_stored: int


def uplink_ids(messages: Iterable[tuple[str, bytes]]) -> list[str]:
    """The deduplication ids of the uplink events among `messages` (in order)."""
    return [str(orjson.loads(payload)["deduplicationId"]) for topic, payload in messages
            if topic.endswith("/event/up")]


def tally(conn: psycopg.Connection[Any], published: Collection[str],
          sent: Collection[str] = ()) -> Tally:
    """Count `published` uplinks (deduplication ids) in raw_uplinks and readings."""
    raw = dict(conn.execute(
        "SELECT deduplication_id::text, count(*) FROM raw_uplinks GROUP BY 1").fetchall())
    readings = dict(conn.execute(
        "SELECT deduplication_id::text, count(*) FROM readings GROUP BY 1").fetchall())
    wanted = set(published)
    stored = wanted & raw.keys()
    # A stored uplink whose readings are missing is a loss too.
    complete = stored & readings.keys()
    duplicates = sum(n - 1 for n in raw.values()) + sum(n - 1 for n in readings.values())
    # Sent but never acknowledged (the publisher gave up) and still stored: not a loss.
    unpublished = (set(sent) - wanted) & raw.keys()
    return Tally(len(wanted), len(stored), duplicates, len(wanted - complete), len(unpublished))


def wait_stored(conn: psycopg.Connection[Any], expected: int, *, stall_s: float = 60.0,
                timeout_s: float = 900.0) -> int:
    """Poll raw_uplinks until it has `expected` rows, stops growing for `stall_s`, or the
    timeout; returns the last count (the tally says what is missing)."""
    started = last_change = time.monotonic()
    last = -1
    while True:
        count = int(scalar(conn, "SELECT count(*) FROM raw_uplinks"))
        now = time.monotonic()
        if count != last:
            last, last_change = count, now
        if count >= expected or now - last_change > stall_s or now - started > timeout_s:
            return count
        time.sleep(0.05)


def summary(rows: Sequence[Row]) -> dict[str, Any]:
    """The JSON object of `bauhof bench faults --json`."""
    return {
        "rows": [r.as_dict() for r in rows],
        "lost": sum(r.lost for r in rows),
        "duplicated": sum(r.duplicates for r in rows),
        "orders_missing": sum(r.orders_missing for r in rows),
        "orders_duplicated": sum(r.orders_duplicated for r in rows),
        "errors": sum(1 for r in rows if "error" in r.details),
    }


def table(rows: Sequence[Row]) -> str:
    """The report as a plain-text table (also valid Markdown)."""
    def cells(r: Row) -> list[str]:
        dash = "—"
        return [r.fault, f"{r.tried:,}", f"{r.published:,}", f"{r.stored:,}",
                f"{r.duplicates:,}",
                dash if r.orders_expected is None else f"{r.orders_expected:,}",
                dash if r.orders_found is None else f"{r.orders_found:,}"]

    body = [cells(r) for r in rows]
    widths = [max(len(c), *(len(b[i]) for b in body)) for i, c in enumerate(COLUMNS)]
    lines = ["| " + " | ".join(c.ljust(w) for c, w in zip(COLUMNS, widths, strict=True)) + " |",
             "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
    for b in body:
        lines.append("| " + " | ".join(
            (c.ljust(w) if i == 0 else c.rjust(w)) for i, (c, w) in
            enumerate(zip(b, widths, strict=True))) + " |")
    return "\n".join(lines)
