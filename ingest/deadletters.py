"""`bauhof deadletters list|show|reprocess|discard`: what ingest could not use, by hand.

Reprocessing runs a stored message through the same Preparer and Writer as `bauhof ingest`
(after a fix: a device registered, a codec corrected), so its rows are stored exactly as a
live message's would be; one that still fails keeps its place with the new reason.
"""

from __future__ import annotations

import argparse
import base64
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg

from bauhof.cli import command, fail, positive_int
from ingest.writer import WriteResult

STATUSES = ("new", "reprocessed", "discarded")


class DeadLetterError(Exception):
    """A dead letter that cannot be handled as asked; the message says why."""


class NotFound(DeadLetterError):
    """No dead letter with that id."""


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """One stored message ingest could not use."""

    id: int
    received_at: datetime
    topic: str
    reason: str
    reason_code: str
    dev_eui: str | None
    status: str
    payload: bytes

    def summary(self) -> dict[str, Any]:
        """As JSON (the payload as text when it is UTF-8, always as base64)."""
        try:
            text: str | None = self.payload.decode("utf-8")
        except UnicodeDecodeError:
            text = None
        return {"id": self.id, "received_at": self.received_at.isoformat(), "topic": self.topic,
                "reason": self.reason, "reason_code": self.reason_code,
                "dev_eui": self.dev_eui, "status": self.status,
                "size_bytes": len(self.payload), "payload_text": text,
                "payload_base64": base64.b64encode(self.payload).decode()}


_COLUMNS = "id, received_at, topic, reason, reason_code, dev_eui, status, payload"


def _letter(row: tuple[Any, ...]) -> DeadLetter:
    return DeadLetter(int(row[0]), row[1], str(row[2]), str(row[3]), str(row[4]), row[5],
                      str(row[6]), bytes(row[7]))


def listing(conn: psycopg.Connection[Any], status: str | None = None,
            limit: int = 50) -> list[DeadLetter]:
    """Dead letters, newest first, optionally of one status."""
    rows = conn.execute(
        f"SELECT {_COLUMNS} FROM dead_letters WHERE %(status)s::text IS NULL "  # noqa: S608
        "OR status = %(status)s ORDER BY id DESC LIMIT %(n)s",
        {"status": status, "n": limit}).fetchall()
    return [_letter(r) for r in rows]


def get(conn: psycopg.Connection[Any], dead_id: int) -> DeadLetter:
    """One dead letter; NotFound when there is none."""
    row = conn.execute(f"SELECT {_COLUMNS} FROM dead_letters WHERE id = %s",  # noqa: S608
                       (dead_id,)).fetchone()
    if row is None:
        raise NotFound(f"no dead letter {dead_id}")
    return _letter(row)


class Settled(DeadLetterError):
    """The dead letter was reprocessed or discarded already."""

    def __init__(self, dead_id: int, status: str, action: str) -> None:
        super().__init__(f"dead letter {dead_id} is {status} already; only new ones can be "
                         f"{action}")
        self.status = status


class StillFailing(DeadLetterError):
    """Reprocessed, the message still cannot be used; `reason` is the new reason (stored)."""

    def __init__(self, dead_id: int, reason: str) -> None:
        super().__init__(f"dead letter {dead_id} still cannot be used: {reason}")
        self.reason = reason


def _settle(letter: DeadLetter, action: str) -> None:
    if letter.status != "new":
        raise Settled(letter.id, letter.status, action)


def reprocess(conn: psycopg.Connection[Any], dead_id: int,
              keymap: Mapping[str, str] | None = None) -> WriteResult:
    """Store a new dead letter's rows now through ingest's pipeline (conn in autocommit), in
    one transaction with its status change. NotFound, Settled (not new), or StillFailing with
    the new reason, which is stored. `keymap`: ChirpStack `object` keys beyond the built-in
    map (the settings' object_keymap)."""
    from ingest.pipeline import Pipeline

    letter = get(conn, dead_id)
    _settle(letter, "reprocessed")
    pipeline = Pipeline("bauhof-deadletters", keymap=keymap)
    pipeline.connect(conn)
    batch = pipeline.build([letter])
    if batch.dead:
        reason, code = batch.dead[0].reason, batch.dead[0].code
        conn.execute("UPDATE dead_letters SET reason = %s, reason_code = %s WHERE id = %s",
                     (reason, code, dead_id))
        raise StillFailing(dead_id, reason)
    with conn.transaction():
        result = pipeline.write(batch)
        conn.execute("UPDATE dead_letters SET status = 'reprocessed' WHERE id = %s", (dead_id,))
    return result


def discard(conn: psycopg.Connection[Any], dead_id: int) -> None:
    """Mark a new dead letter discarded (it is kept, no longer listed as new)."""
    _settle(get(conn, dead_id), "discarded")
    conn.execute("UPDATE dead_letters SET status = 'discarded' WHERE id = %s", (dead_id,))


def register(commands: Any) -> None:
    """Add `bauhof deadletters`."""
    parser = command(commands, "deadletters", cmd_deadletters,
                     help="list, show, reprocess or discard what ingest could not use")
    parser.add_argument("action", choices=("list", "show", "reprocess", "discard"))
    parser.add_argument("id", nargs="?", type=positive_int, help="the dead letter's id")
    parser.add_argument("--status", choices=STATUSES, help="list: only this status")
    parser.add_argument("--limit", type=positive_int, default=50, help="list: at most (default 50)")
    parser.add_argument("--json", action="store_true", help="JSON (list: one object a line)")



def cmd_deadletters(args: argparse.Namespace) -> int:
    """Messages ingest dead-lettered, with the reason. `reprocess ID` runs one through ingest
    again (after a fix); `discard ID` marks it handled."""
    from bauhof import db, settings

    if (args.action == "list") != (args.id is None):
        need = "takes no ID" if args.action == "list" else "needs an ID"
        return fail("deadletters", f"{args.action} {need}", 2)
    cfg = settings.load()
    with db.connect(cfg.database_url, autocommit=True) as conn:
        try:
            if args.action == "list":
                for letter in listing(conn, args.status, args.limit):
                    if args.json:
                        summary = letter.summary()
                        del summary["payload_text"], summary["payload_base64"]
                        print(json.dumps(summary, ensure_ascii=False))
                    else:
                        print(f"{letter.id:>7}  {letter.received_at:%Y-%m-%d %H:%M:%S}  "
                              f"{letter.status:<11} {letter.dev_eui or '-':<16}  "
                              f"{letter.reason_code:<19} {letter.reason[:90]}")
            elif args.action == "show":
                letter = get(conn, args.id)
                if args.json:
                    print(json.dumps(letter.summary(), ensure_ascii=False))
                else:
                    summary = letter.summary()
                    if summary["payload_text"] is not None:
                        del summary["payload_base64"]  # the text says it all
                    for key, value in summary.items():
                        print(f"{key:>15}  {value}")
            elif args.action == "reprocess":
                result = reprocess(conn, args.id, cfg.object_keymap)
                print(f"dead letter {args.id} reprocessed: {result.stored} stored, "
                      f"{result.duplicates} already there")
            else:
                discard(conn, args.id)
                print(f"dead letter {args.id} discarded")
        except NotFound as exc:
            return fail("deadletters", exc, 2)
        except DeadLetterError as exc:
            return fail("deadletters", exc)
    return 0
