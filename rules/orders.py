"""Work orders: life cycle, append-only history, one open order per (rule, subject).

The API, the simulator's crews and the engine all change orders through these functions, so
every change is recorded in `order_history` and published through the outbox. Functions
whose names start with `apply_` are the engine's: they expect the caller's transaction.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import UTC, datetime
from typing import Any

import psycopg
from psycopg.rows import class_row
from psycopg.types.json import Jsonb

from bauhof.assignee import Assignee
from rules import citizen, outbox
from rules.actions import Escalate, Mail, Open, Resolve, Update
from rules.errors import IllegalTransition, OrderNotFound

OPEN_STATUSES = ("open", "assigned", "in_progress")
CLOSED_STATUSES = ("done", "cancelled", "resolved")
# The life cycle: open → assigned → in progress → done, or cancelled, or resolved by a rule.
TRANSITIONS: dict[str, tuple[str, ...]] = {
    "open": ("assigned", "in_progress", "done", "cancelled", "resolved"),
    "assigned": ("open", "in_progress", "done", "cancelled", "resolved"),
    "in_progress": ("assigned", "done", "cancelled", "resolved"),
    "done": (), "cancelled": (), "resolved": (),
}
# The event name published for arriving in a status.
EVENTS = {"open": "unassigned", "assigned": "assigned", "in_progress": "started",
          "done": "done", "cancelled": "cancelled", "resolved": "resolved"}


@dataclass(frozen=True, slots=True)
class OrderHead:
    """The fields of a work order a list shows (the API's list item adds its distance)."""

    id: int
    kind: str
    status: str
    subject_type: str
    subject_id: str
    rule: str
    priority: int
    title: str
    assignee: str | None
    opened_at: datetime
    due_at: datetime | None
    resolved_at: datetime | None
    resolved_by: str | None
    last_value: float | None
    latitude: float | None
    longitude: float | None
    updated_at: datetime

    @property
    def assigned_to(self) -> Assignee | None:
        """`assignee` as the typed value (the column holds its `<kind>:<id>` text, checked
        by the constraint work_orders_assignee_form)."""
        return None if self.assignee is None else Assignee.parse(self.assignee)


@dataclass(frozen=True, slots=True)
class Order(OrderHead):
    """A work order as stored: one row of `work_orders`, loaded with `class_row(Order)`."""

    condition_since: datetime | None
    last_seen_at: datetime | None
    params: dict[str, Any]
    evidence: list[dict[str, Any]]
    reminders: int
    last_reminded_at: datetime | None

    def summary(self) -> dict[str, Any]:
        """The fields scripts and events use, JSON-ready."""
        def iso(t: datetime | None) -> str | None:
            return None if t is None else t.isoformat()
        return {"id": self.id, "kind": self.kind, "status": self.status,
                "subject_type": self.subject_type, "subject_id": self.subject_id,
                "rule": self.rule, "priority": self.priority, "title": self.title,
                "assignee": self.assignee, "opened_at": iso(self.opened_at),
                "due_at": iso(self.due_at), "resolved_at": iso(self.resolved_at),
                "resolved_by": self.resolved_by, "last_value": self.last_value}


HEAD_COLUMNS = tuple(f.name for f in fields(OrderHead))
COLUMNS = tuple(f.name for f in fields(Order))
RETURNING = f"RETURNING {', '.join(COLUMNS)}"
_SELECT = f"SELECT {', '.join(COLUMNS)} FROM work_orders"  # noqa: S608 (constant columns)


def rows(conn: psycopg.Connection[Any]) -> psycopg.Cursor[Order]:
    """A cursor that loads `work_orders` rows (all of COLUMNS) as Orders."""
    return conn.cursor(row_factory=class_row(Order))


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    """One recorded change of an order."""

    id: int
    at: datetime
    actor: str
    event: str
    from_status: str | None
    to_status: str | None
    note: str | None
    data: dict[str, Any]


def get(conn: psycopg.Connection[Any], order_id: int, *, lock: bool = False) -> Order:
    """One order by id (locked FOR UPDATE when asked); OrderNotFound if there is none."""
    order = rows(conn).execute(f"{_SELECT} WHERE id = %s{' FOR UPDATE' if lock else ''}",
                               (order_id,)).fetchone()
    if order is None:
        raise OrderNotFound(order_id)
    return order


def find_open(conn: psycopg.Connection[Any], rule: str, subject_type: str, subject_id: str,
              *, lock: bool = False) -> Order | None:
    """The open order of a rule for a subject, if there is one."""
    return rows(conn).execute(
        f"{_SELECT} WHERE rule = %s AND subject_type = %s AND subject_id = %s "
        f"AND status = ANY(%s){' FOR UPDATE' if lock else ''}",
        (rule, subject_type, subject_id, list(OPEN_STATUSES)),
    ).fetchone()


def list_orders(conn: psycopg.Connection[Any], status: str | None = None,
                kind: str | None = None) -> list[Order]:
    """Orders, oldest first, filtered by status and kind when given."""
    return rows(conn).execute(
        f"{_SELECT} WHERE (%(s)s::text IS NULL OR status = %(s)s) "
        "AND (%(k)s::text IS NULL OR kind = %(k)s) ORDER BY id",
        {"s": status, "k": kind},
    ).fetchall()


def list_open(conn: psycopg.Connection[Any]) -> list[Order]:
    """The open orders in one query: open, then assigned, then in progress; oldest first."""
    rows = conn.execute(
        f"{_SELECT} WHERE status = ANY(%s) ORDER BY array_position(%s, status), id",
        (list(OPEN_STATUSES), list(OPEN_STATUSES))).fetchall()
    return [Order(*row) for row in rows]


def history(conn: psycopg.Connection[Any], order_id: int) -> list[HistoryEntry]:
    """Every recorded change of an order, oldest first."""
    return conn.cursor(row_factory=class_row(HistoryEntry)).execute(
        "SELECT id, at, actor, event, from_status, to_status, note, data FROM order_history "
        "WHERE order_id = %s ORDER BY id", (order_id,)).fetchall()


def record(conn: psycopg.Connection[Any], order: Order, at: datetime, actor: str, event: str,
           *, to_status: str | None = None, note: str | None = None,
           data: dict[str, Any] | None = None, publish: bool = True,
           defect_id: int | None = None, after: Order | None = None) -> None:
    """Append a history row and (unless told not to) publish the event with the order as it
    is now (`after`, when the caller has it; otherwise read back)."""
    conn.execute(
        "INSERT INTO order_history (order_id, defect_id, at, actor, event, from_status, "
        "to_status, note, data) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
        (order.id, defect_id, at, actor, event, order.status, to_status or order.status,
         note, Jsonb(data or {})),
    )
    if publish:
        fresh = after or get(conn, order.id)
        outbox.publish(conn, "workorders", order.id, event, {
            "event": event, "at": at.isoformat(), "actor": actor, "note": note,
            "order": fresh.summary()})


def transition(conn: psycopg.Connection[Any], order_id: int, to_status: str, actor: str,
               note: str | None = None, *, assignee: Assignee | None = None,
               at: datetime | None = None, resolved_by: str | None = None,
               public_note: str | None = None, public_reason: str | None = None) -> Order:
    """Move an order to a new status; IllegalTransition if the life cycle forbids it.

    `note` is internal; `public_note` (and, when closing without action, `public_reason`, a
    key of rules.citizen.REASONS) is what the citizens who reported it read.
    """
    with conn.transaction():
        return move(conn, get(conn, order_id, lock=True), to_status, actor, note,
                    assignee=assignee, at=at, resolved_by=resolved_by,
                    public_note=public_note, public_reason=public_reason)


def move(conn: psycopg.Connection[Any], order: Order, to_status: str, actor: str,
         note: str | None = None, *, assignee: Assignee | None = None, at: datetime | None = None,
         resolved_by: str | None = None, public_note: str | None = None,
         public_reason: str | None = None) -> Order:
    """`transition` of an order the caller has read FOR UPDATE in its transaction; returns
    the order as it is now. Assigning without `assignee` keeps the order's, or takes the
    actor when it is an assignee (AssigneeError when it is not: `rules` assigns nobody)."""
    at = at or datetime.now(UTC)
    allowed = TRANSITIONS.get(order.status, ())
    if to_status not in allowed:
        raise IllegalTransition(order.id, order.status, to_status, allowed)
    new_assignee = order.assignee
    if to_status == "assigned":
        new_assignee = str(assignee) if assignee else order.assignee or str(Assignee.parse(actor))
    elif to_status == "open":
        new_assignee = None
    elif assignee is not None:
        new_assignee = str(assignee)
    closing = to_status in CLOSED_STATUSES
    who = resolved_by or (actor if to_status != "resolved" else order.assignee or actor)
    after = rows(conn).execute(
        "UPDATE work_orders SET status = %s, assignee = %s, updated_at = now(), "  # noqa: S608
        f"resolved_at = %s, resolved_by = %s WHERE id = %s {RETURNING}",
        (to_status, new_assignee, at if closing else None, who if closing else None,
         order.id),
    ).fetchone()
    assert after is not None  # locked by the caller
    data: dict[str, Any] = {}
    if new_assignee != order.assignee:
        data["assignee"] = new_assignee
    if public_note:
        data["public_note"] = public_note
    if public_reason:
        data["public_reason"] = public_reason
    told = citizen.open_citizen_defects(conn, order.id)
    record(conn, order, at, actor, EVENTS[to_status], to_status=to_status, note=note,
           data=data or None, after=after)
    if closing:
        _close_defects(conn, order.id, at, to_status)
    step = citizen.STEP_OF_STATUS.get(to_status)
    if step is not None and told and not _told_before(conn, order.id, to_status):
        citizen.tell(conn, step, at, public_note, reason=public_reason, defect_ids=told)
    return after


def _told_before(conn: psycopg.Connection[Any], order_id: int, to_status: str) -> bool:
    # A reassignment passes through "open" and "assigned" again: citizens hear it once.
    row = conn.execute("SELECT count(*) FROM order_history WHERE order_id = %s "
                       "AND to_status = %s AND from_status <> to_status", (order_id, to_status)
                       ).fetchone()
    return row is not None and int(row[0]) > 1


def _close_defects(conn: psycopg.Connection[Any], order_id: int, at: datetime,
                   to_status: str) -> None:
    """Close the order's open defects; tell the citizens who reported them."""
    status = "cancelled" if to_status == "cancelled" else "resolved"
    rows = conn.execute(
        "UPDATE defects SET status = %s, resolved_at = %s WHERE order_id = %s "
        "AND status = 'open' RETURNING id, kind, source, reporter_email, reporter_lang, "
        "description, subject_type, subject_id",
        (status, at, order_id),
    ).fetchall()
    for d_id, kind, source, email, lang, description, subject_type, subject_id in rows:
        outbox.publish(conn, "defects", d_id, status, {
            "event": status, "at": at.isoformat(), "defect": {
                "id": d_id, "kind": kind, "source": source, "order_id": order_id,
                "subject_type": subject_type, "subject_id": subject_id}})
        # Reports through Open311 hear every step (rules/citizen.py); one recorded any other
        # way (the CLI) gets this one mail, which names no internal id either.
        if source == "citizen" and email and status == "resolved" and conn.execute(
                "SELECT 1 FROM open311_requests WHERE defect_id = %s", (d_id,)).fetchone() \
                is None:
            outbox.queue_mail(conn, Mail(email, "defect_fixed", lang, {
                "description": description or kind, "place": _place(conn, subject_type,
                                                                    subject_id)}),
                              {"defect_id": d_id})


def _place(conn: psycopg.Connection[Any], subject_type: str, subject_id: str) -> str:
    table = {"bin": "bins", "green_area": "green_areas"}.get(subject_type)
    if table is None:
        return "-"
    row = conn.execute(f"SELECT name, latitude, longitude FROM {table} WHERE id = %s",  # noqa: S608
                       (subject_id,)).fetchone()
    return "-" if row is None else citizen.place(None, row[0], row[1], row[2])


def _evidence(existing: list[dict[str, Any]], new: tuple[dict[str, Any], ...], keep: int) -> (
    list[dict[str, Any]]
):
    # The first (triggering) readings stay; the latest ones roll.
    head = existing[:2]
    tail = [e for e in existing[2:] + list(new) if e not in head]
    return head + tail[-max(keep - len(head), 1):]


def apply_open(conn: psycopg.Connection[Any], a: Open, actor: str,
               location: tuple[float, float] | None = None, keep: int = 10) -> (
    tuple[int, bool]
):
    """Open the order (or, when one is already open, update it); return (id, created)."""
    status = "assigned" if a.assignee else "open"
    assignee = None if a.assignee is None else str(a.assignee)
    lat, lon = location if location else (None, None)
    row = conn.execute(
        "INSERT INTO work_orders (kind, subject_type, subject_id, rule, params, priority, "
        "status, title, assignee, opened_at, due_at, condition_since, last_value, "
        "last_seen_at, evidence, latitude, longitude) "
        "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) "
        "ON CONFLICT (rule, subject_type, subject_id) "
        "WHERE status IN ('open', 'assigned', 'in_progress') DO NOTHING RETURNING id",
        (a.kind, a.subject_type, a.subject_id, a.rule, Jsonb(a.params), a.priority, status,
         a.title, assignee, a.at, a.due_at, a.since, a.value, a.at,
         Jsonb(list(a.evidence)), lat, lon),
    ).fetchone()
    if row is None:
        existing = apply_update(conn, Update(a.rule, a.subject_type, a.subject_id, a.at,
                                             a.value, a.evidence), keep)
        return (existing or 0), False
    order = get(conn, int(row[0]))
    defect_id = None
    if a.defect:
        defect_id = _open_defect(conn, a, order.id)
    record(conn, order, a.at, actor, "opened", to_status=status, note=a.title,
           data={"params": a.params}, defect_id=defect_id)
    if assignee:
        record(conn, order, a.at, actor, "assigned", to_status=status,
               note=f"asked {assignee} first", data={"assignee": assignee})
    for mail in a.mail:
        outbox.queue_mail(conn, mail, {"order_id": order.id})
    return order.id, True


def _open_defect(conn: psycopg.Connection[Any], a: Open, order_id: int) -> int:
    row = conn.execute(
        "INSERT INTO defects (kind, source, rule, subject_type, subject_id, dev_eui, order_id, "
        "description, opened_at, evidence) VALUES (%s, 'rule', %s, %s, %s, %s, %s, %s, %s, %s) "
        "RETURNING id",
        (a.defect, a.rule, a.subject_type, a.subject_id, a.dev_eui, order_id, a.title, a.at,
         Jsonb(list(a.evidence))),
    ).fetchone()
    assert row is not None
    defect_id = int(row[0])
    outbox.publish(conn, "defects", defect_id, "opened", {
        "event": "opened", "at": a.at.isoformat(), "defect": {
            "id": defect_id, "kind": a.defect, "source": "rule", "order_id": order_id,
            "subject_type": a.subject_type, "subject_id": a.subject_id,
            "dev_eui": a.dev_eui}})
    return defect_id


def find_open_many(conn: psycopg.Connection[Any],
                   keys: list[tuple[str, str, str]]) -> dict[tuple[str, str, str], Order]:
    """The open orders of these (rule, subject type, subject id), locked FOR UPDATE, by key:
    one query where `find_open` would be one per key."""
    if not keys:
        return {}
    rule, kind, subject = (list(column) for column in zip(*keys, strict=True))
    query = (f"{_SELECT} WHERE (rule, subject_type, subject_id) IN (SELECT * FROM "  # noqa: S608
             "unnest(%s::text[], %s::text[], %s::text[])) AND status = ANY(%s) ORDER BY id "
             "FOR UPDATE")
    found = rows(conn).execute(query, (rule, kind, subject, list(OPEN_STATUSES))).fetchall()
    return {(o.rule, o.subject_type, o.subject_id): o for o in found}


def apply_update(conn: psycopg.Connection[Any], a: Update, keep: int = 10) -> int | None:
    """Record the latest value on the open order; None when no order is open any more."""
    order = find_open(conn, a.rule, a.subject_type, a.subject_id, lock=True)
    if order is None:
        return None
    return update_open(conn, order, a, keep)


def update_open(conn: psycopg.Connection[Any], order: Order, a: Update, keep: int = 10) -> int:
    """`apply_update` of an order the caller has read FOR UPDATE in its transaction."""
    conn.execute(
        "UPDATE work_orders SET last_value = coalesce(%s, last_value), last_seen_at = "
        "greatest(last_seen_at, %s), evidence = %s, updated_at = now() WHERE id = %s",
        (a.value, a.at, Jsonb(_evidence(order.evidence, a.evidence, keep)), order.id),
    )
    return order.id


def apply_resolve(conn: psycopg.Connection[Any], a: Resolve, actor: str, keep: int = 10) -> (
    int | None
):
    """Resolve the open order of (rule, subject); None when none is open."""
    order = find_open(conn, a.rule, a.subject_type, a.subject_id, lock=True)
    if order is None:
        return None
    if a.evidence:
        conn.execute("UPDATE work_orders SET evidence = %s WHERE id = %s",
                     (Jsonb(_evidence(order.evidence, a.evidence, keep)), order.id))
    by = a.by or order.assignee or actor
    mails = a.mail
    if by.startswith("sponsor:") and order.params.get("stage") == "bauhof":
        # The sponsor handed this one to Bauhof: no thanks for watering it.
        by, mails = order.assignee or actor, ()
    transition(conn, order.id, "resolved", actor, a.note, at=a.at, resolved_by=by)
    for mail in mails:
        outbox.queue_mail(conn, mail, {"order_id": order.id})
    return order.id


def apply_escalate(conn: psycopg.Connection[Any], a: Escalate, actor: str) -> int | None:
    """Raise priority / hand over to Bauhof; None when no order is open."""
    order = find_open(conn, a.rule, a.subject_type, a.subject_id, lock=True)
    if order is None:
        return None
    if a.unassign and order.status != "assigned" and order.params.get("stage") == "bauhof":
        # Already handed to Bauhof (the sponsor said "not this time" from the mail).
        return order.id
    priority = order.priority if a.priority is None else min(order.priority, a.priority)
    unassign = a.unassign and order.status == "assigned"
    conn.execute(
        "UPDATE work_orders SET priority = %s, params = params || %s, status = %s, "
        "assignee = %s, updated_at = now() WHERE id = %s",
        (priority, Jsonb(a.params), "open" if unassign else order.status,
         None if unassign else order.assignee, order.id),
    )
    record(conn, order, a.at, actor, "escalated", to_status="open" if unassign else None,
           note=a.note, data={"priority": priority, "unassigned": order.assignee
                              if unassign else None})
    return order.id


def set_priority(conn: psycopg.Connection[Any], order_id: int, priority: int, *, actor: str,
                 note: str, at: datetime) -> None:
    """Escalation with age: set the priority and count the age step."""
    order = get(conn, order_id, lock=True)
    if order.status not in OPEN_STATUSES:
        return
    steps = int(order.params.get("age_steps", 0)) + 1
    conn.execute(
        "UPDATE work_orders SET priority = %s, params = params || %s, updated_at = now() "
        "WHERE id = %s", (priority, Jsonb({"age_steps": steps}), order_id))
    record(conn, order, at, actor, "escalated", note=note, data={"priority": priority})


def remind(conn: psycopg.Connection[Any], order_id: int, actor: str, at: datetime,
           mail: tuple[Mail, ...] = ()) -> None:
    """Publish a reminder for an order still open."""
    order = get(conn, order_id, lock=True)
    if order.status not in OPEN_STATUSES:
        return
    conn.execute("UPDATE work_orders SET reminders = reminders + 1, last_reminded_at = %s "
                 "WHERE id = %s", (at, order_id))
    record(conn, order, at, actor, "reminder", note=f"still open since {order.opened_at:%c}",
           data={"reminders": order.reminders + 1})
    for m in mail:
        outbox.queue_mail(conn, m, {"order_id": order_id})
