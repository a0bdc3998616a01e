"""The sponsorship life cycle of "Mach' Herrenberg grün!" (docs/portal.md).

inquiry (unconfirmed) → confirmed from the mail (requested) → approved by staff (active) →
ended by the sponsor or staff; an unconfirmed inquiry expires after 72 h, staff may decline a
request. Each step is one transaction; its mails go through the outbox and leave after commit.
Sponsors act from signed mail links (bauhof/signed_links.py) on their `sponsors` row, which
the rules engine asks when the area is dry.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

import psycopg
from psycopg.rows import class_row
from psycopg.types.json import Jsonb

from api.database import Connection
from planning import settings as planning_settings
from rules import orders, outbox
from rules.actions import Escalate, Mail, Open

CONFIRM_WITHIN = timedelta(hours=72)
WATERING_RULE = "watering.dry"
PLANTING_RULE = "portal.planting"
INSPECTION_RULE = "portal.inspection"
# Spring and autumn inspections (Flächenkontrolle), by month.
SEASONS = {3: "spring", 4: "spring", 5: "spring", 9: "autumn", 10: "autumn", 11: "autumn"}
ANONYMOUS = "(anonymisiert)"
# (action, subject) → signed URL; made by the API from its settings and the clock.
LinkMaker = Callable[[str, str], str]


class SponsorshipError(Exception):
    """A step the life cycle refuses; `status` is the HTTP status the API answers with."""

    def __init__(self, status: int, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.field = field


@dataclass(frozen=True, slots=True)
class Inquiry:
    """A citizen's validated inquiry for an area."""

    area_id: str
    name: str
    email: str
    phone: str | None
    message: str | None
    lang: str
    display_name: str | None


Status = Literal["unconfirmed", "requested", "active", "declined", "ended", "expired"]


@dataclass(frozen=True, slots=True)
class Row:
    """One sponsorship as the staff list shows it (the API's model extends it)."""

    id: int
    area_id: str
    area_name: str
    status: Status
    name: str | None
    email: str | None
    phone: str | None
    message: str | None
    lang: str
    display_name: str | None
    sponsor_id: str | None
    created_at: datetime
    confirm_by: datetime
    confirmed_at: datetime | None
    decided_at: datetime | None
    decided_by: str | None
    reason: str | None
    started_at: datetime | None
    ended_at: datetime | None
    ended_by: str | None
    planting_order_id: int | None
    anonymised_at: datetime | None


_COLUMNS = ", ".join("a.name AS area_name" if f.name == "area_name" else f"s.{f.name}"
                     for f in fields(Row))
_ROW = f"SELECT {_COLUMNS} FROM sponsorships s JOIN green_areas a ON a.id = s.area_id "  # noqa: S608


def _rows(conn: Connection) -> psycopg.Cursor[Row]:
    return conn.cursor(row_factory=class_row(Row))


def get(conn: Connection, sid: int, *, lock: bool = False) -> Row:
    """One sponsorship; 404 when there is none."""
    row = _rows(conn).execute(
        _ROW + "WHERE s.id = %s" + (" FOR UPDATE OF s" if lock else ""), (sid,)).fetchone()
    if row is None:
        raise SponsorshipError(404, f"sponsorship {sid} not found")
    return row


def listing(conn: Connection, status: str | None, area_id: str | None, after: int,
            limit: int) -> list[Row]:
    """Sponsorships, newest id last, filtered by status and area."""
    return _rows(conn).execute(
        _ROW + "WHERE (%(st)s::text IS NULL OR s.status = %(st)s) "
        "AND (%(a)s::text IS NULL OR s.area_id = %(a)s) AND s.id > %(after)s "
        "ORDER BY s.id LIMIT %(n)s",
        {"st": status, "a": area_id, "after": after, "n": limit}).fetchall()


def _mail(conn: Connection, to: str | None, template: str, lang: str, *,
          context: dict[str, Any], ref: dict[str, Any], sponsor_id: str | None = None) -> None:
    """Queue a mail unless there is no address or the sponsor asked for no more mail."""
    if not to:
        return
    if sponsor_id is not None:
        row = conn.execute("SELECT mail_stopped FROM sponsors WHERE id = %s",
                           (sponsor_id,)).fetchone()
        if row is not None and row[0]:
            return
    outbox.queue_mail(conn, Mail(to, template, lang, context), ref)


def _area(conn: Connection, area_id: str) -> tuple[str, bool, str | None, bool]:
    """Lock an area: (name, allow_several, sponsor_id, needs_planting); 404 when unknown."""
    row = conn.execute(
        "SELECT name, allow_several, sponsor_id, needs_planting FROM green_areas "
        "WHERE id = %s AND retired_at IS NULL FOR UPDATE", (area_id,)).fetchone()
    if row is None:
        raise SponsorshipError(404, f"green area {area_id!r} not found", "area_id")
    return str(row[0]), bool(row[1]), row[2], bool(row[3])


def expire(conn: Connection, now: datetime) -> int:
    """Unconfirmed inquiries past their 72 h become expired; return how many."""
    cur = conn.execute("UPDATE sponsorships SET status = 'expired' "
                       "WHERE status = 'unconfirmed' AND confirm_by <= %s", (now,))
    return cur.rowcount


def inquire(conn: Connection, inquiry: Inquiry, now: datetime, link: LinkMaker) -> int:
    """Record an inquiry and mail the double-opt-in link; a repeat returns the same id."""
    with conn.transaction():
        expire(conn, now)
        name, several, sponsor_id, _ = _area(conn, inquiry.area_id)
        if sponsor_id is not None and not several:
            raise SponsorshipError(409, f"green area {inquiry.area_id!r} already has a sponsor",
                                   "area_id")
        same = conn.execute(
            "SELECT id FROM sponsorships WHERE area_id = %s AND lower(email) = lower(%s) "
            "AND status IN ('unconfirmed', 'requested', 'active')",
            (inquiry.area_id, inquiry.email)).fetchone()
        if same is not None:
            return int(same[0])
        row = conn.execute(
            "INSERT INTO sponsorships (area_id, name, email, phone, message, lang, display_name, "
            "created_at, confirm_by) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING id",
            (inquiry.area_id, inquiry.name, inquiry.email, inquiry.phone, inquiry.message,
             inquiry.lang, inquiry.display_name, now, now + CONFIRM_WITHIN)).fetchone()
        assert row is not None
        sid = int(row[0])
        _mail(conn, inquiry.email, "sponsorship_confirm", inquiry.lang, context={
            "name": inquiry.name, "area": name, "link_confirm": link("confirm", str(sid))},
            ref={"sponsorship_id": sid})
        return sid


def confirm(conn: Connection, sid: int, now: datetime) -> Row:
    """The citizen confirmed the address: the inquiry goes to staff (idempotent)."""
    with conn.transaction():
        expire(conn, now)
    with conn.transaction():
        row = get(conn, sid, lock=True)
        if row.status == "expired":
            raise SponsorshipError(410, "the inquiry was not confirmed within 72 hours and has "
                                        "expired; please ask again")
        if row.status != "unconfirmed":
            if row.status in ("requested", "active"):
                return row
            raise SponsorshipError(409, f"the inquiry is {row.status}")
        conn.execute("UPDATE sponsorships SET status = 'requested', confirmed_at = %s "
                     "WHERE id = %s", (now, sid))
        _mail(conn, row.email, "sponsorship_received", row.lang,
              context={"name": row.name, "area": row.area_name}, ref={"sponsorship_id": sid})
        return get(conn, sid)


def _history(conn: Connection, area_id: str, actor: str, event: str, *, at: datetime,
             changes: dict[str, Any]) -> None:
    conn.execute("INSERT INTO green_area_history (area_id, at, actor, event, changes) "
                 "VALUES (%s, %s, %s, %s, %s)", (area_id, at, actor, event, Jsonb(changes)))


def approve(conn: Connection, sid: int, actor: str, now: datetime, link: LinkMaker) -> Row:
    """Award the area: a sponsors row the rules ask, a planting order where needed, a mail."""
    with conn.transaction():
        row = get(conn, sid, lock=True)
        if row.status != "requested":
            raise SponsorshipError(409, f"only a confirmed request can be approved; this one "
                                        f"is {row.status}")
        name, several, current, needs_planting = _area(conn, row.area_id)
        if current is not None and not several:
            raise SponsorshipError(409, f"green area {row.area_id!r} already has a sponsor; "
                                        "it allows only one")
        sponsor_id = f"pt-{sid}"
        conn.execute(
            "INSERT INTO sponsors (id, name, email, phone, period_start, lang, display_name) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s)",
            (sponsor_id, row.name, row.email, row.phone, now.date(), row.lang,
             row.display_name))
        if current is None:
            conn.execute("UPDATE green_areas SET sponsor_id = %s, updated_at = now() "
                         "WHERE id = %s", (sponsor_id, row.area_id))
        planting: int | None = None
        if needs_planting:
            planting, _ = orders.apply_open(conn, Open(
                rule=PLANTING_RULE, kind="planting", subject_type="green_area",
                subject_id=row.area_id, at=now, title=f"Erstbepflanzung {name} (Patenschaft)",
                priority=3, due_at=now + timedelta(days=14),
                params={"sponsorship_id": sid}), actor, _location(conn, row.area_id))
        conn.execute(
            "UPDATE sponsorships SET status = 'active', sponsor_id = %s, decided_at = %s, "
            "decided_by = %s, started_at = %s, planting_order_id = %s WHERE id = %s",
            (sponsor_id, now, actor, now, planting, sid))
        _history(conn, row.area_id, actor, "sponsored", at=now,
                 changes={"sponsorship_id": sid})
        _mail(conn, row.email, "sponsorship_approved", row.lang, context={
            "name": row.name, "area": name,
            "planting": _planting_text(row.lang, planting is not None),
            "link_end": link("end", sponsor_id), "link_stop_mail": link("stop_mail", sponsor_id)},
            ref={"sponsorship_id": sid})
        return get(conn, sid)


def _planting_text(lang: str, planting: bool) -> str:
    if not planting:
        return ""
    if lang == "en":
        return "Our crew will do the first planting of the area with you in the next two weeks."
    return ("Unser Team übernimmt in den nächsten zwei Wochen die Erstbepflanzung der Fläche "
            "mit Ihnen.")


def _location(conn: Connection, area_id: str) -> tuple[float, float] | None:
    row = conn.execute("SELECT latitude, longitude FROM green_areas WHERE id = %s",
                       (area_id,)).fetchone()
    return None if row is None else (float(row[0]), float(row[1]))


def decline(conn: Connection, sid: int, actor: str, reason: str, now: datetime) -> Row:
    """Refuse a request, with the reason the citizen is told."""
    with conn.transaction():
        row = get(conn, sid, lock=True)
        if row.status not in ("requested", "unconfirmed"):
            raise SponsorshipError(409, f"only an open request can be declined; this one is "
                                        f"{row.status}")
        conn.execute("UPDATE sponsorships SET status = 'declined', decided_at = %s, "
                     "decided_by = %s, reason = %s WHERE id = %s", (now, actor, reason, sid))
        _mail(conn, row.email, "sponsorship_declined", row.lang,
              context={"name": row.name, "area": row.area_name, "reason": reason},
              ref={"sponsorship_id": sid})
        return get(conn, sid)


def end(conn: Connection, sid: int, actor: str, now: datetime) -> Row:
    """End an active sponsorship (the sponsor or staff): the area is free again."""
    with conn.transaction():
        row = get(conn, sid, lock=True)
        if row.status != "active":
            raise SponsorshipError(409, f"only an active sponsorship can be ended; this one is "
                                        f"{row.status}")
        _area(conn, row.area_id)
        conn.execute("UPDATE sponsorships SET status = 'ended', ended_at = %s, ended_by = %s "
                     "WHERE id = %s", (now, actor, sid))
        if row.sponsor_id is not None:
            _release(conn, row.sponsor_id, row.area_id, actor, now)
        _history(conn, row.area_id, actor, "freed", at=now, changes={"sponsorship_id": sid})
        _mail(conn, row.email, "sponsorship_ended", row.lang,
              context={"name": row.name, "area": row.area_name}, ref={"sponsorship_id": sid},
              sponsor_id=row.sponsor_id)
        return get(conn, sid)


def _release(conn: Connection, sponsor_id: str, area_id: str, actor: str, now: datetime) -> None:
    """The sponsor no longer waters the area: the next active sponsor (or nobody) does."""
    conn.execute("UPDATE sponsors SET period_end = %s WHERE id = %s", (now.date(), sponsor_id))
    following = conn.execute(
        "SELECT sponsor_id FROM sponsorships WHERE area_id = %s AND status = 'active' "
        "AND sponsor_id <> %s ORDER BY started_at LIMIT 1", (area_id, sponsor_id)).fetchone()
    conn.execute("UPDATE green_areas SET sponsor_id = %s, updated_at = now() "
                 "WHERE id = %s AND sponsor_id = %s",
                 (following[0] if following else None, area_id, sponsor_id))
    order = orders.find_open(conn, WATERING_RULE, "green_area", area_id, lock=True)
    if order is not None and order.assignee == f"sponsor:{sponsor_id}":
        _hand_over(conn, order, actor, now, "the sponsorship ended: Bauhof waters")


def _hand_over(conn: Connection, order: orders.Order, actor: str, now: datetime,
               note: str) -> None:
    orders.apply_escalate(conn, Escalate(
        WATERING_RULE, "green_area", order.subject_id, now, note=note,
        priority=max(1, order.priority - 1), unassign=True, params={"stage": "bauhof"}), actor)


def _sponsor_areas(conn: Connection, sponsor_id: str) -> list[str]:
    rows = conn.execute("SELECT id FROM green_areas WHERE sponsor_id = %s ORDER BY id",
                        (sponsor_id,)).fetchall()
    return [str(r[0]) for r in rows]


def _event(conn: Connection, sponsor_id: str, event: str, *, order_id: int | None,
           now: datetime) -> None:
    row = conn.execute("SELECT id FROM sponsorships WHERE sponsor_id = %s", (sponsor_id,)
                       ).fetchone()
    if row is not None:
        conn.execute("INSERT INTO sponsorship_events (sponsorship_id, at, event, order_id, note) "
                     "VALUES (%s, %s, %s, %s, NULL)", (row[0], now, event, order_id))


def _sponsor_orders(conn: Connection, sponsor_id: str) -> list[orders.Order]:
    """The open watering orders that ask this sponsor."""
    found = []
    for area_id in _sponsor_areas(conn, sponsor_id):
        order = orders.find_open(conn, WATERING_RULE, "green_area", area_id, lock=True)
        if order is not None and order.assignee == f"sponsor:{sponsor_id}":
            found.append(order)
    return found


def _answer(conn: Connection, sponsor_id: str, now: datetime, event: str,
            act: Callable[[orders.Order, str], None]) -> list[int]:
    """A sponsor's answer to the open watering requests: `act` on each, recorded as `event`;
    409 when none is open."""
    with conn.transaction():
        found = _sponsor_orders(conn, sponsor_id)
        if not found:
            raise SponsorshipError(409, "no watering request is open for you right now")
        for order in found:
            act(order, f"sponsor:{sponsor_id}")
            _event(conn, sponsor_id, event, order_id=order.id, now=now)
        return [o.id for o in found]


def watered(conn: Connection, sponsor_id: str, now: datetime) -> list[int]:
    """"Ich habe gegossen": recorded on the open orders (they close when the moisture rises)."""
    return _answer(conn, sponsor_id, now, "watered", lambda order, actor: orders.record(
        conn, order, now, actor, "sponsor_watered",
        note="Pate hat gegossen / the sponsor watered"))


def cannot(conn: Connection, sponsor_id: str, now: datetime) -> list[int]:
    """"Ich kann diesmal nicht": the open orders go to the crews at once."""
    return _answer(conn, sponsor_id, now, "cannot", lambda order, actor: _hand_over(
        conn, order, actor, now, "the sponsor cannot water this time: Bauhof waters"))


def stop_mail(conn: Connection, sponsor_id: str, now: datetime) -> None:
    """No more mail to this sponsor; dry areas go to Bauhof without asking."""
    with conn.transaction():
        cur = conn.execute("UPDATE sponsors SET mail_stopped = true WHERE id = %s",
                           (sponsor_id,))
        if cur.rowcount == 0:
            raise SponsorshipError(404, "sponsor not found")
        _event(conn, sponsor_id, "stop_mail", order_id=None, now=now)


def end_by_sponsor(conn: Connection, sponsor_id: str, now: datetime) -> list[str]:
    """The sponsor ends from the mail link: every area the sponsor looks after is free."""
    actor = f"sponsor:{sponsor_id}"
    rows = conn.execute("SELECT id FROM sponsorships WHERE sponsor_id = %s AND status = 'active'",
                        (sponsor_id,)).fetchall()
    areas = _sponsor_areas(conn, sponsor_id)
    for (sid,) in rows:
        end(conn, int(sid), actor, now)
    if not rows:
        with conn.transaction():
            if not areas:
                raise SponsorshipError(409, "the sponsorship has already ended")
            row = conn.execute("SELECT email, lang, name FROM sponsors WHERE id = %s",
                               (sponsor_id,)).fetchone()
            for area_id in areas:
                _release(conn, sponsor_id, area_id, actor, now)
                _history(conn, area_id, actor, "freed", at=now,
                         changes={"sponsor_id": sponsor_id})
            if row is not None:
                _mail(conn, row[0], "sponsorship_ended", str(row[1]),
                      context={"name": row[2], "area": ", ".join(areas)},
                      ref={"sponsor_id": sponsor_id}, sponsor_id=sponsor_id)
    return areas


# Inspections -----------------------------------------------------------------------------

def open_inspections(conn: Connection, now: datetime, actor: str,
                     season: str | None = None) -> list[int]:
    """Open this season's inspection order for every area that has none yet; the season and
    its year are the town's (the planner settings' time zone): 1 March 00:30 in Berlin is
    spring, though still February in UTC."""
    local = now.astimezone(ZoneInfo(planning_settings.current(conn)[1].timezone))
    season = season or SEASONS.get(local.month)
    if season is None:
        return []
    key = f"{local.year}-{season}"
    opened: list[int] = []
    with conn.transaction():
        areas = conn.execute(
            "SELECT a.id, a.name, a.latitude, a.longitude FROM green_areas a "
            "WHERE a.retired_at IS NULL AND NOT EXISTS (SELECT 1 FROM work_orders w "
            "WHERE w.rule = %s AND w.subject_type = 'green_area' AND w.subject_id = a.id "
            "AND w.params->>'season' = %s) ORDER BY a.id", (INSPECTION_RULE, key)).fetchall()
        for area_id, name, lat, lon in areas:
            order_id, created = orders.apply_open(conn, Open(
                rule=INSPECTION_RULE, kind="inspection", subject_type="green_area",
                subject_id=area_id, at=now, title=f"Flächenkontrolle {name} ({key})",
                priority=4, due_at=now + timedelta(days=30), params={"season": key}),
                actor, (lat, lon))
            if created:
                opened.append(order_id)
    return opened


def record_inspection(conn: Connection, area_id: str, result: str, *, note: str | None,
                      actor: str, now: datetime) -> dict[str, Any]:
    """The inspection's result on the area; its open order done; the sponsors told."""
    with conn.transaction():
        name, _, _, _ = _area(conn, area_id)
        found = {"at": now.isoformat(), "result": result, "note": note, "by": actor}
        conn.execute("UPDATE green_areas SET inspection = %s, updated_at = now() WHERE id = %s",
                     (Jsonb(found), area_id))
        _history(conn, area_id, actor, "inspected", at=now, changes=found)
        order = orders.find_open(conn, INSPECTION_RULE, "green_area", area_id)
        if order is not None:
            orders.transition(conn, order.id, "done", actor, f"{result}: {note or ''}".strip(),
                              at=now)
        for email, lang, sname, sponsor_id in conn.execute(
                "SELECT s.email, s.lang, s.name, s.id FROM sponsorships p "
                "JOIN sponsors s ON s.id = p.sponsor_id WHERE p.area_id = %s "
                "AND p.status = 'active'", (area_id,)).fetchall():
            _mail(conn, email, "sponsorship_inspection", lang, context={
                "name": sname, "area": name, "result": _result_text(lang, result),
                "note": note or ""}, ref={"area_id": area_id}, sponsor_id=sponsor_id)
        return found


RESULTS = {"ok": ("in gutem Zustand", "in good condition"),
           "needs_care": ("braucht Pflege", "needs care"),
           "damaged": ("beschädigt", "damaged")}


def _result_text(lang: str, result: str) -> str:
    de, en = RESULTS[result]
    return en if lang == "en" else de


# Privacy ---------------------------------------------------------------------------------

def anonymise(conn: Connection, now: datetime, keep_days: int) -> int:
    """Blank the personal data of sponsorships settled more than keep_days ago."""
    cutoff = now - timedelta(days=keep_days)
    with conn.transaction():
        rows = conn.execute(
            "SELECT id, email, sponsor_id FROM sponsorships WHERE anonymised_at IS NULL AND ("
            "(status = 'ended' AND ended_at < %(c)s) OR (status = 'declined' AND decided_at < "
            "%(c)s) OR (status = 'expired' AND confirm_by < %(c)s))", {"c": cutoff}).fetchall()
        for sid, email, sponsor_id in rows:
            conn.execute("UPDATE sponsorships SET name = %s, email = NULL, phone = NULL, "
                         "message = NULL, display_name = NULL, anonymised_at = %s WHERE id = %s",
                         (ANONYMOUS, now, sid))
            if sponsor_id is not None:
                conn.execute("UPDATE sponsors SET name = %s, email = NULL, phone = NULL, "
                             "display_name = NULL, anonymised_at = %s WHERE id = %s",
                             (ANONYMOUS, now, sponsor_id))
            if email:
                # Sent mails keep what they were about, not to whom.
                conn.execute("UPDATE outbox SET payload = payload - 'to' - 'context' "
                             "WHERE channel = 'email' AND lower(payload->>'to') = lower(%s)",
                             (email,))
        return len(rows)


def export(conn: Connection, email: str) -> dict[str, Any]:
    """Everything stored about one e-mail address (DSGVO Art. 15)."""
    ships = conn.execute(
        "SELECT s.id, s.area_id, s.status, s.name, s.email, s.phone, s.message, s.lang, "
        "s.display_name, s.created_at, s.confirmed_at, s.decided_at, s.reason, s.started_at, "
        "s.ended_at FROM sponsorships s WHERE lower(s.email) = lower(%s) ORDER BY s.id",
        (email,)).fetchall()
    keys = ("id", "area_id", "status", "name", "email", "phone", "message", "lang",
            "display_name", "created_at", "confirmed_at", "decided_at", "reason", "started_at",
            "ended_at")
    sponsors = conn.execute(
        "SELECT id, name, email, phone, lang, display_name, period_start, period_end, "
        "mail_stopped FROM sponsors WHERE lower(email) = lower(%s) ORDER BY id",
        (email,)).fetchall()
    skeys = ("id", "name", "email", "phone", "lang", "display_name", "period_start",
             "period_end", "mail_stopped")
    events = conn.execute(
        "SELECT e.sponsorship_id, e.at, e.event, e.order_id FROM sponsorship_events e "
        "JOIN sponsorships s ON s.id = e.sponsorship_id WHERE lower(s.email) = lower(%s) "
        "ORDER BY e.id", (email,)).fetchall()
    mails = conn.execute(
        "SELECT created_at, payload->>'template', status FROM outbox WHERE channel = 'email' "
        "AND lower(payload->>'to') = lower(%s) ORDER BY id", (email,)).fetchall()
    return {
        "email": email,
        "sponsorships": [dict(zip(keys, r, strict=True)) for r in ships],
        "sponsors": [dict(zip(skeys, r, strict=True)) for r in sponsors],
        "actions": [dict(zip(("sponsorship_id", "at", "event", "order_id"), r, strict=True))
                    for r in events],
        "mails": [dict(zip(("queued_at", "template", "status"), r, strict=True))
                  for r in mails],
    }
