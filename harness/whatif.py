"""What would these rules have done with this stream? Answered in a throw-away database.

`bauhof whatif` creates a fresh database on the town's server (never writing to the town's
own), migrates it, loads the stream's assets, feeds the stream straight into ingest's pipeline
(`ingest.pipeline`, no broker: the same code, without the network), lets the rules engine
catch up after every batch on a wall clock that follows the stream, counts what the rules did,
and drops the database again unless asked to keep it.
"""

from __future__ import annotations

import hashlib
import logging
import multiprocessing
import os
import resource
import time
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, LiteralString

import psycopg
from psycopg import conninfo, sql
from psycopg import errors as pg_errors

from bauhof import db
from rules.ruleset import Ruleset
from simulator.recording import Message
from simulator.scenario import Scenario

# Messages per ingest transaction; the rules engine catches up after each one, as a live
# engine woken by NOTIFY would. The rules' clock-driven checks (silence, watering, escalation
# and reminders) run as event time passes within a step, so the orders, defects and history
# are the same for any batch (about 22 simulated hours of the default town at 20,000); only
# how many intermediate readings an order keeps as evidence follows the steps. Per-step work
# made batches of 5,000 a sixth slower over a month.
BATCH = 20000
# Asset tables copied from the town for a stream read from its database, parents first.
ASSET_TABLES = ("sponsors", "green_areas", "bins", "vehicles", "devices")
# What ingest learns of a device while running: not copied, the stream sets it again.
_DEVICE_HEALTH = frozenset({"first_seen", "last_seen", "last_battery_v", "last_battery_pct",
                            "last_rssi", "last_snr"})
EXAMPLES = 3
# Indexes of the town's schema nothing in a what-if reads (the rules read readings by time and
# writing transaction, and join raw uplinks on deduplication id and time): a throw-away
# database does not maintain them for 150,000 rows a week.
UNREAD_INDEXES = ("raw_uplinks_time_idx", "raw_uplinks_dev_time_idx", "readings_dev_time_idx",
                  "readings_asset_time_idx", "readings_vehicle_time_idx")
log = logging.getLogger("bauhof.whatif")


class WhatIfError(Exception):
    """The run could not be done; the message says what to do."""


@dataclass(frozen=True, slots=True)
class OrderKey:
    """One work order as a comparison sees it (event times, so the same every run)."""

    rule: str
    subject_type: str
    subject_id: str
    opened_at: datetime

    def text(self) -> str:
        """`bins.full bin:B-017 at 2026-06-03T10:00:00+00:00`."""
        return f"{self.rule} {self.subject_type}:{self.subject_id} at " \
               f"{self.opened_at.astimezone(UTC).isoformat()}"


@dataclass(frozen=True, slots=True)
class Outcome:
    """What the rules did with the stream."""

    messages: int
    uplinks: int
    dead_letters: int
    orders: dict[str, int]
    defects: dict[str, int]
    wall_s: float
    order_keys: tuple[OrderKey, ...] = field(default=(), repr=False)
    database: str | None = None

    def summary(self) -> dict[str, Any]:
        """The JSON object `bauhof whatif --json` prints."""
        out: dict[str, Any] = {
            "messages": self.messages, "uplinks": self.uplinks,
            "dead_letters": self.dead_letters, "orders": self.orders,
            "defects": self.defects, "wall_s": round(self.wall_s, 2)}
        if self.database is not None:
            out["database"] = self.database
        return out


@dataclass(frozen=True, slots=True)
class Comparison:
    """Orders gained and lost per rule going from rules A to rules B."""

    a: Outcome
    b: Outcome
    gained: dict[str, list[OrderKey]]
    lost: dict[str, list[OrderKey]]

    def summary(self) -> dict[str, Any]:
        """The JSON object `bauhof whatif --compare --json` prints."""
        rules = sorted(set(self.gained) | set(self.lost))
        return {
            "a": self.a.summary(), "b": self.b.summary(),
            "changes": {rule: {
                "gained": len(self.gained.get(rule, [])), "lost": len(self.lost.get(rule, [])),
                "examples_gained": [k.text() for k in self.gained.get(rule, [])[:EXAMPLES]],
                "examples_lost": [k.text() for k in self.lost.get(rule, [])[:EXAMPLES]],
            } for rule in rules},
        }


def compare(a: Outcome, b: Outcome) -> Comparison:
    """The orders B opened that A did not (gained) and the reverse (lost), per rule."""
    keys_a, keys_b = set(a.order_keys), set(b.order_keys)
    gained: dict[str, list[OrderKey]] = {}
    lost: dict[str, list[OrderKey]] = {}
    for key in sorted(keys_b - keys_a, key=_order):
        gained.setdefault(key.rule, []).append(key)
    for key in sorted(keys_a - keys_b, key=_order):
        lost.setdefault(key.rule, []).append(key)
    return Comparison(a, b, gained, lost)


def _order(key: OrderKey) -> tuple[str, datetime, str, str]:
    return key.rule, key.opened_at, key.subject_type, key.subject_id


def throwaway_name(town_url: str) -> str:
    """A database name next to the town's that no other run uses at the same time."""
    town = conninfo.conninfo_to_dict(town_url).get("dbname") or "bauhof"
    suffix = f"_whatif_{os.getpid()}_{time.time_ns() % 10**9:09d}"
    return f"{str(town)[:63 - len(suffix)]}{suffix}"


def url_of(town_url: str, name: str) -> str:
    """The town's connection settings with another database name."""
    return conninfo.make_conninfo(town_url, dbname=name)


def migrations_hash() -> str:
    """A short hash of every migration's name and text: a template made from other
    migrations is never used."""
    h = hashlib.sha256()
    for m in db.available_migrations():
        h.update(m.name.encode() + b"\0" + m.sql.encode() + b"\0")
    return h.hexdigest()[:12]


def template_name(town_url: str) -> str:
    """The migrated template database for this server's whatif runs and these migrations."""
    town = conninfo.conninfo_to_dict(town_url).get("dbname") or "bauhof"
    suffix = f"_whatif_tpl_{migrations_hash()}"
    return f"{str(town)[:63 - len(suffix)]}{suffix}"


def _create(conn: psycopg.Connection[Any], name: str, template: str | None, town_url: str) -> (
    None
):
    query = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)) if template is None \
        else sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(sql.Identifier(name),
                                                            sql.Identifier(template))
    try:
        conn.execute(query)
    except pg_errors.InsufficientPrivilege as exc:
        raise WhatIfError(
            f"cannot create a throw-away database next to {db.redact(town_url)}: "
            f"{db.first_line(exc)} (grant the role CREATEDB)") from exc


def _drop(conn: psycopg.Connection[Any], name: str) -> None:
    conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
        sql.Identifier(name)))


def ensure_template(conn: psycopg.Connection[Any], town_url: str) -> str:
    """The migrated template for the current migrations, made once per server (a migrated
    database copied with CREATE DATABASE … TEMPLATE takes a fraction of migrating anew).

    Made under a name of its own and renamed when complete, so a run never clones a half
    migrated template; templates of other migrations are dropped. No connections are
    allowed to it (TimescaleDB's scheduler would hold one, and a template must have none).
    """
    name = template_name(town_url)
    prefix = name[:name.rindex("_") + 1]
    rows = conn.execute("SELECT datname FROM pg_database WHERE datname LIKE %s",
                        (prefix.replace("_", r"\_") + "%",)).fetchall()
    existing = {str(r[0]) for r in rows}
    if name in existing:
        return name
    for stale in existing:
        _drop(conn, stale)
    building = throwaway_name(town_url)
    _create(conn, building, None, town_url)
    try:
        db.migrate(url_of(town_url, building))
        conn.execute(sql.SQL("ALTER DATABASE {} WITH ALLOW_CONNECTIONS false").format(
            sql.Identifier(building)))
        conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                     "WHERE datname = %s", (building,))
        conn.execute(sql.SQL("ALTER DATABASE {} RENAME TO {}").format(
            sql.Identifier(building), sql.Identifier(name)))
    except pg_errors.DuplicateDatabase:
        _drop(conn, building)  # another run made it meanwhile
    except BaseException:
        _drop(conn, building)
        raise
    return name


@contextmanager
def throwaway(town_url: str, keep: bool = False) -> Iterator[tuple[str, str]]:
    """Create a fresh migrated database on the town's server (a copy of the migrated
    template); yield (name, url); drop it afterwards unless `keep`."""
    name = throwaway_name(town_url)
    with db.connect(town_url, autocommit=True, application_name="bauhof-whatif") as conn:
        template = ensure_template(conn, town_url)
        _create(conn, name, template, town_url)
    url = url_of(town_url, name)
    try:
        yield name, url
    finally:
        if not keep:
            with db.connect(town_url, autocommit=True,
                            application_name="bauhof-whatif") as conn:
                _drop(conn, name)


def set_aside(url: str, name: str) -> None:
    """Settings only a throw-away database may have: commits do not wait for the disk (a
    crash loses the run, which is dropped anyway), and indexes no what-if reads are gone."""
    with db.connect(url, autocommit=True) as conn:
        conn.execute(sql.SQL("ALTER DATABASE {} SET synchronous_commit = off").format(
            sql.Identifier(name)))
        for index in UNREAD_INDEXES:
            conn.execute(sql.SQL("DROP INDEX IF EXISTS {}").format(sql.Identifier(index)))


def copy_assets(town_url: str, url: str) -> None:
    """Copy the town's assets (not what ingest learnt while running) into the database."""
    with db.connect(town_url, autocommit=True) as src, db.connect(url) as dst:
        for table in ASSET_TABLES:
            columns = [c for c in _columns(src, table) if c in set(_columns(dst, table))]
            if table == "devices":
                columns = [c for c in columns if c not in _DEVICE_HEALTH]
            names = sql.SQL(", ").join(sql.Identifier(c) for c in columns)
            with src.cursor().copy(sql.SQL("COPY (SELECT {} FROM {}) TO STDOUT").format(
                    names, sql.Identifier(table))) as out, dst.cursor().copy(
                    sql.SQL("COPY {} ({}) FROM STDIN").format(
                        sql.Identifier(table), names)) as into:
                for chunk in out:
                    into.write(chunk)
        dst.commit()


def copy_weather(town_url: str, url: str, since: datetime | None,
                 until: datetime | None) -> None:
    """Copy the town's weather observations of the stream's time (a day before, for the
    rules' forecast look-ups)."""
    with db.connect(town_url, autocommit=True) as src, db.connect(url) as dst:
        query = sql.SQL(
            "COPY (SELECT time, station, rain_mm_h, temperature_c, forecast_rain_mm_24h "
            "FROM weather WHERE ({since}::timestamptz IS NULL "
            "OR time >= {since}::timestamptz - interval '1 day') "
            "AND ({until}::timestamptz IS NULL OR time < {until}::timestamptz)) TO STDOUT"
        ).format(since=sql.Literal(since), until=sql.Literal(until))
        with src.cursor().copy(query) as out, dst.cursor().copy(
                "COPY weather (time, station, rain_mm_h, temperature_c, forecast_rain_mm_24h)"
                " FROM STDIN") as into:
            for chunk in out:
                into.write(chunk)
        dst.commit()


def load_town(url: str, town: Scenario) -> None:
    """Store a scenario's assets (validated as an asset file is, without the YAML round trip
    `assets load` makes)."""
    from bauhof import assets

    data = town.model_dump(mode="json", exclude_none=True)
    parsed = assets.AssetFile.model_validate(
        {k: v for k, v in data.items() if k in assets.AssetFile.model_fields})
    problems = assets.cross_check(parsed)
    if problems:
        raise WhatIfError(f"the scenario's assets cannot be loaded: {problems[0]}")
    with db.connect(url) as conn:
        assets.store(conn, parsed)


def _columns(conn: psycopg.Connection[Any], table: str) -> list[str]:
    rows = conn.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = 'public' "
        "AND table_name = %s ORDER BY ordinal_position", (table,)).fetchall()
    return [str(r[0]) for r in rows]


def run(url: str, messages: Iterable[Message], rules: Ruleset,
        batch: int = BATCH, keymap: Mapping[str, str] | None = None) -> tuple[int, int]:
    """Feed the messages through ingest (with `keymap` beyond the built-in object key map)
    and the rules into the database at `url`; return (messages fed, ingest batches written).

    The same steps as ingest committing a batch and the engine catching up after it, on a
    wall clock at the newest message fed so far, with the work overlapped: the engine runs in
    a child process and catches up on batch k while this process parses batch k+1 and stages
    it in an open transaction, committed only once the engine is done with batch k. The
    engine is bounded below batch k+1's transaction id, so it sees exactly what it would see
    with the two taking turns, and the result is the same.
    """
    from ingest.pipeline import Pipeline, Result

    context = multiprocessing.get_context("fork")
    ours, theirs = context.Pipe()
    # Forked before this process opens a connection: the child shares no socket with it.
    child = context.Process(target=_engine_side, args=(url, rules, theirs),
                            name="bauhof-whatif-rules", daemon=True)
    child.start()
    theirs.close()
    result = Result()
    now_us = 0
    busy = False  # the engine is catching up on a batch sent and not yet answered

    def engine_done() -> None:
        nonlocal busy
        if busy:
            answer = ours.recv()
            busy = False
            if answer is not None:
                raise WhatIfError(f"the rules engine stopped: {answer}")

    def hand_over(cur: psycopg.Cursor[Any]) -> None:
        # The batch is staged; commit it once the engine has finished the one before.
        row = cur.execute("SELECT pg_current_xact_id()::text").fetchone()
        assert row is not None
        until_xid[0] = int(row[0]) + 1
        engine_done()

    until_xid = [0]
    try:
        pipeline = Pipeline("whatif", keymap=keymap)
        with db.connect(url, autocommit=True, application_name="bauhof-whatif-ingest") as conn:
            pipeline.connect(conn)
            for chunk in _chunks(messages, batch):
                for message in chunk:
                    now_us = max(now_us, message.time_us)
                written = pipeline.write(pipeline.build(chunk), hand_over)
                result = result.plus(len(chunk), written)
                ours.send((until_xid[0], now_us))
                busy = True
            engine_done()
        ours.send(None)
        child.join()
        if log.isEnabledFor(logging.DEBUG):
            own, its = (resource.getrusage(who) for who in (resource.RUSAGE_SELF,
                                                            resource.RUSAGE_CHILDREN))
            log.debug("whatif: %d batches; CPU seconds: ingest %.1f, rules engine %.1f",
                      result.batches, own.ru_utime + own.ru_stime,
                      its.ru_utime + its.ru_stime)
    finally:
        if child.is_alive():
            child.terminate()
            child.join()
        ours.close()
    return result.messages, result.batches


def _chunks(messages: Iterable[Message], size: int) -> Iterator[list[Message]]:
    """The messages in lists of `size`, and a last list of the rest (empty when none are
    left: ingest's feed ends with a flush of what is pending, even nothing)."""
    chunk: list[Message] = []
    for message in messages:
        chunk.append(message)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    yield chunk


def _engine_side(url: str, rules: Ruleset, pipe: Connection) -> None:
    """The child process of `run`: for each (until_xid, wall in µs) received, let the engine
    catch up to that bound on that wall clock, then answer None (or what went wrong)."""
    from rules.engine import RulesEngine

    wall_us = 0

    def wall() -> datetime:
        return datetime.fromtimestamp(wall_us / 1e6, UTC)

    engine = RulesEngine(url, rules, wall=wall, sole_writer=True)
    try:
        while (work := pipe.recv()) is not None:
            engine.until_xid, wall_us = work
            try:
                engine.catch_up()
            except Exception as exc:
                pipe.send(f"{type(exc).__name__}: {exc}")
                return
            pipe.send(None)
    finally:
        engine.close()
        pipe.close()


def outcome(url: str, messages: int, wall_s: float, database: str | None) -> Outcome:
    """Count what the rules did in the database at `url`."""
    with db.connect(url, autocommit=True) as conn:
        uplinks = _scalar(conn, "SELECT count(*) FROM raw_uplinks")
        dead = _scalar(conn, "SELECT count(*) FROM dead_letters")
        orders = {str(rule): int(str(n)) for rule, n in conn.execute(
            "SELECT rule, count(*) FROM work_orders GROUP BY rule ORDER BY rule")}
        defects = {str(rule): int(str(n)) for rule, n in conn.execute(
            "SELECT rule, count(*) FROM defects WHERE source = 'rule' "
            "GROUP BY rule ORDER BY rule")}
        keys = tuple(
            OrderKey(str(rule), str(kind), str(subject), opened)
            for rule, kind, subject, opened in conn.execute(
                "SELECT rule, subject_type, subject_id, opened_at FROM work_orders "
                "ORDER BY rule, opened_at, subject_type, subject_id")
            if isinstance(opened, datetime))
    return Outcome(messages, uplinks, dead, orders, defects, wall_s, keys, database)


def _scalar(conn: psycopg.Connection[Any], query: LiteralString) -> int:
    row = conn.execute(query).fetchone()
    return int(row[0]) if row else 0


@dataclass(frozen=True, slots=True)
class Stream:
    """Where the messages come from, and where their assets come from."""

    recording: Path | None = None  # a `simulate --record` file
    from_db: str | None = None  # a database URL
    since: datetime | None = None
    until: datetime | None = None
    town: Scenario | None = None  # the assets of a recording
    # ChirpStack `object` keys beyond the built-in map, as ingest reads them.
    object_keymap: Mapping[str, str] = field(default_factory=dict)

    def messages(self) -> Iterator[Message]:
        """The stream's messages in order."""
        from simulator import archive, recording

        if self.recording is not None:
            yield from recording.read(self.recording)
        else:
            assert self.from_db is not None
            yield from archive.from_database(self.from_db, self.since, self.until)


def whatif(town_url: str, stream: Stream, rules: Ruleset, *, keep: bool = False) -> Outcome:
    """Run the stream through ingest and `rules` in a throw-away database next to the town's."""
    started = time.perf_counter()
    with throwaway(town_url, keep) as (name, url):
        set_aside(url, name)
        if stream.from_db is not None:
            copy_assets(stream.from_db, url)
            copy_weather(stream.from_db, url, stream.since, stream.until)
        elif stream.town is not None:
            load_town(url, stream.town)
        fed, _ = run(url, stream.messages(), rules, keymap=stream.object_keymap)
        return outcome(url, fed, time.perf_counter() - started, name if keep else None)
