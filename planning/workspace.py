"""The planner's workspace: a day previewed as the /planner page shows it.

A preview here is a draft: it is computed with the settings in force plus the planner's
changes, stored as kind `preview` (the Waste planning dashboard reads the latest ones), and
only the newest `KEEP_DRAFTS` drafts of each planner are kept, so previews never pile up.
The document adds what the page needs beyond the plan's summary: every stop with its street
address and why it is collected, the bins left out and why, the expected overflows, the
vehicles that could drive, and the warnings (`Warning`) a planner should read before planning.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import psycopg

from planning import bins as bins_mod
from planning import planner, plans, previews, selection
from planning import settings as settings_mod
from planning.forecast import Forecast
from rules.assets import Bin

KEEP_DRAFTS = 5
# The dashboard's own grid of previews (planning/previews.py) is kept by its own rule.
GRID_ACTOR = previews.ACTOR
# Warnings list at most this many bin ids (the count is always exact).
LISTED = 20
WEEKDAYS_DE = ("Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag", "Sonntag")


@dataclass(frozen=True, slots=True)
class Warning:
    """Something the planner should know before planning: a code, English and German text,
    and the facts behind it."""

    code: str
    message: str
    message_de: str
    data: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        """The JSON form: code, message, message_de and the facts at the top level."""
        return {"code": self.code, "message": self.message, "message_de": self.message_de,
                **self.data}


def _ids(values: list[str]) -> str:
    shown = ", ".join(values[:LISTED])
    return shown + (f" … (+{len(values) - LISTED})" if len(values) > LISTED else "")


def warnings(plan: planner.Plan, forecasts: dict[str, Forecast], *, newest: datetime | None,
             now: datetime) -> list[Warning]:
    """What is wrong with previewing this day now: not a working day, a day in the past,
    stale data, bins without a recent reading, forecasts over 100 % (capped)."""
    out: list[Warning] = []
    day, cfg = plan.plan_date, plan.settings
    zone = ZoneInfo(cfg.timezone)
    if not cfg.works_on(day):
        holiday = day in cfg.holidays
        why, why_de = ("a holiday", "ein Feiertag") if holiday else (
            f"a {day:%A}", f"ein {WEEKDAYS_DE[day.weekday()]}")
        out.append(Warning(
            "not_working_day", f"{day.isoformat()} is not a working day ({why}).",
            f"Der {day:%d.%m.%Y} ist kein Arbeitstag ({why_de}).",
            {"date": day.isoformat(), "holiday": holiday,
             "working_days": list(cfg.working_days)}))
    today = now.astimezone(zone).date()
    if day < today:
        out.append(Warning(
            "date_past", f"{day.isoformat()} lies in the past (today is {today.isoformat()}).",
            f"Der {day:%d.%m.%Y} liegt in der Vergangenheit (heute ist der "
            f"{today:%d.%m.%Y}).", {"date": day.isoformat(), "today": today.isoformat()}))
    starts_at = selection.shift_start(day, cfg)
    if newest is not None and newest > starts_at:
        local = newest.astimezone(zone)
        out.append(Warning(
            "data_after_date", f"The data goes on after the day's shift began (newest reading "
            f"{local:%Y-%m-%d %H:%M}): the plan uses forecasts from then, not from that day.",
            f"Die Daten reichen über den Schichtbeginn hinaus (neuester Messwert "
            f"{local:%d.%m.%Y %H:%M}): der Plan nutzt die Prognosen von dann, nicht von "
            f"diesem Tag.", {"date": day.isoformat(), "newest_reading_at": newest.isoformat()}))
    limit = timedelta(hours=cfg.stale_after_h)
    if newest is None:
        out.append(Warning("no_readings", "There are no bin readings: nothing to forecast.",
                           "Es gibt keine Messwerte von Behältern: keine Prognose möglich."))
    elif now - newest > limit:
        age_h = round((now - newest).total_seconds() / 3600, 1)
        local = newest.astimezone(zone)
        out.append(Warning(
            "stale_data", f"The newest reading is {age_h} h old (from {local:%Y-%m-%d %H:%M}; "
            f"limit {cfg.stale_after_h:g} h): the forecasts may be wrong.",
            f"Der neueste Messwert ist {age_h} h alt (vom {local:%d.%m.%Y %H:%M}; Grenze "
            f"{cfg.stale_after_h:g} h): die Prognosen können falsch sein.",
            {"newest_reading_at": newest.isoformat(), "age_h": age_h,
             "limit_h": cfg.stale_after_h}))
    if newest is not None:
        silent = sorted(b for b, f in forecasts.items()
                        if f.last_reading_at is None or newest - f.last_reading_at > limit)
        if silent:
            out.append(Warning(
                "bins_without_recent_reading",
                f"{len(silent)} bins have no reading in the {cfg.stale_after_h:g} h before the "
                f"newest one: {_ids(silent)}.",
                f"{len(silent)} Behälter ohne Messwert in den {cfg.stale_after_h:g} h vor dem "
                f"neuesten: {_ids(silent)}.",
                {"count": len(silent), "bins": silent[:LISTED], "limit_h": cfg.stale_after_h}))
    capped = sorted({s.bin_id for r in plan.routes for s in r.stops if s.expected_fill_pct > 100}
                    | {s.bin_id for s in plan.selected if s.expected_fill_pct > 100})
    if capped:
        out.append(Warning(
            "forecast_capped",
            f"{len(capped)} bins are forecast above 100 %; shown as 100 % (they overflow before "
            f"collection): {_ids(capped)}.",
            f"{len(capped)} Behälter sind über 100 % prognostiziert; angezeigt als 100 % (sie "
            f"laufen vor der Leerung über): {_ids(capped)}.",
            {"count": len(capped), "bins": capped[:LISTED]}))
    return out


def _pct(value: float) -> tuple[float, bool]:
    """A fill shown to people: capped at 100 %, and whether it was capped."""
    return (100.0, True) if value > 100 else (round(value, 1), False)


def describe(plan: planner.Plan, forecasts: dict[str, Forecast],
             all_bins: dict[str, Bin], fleet: list[dict[str, Any]],
             found: list[Warning], *, newest: datetime | None) -> dict[str, Any]:
    """The preview document of the page (and the API): the plan's summary plus stops with
    street names, bins selected and left out with why, expected overflows, warnings."""
    doc = plan.summary()
    sched = selection.schedule(plan.plan_date, plan.settings)
    name = {b.id: b.name or b.id for b in all_bins.values()}
    planned_at: dict[str, datetime] = {}
    overflows = []
    for route, out in zip(plan.routes, doc["routes"], strict=True):
        stops = []
        for s in route.stops:
            shown, capped = _pct(s.expected_fill_pct)
            planned_at[s.bin_id] = s.eta
            if s.expected_fill_pct >= 100:
                overflows.append(s.bin_id)
            stops.append({"seq": s.seq, "bin_id": s.bin_id, "name": name[s.bin_id],
                          "reason": s.reason, "latitude": s.latitude,
                          "longitude": s.longitude, "eta": s.eta.isoformat(),
                          "fill_now_pct": _pct(s.fill_now_pct)[0], "expected_fill_pct": shown,
                          "forecast_pct": round(s.expected_fill_pct, 1), "capped": capped,
                          "load_l": s.load_l})
        out["stop_list"] = stops
    selected = []
    for c in plan.selected:
        shown, capped = _pct(c.expected_fill_pct)
        selected.append({"bin_id": c.bin_id, "name": name[c.bin_id], "reason": c.reason,
                         "fill_now_pct": _pct(c.fill_now_pct)[0], "expected_fill_pct": shown,
                         "capped": capped, "planned": c.bin_id in planned_at})
    chosen = {s.bin_id for s in plan.selected}
    never = set(plan.settings.never)
    left_out = []
    for bin_id in sorted(all_bins):
        f = forecasts.get(bin_id)
        if bin_id in chosen and bin_id in planned_at:
            continue
        if bin_id in chosen:
            reason = "no_room"
        elif bin_id in never:
            reason = "never"
        elif f is None or f.last_reading_at is None:
            reason = "no_reading"
        else:
            reason = "below_threshold"
        at_next = f.fill_at(sched.next_at) if f else 0.0
        if at_next >= 100:
            overflows.append(bin_id)
        b = all_bins[bin_id]
        left_out.append({"bin_id": bin_id, "name": name[bin_id], "reason": reason,
                         "latitude": b.latitude, "longitude": b.longitude,
                         "fill_now_pct": _pct(f.fill_pct)[0] if f else None,
                         "expected_fill_pct": _pct(f.fill_at(sched.starts_at))[0] if f else None,
                         "next_collection_fill_pct": _pct(at_next)[0] if f else None})
    depot = planner.depot_of(plan.settings, all_bins)
    doc.update({
        "working_day": plan.settings.works_on(plan.plan_date),
        "next_collection_at": sched.next_at.isoformat(),
        "newest_reading_at": newest.isoformat() if newest else None,
        "depot": {"latitude": depot[0], "longitude": depot[1]},
        "selected": selected, "left_out": left_out,
        "overflows_expected": len(overflows), "overflow_bins": sorted(overflows),
        "fleet": fleet, "settings": plan.settings.model_dump(mode="json"),
        "warnings": [w.as_json() for w in found]})
    return doc


def fleet(conn: psycopg.Connection[Any], cfg: settings_mod.PlannerSettings) -> (
    list[dict[str, Any]]
):
    """Every truck with its capacity, and whether (and with what) the settings use it."""
    rows = conn.execute("SELECT id, name, capacity_l FROM vehicles WHERE kind = 'truck' "
                        "ORDER BY id").fetchall()
    chosen = {v.id: v for v in cfg.vehicles}
    out = []
    for vehicle_id, vehicle_name, capacity in rows:
        v = chosen.get(str(vehicle_id))
        out.append({"id": vehicle_id, "name": vehicle_name,
                    "capacity_l": (v.capacity_l if v and v.capacity_l else capacity),
                    "shift_h": (v.shift_h if v and v.shift_h else cfg.shift_h),
                    "used": v is not None or not cfg.vehicles})
    return out


def settings_with(conn: psycopg.Connection[Any], changes: dict[str, Any] | None) -> (
    tuple[int | None, settings_mod.PlannerSettings]
):
    """The settings in force with the planner's changes (validated, references checked)."""
    version, cfg = settings_mod.current(conn)
    if changes:
        cfg = settings_mod.parse({**cfg.model_dump(mode="json"), **changes})
        settings_mod.check_references(conn, cfg)
    return version, cfg


def preview(conn: psycopg.Connection[Any], day: date | None, changes: dict[str, Any] | None,
            *, by: str, now: datetime | None = None) -> dict[str, Any]:
    """Preview a day with the settings in force plus `changes`; store it as one of the
    planner's drafts (older drafts beyond KEEP_DRAFTS are dropped); the page's document."""
    now = now or datetime.now(UTC)
    version, cfg = settings_with(conn, changes)
    newest = bins_mod.latest_reading(conn)
    as_of, made = previews.forecasts(conn, cfg)
    day = day or selection.next_plan_date(as_of or now, cfg)
    all_bins = bins_mod.load(conn)
    plan = planner.compute(conn, day, cfg, kind="preview", version=version, as_of=as_of,
                           forecasts=made)
    stored = plans.store(conn, plan, by)
    prune(conn, by)
    found = warnings(plan, made, newest=newest, now=now)
    return describe(stored, made, all_bins, fleet(conn, cfg), found, newest=newest)


def prune(conn: psycopg.Connection[Any], by: str, keep: int = KEEP_DRAFTS) -> int:
    """Drop a planner's drafts beyond the newest `keep`; the number dropped."""
    if by == GRID_ACTOR:
        return 0
    cur = conn.execute(
        "DELETE FROM route_plans WHERE kind = 'preview' AND created_by = %s AND id NOT IN "
        "(SELECT id FROM route_plans WHERE kind = 'preview' AND created_by = %s "
        "ORDER BY id DESC LIMIT %s)", (by, by, keep))
    return cur.rowcount


def plan_warnings(conn: psycopg.Connection[Any], plan: planner.Plan,
                  now: datetime | None = None) -> list[Warning]:
    """The preview's warnings for a plan made (what `routes plan` prints on stderr)."""
    newest = bins_mod.latest_reading(conn)
    made = bins_mod.stored(conn)
    return warnings(plan, made, newest=newest, now=now or datetime.now(UTC))


def bin_detail(conn: psycopg.Connection[Any], bin_id: str, hours: int = 72) -> (
    dict[str, Any] | None
):
    """A bin for the page: its data, its fill readings of the last `hours` before the newest
    reading, and its stored forecast curve; None if there is no such bin."""
    b = bins_mod.load(conn).get(bin_id)
    if b is None:
        return None
    f = bins_mod.stored(conn).get(bin_id)
    end = (f.as_of if f else None) or bins_mod.latest_reading(conn) or datetime.now(UTC)
    rows = conn.execute(
        "SELECT time, fill_pct FROM bin_fill WHERE bin_id = %s AND time > %s AND time <= %s "
        "ORDER BY time", (bin_id, end - timedelta(hours=hours), end)).fetchall()
    forecast = None
    if f is not None:
        forecast = {"as_of": f.as_of.isoformat(), "fill_pct": round(f.fill_pct, 1),
                    "rate_pct_h": f.rate_pct_h, "threshold_pct": f.threshold_pct,
                    "threshold_at": f.threshold_at.isoformat() if f.threshold_at else None,
                    "full_at": f.full_at.isoformat() if f.full_at else None,
                    "method": f.method,
                    "last_reading_at": f.last_reading_at.isoformat()
                    if f.last_reading_at else None,
                    # Hourly from as_of; capped like every fill the page shows.
                    "curve": [min(round(v, 1), 100.0) for v in f.curve]}
    return {"bin": {"id": b.id, "name": b.name, "latitude": b.latitude,
                    "longitude": b.longitude, "volume_l": b.volume_l,
                    "fill_threshold_pct": b.fill_threshold_pct},
            "readings": [[t.isoformat(), round(v, 1)] for t, v in rows],
            "forecast": forecast}
