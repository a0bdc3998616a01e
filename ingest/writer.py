"""Write one batch of parsed events in one transaction: binary COPY, deduplicated, NOTIFY."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple

import psycopg

from bauhof import dead_letters, vocabulary
from bauhof.chirpstack.registration import insert_devices
from ingest.normalise import READING_COLUMNS

RAW_COLUMNS = (
    "time", "dev_eui", "deduplication_id", "application_id", "f_cnt", "f_port", "payload",
    "confirmed", "dr", "frequency", "rssi", "snr", "gateway_count", "rx_info", "object",
)
RAW_TYPES = (
    "timestamptz", "text", "uuid", "text", "int8", "int4", "bytea", "bool", "int2", "int8",
    "int4", "float8", "int2", "text", "text",
)
READING_HEAD = ("time", "dev_eui", "deduplication_id", "model", "asset_type", "asset_id")
READING_ALL = (*READING_HEAD, *READING_COLUMNS, "extra")
READING_TYPES = (
    "timestamptz", "text", "uuid", "text", "text", "text",
    *(vocabulary.sql_type(c) for c in READING_COLUMNS),
    "text",
)
# Staged as text, cast on insert. A raw uplink's gateway metadata and ChirpStack's `object` are
# `json`, kept as sent for replay and never queried inside (migration 0085); `extra` is jsonb.
_JSON_COLUMNS = {"rx_info": "json", "object": "json", "extra": "jsonb"}


def _cast(column: str, alias: str) -> str:
    """The staged text of a JSON column as its column type.

    `json` accepts a string holding NUL (`\\u0000`), which jsonb and text refuse: text that
    has the escape at all (rare) is parsed as jsonb too, so that a batch holding a NUL is
    refused as before (and its message dead-lettered); one holding a literal backslash
    before `u0000` is stored as sent."""
    name = f"{alias}.{column}" if alias else column
    if _JSON_COLUMNS[column] == "jsonb":
        return f"{name}::jsonb"
    return (f"CASE WHEN strpos({name}, E'\\\\u0000') = 0 THEN {name}::json"
            f" WHEN {name}::jsonb IS NOT NULL THEN {name}::json END")


_SETUP = f"""
CREATE TEMP TABLE IF NOT EXISTS stage_raw (
  {", ".join(f"{c} {t}" for c, t in zip(RAW_COLUMNS, RAW_TYPES, strict=True))}
) ON COMMIT DELETE ROWS;
CREATE TEMP TABLE IF NOT EXISTS stage_readings (
  {", ".join(f"{c} {t}" for c, t in zip(READING_ALL, READING_TYPES, strict=True))}
) ON COMMIT DELETE ROWS;
"""


def _select(columns: Sequence[str], alias: str = "") -> str:
    prefix = f"{alias}." if alias else ""
    return ", ".join(
        _cast(c, alias) if c in _JSON_COLUMNS else f"{prefix}{c}" for c in columns
    )


# Raw uplinks first; readings only for uplinks that were new (a redelivery adds nothing).
# Built from the column constants above, never from input.
_INSERT_UPLINKS = f"""
WITH new_raw AS (
  INSERT INTO raw_uplinks ({", ".join(RAW_COLUMNS)})
  SELECT {_select(RAW_COLUMNS)} FROM stage_raw
  ON CONFLICT DO NOTHING
  RETURNING deduplication_id, time
), new_readings AS (
  INSERT INTO readings ({", ".join(READING_ALL)})
  SELECT {_select(READING_ALL, "s")} FROM stage_readings s
  JOIN new_raw n USING (deduplication_id, time)
  ON CONFLICT DO NOTHING
  RETURNING time
)
SELECT (SELECT count(*) FROM new_raw), count(*), min(time), max(time) FROM new_readings
"""  # noqa: S608

_UPDATE_DEVICES = """
UPDATE devices d SET
  first_seen = LEAST(d.first_seen, u.first_seen),
  last_seen = GREATEST(d.last_seen, u.last_seen),
  last_battery_v = CASE WHEN u.last_seen >= coalesce(d.last_seen, '-infinity')
                        THEN coalesce(u.battery_v, d.last_battery_v) ELSE d.last_battery_v END,
  last_battery_pct = CASE WHEN u.last_seen >= coalesce(d.last_seen, '-infinity')
                        THEN coalesce(u.battery_pct, d.last_battery_pct)
                        ELSE d.last_battery_pct END,
  last_rssi = CASE WHEN u.last_seen >= coalesce(d.last_seen, '-infinity')
                   THEN coalesce(u.rssi, d.last_rssi) ELSE d.last_rssi END,
  last_snr = CASE WHEN u.last_seen >= coalesce(d.last_seen, '-infinity')
                  THEN coalesce(u.snr, d.last_snr) ELSE d.last_snr END
FROM unnest(%s::text[], %s::timestamptz[], %s::timestamptz[], %s::float8[], %s::float8[],
            %s::int4[], %s::float8[])
     AS u(dev_eui, first_seen, last_seen, battery_v, battery_pct, rssi, snr)
WHERE d.dev_eui = u.dev_eui
"""


class DeadRow(NamedTuple):
    """A message ingest cannot use, as its dead_letters row."""

    topic: str
    payload: bytes
    reason: str
    dev_eui: str | None
    digest: bytes
    code: str  # the reason code (ingest.prepare.REASON_CODES)


@dataclass(slots=True)
class DeviceSeen:
    """What one batch saw of one device (for the devices table's health columns)."""

    first_seen: datetime
    last_seen: datetime
    battery_v: float | None = None
    battery_pct: float | None = None
    rssi: int | None = None
    snr: float | None = None

    def update(self, time: datetime, battery_v: float | None, battery_pct: float | None,
               rssi: int | None, snr: float | None) -> None:
        """Fold in one more event of the device."""
        self.first_seen = min(self.first_seen, time)
        if time >= self.last_seen:
            self.last_seen = time
            self.battery_v = battery_v if battery_v is not None else self.battery_v
            self.battery_pct = battery_pct if battery_pct is not None else self.battery_pct
            self.rssi = rssi if rssi is not None else self.rssi
            self.snr = snr if snr is not None else self.snr

    def merged(self, later: DeviceSeen) -> DeviceSeen:
        """A new value: this one with a later batch's folded in (neither is changed)."""
        out = DeviceSeen(self.first_seen, self.last_seen, self.battery_v, self.battery_pct,
                         self.rssi, self.snr)
        out.first_seen = min(self.first_seen, later.first_seen)
        out.update(later.last_seen, later.battery_v, later.battery_pct, later.rssi, later.snr)
        return out


@dataclass(slots=True)
class Batch:
    """Rows for one transaction."""

    raw: list[tuple[Any, ...]] = field(default_factory=list)
    readings: list[tuple[Any, ...]] = field(default_factory=list)
    status: list[tuple[Any, ...]] = field(default_factory=list)
    other: list[tuple[Any, ...]] = field(default_factory=list)
    weather: list[tuple[Any, ...]] = field(default_factory=list)
    dead: list[DeadRow] = field(default_factory=list)
    new_devices: list[tuple[Any, ...]] = field(default_factory=list)
    seen: dict[str, DeviceSeen] = field(default_factory=dict)

    def see(self, dev_eui: str, time: datetime, *, battery_v: float | None = None,
            battery_pct: float | None = None, rssi: int | None = None,
            snr: float | None = None) -> None:
        """Note a device's event for the health columns."""
        seen = self.seen.get(dev_eui)
        if seen is None:
            self.seen[dev_eui] = DeviceSeen(time, time, battery_v, battery_pct, rssi, snr)
        else:
            seen.update(time, battery_v, battery_pct, rssi, snr)

    @property
    def events(self) -> int:
        """How many events (not dead letters) the batch holds."""
        return len(self.raw) + len(self.status) + len(self.other) + len(self.weather)


@dataclass(frozen=True, slots=True)
class WriteResult:
    """What a committed batch stored."""

    stored: int
    duplicates: int
    readings: int
    dead_lettered: int  # messages whose dead letter is stored (now or by an earlier copy)

    def __add__(self, other: WriteResult) -> WriteResult:
        """Both results' counts added up (of several batches)."""
        return WriteResult(self.stored + other.stored, self.duplicates + other.duplicates,
                           self.readings + other.readings,
                           self.dead_lettered + other.dead_lettered)


class Writer:
    """Writes batches over one connection; call `setup` after (re)connecting.

    The devices table's health columns (last seen, battery, signal) are updated with every
    batch, or — with `devices_every_s` — at most that often: at thousands of events a second
    the same few hundred device rows would otherwise be rewritten ten times a second. What is
    not yet written is kept (`pending_seen`, handed to the next writer after a reconnect) and
    goes out with a later batch or `flush_devices`; the events themselves are never held back.
    """

    def __init__(self, conn: psycopg.Connection[Any], worker: str, devices_every_s: float = 0.0,
                 pending_seen: dict[str, DeviceSeen] | None = None) -> None:
        self.conn = conn
        self.worker = worker
        self.devices_every_s = devices_every_s
        self.pending_seen: dict[str, DeviceSeen] = pending_seen or {}
        self._devices_due = 0.0

    def setup(self) -> None:
        """Create the per-connection staging tables."""
        with self.conn.transaction():
            self.conn.execute(_SETUP)

    def write(self, batch: Batch,
              before_commit: Callable[[psycopg.Cursor[Any]], object] | None = None) -> (
            WriteResult):
        """Store the batch in one transaction; the caller acknowledges after this returns.

        `before_commit` runs last inside the transaction, with its cursor (what-if waits
        there until the rules engine is done with the batch before)."""
        conn = self.conn
        stored = duplicates = readings_count = 0
        now = time.monotonic()
        seen = _merge(self.pending_seen, batch.seen)
        update_devices = bool(seen) and now >= self._devices_due
        with conn.transaction(), conn.cursor() as cur:
            if batch.new_devices:
                insert_devices(cur, batch.new_devices, "ingest")
            if batch.raw:
                _copy_rows(cur, "stage_raw", RAW_COLUMNS, RAW_TYPES, batch.raw)
                if batch.readings:
                    _copy_rows(cur, "stage_readings", READING_ALL, READING_TYPES, batch.readings)
                cur.execute(_INSERT_UPLINKS)
                counts = cur.fetchone()
                assert counts is not None
                new_raw, readings_count, min_time, max_time = counts
                stored += new_raw
                duplicates += len(batch.raw) - new_raw
                if readings_count:
                    cur.execute(
                        "INSERT INTO ingest_batches (min_time, max_time, readings, worker)"
                        " VALUES (%s, %s, %s, %s)",
                        (min_time, max_time, readings_count, self.worker),
                    )
                    # Delivered at commit, so listeners only ever see committed readings.
                    cur.execute("SELECT pg_notify('bauhof_readings', pg_current_xact_id()::text)")
            for sql, rows in (
                ("INSERT INTO device_status (time, dev_eui, deduplication_id, margin,"
                 " external_power_source, battery_level_unavailable, battery_level)"
                 " VALUES (%s, %s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING", batch.status),
                ("INSERT INTO device_events (time, dev_eui, event_type, event_key, level, code,"
                 " description, body) VALUES (%s, %s, %s, %s, %s, %s, %s, %s::jsonb)"
                 " ON CONFLICT DO NOTHING", batch.other),
                ("INSERT INTO weather (time, station, rain_mm_h, temperature_c,"
                 " forecast_rain_mm_24h) VALUES (%s, %s, %s, %s, %s)"
                 " ON CONFLICT (station, time) DO NOTHING", batch.weather),
            ):
                if rows:
                    inserted = _insert_counting(cur, sql, rows)
                    stored += inserted
                    duplicates += len(rows) - inserted
            if update_devices:
                _update_devices(cur, seen)
            if batch.dead:
                # An identical message dead-lettered before keeps its one row (its digest).
                _insert_counting(
                    cur,
                    dead_letters.INSERT,
                    batch.dead,
                )
            if before_commit is not None:
                before_commit(cur)
        # Committed: what went out is done, the rest waits for a later batch.
        if update_devices:
            self.pending_seen = {}
            self._devices_due = now + self.devices_every_s
        else:
            self.pending_seen = seen
        # Every dead-lettered message counts, its row stored now or already there: what the
        # counter shows is what an operator finds in dead_letters (issue 13: a counter that
        # skipped repeats showed 21 for 43 rows).
        return WriteResult(stored, duplicates, readings_count, len(batch.dead))

    def flush_devices(self, force: bool = False) -> None:
        """Write the health columns still pending, when due (or `force`)."""
        now = time.monotonic()
        if not self.pending_seen or (now < self._devices_due and not force):
            return
        with self.conn.transaction(), self.conn.cursor() as cur:
            _update_devices(cur, self.pending_seen)
        self.pending_seen = {}
        self._devices_due = now + self.devices_every_s


def _merge(pending: dict[str, DeviceSeen], batch: dict[str, DeviceSeen]) -> (
    dict[str, DeviceSeen]
):
    """Pending health updates with a new batch's (a new dict; neither input is changed)."""
    if not pending:
        return batch
    merged = dict(pending)
    for dev_eui, seen in batch.items():
        earlier = merged.get(dev_eui)
        merged[dev_eui] = seen if earlier is None else earlier.merged(seen)
    return merged


def _update_devices(cur: psycopg.Cursor[Any], seen: dict[str, DeviceSeen]) -> None:
    rows = sorted(seen.items())  # one lock order for concurrent workers
    cur.execute(_UPDATE_DEVICES, (
        [d for d, _ in rows], [s.first_seen for _, s in rows], [s.last_seen for _, s in rows],
        [s.battery_v for _, s in rows], [s.battery_pct for _, s in rows],
        [s.rssi for _, s in rows], [s.snr for _, s in rows],
    ))


def _copy_rows(cur: psycopg.Cursor[Any], table: str, columns: Sequence[str],
               types: Sequence[str], rows: list[tuple[Any, ...]]) -> None:
    """COPY rows into a staging table in binary, each column with its PostgreSQL type."""
    with cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN (FORMAT BINARY)") as copy:
        copy.set_types(list(types))
        for row in rows:
            copy.write_row(row)


def _insert_counting(cur: psycopg.Cursor[Any], sql: str, rows: Sequence[tuple[Any, ...]]) -> int:
    """Insert rows in one pipelined round trip; count those not skipped as duplicates."""
    cur.executemany(sql + " RETURNING 1", rows, returning=True)
    inserted = 0
    while True:
        inserted += len(cur.fetchall())
        if not cur.nextset():
            return inserted
