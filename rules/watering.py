"""Watering for sponsored green areas: dry for a sustained time → sponsor first, then Bauhof.

State per area: `WateringState`.
Durations are measured on reading timestamps; a reading older than the newest one from the
same probe is late and changes nothing.

Every order says how much water to give (rules/water_balance.py): the measured moisture's gap
to field capacity, or the balance's depletion when no probe reports, in litres per m² (or
per young tree) and in all. When an area's probes have been silent (or broken: their
readings refused) for `balance_silent_h`, its water balance decides instead (`on_balance`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from bauhof.assignee import Assignee
from rules.actions import Action, Escalate, Mail, Open, Resolve, Update
from rules.assets import Area, Weather
from rules.readings import Reading
from rules.ruleset import WateringParams
from rules.state import RuleState
from rules.water_balance import Balance, Dose, dose, moisture_deficit_mm

RULE = "watering.dry"
MODULE = "watering"
NAME = "soil_moisture_pct"
# A probe that has not reported for this long no longer counts towards the area's value.
PROBE_STALE_S = 3 * 86400

WeatherAt = Callable[[datetime], Weather | None]


@dataclass(slots=True)
class WateringState(RuleState, module=MODULE, subject_type="green_area"):
    """What the watering rule remembers of one green area."""

    probes: dict[str, list[float]] = field(default_factory=dict)  # dev_eui: [ts, moisture]
    below_since: float | None = None  # dry since (ts), while no order is open
    above_since: float | None = None  # moist again since (ts), while one is
    open: bool = False
    stage: str | None = None  # 'sponsor' | 'bauhof' while open
    opened_ts: float | None = None
    sponsor: str | None = None  # the sponsor asked first (id)
    first: dict[str, Any] | None = None  # the reading that started the dry spell
    held: str | None = None  # why watering waits for the rain
    by_balance: bool = False  # opened by the water balance, not a probe
    watched_ts: float | None = None  # when watching began, for an area no probe reported

    def order_gone(self, rule: str) -> None:
        """The open order was closed by a person: start watching afresh."""
        _reset(self)


def rain_hold(weather: Weather | None, p: WateringParams) -> str | None:
    """Why watering waits for the rain (None: it does not)."""
    if weather is None:
        return None
    if weather.rain_mm_h >= p.rain_now_mm_h and weather.rain_mm_h > 0:
        return f"raining {weather.rain_mm_h:g} mm/h"
    forecast = weather.forecast_rain_mm_24h
    if forecast is not None and forecast >= p.rain_forecast_mm_24h and forecast > 0:
        return f"{forecast:g} mm rain forecast in 24 h"
    return None


def _at(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


def on_reading(state: WateringState, r: Reading, area: Area, p: WateringParams,
               weather: WeatherAt) -> list[Action]:
    """Evaluate one soil reading for its area."""
    moisture = r.num(NAME)
    if moisture is None or not p.enabled:
        return []
    probes = state.probes
    previous = probes.get(r.dev_eui)
    if previous is not None and r.ts <= previous[0]:
        return []
    probes[r.dev_eui] = [r.ts, moisture]
    for dev in [d for d, (ts, _) in probes.items() if r.ts - ts > PROBE_STALE_S]:
        del probes[dev]
    value = round(sum(v for _, v in probes.values()) / len(probes), 3)
    evidence = r.evidence(NAME)
    if not state.open:
        return _while_closed(state, r, area, p, value=value, evidence=evidence, weather=weather)
    return _while_open(state, r, area, p, value=value, evidence=evidence, weather=weather)


def _while_closed(state: WateringState, r: Reading, area: Area, p: WateringParams, *,
                  value: float, evidence: dict[str, Any], weather: WeatherAt) -> list[Action]:
    if value >= p.low_pct:
        state.below_since = state.first = state.held = None
        return []
    if state.below_since is None:
        state.below_since = r.ts
        state.first = evidence
    since = state.below_since
    if r.ts - since < p.sustain_h * 3600:
        return []
    hold = rain_hold(weather(r.time), p)
    if hold is not None:
        state.held = hold
        return []
    state.held = None
    size = dose(moisture_deficit_mm(value, area.plant_type), area.plant_type, area.size_m2,
                area.trees)
    first = state.first or evidence
    return [_open(state, area, p, r.time, _at(since), value=value,
                  title=f"Water {area.name}: soil moisture {value:.0f} % since "
                        f"{_at(since):%Y-%m-%d %H:%M}; give {size.text()}",
                  size=size, evidence=(first, evidence) if first != evidence else (evidence,),
                  moisture=f"{value:.0f}")]


def _open(state: WateringState, area: Area, p: WateringParams, at: datetime, since: datetime,
          *, value: float | None, title: str, size: Dose, evidence: tuple[dict[str, Any], ...],
          moisture: str, extra: dict[str, Any] | None = None,
          template: str = "watering_request") -> Open:
    """Open the order: the sponsor first (with a mail) while the sponsorship runs."""
    sponsor = area.sponsor if area.sponsor and area.sponsor.active(at.date()) else None
    state.open, state.opened_ts, state.above_since = True, at.timestamp(), None
    state.stage = "sponsor" if sponsor else "bauhof"
    state.sponsor = sponsor.id if sponsor else None
    params: dict[str, Any] = {"low_pct": p.low_pct, "clear_pct": p.clear_pct,
                              "sustain_h": p.sustain_h, "stage": state.stage,
                              "plant_type": area.plant_type, **size.params(), **(extra or {})}
    mail: tuple[Mail, ...] = ()
    if sponsor is not None and sponsor.email:
        params["sponsor_id"] = sponsor.id
        mail = (Mail(sponsor.email, template, sponsor.lang, context={
            "sponsor_id": sponsor.id,
            "sponsor": sponsor.name, "area": area.name, "moisture": moisture,
            "since": since.strftime("%Y-%m-%d %H:%M"), "litres": size.text(),
            "deficit": f"{(extra or {}).get('deficit_mm', 0):g}",
            "grace_h": f"{p.sponsor_grace_h:g}"}),)
    return Open(
        rule=RULE, kind="watering", subject_type="green_area", subject_id=area.id, at=at,
        title=title, priority=p.priority, due_at=at + timedelta(hours=p.due_h), since=since,
        value=value, evidence=evidence, params=params,
        assignee=Assignee("sponsor", sponsor.id) if sponsor else None, mail=mail)


def on_balance(state: WateringState, now: datetime, area: Area, p: WateringParams, *,
               balance: Balance, silent_h: float | None, weather: WeatherAt) -> list[Action]:
    """The sensor-less fallback: an area whose probes have been silent for `silent_h` hours
    (None: a probe reports) is watered when its water balance says so, and its balance
    order is resolved when rain has refilled the soil."""
    if not p.enabled or silent_h is None or silent_h < p.balance_silent_h:
        return []
    note = (f"water balance: {balance.deficit_mm:g} mm short of {balance.capacity_mm:g} mm "
            f"(7 days: {balance.rain_mm:g} mm rain, {balance.et_mm:g} mm evapotranspiration)")
    if state.open:
        if not state.by_balance or balance.deficit_mm > balance.trigger_mm / 2:
            return []
        _reset(state)
        return [Resolve(RULE, "green_area", area.id, now, note=note, by="rain",
                        evidence=(_balance_evidence(now, balance),))]
    if not balance.needs_water:
        state.held = None
        return []
    hold = rain_hold(weather(now), p)
    if hold is not None:
        state.held = hold
        return []
    state.held = None
    size = dose(balance.deficit_mm, area.plant_type, area.size_m2, area.trees)
    state.by_balance = True
    return [_open(state, area, p, now, now, value=None,
                  title=f"Water {area.name}: no soil reading for {silent_h:.0f} h, water "
                        f"balance {balance.deficit_mm:g} mm short; give {size.text()}",
                  size=size, evidence=(_balance_evidence(now, balance),), moisture="",
                  extra={"source": "water_balance", "deficit_mm": balance.deficit_mm,
                         "silent_h": round(silent_h, 1), "note": note},
                  template="watering_request_balance")]


def _balance_evidence(at: datetime, balance: Balance) -> dict[str, Any]:
    return {"time": at.isoformat(), "dev_eui": None, "name": "water_balance_deficit_mm",
            "value": balance.deficit_mm, "capacity_mm": balance.capacity_mm,
            "rain_7d_mm": balance.rain_mm, "et_7d_mm": balance.et_mm,
            "watered_7d_mm": balance.watered_mm, "et0": balance.et0_source}


def _while_open(state: WateringState, r: Reading, area: Area, p: WateringParams, *,
                value: float, evidence: dict[str, Any], weather: WeatherAt) -> list[Action]:
    if value < p.clear_pct:
        state.above_since = None
        return [Update(RULE, "green_area", area.id, r.time, value, (evidence,))]
    if state.above_since is None:
        state.above_since = r.ts
    if r.ts - state.above_since < p.clear_sustain_h * 3600:
        return [Update(RULE, "green_area", area.id, r.time, value, (evidence,))]
    by: str | None = None
    mail: tuple[Mail, ...] = ()
    if rain_hold(weather(r.time), p) is not None:
        by = "rain"
    elif state.stage == "sponsor" and state.sponsor:
        by = str(Assignee("sponsor", state.sponsor))
        sponsor = area.sponsor
        if sponsor is not None and sponsor.email and sponsor.id == state.sponsor:
            mail = (Mail(sponsor.email, "watering_thanks", sponsor.lang, context={
                "sponsor": sponsor.name, "area": area.name, "moisture": f"{value:.0f}"}),)
    _reset(state)
    return [Resolve(RULE, "green_area", area.id, r.time,
                    note=f"soil moisture back to {value:.0f} % (clear at {p.clear_pct:g} %)",
                    by=by, evidence=(evidence,), mail=mail)]


def _reset(state: WateringState) -> None:
    """Forget the dry spell and its order (the probes and the watch stay)."""
    state.open = state.by_balance = False
    state.stage = state.opened_ts = state.sponsor = state.above_since = None
    state.below_since = state.first = state.held = None


def on_tick(state: WateringState, now: datetime, area: Area, p: WateringParams) -> (
    list[Action]
):
    """Hand a sponsor request over to Bauhof once the grace period has passed."""
    if not state.open or state.stage != "sponsor" or state.opened_ts is None:
        return []
    due = state.opened_ts + p.sponsor_grace_h * 3600
    if now.timestamp() < due:
        return []
    state.stage = "bauhof"
    return [Escalate(RULE, "green_area", area.id, _at(due), unassign=True,
                     priority=max(1, p.priority - 1), params={"stage": "bauhof"},
                     note=f"still dry {p.sponsor_grace_h:g} h after asking the sponsor: "
                          "Bauhof waters")]
