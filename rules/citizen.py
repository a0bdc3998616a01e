"""What a citizen hears about their report: each step in words, by mail and on the status page.

Steps: received (with the request id the citizen sees), merged (joined an order already
open), taken on (a crew has it), in progress, done, closed without action (with a reason).
Mails name the citizen's own request id and the place in words (the address they gave, the
asset's name, or the coordinates), never an internal order, defect or asset id. What the
crew writes reaches citizens only through the public note it fills for them (or a standard
reason); the internal note of a transition never does.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg

from rules import outbox
from rules.actions import Mail
from rules.mail import is_addr_spec

STEPS = ("received", "merged", "taken_on", "in_progress", "done", "closed")
# The step an order's new status means to the citizens who reported it.
STEP_OF_STATUS = {"assigned": "taken_on", "in_progress": "in_progress", "done": "done",
                  "resolved": "done", "cancelled": "closed"}
# Standard public reasons for closing without action, chosen by planners.
REASONS = {
    "duplicate": ("Die Stelle ist bereits gemeldet und wird mit der anderen Meldung bearbeitet.",
                  "The place was already reported and is handled with the other report."),
    "not_responsible": ("Dafür ist der Bauhof nicht zuständig; wir haben die zuständige "
                        "Stelle informiert.",
                        "The works depot is not responsible for this; we have told the "
                        "responsible office."),
    "not_found": ("Vor Ort war kein Problem zu finden.", "No problem was found on site."),
    "already_fixed": ("Das Problem war bereits behoben.", "The problem had already been fixed."),
    "planned": ("Die Arbeit ist in eine geplante Maßnahme aufgenommen.",
                "The work has been included in planned maintenance."),
}
SERVICE_NAMES = {
    "overflowing_bin": ("Überfüllter Abfallbehälter", "Overflowing litter bin"),
    "damaged_bin": ("Beschädigter Abfallbehälter", "Damaged litter bin"),
    "dry_green_area": ("Trockene Grünfläche", "Dry green area"),
    "other": ("Sonstiges", "Other"),
}
STEP_WORDS = {
    "received": ("Eingegangen", "Received"),
    "merged": ("Zusammengeführt mit einer bereits offenen Meldung",
               "Merged with a report already open"),
    "taken_on": ("Übernommen", "Taken on"),
    "in_progress": ("In Arbeit", "In progress"),
    "done": ("Erledigt", "Done"),
    "closed": ("Ohne Maßnahme geschlossen", "Closed without action"),
}


def words(table: dict[str, tuple[str, str]], key: str, lang: str) -> str:
    """A text of one of the tables above in German or English."""
    pair = table.get(key, (key, key))
    return pair[1] if lang == "en" else pair[0]


def place(address: str | None, asset_name: str | None, lat: float | None,
          lon: float | None) -> str:
    """The place in words: the address the citizen gave, the asset's name, or the position."""
    if address:
        return address
    if asset_name:
        return asset_name
    if lat is not None and lon is not None:
        return f"{lat:.5f}, {lon:.5f}"
    return "-"


@dataclass(frozen=True, slots=True)
class Reporter:
    """An Open311 request whose reporter asked for mail."""

    request_id: int
    email: str
    lang: str
    token: str
    mail_token: str
    service_code: str
    description: str | None
    place: str


_REPORTERS = """
SELECT r.id, r.email, r.lang, r.token, r.mail_token, r.service_code, r.description,
       r.address_string, coalesce(b.name, g.name), r.latitude, r.longitude
FROM open311_requests r
LEFT JOIN defects d ON d.id = r.defect_id
LEFT JOIN bins b ON d.subject_type = 'bin' AND b.id = d.subject_id
LEFT JOIN green_areas g ON d.subject_type = 'green_area' AND g.id = d.subject_id
WHERE r.email IS NOT NULL AND r.mail_opt_out_at IS NULL AND r.mail_token IS NOT NULL
"""


def reporters(conn: psycopg.Connection[Any], *, defect_ids: list[int] | None = None,
              request_id: int | None = None) -> list[Reporter]:
    """Who is to be told: the requests of these defects, or one request."""
    if request_id is not None:
        rows = conn.execute(_REPORTERS + "AND r.id = %s", (request_id,)).fetchall()
    else:
        rows = conn.execute(_REPORTERS + "AND r.defect_id = ANY(%s) ORDER BY r.id",
                            (defect_ids or [],)).fetchall()
    # An address stored before addresses were checked may be a list: it gets no mail.
    return [Reporter(int(r[0]), str(r[1]), str(r[2]), str(r[3]), str(r[4]), str(r[5]),
                     r[6], place(r[7], r[8], r[9], r[10])) for r in rows
            if is_addr_spec(str(r[1]))]


def public_text(lang: str, public_note: str | None, reason: str | None) -> str:
    """What the crew or planner told the public: a standard reason and/or their note."""
    parts = [words(REASONS, reason, lang)] if reason in REASONS else []
    if public_note and public_note.strip():
        parts.append(public_note.strip())
    return " ".join(parts)


def mail_for(who: Reporter, step: str, at: datetime, public_note: str | None,
             reason: str | None = None) -> Mail:
    """The mail of one step for one reporter (links are completed when it is sent)."""
    lang = who.lang if who.lang in ("de", "en") else "de"
    description = (who.description or "").strip()
    if len(description) > 200:
        description = description[:199] + "…"
    note = public_text(lang, public_note, reason)
    return Mail(who.email, f"citizen_{step}", lang, {
        "request_id": who.request_id, "place": who.place,
        "service": words(SERVICE_NAMES, who.service_code, lang),
        "description": description or "-", "step": words(STEP_WORDS, step, lang),
        "note": f"\n{note}\n" if note else "",
        "status_path": f"/melden/status.html?t={who.token}",
        "optout_path": f"/melden/abmelden.html?m={who.mail_token}",
        "optout_api": f"/api/v1/public/reports/unsubscribe?m={who.mail_token}",
        "at": at.isoformat()})


def tell(conn: psycopg.Connection[Any], step: str, at: datetime, public_note: str | None, *,
         reason: str | None = None, defect_ids: list[int] | None = None,
         request_id: int | None = None) -> int:
    """Queue the step's mail to every reporter concerned; how many were queued."""
    told = reporters(conn, defect_ids=defect_ids, request_id=request_id)
    for who in told:
        outbox.queue_mail(conn, mail_for(who, step, at, public_note, reason),
                          {"request_id": who.request_id, "step": step})
    return len(told)


def open_citizen_defects(conn: psycopg.Connection[Any], order_id: int) -> list[int]:
    """The open citizen defects of an order."""
    rows = conn.execute("SELECT id FROM defects WHERE order_id = %s AND status = 'open' "
                        "AND source = 'citizen' ORDER BY id", (order_id,)).fetchall()
    return [int(r[0]) for r in rows]
