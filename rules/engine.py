"""The engine loop: LISTEN, read new batches durably, evaluate, write orders and cursor at once.

Exactly-once: the cursor "every ingest transaction below next_xid is processed" is advanced
in the same transaction as the orders and rule states it caused. Transactions below
pg_snapshot_xmin(pg_current_snapshot()) have all finished, so ingest workers committing out
of order are still read completely. The cursor row is locked FOR UPDATE, so two engines on
the same shard take turns; the partial unique index on open orders is the last guard.
"""

from __future__ import annotations

import heapq
import json
import logging
import math
import threading
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import orjson
import psycopg
from psycopg import errors as pg_errors
from psycopg.types.json import set_json_dumps, set_json_loads

from bauhof import db, dead_letters
from rules import dispatch, escalation, orders, sensor_health, water_balance, watering
from rules.actions import Action, Mail
from rules.apply import apply as apply_actions
from rules.assets import Area, Town, load_town
from rules.balances import BalanceRound
from rules.clock import EventClock
from rules.readings import COLUMNS, SELECT, BadReading, Reading, from_row
from rules.ruleset import HealthParams, Ruleset, WateringParams
from rules.snapshot import (
    AHEAD,
    Snapshot,
    Watering,
    load_open_orders,
    load_waterings,
    load_weather,
)
from rules.state import Key, StateStore

log = logging.getLogger("bauhof.rules")
READINGS_CHANNEL = "bauhof_readings"
TOWN_REFRESH_S = 30.0
# Silence and hand-over checks run at most once per this much event time within a step.
TICK_S = 60
REFUSED_READING = "rules engine refused the reading: "
_RETRY = (pg_errors.DeadlockDetected, pg_errors.SerializationFailure,
          pg_errors.LockNotAvailable)
# A step's stages, timed for the log: cursor lock and batch list, reading the readings, rules,
# writing orders and states, commit.
STAGES = ("cursor", "read", "evaluate", "write", "commit")
SLOW_STEP_MS = 1000.0


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass
class Stats:
    """Counters of one engine."""

    steps: int = 0
    readings: int = 0
    late_or_future: int = 0
    actions: int = 0
    opened: int = 0
    retries: int = 0
    last_opened: list[int] = field(default_factory=list)


class RulesEngine:
    """One rules worker for one shard of the subjects (shard i of n).

    Connects at its first step (or `conn`), not when built.
    """

    def __init__(self, url: str, ruleset: Ruleset, *, shard: int = 0, shards: int = 1,
                 wall: Callable[[], datetime] = _utcnow, batch_limit: int = 500,
                 sole_writer: bool = False) -> None:
        """`sole_writer`: the caller is the database's only ingest and steps only between its
        commits (what-if, the simulated town): every batch committed is read at once, even
        while a transaction of another database on the server holds the snapshot's xmin."""
        # The rules file's parameters; self.ruleset adds the overrides of table rule_overrides.
        self.file_ruleset = self.ruleset = ruleset
        self.overrides_version: int | None = None
        self._refused: set[str] = set()
        self.shard, self.shards = shard, shards
        self.wall = wall
        self.batch_limit = batch_limit
        self.sole_writer = sole_writer
        # With a sole writer: read no batch at or above this transaction id (None: no bound).
        # What-if ingests its next batch while the engine steps, uncommitted until the step is
        # done; the bound keeps the cursor below that batch, so the next step reads it.
        self.until_xid: int | None = None
        # Whether the last step left committed batches for the next one.
        self.behind = False
        self.url = url
        self._conn: psycopg.Connection[Any] | None = None
        self.states = StateStore(dispatch.STATES)
        self.clock = EventClock(ruleset.clock)
        self.town = Town()
        self.stats = Stats()
        self.known_xid: int | None = None
        self._town_at = 0.0
        self._tick_mark: int | None = None
        # The step's open orders by the moment their next escalation or reminder falls due.
        self._ageing: list[tuple[float, int, escalation.OpenOrder, orders.Order]] = []
        self._params: dict[tuple[str, str], Any] = {}
        # Event time before which no device can be reported silent (None: scan to find out).
        self._silent_due: float | None = None
        self._marks: list[float] = []
        self._step_actions = 0
        # Rows of this step the rules could not use, with the reason (dead-lettered at commit).
        self._refused_rows: list[tuple[tuple[Any, ...], str]] = []
        # The hourly water-balance round: its last event-time hour and what it computed.
        self.balance = BalanceRound()
        self.snapshot = Snapshot(self.town)

    @property
    def conn(self) -> psycopg.Connection[Any]:
        """The engine's connection, opened (and its shard's cursor row made) on first use."""
        return self.connect()

    def connect(self) -> psycopg.Connection[Any]:
        """Open the connection and make the shard's cursor row, unless done already."""
        if self._conn is None:
            self._conn = db.connect(self.url, autocommit=True,
                                    application_name=f"bauhof-rules-{self.shard}")
            # The rule states, orders' evidence and params go through JSON on every step:
            # orjson reads and writes the same values as the json module, several times faster.
            set_json_loads(orjson.loads, self._conn)
            set_json_dumps(_json_dumps, self._conn)
            self._conn.execute("INSERT INTO rules_cursor (shard, shards) VALUES (%s, %s) "
                               "ON CONFLICT DO NOTHING", (self.shard, self.shards))
        return self._conn

    def close(self) -> None:
        """Close the database connection (if one was opened)."""
        if self._conn is not None:
            self._conn.close()

    # Sharding ----------------------------------------------------------------------------

    def _shard_of(self, key: str) -> int:
        return zlib.crc32(key.encode()) % self.shards

    def _device_key(self, dev_eui: str, asset_type: str | None, asset_id: str | None) -> str:
        if not asset_id:
            device = self.town.devices.get(dev_eui)
            if device is not None and device.asset_id:
                asset_type, asset_id = device.asset_type, device.asset_id
        return f"{asset_type}:{asset_id}" if asset_id else f"device:{dev_eui}"

    def owns(self, subject_type: str, subject_id: str) -> bool:
        """Whether this shard handles the subject."""
        if self.shards == 1:
            return True
        key = (self._device_key(subject_id, None, None) if subject_type == "device"
               else f"{subject_type}:{subject_id}")
        return self._shard_of(key) == self.shard

    def _owns_state(self, key: Key) -> bool:
        return self.owns(key[1], key[2])

    # The loop ------------------------------------------------------------------------------

    def step(self) -> int:
        """Process what is new (one transaction); return the number of readings read."""
        for attempt in range(3):
            try:
                started = time.perf_counter()
                with self.conn.transaction():
                    count, upper = self._step()
                self.known_xid = upper
                self.stats.steps += 1
                self._log_stages(started, count)
                return count
            except _RETRY as exc:
                self.known_xid = None
                self.stats.retries += 1
                log.info("rules step retried after %s (attempt %d)", type(exc).__name__,
                         attempt + 1)
            except BaseException:
                self.known_xid = None
                raise
        return 0

    def catch_up(self, after_step: Callable[[], None] | None = None) -> int:
        """Step until everything committed so far is processed; return the readings read.

        Ends at a step that read nothing and left no batches beyond its limit (`behind`),
        not at the first step that read nothing.
        """
        total = 0
        while True:
            count = self.step()
            total += count
            if after_step is not None:
                after_step()
            if not count and not self.behind:
                return total

    def _log_stages(self, started: float, count: int) -> None:
        """Where a step's time went (debug; info when it alone breaks the 1 s target)."""
        done = time.perf_counter()
        marks = [started, *self._marks, done]
        total_ms = (done - started) * 1000
        if total_ms < SLOW_STEP_MS and not log.isEnabledFor(logging.DEBUG):
            return
        spans = " ".join(f"{name} {(b - a) * 1000:.1f}" for name, a, b in zip(
            STAGES, marks, marks[1:], strict=False))
        log.log(logging.INFO if total_ms >= SLOW_STEP_MS else logging.DEBUG,
                "step of %d readings, %d actions took %.0f ms (ms: %s)", count,
                self._step_actions, total_ms, spans)

    def _step(self) -> tuple[int, int]:
        self._marks.clear()
        self._refused_rows = []
        self.balance.rows.clear()
        row = self.conn.execute(
            "SELECT next_xid::text, clock, live, (SELECT version FROM rule_overrides_version) "
            "FROM rules_cursor WHERE shard = %s AND shards = %s FOR UPDATE",
            (self.shard, self.shards)).fetchone()
        assert row is not None
        cur = int(row[0])
        if row[3] != self.overrides_version:
            self._load_overrides(int(row[3]))
        wall = self.wall()
        if cur != self.known_xid or wall.timestamp() - self._town_at > TOWN_REFRESH_S:
            self._refresh_town(wall)
        if cur != self.known_xid:
            self.states.load(self.conn, self._owns_state)
            self._silent_due = None
            self.clock.stream_max, self.clock.live = row[1], bool(row[2])
        before = (self.clock.stream_max, self.clock.live)
        # Batches below the snapshot's xmin are all committed or aborted (none can still
        # appear below it). xmin is server-wide: a sole writer, with nothing of its own in
        # flight, reads up to xmax instead (the first transaction id not yet handed out).
        bound = "pg_snapshot_xmax" if self.sole_writer else "pg_snapshot_xmin"
        bound_row = self.conn.execute(
            f"SELECT {bound}(pg_current_snapshot())::text").fetchone()
        assert bound_row is not None
        upper = max(cur, int(bound_row[0]))
        if self.until_xid is not None:
            upper = max(cur, min(upper, self.until_xid))
        # Ordered by the xid8 column, not by the text it is shown as ("1000" < "999"): a
        # backlog crossing a power of ten would otherwise skip the batches below it.
        batches = self.conn.execute(
            "SELECT b.xid::text AS xid_text, b.min_time, b.max_time FROM ingest_batches b "
            "WHERE b.xid >= %s::text::xid8 AND b.xid < %s::text::xid8 ORDER BY b.xid LIMIT %s",
            (cur, upper, self.batch_limit + 1)).fetchall()
        self.behind = len(batches) > self.batch_limit
        if self.behind:
            upper = int(batches[self.batch_limit][0])
            batches = batches[:self.batch_limit]
        self._marks.append(time.perf_counter())
        readings = self._read(batches, cur, upper)
        self._marks.append(time.perf_counter())
        actions = self.evaluate(readings, wall)
        actions += self._dead_letters(cur, upper, wall)
        # Pipelined: statements whose results nobody reads (history, outbox, state upserts)
        # travel with the next query instead of costing a round trip each.
        self._marks.append(time.perf_counter())
        self._step_actions = len(actions)
        with self.conn.pipeline():
            self.apply(actions)
            self.balance.write(self.conn)
            changed = self.states.save(self.conn)
        self._dead_letter_refused()
        if upper != cur or changed or actions or before != (self.clock.stream_max,
                                                           self.clock.live):
            self.conn.execute(
                "UPDATE rules_cursor SET next_xid = %s::text::xid8, clock = %s, live = %s, "
                "updated_at = now() WHERE shard = %s AND shards = %s",
                (upper, self.clock.stream_max, self.clock.live, self.shard, self.shards))
        self._marks.append(time.perf_counter())
        return len(readings), upper

    def _dead_letter_refused(self) -> None:
        """Readings the rules could not use go to dead_letters with the reason, in the step's
        transaction: the cursor moves past them, so they cannot stop the engine again."""
        refused, self._refused_rows = self._refused_rows, []
        if not refused:
            return
        rows = []
        for row, reason in refused:
            data = dict(zip(COLUMNS, row, strict=False))
            dev_eui = str(data.get("dev_eui"))
            topic = f"rules/readings/{dev_eui}"
            payload = json.dumps(data, default=str, sort_keys=True).encode()
            log.warning("reading of %s at %s refused: %s", dev_eui, data.get("time"), reason)
            rows.append((topic, payload, f"{REFUSED_READING}{reason}"[:1000], dev_eui,
                         dead_letters.digest(topic, payload), "refused_by_rules"))
        with self.conn.cursor() as cur:
            cur.executemany(dead_letters.INSERT, rows)

    def _dead_letters(self, cur: int, upper: int, wall: datetime) -> list[Action]:
        """Uplinks ingest refused as implausible in the transactions the step reads.

        Read by writing transaction like the readings, not by id: a dead letter whose id is
        below one already read may still be uncommitted, but none below the snapshot's xmin.
        """
        if upper == cur:
            return []
        rows = self.conn.execute(
            "SELECT id, dev_eui, received_at, reason FROM dead_letters "
            "WHERE ingest_xid >= %s::text::xid8 AND ingest_xid < %s::text::xid8 "
            "AND reason_code = 'implausible' ORDER BY id",
            (cur, upper)).fetchall()
        actions: list[Action] = []
        for _id, dev_eui, received_at, reason in rows:
            if not dev_eui or not self.owns("device", dev_eui):
                continue
            at = self.clock.now(wall) or received_at
            state = self.states.get(sensor_health.HealthState, dev_eui)
            actions += sensor_health.on_rejected(state, dev_eui, at, str(reason),
                                                 self.health_params(dev_eui))
        return actions

    def _load_overrides(self, version: int) -> None:
        """Put the per-asset overrides of table rule_overrides over the rules file's."""
        rows = self.conn.execute(
            "SELECT asset_id, section, params FROM rule_overrides ORDER BY asset_id, section"
        ).fetchall()
        self.ruleset, refused = self.file_ruleset.with_overrides(rows)
        for reason in refused:
            if reason not in self._refused:
                log.warning("%s; the rules file's parameters apply (fix or delete the row)",
                            reason)
        self._refused = set(refused)
        self._params.clear()
        self._silent_due = None
        self.overrides_version = version
        log.info("rule overrides loaded: %d rows, %d refused (version %d)", len(rows),
                 len(refused), version)

    def _refresh_town(self, wall: datetime) -> None:
        self.town = load_town(self.conn)
        self._town_at = wall.timestamp()
        self._params.clear()
        self._silent_due = None

    def _read(self, batches: list[tuple[Any, ...]], cur: int, upper: int) -> list[Reading]:
        times = [t for b in batches for t in (b[1], b[2]) if t is not None]
        if not times:
            return []
        rows = self.conn.execute(
            SELECT + "WHERE r.time >= %s AND r.time <= %s AND r.ingest_xid >= %s::text::xid8 "
            "AND r.ingest_xid < %s::text::xid8 ORDER BY r.time, r.dev_eui",
            (min(times), max(times), cur, upper)).fetchall()
        readings = []
        for row in rows:
            try:
                readings.append(from_row(row))
            except BadReading as exc:
                self._refused_rows.append((row, exc.reason))
        return readings

    # The snapshot: what evaluation reads, loaded first ---------------------------------------

    def _snapshot(self, readings: list[Reading], wall: datetime) -> Snapshot:
        """Load what evaluating these readings (and the clock's checks) reads."""
        unknown = any(r.dev_eui not in self.town.devices for r in readings)
        if unknown and wall.timestamp() - self._town_at > 2.0:
            self._refresh_town(wall)
        now = self.clock.now(wall)
        if not readings and now is None:
            return Snapshot(self.town)
        times = [r.time for r in readings] + ([now] if now is not None else [])
        weather = None
        waterings: tuple[Watering, ...] = ()
        if self.town.has_weather:
            lo, hi = min(times), max(times)
            back = timedelta(hours=self._weather_max_age_h())
            if any(self.balance.due(t) for t in times):
                # An hour's water balance may be due: a week of weather and waterings.
                since = lo - timedelta(days=water_balance.WINDOW_DAYS)
                back = max(back, lo - since + timedelta(seconds=1))
                waterings = load_waterings(self.conn, since)
            weather = load_weather(self.conn, lo - back, hi + AHEAD)
        return Snapshot(self.town, load_open_orders(self.conn), weather, waterings)

    def _weather_max_age_h(self) -> float:
        """The oldest weather any area's rules may look at, in hours."""
        ages = [0.0]
        for area in self.town.areas.values():
            try:
                ages.append(self.watering_params(area).weather_max_age_h)
            except ValueError:
                # Parameters the area refuses stop the engine when a rule first meets the
                # area, as before; that area looks no weather up.
                continue
        return max(ages)

    # Evaluation (pure rules over the snapshot, state in memory) -------------------------------

    def evaluate(self, readings: list[Reading], wall: datetime) -> list[Action]:
        """Load the step's snapshot, then run the rules over the new readings and the clock's
        checks; return the actions."""
        self.clock.observe([r.time for r in readings], wall)
        self.snapshot = self._snapshot(readings, wall)
        self._queue_ageing(self.snapshot.open_orders)
        actions: list[Action] = []
        for r in readings:
            if not self.clock.accepts(r.time):
                self.stats.late_or_future += 1
                continue
            if self._shard_of(self._device_key(r.dev_eui, r.asset_type, r.asset_id)) \
                    != self.shard:
                continue
            # Clock-driven checks run as event time passes, not once per step, so a device
            # that fell silent and came back within one large batch is still noticed.
            mark = int(r.ts // TICK_S)
            if self._tick_mark is None or mark > self._tick_mark:
                self._tick_mark = mark
                actions += self._tick(r.time)
                actions += self._age(r.time)
            try:
                actions += self._dispatch(r)
            except Exception as exc:  # one reading must never stop the engine (issue 13)
                self._refused_rows.append((_row_of(r), f"{type(exc).__name__}: {exc}"))
        self.stats.readings += len(readings)
        now = self.clock.now(wall)
        if now is not None:
            actions += self._tick(now)
            actions += self._age(now)
        return actions

    def params(self, section: str, subject: str, make: Callable[[Ruleset], Any]) -> Any:
        """A subject's parameters of one section, cached until the overrides or town change."""
        key = (section, subject)
        if key not in self._params:
            try:
                self._params[key] = make(self.ruleset)
            except ValueError as exc:
                # Valid on its own but not with the asset's own columns (an area's thresholds):
                # the table's override is ignored, never the engine stopped.
                if self.ruleset is self.file_ruleset:
                    raise
                reason = (f"rule_overrides ignored for {section} {subject}, the rules file's "
                          f"parameters apply: {exc}")
                if reason not in self._refused:
                    self._refused.add(reason)
                    log.warning("%s", reason)
                self._params[key] = make(self.file_ruleset)
        return self._params[key]

    def health_params(self, dev_eui: str) -> HealthParams:
        """A device's sensor-health parameters."""
        # The cached value first: asked for on every reading and every tick.
        cached = self._params.get(("health", dev_eui))
        if cached is not None:
            return cast(HealthParams, cached)
        device = self.town.devices.get(dev_eui)
        asset_id = device.asset_id if device else None
        return cast(HealthParams, self.params(
            "health", dev_eui, lambda rs: rs.health_for(dev_eui, asset_id)))

    def watering_params(self, area: Area) -> WateringParams:
        """An area's watering parameters."""
        cached = self._params.get(("watering", area.id))
        if cached is not None:
            return cast(WateringParams, cached)
        return cast(WateringParams, self.params("watering", area.id, lambda rs: (
            rs.watering_for(area.id, area.plant_type, area.moisture_low_pct,
                            area.moisture_clear_pct))))

    def _dispatch(self, r: Reading) -> list[Action]:
        device = self.town.devices.get(r.dev_eui)
        asset_type = r.asset_type or (device.asset_type if device else None)
        asset_id = r.asset_id or (device.asset_id if device else None)
        health = self.health_params(r.dev_eui)
        state = self.states.get(sensor_health.HealthState, r.dev_eui)
        out = sensor_health.on_reading(state, r, device, health)
        if self._silent_due is not None:
            self._silent_due = min(self._silent_due,
                                   sensor_health.silent_due(state, device, health))
        if asset_id is None:
            return out
        return out + dispatch.on_reading(self, r, asset_type, asset_id)

    def _tick(self, now: datetime) -> list[Action]:
        actions: list[Action] = []
        # Scanning every device each simulated minute dominated a replay; between scans only
        # the readings (in _dispatch) and a reload can bring the earliest silence forward.
        if self._silent_due is None or now.timestamp() >= self._silent_due:
            due = math.inf
            for dev_eui, state in list(self.states.items(sensor_health.HealthState)):
                device = self.town.devices.get(dev_eui)
                p = self.health_params(dev_eui)
                found = sensor_health.on_tick(state, now, dev_eui, device, p)
                if found:
                    self.states.touch(sensor_health.HealthState, dev_eui)
                    actions += found
                due = min(due, sensor_health.silent_due(state, device, p))
            self._silent_due = due
        for area_id, w_state in list(self.states.items(watering.WateringState)):
            area = self.town.areas.get(area_id)
            if area is None:
                continue
            p_w = self.watering_params(area)
            found = watering.on_tick(w_state, now, area, p_w)
            if found:
                self.states.touch(watering.WateringState, area_id)
                actions += found
        if self.town.has_weather and self.balance.due(now):
            areas = [a for a in self.town.areas.values() if self.owns("green_area", a.id)]
            actions += self.balance.run(self, now, areas)
        return actions

    def _queue_ageing(self, open_orders: tuple[orders.Order, ...]) -> None:
        """The step's open orders (this shard's), each under its next escalation or reminder."""
        self._ageing = []
        for order in open_orders:
            if not self.owns(order.subject_type, order.subject_id):
                continue
            view = escalation.OpenOrder(
                order.id, order.rule, order.subject_type, order.subject_id, order.status,
                order.priority, order.opened_at, int(order.params.get("age_steps", 0)),
                order.reminders, order.last_reminded_at, order.assigned_to, order.title,
                due_at=order.due_at, forecast=order.params.get("reason") == "forecast")
            self._push_ageing(view, order)

    def _push_ageing(self, view: escalation.OpenOrder, order: orders.Order) -> None:
        due = escalation.next_due(view, self.ruleset.orders)
        if due is not None:
            heapq.heappush(self._ageing, (due.timestamp(), order.id, view, order))

    def _age(self, now: datetime) -> list[Action]:
        """Escalations and reminders fallen due by `now` (event time): checked as time passes
        within a step, like the clock's other checks, so an order closed later in the same
        step still has the escalations it reached while open, whatever the step's size."""
        actions: list[Action] = []
        limit = now.timestamp()
        due = []
        while self._ageing and self._ageing[0][0] <= limit:
            due.append(heapq.heappop(self._ageing))
        # Each order once per call, as once per step before: after a jump of the clock (a
        # restart after days) an order is reminded once, not once for every day missed.
        for _, _, view, order in due:
            found = escalation.age(view, now, self.ruleset.orders, self._reminder_mail(order))
            if found:
                actions += found
                self._push_ageing(escalation.after(view, found), order)
        return actions

    def _reminder_mail(self, order: orders.Order) -> Mail | None:
        assignee = order.assigned_to
        if assignee is None or assignee.kind != "sponsor":
            return None
        area = self.town.areas.get(order.subject_id)
        sponsor = area.sponsor if area else None
        if area is None or sponsor is None or not sponsor.email:
            return None
        return Mail(sponsor.email, "watering_reminder", sponsor.lang, context={
            "sponsor_id": sponsor.id, "sponsor": sponsor.name, "area": area.name,
            "moisture": f"{order.last_value or 0:.0f}"})

    # Writing ------------------------------------------------------------------------------------

    def apply(self, actions: list[Action]) -> None:
        """Write the actions (inside the step's transaction)."""
        done = apply_actions(self.conn, actions, town=self.town,
                             keep=self.ruleset.orders.evidence_keep, order_gone=self._order_gone)
        self.stats.actions += done.actions
        self.stats.opened += len(done.opened)
        self.stats.last_opened.extend(done.opened)
        del self.stats.last_opened[:-100]

    def _order_gone(self, rule: str, _subject_type: str, subject_id: str) -> None:
        self._silent_due = None
        dispatch.order_gone(self.states, rule, subject_id)

    def run(self, stop: threading.Event, on_commit: Callable[[], None] | None = None,
            poll_s: float = 0.25) -> None:
        """Run until `stop` is set: woken by NOTIFY, polling every poll_s as a fallback."""
        listener = db.connect(self.conn.info.dsn, autocommit=True,
                              application_name=f"bauhof-rules-listen-{self.shard}")
        try:
            listener.execute(f"LISTEN {READINGS_CHANNEL}")
            while not stop.is_set():
                before = self.stats.actions
                self.step()
                if on_commit is not None and self.stats.actions != before:
                    on_commit()
                if self.behind:
                    continue  # a backlog: its notifications may already have been consumed
                for _ in listener.notifies(timeout=poll_s, stop_after=1):
                    pass
                # What arrived meanwhile is covered by the next step: one step, not one each.
                for _ in listener.notifies(timeout=0.0):
                    pass
        finally:
            listener.close()


def _json_dumps(value: Any) -> bytes:
    """JSON of a state or an order's field; numpy numbers and non-string keys are written
    as json.dumps writes them."""
    return orjson.dumps(value, option=orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS)


def _row_of(r: Reading) -> tuple[Any, ...]:
    """A reading back as the row `readings.SELECT` gave (for its dead letter)."""
    head = (r.time, r.dev_eui, r.model, r.asset_type, r.asset_id)
    return (*head, *(r.values.get(c) for c in COLUMNS[len(head):]), r.rssi, r.snr)
