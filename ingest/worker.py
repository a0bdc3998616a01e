"""The ingest loop: receive from MQTT, write batches, acknowledge only what is committed.

Threads: paho's network thread only appends incoming messages to a queue; the main thread
builds batches (by count or by time) and parses them into rows; the writer thread writes each
batch in one transaction and then sends the PUBACKs (paho-mqtt 2 `manual_ack`), while the
main thread already parses the next batch. A crash before the commit leaves the messages
un-acknowledged in the persistent session, so the broker delivers them again; the unique
(deduplication id, time) keys make that second delivery a no-op.
"""

from __future__ import annotations

import logging
import queue
import signal
import socket
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import FrameType
from typing import Any

import paho.mqtt.client as paho
import psycopg
from psycopg import errors as pg_errors

from bauhof import db
from bauhof.mqtt import EVENT_TOPIC, connect_properties, make_client
from bauhof.mqttsocket import RawClient
from bauhof.settings import MqttTarget
from ingest.pipeline import Pipeline
from ingest.prepare import WEATHER_PREFIX, Message
from ingest.writer import Batch, DeviceSeen, Writer

log = logging.getLogger("bauhof.ingest")
# The devices' health columns (last seen, battery, signal) are written at most this often.
DEVICES_EVERY_S = 1.0
# The database is away, read-only or full: wait and retry, acknowledge nothing.
OUTAGES = (psycopg.OperationalError, psycopg.InterfaceError, pg_errors.ReadOnlySqlTransaction,
           pg_errors.DiskFull, pg_errors.AdminShutdown)
# The database refuses a row of the batch (an OverflowError is psycopg refusing a number too
# big for its column type): write the batch message by message.
REFUSALS = (pg_errors.DataError, pg_errors.IntegrityError, pg_errors.ProgramLimitExceeded,
            OverflowError)


@dataclass(frozen=True, slots=True)
class IngestConfig:
    """How one ingest worker runs."""

    database_url: str
    mqtt: MqttTarget
    client_id: str = "bauhof-ingest"
    share_group: str | None = None
    mqtt_ca_file: str | None = None
    batch_size: int = 2000
    batch_seconds: float = 0.1
    # MQTT 5 Receive Maximum: un-acknowledged messages the broker may send us at once.
    receive_maximum: int = 20000
    session_expiry_s: int = 7 * 24 * 3600
    stats_interval_s: float = 10.0
    # ChirpStack `object` keys beyond the built-in map (the settings' object_keymap).
    object_keymap: Mapping[str, str] = field(default_factory=dict)


@dataclass(slots=True)
class Counters:
    """Running totals of one worker, logged periodically and kept in `ingest_stats`."""

    received: int = 0
    stored: int = 0
    duplicates: int = 0
    dead_lettered: int = 0
    lag_s: float = 0.0
    started_at: float = field(default_factory=time.time)


class IngestWorker:
    """One ingest process's loop; `run` blocks until `stop` is called (or SIGTERM)."""

    def __init__(self, config: IngestConfig) -> None:
        self.config = config
        self.counters = Counters()
        self._queue: queue.SimpleQueue[Message] = queue.SimpleQueue()
        self._stop = threading.Event()
        self._generation = 0
        self._connected = threading.Event()
        self._client: RawClient | None = None
        self._conn: psycopg.Connection[Any] | None = None
        self._writer: Writer | None = None
        self._pending_seen: dict[str, DeviceSeen] = {}
        # Batches are prepared on the main thread while the previous one is being written by
        # the writer thread (Python parses while PostgreSQL stores). The lock keeps the two
        # from using the device directory at once; the epoch counts forced reloads of it.
        self._prepare_lock = threading.Lock()
        self._epoch = 0
        self._handoff: queue.Queue[tuple[list[Message], Batch, int] | None] = queue.Queue(1)
        self._writer_failed: BaseException | None = None
        self.worker_name = f"{config.client_id}@{socket.gethostname()}"
        self._pipeline = Pipeline(self.worker_name, devices_every_s=DEVICES_EVERY_S,
                                  keymap=config.object_keymap)
        self._directory = self._pipeline.directory
        self._preparer = self._pipeline.preparer

    # MQTT ------------------------------------------------------------------------------

    def _topics(self) -> list[str]:
        topics = [EVENT_TOPIC, WEATHER_PREFIX + "+"]
        if self.config.share_group:
            # MQTT 5 §4.8.2: each message of a shared subscription goes to one member.
            topics = [f"$share/{self.config.share_group}/{t}" for t in topics]
        return topics

    def _on_connect(self, client: paho.Client, _u: object, flags: Any, reason: Any,
                    _p: object) -> None:
        if reason.is_failure:
            log.error("broker refused the connection: %s", reason)
            return
        # Messages of an earlier connection are delivered again by the broker (same session);
        # only acknowledge copies received on the current one (see _ack).
        self._generation += 1
        client.subscribe([(t, 1) for t in self._topics()])
        self._connected.set()
        log.info("connected to %s (session present: %s)", self.config.mqtt.url,
                 getattr(flags, "session_present", "?"))

    def _on_disconnect(self, _c: paho.Client, _u: object, _f: object, reason: Any,
                       _p: object) -> None:
        self._connected.clear()
        if not self._stop.is_set():
            log.warning("disconnected from the broker (%s); reconnecting", reason)

    def _on_publish(self, topic: str, payload: bytes, mid: int, qos: int) -> None:
        self._queue.put(Message(topic, payload, mid, qos, time.monotonic(), self._generation))

    def _start_mqtt(self) -> RawClient:
        cfg = self.config
        client = make_client(cfg.mqtt, cfg.client_id, ca_file=cfg.mqtt_ca_file, manual_ack=True,
                             buffered=True)
        assert isinstance(client, RawClient)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_publish_raw = self._on_publish
        client.reconnect_delay_set(min_delay=1, max_delay=30)
        client.max_inflight_messages_set(100)
        props = connect_properties(cfg.session_expiry_s, cfg.receive_maximum)
        delay = 1.0
        while not self._stop.is_set():
            try:
                client.connect(cfg.mqtt.host, cfg.mqtt.port, keepalive=30,
                               clean_start=False, properties=props)
                break
            except OSError as exc:
                log.warning("cannot reach the broker at %s: %s; retrying in %.0f s",
                            cfg.mqtt.url, exc, delay)
                self._stop.wait(delay)
                delay = min(delay * 2, 30.0)
        client.loop_start()
        return client

    def _ack(self, messages: list[Message]) -> None:
        client = self._client
        if client is None:
            return
        current = self._generation
        client.ack_many([m.mid for m in messages if m.qos == 1 and m.generation == current])

    # Database --------------------------------------------------------------------------

    def _connect_db(self) -> Writer:
        delay = 1.0
        while True:
            conn = None
            try:
                conn = db.connect(self.config.database_url, application_name="bauhof-ingest")
                conn.autocommit = True
                writer = self._pipeline.connect(conn, self._pending_seen)
                self._conn = conn
                return writer
            except (db.DatabaseError, psycopg.OperationalError, pg_errors.ReadOnlySqlTransaction,
                    pg_errors.DiskFull) as exc:
                # A read-only or full database refuses even the temporary staging tables:
                # wait it out like an outage instead of exiting (a crash loop under a
                # restart policy).
                if conn is not None:
                    conn.close()
                if self._stop.is_set():
                    raise db.DatabaseError(f"stopped while the database was unreachable: "
                                           f"{db.first_line(exc)}") from exc
                log.warning("%s; retrying in %.0f s", db.first_line(exc), delay)
                self._stop.wait(delay)
                delay = min(delay * 2, 30.0)

    def _write(self, messages: list[Message], batch: Batch, epoch: int) -> None:
        """Write one batch, retrying through outages; never acknowledges before a commit.

        `epoch` is the device directory's at the time the batch was built: a batch built
        before a refused batch's devices were forgotten again is built anew."""
        delay = 1.0
        while True:
            if self._writer is None:
                self._writer = self._connect_db()
            assert self._conn is not None
            try:
                with self._prepare_lock:
                    self._directory.refresh(self._conn)
                    if epoch != self._epoch:
                        batch, epoch = self._build(messages), self._epoch
                result = self._writer.write(batch)
            except OUTAGES as exc:
                log.error("cannot write to the database: %s; nothing acknowledged, "
                          "retrying in %.0f s", db.first_line(exc), delay)
                self._close_db()
                if self._stop.wait(delay):
                    log.error("stopping with %d messages unacknowledged; the broker keeps "
                              "them for the next start", len(messages))
                    return
                delay = min(delay * 2, 60.0)
                continue
            except Exception as exc:  # REFUSALS, and what nobody foresaw
                # One message the database (or the writer) refuses must not hold back the
                # others, nor stop the worker: each is written alone, the bad one
                # dead-lettered with the reason.
                log.warning("batch refused (%s: %s); writing its %d messages one by one",
                            type(exc).__name__, db.first_line(exc), len(messages))
                messages = self._write_singly(messages)
                if not messages:
                    return
                # An outage in the middle: the rest waits for the database like a batch.
                self._close_db()
                if self._stop.wait(delay):
                    return
                delay = min(delay * 2, 60.0)
                with self._prepare_lock:
                    batch, epoch = self._build(messages), self._epoch
                continue
            self._account(messages, result.stored, result.duplicates, result.dead_lettered)
            self._ack(messages)
            return

    def _forget_unwritten_devices(self) -> None:
        """Devices first seen in a refused batch were remembered but never inserted: reload,
        so that the next batches register them again (also those built meanwhile)."""
        assert self._conn is not None
        with self._prepare_lock:
            self._directory.refresh(self._conn, force=True)
            self._epoch += 1

    def _write_singly(self, messages: list[Message]) -> list[Message]:
        """Write and acknowledge each message alone; return those not written because the
        database went away meanwhile (none when all are done)."""
        assert self._writer is not None and self._conn is not None
        try:
            self._forget_unwritten_devices()
        except OUTAGES:
            return messages
        for n, message in enumerate(messages):
            try:
                try:
                    with self._prepare_lock:
                        single = self._build([message])
                    result = self._writer.write(single)
                except OUTAGES:
                    raise
                except Exception as exc:  # this one message is the bad one
                    self._forget_unwritten_devices()
                    batch = Batch()
                    if isinstance(exc, REFUSALS):
                        reason, code = f"database refused: {db.first_line(exc)}", \
                            "refused_by_database"
                    else:
                        reason, code = (f"cannot store the event: {type(exc).__name__}: "
                                        f"{db.first_line(exc)}"), "internal"
                    self._preparer.dead(batch, message.topic, message.payload, reason, code)
                    result = self._writer.write(batch)
            except OUTAGES as exc:
                log.error("cannot write to the database: %s; %d messages unacknowledged",
                          db.first_line(exc), len(messages) - n)
                return messages[n:]
            self._account([message], result.stored, result.duplicates, result.dead_lettered)
            self._ack([message])
        return []

    def _build(self, messages: list[Message]) -> Batch:
        return self._pipeline.build(messages)

    def _account(self, messages: list[Message], stored: int, duplicates: int, dead: int) -> None:
        c = self.counters
        c.received += len(messages)
        c.stored += stored
        c.duplicates += duplicates
        c.dead_lettered += dead
        if messages:
            c.lag_s = time.monotonic() - min(m.received for m in messages)

    def _flush_devices(self, force: bool = False) -> None:
        """Write the devices' pending health columns when due; an outage only delays them."""
        if self._writer is None:
            return
        try:
            self._writer.flush_devices(force)
        except OUTAGES as exc:
            log.warning("cannot update the devices' health columns: %s", db.first_line(exc))
            self._close_db()

    def _close_db(self) -> None:
        if self._writer is not None:
            self._pending_seen = self._writer.pending_seen
        if self._conn is not None:
            try:
                self._conn.close()
            finally:
                self._conn = None
                self._writer = None

    def _save_stats(self) -> None:
        c = self.counters
        log.info("received %d, stored %d, duplicates %d, dead-lettered %d, lag %.2f s",
                 c.received, c.stored, c.duplicates, c.dead_lettered, c.lag_s)
        if self._conn is None:
            return
        try:
            self._conn.execute(
                "INSERT INTO ingest_stats (worker, started_at, updated_at, received, stored,"
                " duplicates, dead_lettered, lag_s) VALUES (%s, to_timestamp(%s), now(), %s,"
                " %s, %s, %s, %s) ON CONFLICT (worker) DO UPDATE SET"
                " started_at = EXCLUDED.started_at, updated_at = now(),"
                " received = EXCLUDED.received, stored = EXCLUDED.stored,"
                " duplicates = EXCLUDED.duplicates, dead_lettered = EXCLUDED.dead_lettered,"
                " lag_s = EXCLUDED.lag_s",
                (self.worker_name, c.started_at, c.received, c.stored, c.duplicates,
                 c.dead_lettered, c.lag_s),
            )
        except psycopg.Error as exc:
            log.warning("could not save counters: %s", db.first_line(exc))

    # The loop --------------------------------------------------------------------------

    def stop(self) -> None:
        """Ask the loop to flush what it has, acknowledge it and return."""
        self._stop.set()

    def install_signal_handlers(self) -> None:
        """SIGTERM and SIGINT stop the worker cleanly."""
        def handler(_signum: int, _frame: FrameType | None) -> None:
            self.stop()

        signal.signal(signal.SIGTERM, handler)
        signal.signal(signal.SIGINT, handler)

    def _next_batch(self) -> list[Message]:
        cfg = self.config
        try:
            first = self._queue.get(timeout=0.2)
        except queue.Empty:
            return []
        messages = [first]
        deadline = time.monotonic() + cfg.batch_seconds
        while len(messages) < cfg.batch_size:
            try:
                messages.append(self._queue.get_nowait())
            except queue.Empty:
                remaining = deadline - time.monotonic()
                if remaining <= 0 or self._stop.is_set():
                    break
                try:
                    messages.append(self._queue.get(timeout=min(remaining, 0.02)))
                except queue.Empty:
                    continue
        return messages

    def _prepare(self, messages: list[Message]) -> None:
        """Build the batch and hand it to the writer thread (waiting while it is busy)."""
        with self._prepare_lock:
            batch, epoch = self._build(messages), self._epoch
        item = (messages, batch, epoch)
        while True:
            if self._writer_failed is not None:
                raise RuntimeError("the ingest writer thread failed") from self._writer_failed
            try:
                self._handoff.put(item, timeout=0.5)
                return
            except queue.Full:
                continue

    def _write_loop(self) -> None:
        """The writer thread: write and acknowledge each batch; when idle, the devices' health
        columns and the counters."""
        next_stats = time.monotonic() + self.config.stats_interval_s
        try:
            while True:
                try:
                    item = self._handoff.get(timeout=0.2)
                except queue.Empty:
                    self._flush_devices()
                else:
                    if item is None:
                        break
                    self._write(*item)
                if time.monotonic() >= next_stats:
                    self._save_stats()
                    next_stats = time.monotonic() + self.config.stats_interval_s
            self._flush_devices(force=True)
        except BaseException as exc:
            self._writer_failed = exc
            raise

    def run(self) -> None:
        """Consume until stopped; on stop, write and acknowledge what was received."""
        self._writer = self._connect_db()
        self._client = self._start_mqtt()
        writer = threading.Thread(target=self._write_loop, name="bauhof-ingest-writer",
                                  daemon=True)
        writer.start()
        try:
            while not self._stop.is_set():
                messages = self._next_batch()
                if messages:
                    self._prepare(messages)
            # Flush what was already received; the rest stays queued at the broker.
            while True:
                messages = self._next_batch()
                if not messages:
                    break
                self._prepare(messages)
        finally:
            if writer.is_alive():
                self._handoff.put(None)
                writer.join()
            self._save_stats()
            if self._client is not None:
                self._client.disconnect()
                self._client.loop_stop()
            self._close_db()
