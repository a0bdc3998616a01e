"""Ingest's one entry point: messages in, rows committed.

`bauhof ingest` (behind MQTT), the dead-letter reprocessing (CLI and API), the what-if runs,
planning's simulated town and the replay benchmark's direct path all turn messages into rows
through a `Pipeline`: the device directory, the Preparer (parse, decode, validate) and the
Writer (binary COPY, de-duplicating insert, NOTIFY) set up once, in one place. `Feed` and
`ingest_messages` add the batching the in-process callers share.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import psycopg

from ingest.devices import DeviceDirectory, object_keymap
from ingest.prepare import Preparer
from ingest.writer import Batch, DeviceSeen, Writer, WriteResult

NOTHING_WRITTEN = WriteResult(stored=0, duplicates=0, readings=0, dead_lettered=0)
# Messages per transaction of the in-process feeds (a live worker batches by count and time).
BATCH_SIZE = 5000


class Incoming(Protocol):
    """What a message must have for ingest: its topic and payload (an MQTT message, a
    simulator or recording message, a stored dead letter)."""

    @property
    def topic(self) -> str: ...

    @property
    def payload(self) -> bytes: ...


class Pipeline:
    """The device directory, Preparer and Writer of one ingest connection."""

    def __init__(self, worker: str, *, devices_every_s: float = 0.0,
                 directory: DeviceDirectory | None = None,
                 keymap: Mapping[str, str] | None = None) -> None:
        """`keymap`: ChirpStack `object` keys beyond the built-in map (the settings'
        object_keymap)."""
        self.worker = worker
        self.devices_every_s = devices_every_s
        self.directory = directory if directory is not None else DeviceDirectory()
        self.preparer = Preparer(self.directory, object_keymap(keymap))
        self.writer: Writer | None = None

    def connect(self, conn: psycopg.Connection[Any],
                pending_seen: dict[str, DeviceSeen] | None = None) -> Writer:
        """Write over `conn` from now on (in autocommit mode; after a reconnect, hand over the
        previous writer's `pending_seen`): staging tables created, devices loaded."""
        writer = Writer(conn, self.worker, self.devices_every_s, pending_seen)
        writer.setup()
        self.directory.refresh(conn, force=True)
        self.writer = writer
        return writer

    def build(self, messages: Iterable[Incoming]) -> Batch:
        """The rows (and dead letters) of the messages, not yet written."""
        batch = Batch()
        add = self.preparer.add
        for message in messages:
            add(batch, message.topic, message.payload)
        return batch

    def write(self, batch: Batch,
              before_commit: Callable[[psycopg.Cursor[Any]], object] | None = None) -> (
            WriteResult):
        """Store a batch in one transaction (see `Writer.write`)."""
        if self.writer is None:
            raise RuntimeError("Pipeline.write before connect")
        return self.writer.write(batch, before_commit)


@dataclass(frozen=True, slots=True)
class Result:
    """What a feed stored: its messages, its batches (transactions) and what they wrote."""

    messages: int = 0
    batches: int = 0
    written: WriteResult = NOTHING_WRITTEN

    def plus(self, messages: int, written: WriteResult) -> Result:
        """This result with one more batch of `messages` counted in."""
        return Result(self.messages + messages, self.batches + 1, self.written + written)


class Feed:
    """Messages added one at a time into a batch that `flush` writes; `add` says when the
    batch holds `batch_size` messages."""

    def __init__(self, conn: psycopg.Connection[Any], worker: str,
                 batch_size: int = BATCH_SIZE, keymap: Mapping[str, str] | None = None) -> None:
        self.pipeline = Pipeline(worker, keymap=keymap)
        self.pipeline.connect(conn)
        self.batch_size = batch_size
        self.pending = 0
        self.result = Result()
        self._batch = Batch()

    def add(self, message: Incoming) -> bool:
        """Add one message; True when the batch is full (time to `flush`)."""
        self.pipeline.preparer.add(self._batch, message.topic, message.payload)
        self.pending += 1
        return self.pending >= self.batch_size

    def flush(self) -> WriteResult:
        """Write what is pending (an empty batch is an empty transaction)."""
        written = self.pipeline.write(self._batch)
        self.result = self.result.plus(self.pending, written)
        self._batch = Batch()
        self.pending = 0
        return written


def ingest_messages(conn: psycopg.Connection[Any], messages: Iterable[Incoming], *,
                    worker: str, batch_size: int = BATCH_SIZE,
                    after_write: Callable[[], object] | None = None,
                    keymap: Mapping[str, str] | None = None) -> Result:
    """Store the messages as `bauhof ingest` would, one transaction per `batch_size` and one
    for the rest (conn in autocommit mode); `after_write` is called after each; `keymap` as
    for `Pipeline`."""
    feed = Feed(conn, worker, batch_size, keymap)
    for message in messages:
        if feed.add(message):
            feed.flush()
            if after_write is not None:
                after_write()
    feed.flush()
    if after_write is not None:
        after_write()
    return feed.result
